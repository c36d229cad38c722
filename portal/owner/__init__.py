from flask import Blueprint

from ..web import require_owner

bp = Blueprint("owner", __name__, url_prefix="/owner")
bp.before_request(require_owner)

from . import audit_views, consent_views, erasure_views, privacy_views, views  # noqa: E402,F401
