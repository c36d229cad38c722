"""Staff send a customer a link into the self-service area (SPEC 5) from the profile."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from .. import customer_links
from ..customer.access_views import send_link
from ..web import customer_or_404, record_audit
from . import bp


@bp.route("/customers/<int:customer_id>/invite", methods=["POST"])
def invite_customer(customer_id: int):
    """Mail the customer a single-use sign-in link; only customers with an e-mail get one."""
    customer = customer_or_404(customer_id)
    address = customer_links.email_of(customer)
    if address is None:
        abort(404)
    if send_link(customer, address, invited=True):
        record_audit("customer_invitation_sent", target_type="customer", target_id=customer.id)
        flash(_("Invitation sent. The link in it works once, within 15 minutes."), "success")
    else:
        flash(_("The invitation could not be sent: the mail server did not accept it."), "error")
    return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
