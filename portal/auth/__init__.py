from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import rating_views, unsubscribe_views, views  # noqa: E402,F401  (views register routes on bp)
