"""The customer self-service area (SPEC 5): its own blueprint under /me, its own layout and its
own signed-in state, kept apart from the staff workspace in both directions."""

from flask import Blueprint

from .session import require_customer

bp = Blueprint("customer", __name__, url_prefix="/me")
bp.before_request(require_customer)

# Views are split by part; each module registers its routes on bp.
from . import (  # noqa: E402,F401
    access_views,
    complaint_views,
    consent_views,
    data_views,
    details_views,
    download_views,
    erasure_views,
)
