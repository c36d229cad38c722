"""Complaint pages: open one from the profile, the complaint page, and the inline changes
(status, assignee, reply, internal note, resolution) that the page and the board's cards post.

HTMX callers get back what they target: the board's card (header HX-Target:
complaint-card-<id>) or the complaint page's main section; others are redirected (303).
"""

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import complaints, settings
from ..complaints import SELF_SERVICE
from ..models import Complaint, Customer, StaffAccount, utcnow
from ..web import customer_or_404, is_htmx, record_audit
from . import bp
from .complaint_forms import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    REDRESS_LABELS,
    SEVERITY_CHOICES,
    AssignForm,
    ComplaintForm,
    MessageForm,
    ResolutionForm,
    StatusForm,
    status_action,
)
from .profile_forms import COMPLAINT_STATUSES, focus_first_error

PAGE = "staff/complaints/page.html"
SECTION = "staff/complaints/_complaint.html"
CARD = "staff/complaints/_card.html"
OPEN_SECTION = "staff/customers/_complaint_open.html"
VARY = {"Vary": "HX-Request, HX-Target"}
LABELS = {
    "statuses": COMPLAINT_STATUSES,
    "severities": SEVERITY_CHOICES,
    # Customers' own complaints come in through the self-service area, not a staff choice.
    "channels": {**COMPLAINT_CHANNELS, SELF_SERVICE: _l("Self-service area")},
    "categories": COMPLAINT_CATEGORIES,
    "redress": REDRESS_LABELS,
}


# --- Opening from the profile ----------------------------------------------------------


@bp.route("/customers/<int:customer_id>/complaints", methods=["POST"])
def open_complaint(customer_id: int):
    """Open a complaint from the customer's profile, then go to its page."""
    customer = customer_or_404(customer_id)
    form = ComplaintForm()
    if not form.validate_on_submit():
        focus_first_error(form)
        if is_htmx():
            context = profile_context(customer) | {"complaint_form": form}
            return render_template(OPEN_SECTION, customer=customer, **context), 422, VARY
        from .profile_views import _profile_page  # the profile imports this module

        g.complaint_form = form
        return _profile_page(customer, status=422)
    complaint = complaints.open_complaint(
        customer,
        subject=form.subject.data,
        description=form.description.data or "",
        channel=form.channel.data,
        category=form.category.data,
        severity=form.severity.data,
        location_id=form.location_id,
        staff_id=current_user.id,
    )
    page = url_for("staff.complaint", complaint_id=complaint.id)
    if is_htmx():
        return "", 200, {"HX-Redirect": page}
    return redirect(page, code=303)


def profile_context(customer) -> dict:
    """What the profile page needs for the open-a-complaint section."""
    return {
        # A form that failed outside HTMX comes back with its messages.
        "complaint_form": g.pop("complaint_form", None) or ComplaintForm(formdata=None),
        "open_complaints": list(
            Complaint.select()
            .where(
                (Complaint.customer == customer.id) & Complaint.status.in_(complaints.OPEN_STATUSES)
            )
            .order_by(Complaint.opened_at.desc())
        ),
        "complaint_labels": LABELS,
    }


# --- The complaint page ----------------------------------------------------------------


@bp.route("/complaints/<int:complaint_id>")
def complaint(complaint_id: int):
    """Everything about one complaint, with forms to move it on."""
    found = _complaint_or_404(complaint_id)
    return _page(found)


@bp.route("/complaints/<int:complaint_id>/status", methods=["POST"])
def complaint_status(complaint_id: int):
    """Move the complaint to another status, if the lifecycle allows it."""
    found = _complaint_or_404(complaint_id)
    form = StatusForm()
    if not form.validate_on_submit():
        error = _first_error(form) or _("Choose the new status.")
        return _answer(found, status=422, status_error=error)
    try:
        complaints.change_status(found, form.to_status.data, staff_id=current_user.id)
    except complaints.TransitionRefused as refused:
        return _answer(found, status=422, status_error=_refusal(refused))
    message = _("Status changed to %(status)s.", status=COMPLAINT_STATUSES[found.status])
    if found.status == "closed" and not getattr(found, "closing_mailed", False):
        message += " " + _not_mailed_reason(found.customer)
    return _answer(found, message=message)


@bp.route("/complaints/<int:complaint_id>/assign", methods=["POST"])
def complaint_assign(complaint_id: int):
    """Give the complaint to a staff member, or to nobody."""
    found = _complaint_or_404(complaint_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _answer(found, status=422, assign_form=form)
    complaints.assign(found, form.assignee_id, staff_id=current_user.id)
    return _answer(found, message=_("Assignment saved."))


@bp.route("/complaints/<int:complaint_id>/replies", methods=["POST"])
def complaint_reply(complaint_id: int):
    """A reply to the customer: saved, and e-mailed to them when they can be."""
    found = _complaint_or_404(complaint_id)
    form = _reply_form()
    if not form.validate_on_submit():
        return _answer(found, status=422, reply_form=form)
    reply = complaints.add_reply(found, form.body.data, staff_id=current_user.id)
    if reply.mailed:
        message = _("Reply saved and e-mailed to the customer.")
    else:
        message = _("Reply saved.") + " " + _not_mailed_reason(found.customer)
    return _answer(found, message=message)


@bp.route("/complaints/<int:complaint_id>/notes", methods=["POST"])
def complaint_note(complaint_id: int):
    """An internal note for colleagues: never sent or shown to the customer."""
    found = _complaint_or_404(complaint_id)
    form = _note_form()
    if not form.validate_on_submit():
        return _answer(found, status=422, note_form=form)
    complaints.add_note(found, form.body.data, staff_id=current_user.id)
    return _answer(found, message=_("Internal note saved. The customer does not see it."))


@bp.route("/complaints/<int:complaint_id>/resolution", methods=["POST"])
def complaint_resolution(complaint_id: int):
    """What was done for the customer, and what the redress was worth."""
    found = _complaint_or_404(complaint_id)
    form = ResolutionForm()
    if not form.validate_on_submit():
        return _answer(found, status=422, resolution_form=form)
    complaints.record_resolution(
        found,
        resolution=form.resolution.data,
        redress=form.redress.data,
        redress_value=form.redress_value.data,
        staff_id=current_user.id,
    )
    return _answer(found, message=_("Resolution saved."))


# --- The board's card ------------------------------------------------------------------


def card_context(complaint: Complaint, *, now=None) -> dict:
    """What templates/staff/complaints/_card.html needs for one complaint."""
    return {
        "complaint": complaint,
        "overdue": complaints.is_overdue(complaint, now or utcnow()),
        "transitions": _transitions(complaint),
        "staff_choices": _staff_choices(),
        "labels": LABELS,
    }


# --- Helpers ---------------------------------------------------------------------------


def _complaint_or_404(complaint_id: int) -> Complaint:
    """The complaint, if its customer is still in the workspace (erased or merged: 404)."""
    found = (
        Complaint.select(Complaint, Customer)
        .join(Customer)
        .where(
            (Complaint.id == complaint_id)
            & Customer.erased_at.is_null()
            & Customer.merged_into.is_null()
        )
        .first()
    )
    if found is None:
        abort(404)
    return found


def _reply_form(**kwargs) -> MessageForm:
    return MessageForm(field_id="reply-body", label=_("Reply to the customer"), **kwargs)


def _note_form(**kwargs) -> MessageForm:
    return MessageForm(field_id="note-body", label=_("Internal note"), **kwargs)


def _staff_choices() -> list[tuple[int, str]]:
    """Active staff for the assign selects, read once per request (a board has many cards)."""
    if "complaint_staff_choices" not in g:
        staff = StaffAccount.select(StaffAccount.id, StaffAccount.name).where(StaffAccount.active)
        g.complaint_staff_choices = [(s.id, s.name) for s in staff.order_by(StaffAccount.name)]
    return g.complaint_staff_choices


def _transitions(complaint: Complaint) -> list[tuple[str, str]]:
    """(status, button label) for each status the complaint may move to now."""
    return [
        (to_status, status_action(complaint.status, to_status))
        for to_status in complaints.allowed_transitions(complaint)
    ]


def _refusal(refused: complaints.TransitionRefused) -> str:
    allowed = [COMPLAINT_STATUSES[s] for s in complaints.TRANSITIONS.get(refused.from_status, ())]
    return _(
        "A complaint that is “%(current)s” cannot move to “%(requested)s”. "
        "It can move to: %(allowed)s.",
        current=COMPLAINT_STATUSES.get(refused.from_status, refused.from_status),
        requested=COMPLAINT_STATUSES.get(refused.to_status, refused.to_status),
        allowed=", ".join(str(label) for label in allowed),
    )


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return ""


def _not_mailed_reason(customer) -> str:
    if customer.preferred_channel == "none":
        return _("No e-mail was sent: the customer does not want to be contacted.")
    if complaints.customer_email(customer.id) is None:
        return _("No e-mail was sent: the customer has no e-mail address.")
    return _("The e-mail could not be sent; try again later or contact the customer another way.")


def _page_context(complaint: Complaint, **overrides) -> dict:
    now = utcnow()
    thread = list(complaints.messages(complaint))
    authors = {s_id: name for s_id, name in _staff_choices()}
    context = {
        "complaint": complaint,
        "customer": complaint.customer,
        "overdue": complaints.is_overdue(complaint, now),
        "first_response_late": complaint.status in ("new", "in_progress")
        and complaint.first_responded_at is None
        and complaint.first_response_due_at is not None
        and now > complaint.first_response_due_at,
        "transitions": _transitions(complaint),
        "thread": thread,
        "authors": authors,
        "changes": list(complaints.status_changes(complaint)),
        "staff_choices": _staff_choices(),
        "labels": LABELS,
        "assign_form": AssignForm(
            formdata=None, data={"assignee": str(complaint.assignee_id or "")}
        ),
        "reply_form": _reply_form(formdata=None),
        "note_form": _note_form(formdata=None),
        "resolution_form": ResolutionForm(
            formdata=None,
            data={
                "resolution": complaint.resolution,
                "redress": complaint.redress or "none",
                "redress_value": complaint.redress_value,
            },
        ),
        "status_error": "",
        "complaint_message": "",
        "can_mail": complaints.can_mail(complaint.customer),
        "currency": settings.get("currency"),
    }
    context.update(overrides)
    for name in ("assign_form", "reply_form", "note_form", "resolution_form"):
        focus_first_error(context[name])
    return context


def _page(complaint: Complaint, *, status: int = 200, **overrides):
    record_audit(
        "customer_viewed", target_type="customer", target_id=complaint.customer_id, part="complaint"
    )
    return render_template(PAGE, **_page_context(complaint, **overrides)), status, VARY


def _answer(complaint: Complaint, *, status: int = 200, message: str = "", **overrides):
    """After a change (or a refusal): the card or the section for HTMX, else the page."""
    if request.headers.get("HX-Target") == f"complaint-card-{complaint.id}":
        failed_forms = (form for name, form in overrides.items() if name.endswith("_form"))
        error = overrides.get("status_error") or next(
            (e for e in map(_first_error, failed_forms) if e), ""
        )
        context = card_context(complaint) | {"card_message": message, "card_error": error}
        return render_template(CARD, **context), status, VARY
    if is_htmx():
        context = _page_context(complaint, complaint_message=message, **overrides)
        return render_template(SECTION, **context), status, VARY
    if status >= 400:
        return _page(complaint, status=status, **overrides)
    return redirect(url_for("staff.complaint", complaint_id=complaint.id), code=303)
