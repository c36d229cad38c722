from flask import Blueprint

from ..web import require_owner

bp = Blueprint("owner", __name__, url_prefix="/owner")
bp.before_request(require_owner)

from . import (  # noqa: E402,F401
    audit_views,
    automation_views,
    campaign_views,
    complaint_report_views,
    complaint_settings_views,
    consent_views,
    customer_report_views,
    erasure_views,
    export_views,
    import_views,
    privacy_views,
    processing_views,
    report_views,
    summary_views,
    views,
)
