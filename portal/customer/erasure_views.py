"""Erase me (SPEC 5): the customer asks for erasure, confirms it from the e-mailed link, and
the owner's erasure desk executes it after the grace period (portal/erasure.py)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import erasure, mail, settings
from ..complaints import customer_email
from ..models import Customer, ErasureRequest
from . import bp
from .complaint_forms import EraseMeForm
from .session import current_customer


@bp.route("/erase", methods=["GET", "POST"])
def erase_me():
    """What erasure means and the button asking for it; once asked, where the request stands."""
    customer = current_customer()
    form = EraseMeForm()
    if form.validate_on_submit():
        existing = erasure.open_request_for(customer.id)
        request = existing or erasure.request_erasure(customer.id, made_via="self_service")
        if request.status == "awaiting_confirmation":
            # A second click sends the link again: the first e-mail may have gone astray.
            if _send_confirmation(customer, request):
                flash(_("We have sent you an e-mail. Follow its link to confirm."), "success")
            else:
                flash(_("We could not send the e-mail just now. Please try again later."), "error")
        elif existing is not None:
            flash(_("You have already asked us to erase your data."), "info")
        return redirect(url_for("customer.erase_me"), code=303)
    return render_template(
        "customer/erase.html",
        form=form,
        erasure_request=erasure.open_request_for(customer.id),
        grace_days=int(settings.get("erasure_grace_days")),
    )


@bp.route("/erase/confirm/<token>", methods=["GET", "POST"])
def confirm_erasure(token: str):
    """The e-mailed link: a page with the confirming button (mail scanners only follow GET).

    Works without a customer session: the signed link proves the mailbox.
    """
    try:
        request = erasure.request_for_confirmation(token)
    except erasure.ConfirmationLinkExpired:
        return _link_problem(_("This link has expired. Sign in and ask for erasure again.")), 410
    except erasure.ConfirmationLinkInvalid:
        return _link_problem(_("This link is not valid. Please use the link from the e-mail.")), 404
    form = EraseMeForm()
    if request.status == "awaiting_confirmation" and form.validate_on_submit():
        erasure.confirm(request)
        return redirect(url_for("customer.confirm_erasure", token=token), code=303)
    return render_template("customer/erase_confirm.html", erasure_request=request, form=form)


def _link_problem(message: str):
    return render_template("customer/erase_confirm.html", erasure_request=None, problem=message)


def _send_confirmation(customer: Customer, request: ErasureRequest) -> bool:
    address = customer_email(customer.id)
    if not address:
        return False
    link = url_for(
        "customer.confirm_erasure", token=erasure.confirmation_token(request), _external=True
    )
    try:
        mail.send_template(
            "erasure_confirm",
            to=address,
            language=customer.preferred_language or "en",
            link=link,
            days=erasure.CONFIRM_LINK_DAYS,
        )
    except mail.MailNotSent:
        return False
    return True
