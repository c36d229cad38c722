"""The privacy desk (SPEC 4): open requests on their clocks, links to the privacy tools,
consent statistics, and the breach register with its affected-customers report."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import breaches, consent, privacy_requests, settings
from ..i18n import LANGUAGE_NAMES, select_language
from ..models import Breach, ConsentPurpose, ErasureRequest, StaffAccount, utcnow
from ..staff.request_forms import REQUEST_KINDS
from ..web import client_address, record_audit
from . import bp
from .privacy_forms import AuthorityNotifiedForm, BreachForm, PrivacyPeriodsForm

PERIODS = (
    "retention_lead_months",
    "retention_customer_years",
    "request_deadline_days",
    "erasure_grace_days",
)


@bp.route("/privacy")
def privacy_desk():
    """Open requests (overdue first), what waits elsewhere, and consent statistics."""
    now = utcnow()
    requests = [
        {
            "request": item,
            "overdue": item.is_overdue(now),
            "days_left": privacy_requests.days_left(item, now),
            "days_overdue": privacy_requests.days_overdue(item, now),
        }
        for item in privacy_requests.open_with_customers()
    ]
    counts = {
        "pending_erasures": ErasureRequest.select()
        .where(ErasureRequest.status == "pending")
        .count(),
        "breaches_waiting": breaches.waiting_for_notification().count(),
        "consent_purposes": ConsentPurpose.select().where(ConsentPurpose.active).count(),
    }
    periods = {name: settings.get(name) for name in PERIODS}
    return render_template(
        "owner/privacy/desk.html",
        requests=requests,
        counts=counts,
        request_kinds=REQUEST_KINDS,
        consent_statistics=consent.statistics(select_language()),
        periods=periods,
    )


@bp.route("/privacy/periods", methods=["GET", "POST"])
def privacy_periods():
    """Retention periods and request deadlines, stored in settings."""
    form = PrivacyPeriodsForm(data={name: settings.get(name) for name in PERIODS})
    if form.validate_on_submit():
        changed = [name for name in PERIODS if form[name].data != settings.get(name)]
        for name in changed:
            settings.put(name, form[name].data)
        if changed:
            record_audit("settings_changed", fields=changed)
        flash(_("Privacy periods saved."), "success")
        return redirect(url_for("owner.privacy_desk"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("owner/privacy/periods.html", form=form), status


@bp.route("/privacy/breaches", methods=["GET", "POST"], endpoint="breaches")
def breach_register():
    """The breach register: record a suspected breach; every breach with its 72-hour clock."""
    form = BreachForm()
    if form.validate_on_submit():
        breach = breaches.record(
            discovered_at=form.utc("discovered_at"),
            description=form.description.data,
            staff_account_id=form.staff_account_id,
            ip_address=form.ip_address.data or "",
            window_start=form.utc("window_start"),
            window_end=form.utc("window_end"),
            recorded_by=current_user.id,
            ip_of_recorder=client_address(),
        )
        flash(_("Breach recorded. Check who was affected below."), "success")
        return redirect(url_for("owner.breach_report", breach_id=breach.id), code=303)
    status = 422 if form.is_submitted() else 200
    return _register_page(form=form), status


@bp.route("/privacy/breaches/<int:breach_id>/notified", methods=["POST"])
def breach_authority_notified(breach_id: int):
    """Record when the authority was told about a breach: its clock stops."""
    breach = _breach_or_404(breach_id)
    form = AuthorityNotifiedForm(breach=breach)
    if not form.validate_on_submit():
        return _register_page(notified_form=form), 422
    breaches.record_authority_notified(
        breach, form.notified_at_utc, staff_id=current_user.id, ip_address=client_address()
    )
    flash(_("Notification of the authority recorded."), "success")
    return redirect(url_for("owner.breaches"), code=303)


@bp.route("/privacy/breaches/<int:breach_id>")
def breach_report(breach_id: int):
    """Whose data the suspect account or address saw, how to reach them, draft notices."""
    breach = _breach_or_404(breach_id)
    rows = breaches.affected_customers(breach)
    # The page shows customers' contact details: an audited view, like a profile.
    record_audit(
        "breach_report_viewed",
        target_type="breach",
        target_id=breach.id,
        breach_id=breach.id,
        customer_ids=[row.customer_id for row in rows],
    )
    drafts = breaches.notice_drafts(breach, rows, settings.get("business_name"))
    return render_template(
        "owner/privacy/breach_report.html",
        breach=breach,
        clock=breaches.clock(breach),
        rows=rows,
        drafts=drafts,
        suspect=_suspect_name(breach),
        language_name=_language_name,
    )


@bp.route("/privacy/breaches/<int:breach_id>/report.csv")
def breach_report_csv(breach_id: int):
    """The affected customers as CSV, for notifying them. The download is audited."""
    breach = _breach_or_404(breach_id)
    rows = breaches.affected_customers(breach)
    record_audit(
        "breach_report_exported",
        target_type="breach",
        target_id=breach.id,
        breach_id=breach.id,
        customer_ids=[row.customer_id for row in rows],
    )
    headings = [
        _("Customer number"),
        _("Name"),
        _("E-mail"),
        _("Phone"),
        _("Preferred language"),
        _("Viewed"),
        _("Revealed"),
        _("Exported"),
        _("First time (UTC)"),
        _("Last time (UTC)"),
        _("Erased"),
    ]
    filename = f"breach-{breach.id}-affected-customers.csv"
    return Response(
        "\ufeff" + breaches.report_csv(rows, headings),  # the BOM lets Excel read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- Helpers ---------------------------------------------------------------------------


def _breach_or_404(breach_id: int) -> Breach:
    breach = Breach.get_or_none(Breach.id == breach_id)
    if breach is None:
        abort(404)
    return breach


def _register_page(*, form=None, notified_form=None):
    now = utcnow()
    names = _staff_names()
    entries = []
    for breach in breaches.register():
        mine = notified_form if notified_form and notified_form.breach.id == breach.id else None
        entries.append(
            {
                "breach": breach,
                "clock": breaches.clock(breach, now),
                "suspect": _suspect_name(breach, names),
                "notified_form": mine or AuthorityNotifiedForm(formdata=None, breach=breach),
            }
        )
    return render_template(
        "owner/privacy/breaches.html", form=form or BreachForm(formdata=None), entries=entries
    )


def _staff_names() -> dict[int, str]:
    # A business has a handful of staff accounts: one query instead of one per breach.
    return {
        account.id: account.name
        for account in StaffAccount.select(StaffAccount.id, StaffAccount.name)
    }


def _suspect_name(breach: Breach, names: dict[int, str] | None = None) -> str:
    """Who or where: the staff account's name, the address, or both."""
    names = _staff_names() if names is None else names
    parts = []
    if breach.staff_account_id:
        parts.append(names.get(breach.staff_account_id, f"#{breach.staff_account_id}"))
    if breach.ip_address:
        parts.append(breach.ip_address)
    return " · ".join(parts)


def _language_name(code: str) -> str:
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    return get_locale().languages.get(code, code)
