"""Access, correction and erasure requests taken by staff on a customer's behalf (the profile's
privacy-requests section), each on the legal clock kept by portal/privacy_requests.py."""

from flask import abort, g, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from .. import privacy_requests
from ..models import PrivacyRequest, utcnow
from ..web import customer_or_404, is_htmx
from . import bp
from .profile_forms import focus_first_error
from .request_forms import REQUEST_KINDS, REQUEST_STATUSES, CloseRequestForm, PrivacyRequestForm

SECTION = "staff/customers/_requests.html"
VARY = {"Vary": "HX-Request"}
# Erasure requests close through the erasure process, not by hand.
CLOSED_BY_HAND = ("access", "correction")


@bp.route("/customers/<int:customer_id>/privacy-requests", methods=["POST"])
def record_privacy_request(customer_id: int):
    """Record an access, correction or erasure request the customer made to staff."""
    customer = customer_or_404(customer_id)
    form = PrivacyRequestForm()
    if not form.validate_on_submit():
        return _section_again(customer, form)
    if form.kind.data == "erasure":
        # Imported here: the erasure service is written alongside this section.
        from .. import erasure

        erasure.request_erasure(customer.id, made_via="staff", staff_id=current_user.id)
        opened = privacy_requests.open_for_customer(customer.id, "erasure")
        if opened is not None:
            privacy_requests.received_earlier(opened, form.received_at_utc)
    else:
        opened = privacy_requests.open_request(
            customer.id, form.kind.data, staff_id=current_user.id, received_at=form.received_at_utc
        )
    message = _(
        "Request recorded. Answer it by %(date)s.",
        date=format_date(opened.due_at, "long") if opened else "",
    )
    return _done(customer, message)


@bp.route("/customers/<int:customer_id>/privacy-requests/<int:request_id>/close", methods=["POST"])
def close_privacy_request(customer_id: int, request_id: int):
    """Mark an access or correction request completed or refused: the clock stops."""
    customer = customer_or_404(customer_id)
    privacy_request = _request_or_404(customer.id, request_id)
    form = CloseRequestForm()
    if not form.validate_on_submit():
        # Only an altered page posts another outcome than its two buttons: say so in the section.
        section_form = PrivacyRequestForm(formdata=None)
        section_form.form_errors.extend(form.status.errors)
        return _section_again(customer, section_form, status=422)
    if not privacy_request.is_open:
        return _done(customer, _("This request was already closed."))
    privacy_requests.close_request(
        privacy_request, status=form.status.data, staff_id=current_user.id
    )
    if privacy_request.status == "refused":
        return _done(customer, _("Request marked as refused."))
    return _done(customer, _("Request marked as completed."))


def profile_context(customer) -> dict:
    """What the profile page needs for this section."""
    return {
        "privacy_requests": _rows(customer.id),
        # A form that failed outside HTMX comes back with its messages (see _section_again).
        "privacy_request_form": g.pop("privacy_request_form", None)
        or PrivacyRequestForm(formdata=None),
        "request_kinds": REQUEST_KINDS,
        "request_statuses": REQUEST_STATUSES,
        "request_message": g.pop("privacy_request_message", ""),
    }


# --- Helpers ---------------------------------------------------------------------------


def _request_or_404(customer_id: int, request_id: int) -> PrivacyRequest:
    found = PrivacyRequest.get_or_none(
        (PrivacyRequest.id == request_id)
        & (PrivacyRequest.customer == customer_id)
        & PrivacyRequest.kind.in_(CLOSED_BY_HAND)
    )
    if found is None:
        abort(404)
    return found


def _rows(customer_id: int) -> list[dict]:
    now = utcnow()
    return [
        {
            "request": item,
            "overdue": item.is_overdue(now),
            "days_left": privacy_requests.days_left(item, now),
            "days_overdue": privacy_requests.days_overdue(item, now),
            "closable": item.is_open and item.kind in CLOSED_BY_HAND,
        }
        for item in privacy_requests.for_customer(customer_id)
    ]


def _section_again(customer, form, *, status: int = 422):
    """The form back with its messages: the section for HTMX, else the whole profile."""
    focus_first_error(form)
    if is_htmx():
        context = profile_context(customer) | {"privacy_request_form": form}
        return render_template(SECTION, customer=customer, **context), status, VARY
    from .profile_views import _profile_page  # the profile imports this module

    g.privacy_request_form = form
    return _profile_page(customer, status=status)


def _done(customer, message: str):
    """After a change: the fresh section for HTMX, else back to the profile (303)."""
    if not is_htmx():
        return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
    g.privacy_request_message = message
    return render_template(SECTION, customer=customer, **profile_context(customer)), 200, VARY
