"""Sensitive identifiers on the profile: listed masked, added, revealed on purpose (audited), removed."""

from flask import abort, current_app, g, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import identifiers
from ..web import client_address, customer_or_404, is_htmx
from . import bp
from .identifier_forms import IdentifierForm
from .profile_forms import LABELS, focus_first_error

PARTS = "staff/customers/"
# A revealed number (or one typed into the form) must not stay in any cache.
PRIVATE = {"Cache-Control": "no-store", "Vary": "HX-Request"}


def profile_context(customer) -> dict:
    """What the profile page needs for this section: identifiers masked and the add form."""
    return {
        "sensitive_identifiers": identifiers.for_customer(customer.id),
        # A form refused without HTMX comes back through the whole page (see add_identifier).
        "identifier_form": g.pop("identifier_form", None) or IdentifierForm(formdata=None),
    }


@bp.route("/customers/<int:customer_id>/identifiers", methods=["POST"])
def add_identifier(customer_id: int):
    """Add a national ID or tax number; it is stored encrypted and shown masked."""
    customer = customer_or_404(customer_id)
    form = IdentifierForm()
    if form.validate_on_submit():
        try:
            identifiers.add(
                customer.id,
                form.kind.data,
                form.value.data,
                current_user.id,
                region=form.region,
                ip=client_address(),
            )
        except identifiers.InvalidIdentifier as error:
            form.refuse(error)
        else:
            return _section(customer, status=_("Identifier added."))
    focus_first_error(form)
    return _section(customer, form=form, code=422)


@bp.route("/customers/<int:customer_id>/identifiers/<int:identifier_id>/reveal", methods=["POST"])
def reveal_identifier(customer_id: int, identifier_id: int):
    """Show one identifier in full to the staff member who asked; every reveal is audited."""
    customer = customer_or_404(customer_id)
    identifier = _identifier_or_404(customer, identifier_id)
    try:
        value = identifiers.reveal(identifier.id, current_user.id, client_address())
    except identifiers.IdentifierKeyError as error:
        current_app.logger.error("Identifier reveal failed: %s", error)
        value, code = None, 500
    else:
        code = 200
    context = {"customer": customer, "identifier": identifier, "value": value, "labels": LABELS}
    if is_htmx():
        # htmx does not swap 5xx answers here, so the failure comes back as a swappable notice.
        return render_template(PARTS + "_identifier_revealed.html", **context), 200, PRIVATE
    return render_template(PARTS + "identifier_revealed.html", **context), code, PRIVATE


@bp.route("/customers/<int:customer_id>/identifiers/<int:identifier_id>")
def masked_identifier(customer_id: int, identifier_id: int):
    """One identifier masked again (HTMX "Hide"); without HTMX, the profile."""
    customer = customer_or_404(customer_id)
    identifier = _identifier_or_404(customer, identifier_id)
    if not is_htmx():
        return redirect(_profile_url(customer), code=303)
    context = {"customer": customer, "identifier": identifier, "labels": LABELS, "focus": True}
    return render_template(PARTS + "_identifier_masked.html", **context), 200, PRIVATE


@bp.route("/customers/<int:customer_id>/identifiers/<int:identifier_id>/remove", methods=["POST"])
def remove_identifier(customer_id: int, identifier_id: int):
    """Delete an identifier entered by mistake or no longer needed; audited."""
    customer = customer_or_404(customer_id)
    identifier = _identifier_or_404(customer, identifier_id)
    identifiers.remove(identifier.id, current_user.id, client_address())
    return _section(customer, status=_("Identifier removed."))


def _identifier_or_404(customer, identifier_id: int):
    identifier = identifiers.get(customer.id, identifier_id)
    if identifier is None:
        abort(404)
    return identifier


def _profile_url(customer) -> str:
    return url_for("staff.customer_profile", customer_id=customer.id, _anchor="identifiers")


def _section(customer, *, form=None, status: str = "", code: int = 200):
    """After a change: the section for HTMX, else back to the profile (or the page with errors)."""
    if not is_htmx():
        if code == 200:
            return redirect(_profile_url(customer), code=303)
        from .profile_views import _profile_page  # the page imports this module

        g.identifier_form = form
        html, page_code, _vary = _profile_page(customer, status=code)
        return make_response(html, page_code, PRIVATE)
    context = {
        **profile_context(customer),
        "customer": customer,
        "labels": LABELS,
        "identifier_status": status,
    }
    if form is not None:
        context["identifier_form"] = form
    return render_template(PARTS + "_identifiers.html", **context), code, PRIVATE
