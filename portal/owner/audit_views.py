"""The owner's audit log: who did what to which record, when and from where."""

from flask import render_template, request
from flask_babel import get_timezone

from .. import audit
from ..form_fields import record_id
from ..models import StaffAccount
from ..web import record_audit
from . import bp
from .audit_forms import ACTION_LABELS, AuditLogFilterForm

PAGE = "owner/audit/index.html"


@bp.route("/audit")
def audit_log():
    """The audit trail, newest first, filtered by who, what, which customer and when."""
    staff = list(
        StaffAccount.select(StaffAccount.id, StaffAccount.name).order_by(StaffAccount.name)
    )
    form = AuditLogFilterForm(staff, formdata=request.args)
    if not form.validate():
        return render_template(PAGE, **_context(form, staff)), 422
    filters = form.filters()
    # Reading the trail is itself audited: who looked, at what, and at whose events.
    record_audit(
        "audit_log_viewed",
        target_type="customer" if filters.customer_id else "",
        target_id=filters.customer_id,
        **_asked(form),
    )
    events, older = audit.log_page(filters, before=_cursor(request.args.get("before", "")))
    return render_template(PAGE, **_context(form, staff, events=events, older=older))


def _context(form, staff, *, events=(), older=None) -> dict:
    query = {name: value for name, value in request.args.items() if name != "before" and value}
    return {
        "form": form,
        "events": [(event, audit.details_of(event)) for event in events],
        "staff_names": {account.id: account.name for account in staff},
        "action_labels": ACTION_LABELS,
        "query": query,
        "older": older,
        "is_first_page": not request.args.get("before"),
        "time_zone": str(get_timezone()),
    }


def _asked(form) -> dict:
    """The filters as typed (ids, action names and dates only), for the audit event."""
    asked = {"who": form.who.data, "what": form.action.data}
    asked |= {name: getattr(form, name).data for name in ("since", "until")}
    return {name: value for name, value in asked.items() if value}


def _cursor(text: str) -> int | None:
    return record_id(text)
