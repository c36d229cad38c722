from flask import Blueprint

from ..web import require_owner

bp = Blueprint("owner", __name__, url_prefix="/owner")
bp.before_request(require_owner)

from . import views  # noqa: E402,F401
