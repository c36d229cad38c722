from flask import Blueprint

from ..web import require_staff

bp = Blueprint("staff", __name__)
bp.before_request(require_staff)

# Views are split by resource; each module registers its routes on bp.
from . import (  # noqa: E402,F401
    account_views,
    complaint_board_views,
    complaint_views,
    consent_views,
    customer_views,
    duplicate_views,
    identifier_views,
    invitation_views,
    list_views,
    profile_views,
    request_views,
    search_views,
    views,
)
