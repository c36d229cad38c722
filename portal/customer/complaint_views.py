"""The customer's complaints: the list, raising one, following one and replying (SPEC 5).

A customer reaches only their own complaints (any other id is 404) and reads only the
replies of a thread: internal notes never leave the staff workspace.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import complaints
from ..models import Complaint
from ..staff.complaint_forms import COMPLAINT_CATEGORIES
from ..web import is_htmx
from . import bp
from .complaint_forms import (
    REOPENED,
    STATUS_EVENTS,
    STATUS_LABELS,
    CustomerComplaintForm,
    CustomerReplyForm,
)
from .session import current_customer

PAGES = "customer/complaints/"
LABELS = {"statuses": STATUS_LABELS, "categories": COMPLAINT_CATEGORIES}


def _own_complaint_or_404(complaint_id: int) -> Complaint:
    complaint = Complaint.get_or_none(
        (Complaint.id == complaint_id) & (Complaint.customer == current_customer().id)
    )
    if complaint is None:
        abort(404)
    return complaint


@bp.route("/complaints", methods=["GET", "POST"], endpoint="complaints")
def complaint_list():
    """The customer's complaints with where each stands, and the form to raise one."""
    customer = current_customer()
    form = CustomerComplaintForm()
    if form.validate_on_submit():
        complaint = complaints.open_complaint(
            customer,
            subject=form.subject.data,
            description=form.description.data,
            channel=complaints.SELF_SERVICE,
            category=form.category.data,
            severity="medium",  # staff judge the severity when they read it
        )
        flash(_("Thank you. We have received your complaint."), "success")
        return redirect(url_for("customer.complaint", complaint_id=complaint.id), code=303)
    own = (
        Complaint.select()
        .where(Complaint.customer == customer.id)
        .order_by(Complaint.opened_at.desc(), Complaint.id.desc())
    )
    status = 422 if form.errors else 200
    return render_template(PAGES + "index.html", complaints=own, form=form, labels=LABELS), status


@bp.route("/complaints/<int:complaint_id>")
def complaint(complaint_id: int):
    """One complaint: where it stands, what happened so far, and the replies."""
    return _complaint_page(_own_complaint_or_404(complaint_id), CustomerReplyForm())


@bp.route("/complaints/<int:complaint_id>/replies", methods=["POST"])
def complaint_reply(complaint_id: int):
    complaint = _own_complaint_or_404(complaint_id)
    form = CustomerReplyForm()
    if complaint.status != "closed" and form.validate_on_submit():
        complaints.add_customer_reply(complaint, form.body.data, customer_id=complaint.customer_id)
        if is_htmx():
            return _thread(complaint, CustomerReplyForm(formdata=None), sent=True)
        flash(_("Your reply has been sent."), "success")
        return redirect(url_for("customer.complaint", complaint_id=complaint.id), code=303)
    if complaint.status == "closed":
        form.body.errors = [_("This complaint is closed. Please raise a new one.")]
    if is_htmx():
        return _thread(complaint, form), 422
    return _complaint_page(complaint, form), 422


def _history(complaint: Complaint) -> list[tuple]:
    """(when, what happened) in plain words, oldest first."""
    events = [(complaint.opened_at, _("We received your complaint."))]
    for change in complaints.status_changes(complaint):
        reopened = change.to_status == "in_progress" and change.from_status in (
            complaints.SETTLED_STATUSES
        )
        text = REOPENED if reopened else STATUS_EVENTS.get(change.to_status)
        if text:
            events.append((change.changed_at, text))
    return events


def _context(complaint: Complaint, form: CustomerReplyForm) -> dict:
    return {
        "complaint": complaint,
        "replies": list(complaints.customer_visible_messages(complaint)),
        "form": form,
        "labels": LABELS,
    }


def _complaint_page(complaint: Complaint, form: CustomerReplyForm):
    return render_template(
        PAGES + "page.html", history=_history(complaint), **_context(complaint, form)
    )


def _thread(complaint: Complaint, form: CustomerReplyForm, sent: bool = False):
    return render_template(PAGES + "_thread.html", sent=sent, **_context(complaint, form))
