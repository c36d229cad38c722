"""Correct: the signed-in customer edits their contact details and preferences (SPEC 5).

Saved through customers.update_customer, the same write staff use: same normalisation, one
transaction, audited as customer_updated by the customer with the changed field names.
"""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import customers
from ..staff.profile_forms import focus_first_error
from ..web import client_address
from . import bp
from .details_forms import EDITABLE_FIELDS, CustomerDetailsForm
from .session import current_customer


@bp.route("/details", methods=["GET", "POST"])
def edit_details():
    customer = current_customer()
    stored = customers.form_values(customer)
    form = CustomerDetailsForm(data={name: stored[name] for name in EDITABLE_FIELDS})
    if not form.validate_on_submit():
        focus_first_error(form)
        status = 422 if form.is_submitted() else 200
        return render_template("customer/details.html", form=form), status
    # Everything the customer does not edit is passed back as stored, so it stays unchanged.
    changed = customers.update_customer(
        customer,
        {**stored, **form.changes()},
        customer.id,
        ip_address=client_address(),
        actor_type="customer",
    )
    flash(_("Your details are saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("customer.edit_details"), code=303)
