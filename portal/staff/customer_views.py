"""Create and edit customers (with validation and likely-duplicate warnings)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import customers, search
from ..web import client_address, customer_or_404
from . import bp
from .customer_forms import CustomerForm

# Longest value the duplicate check reads from a query parameter (the longest form field).
_PARAMETER_MAX = 320
_DUPLICATE_PARAMETERS = ("given_name", "family_name", "email", "email2", "phone", "phone2")


@bp.route("/customers/new", methods=["GET", "POST"])
def new_customer():
    """The new-customer form; a valid one creates the customer and opens the profile."""
    form = CustomerForm()
    if form.validate_on_submit():
        customer = customers.create_customer(
            form.customer_data(), current_user.id, ip_address=client_address()
        )
        flash(_("Customer created."), "success")
        return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("staff/customers/new.html", form=form), status


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
def edit_customer(customer_id: int):
    """The edit form for a customer; a valid one saves the changes and opens the profile."""
    customer = customer_or_404(customer_id)
    form = CustomerForm.for_customer(customers.form_values(customer))
    if form.validate_on_submit():
        changed = customers.update_customer(
            customer, form.customer_data(), current_user.id, ip_address=client_address()
        )
        flash(_("Changes saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("staff/customers/edit.html", form=form, customer=customer), status


@bp.get("/customers/likely-duplicates")
def likely_duplicates():
    """The list of customers who may be the person being typed in (an HTMX partial)."""
    args = {name: request.args.get(name, "")[:_PARAMETER_MAX] for name in _DUPLICATE_PARAMETERS}
    matches = customers.duplicate_matches(
        args["given_name"],
        args["family_name"],
        [args["email"], args["email2"]],
        [args["phone"], args["phone2"]],
        exclude_id=request.args.get("exclude", type=int),
    )
    contacts = search.primary_contacts([match.customer for match in matches])
    return render_template(
        "staff/customers/_likely_duplicates.html", matches=matches, contacts=contacts
    )
