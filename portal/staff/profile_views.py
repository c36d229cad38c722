"""The customer profile: contact card, figures, timeline, inline purchases and interactions."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from .. import history, merge
from ..i18n import LANGUAGE_NAMES
from ..models import Address, ContactPoint, Customer, CustomerTag, Tag
from ..web import customer_or_404, is_htmx, record_audit
from . import bp, complaint_views, consent_views, identifier_views, request_views
from .profile_forms import LABELS, InteractionForm, PurchaseForm, focus_first_error

PAGE = "staff/customers/profile.html"
PARTS = "staff/customers/"
VARY = {"Vary": "HX-Request"}
# Which page variable and which partial each inline form has.
FORMS = {
    PurchaseForm: ("purchase_form", PARTS + "_purchase_form.html"),
    InteractionForm: ("interaction_form", PARTS + "_interaction_form.html"),
}


@bp.route("/customers/<int:customer_id>")
def customer_profile(customer_id: int):
    """A customer's profile: contact card, figures, history, and forms to record more."""
    return _profile_page(customer_or_404(customer_id))


@bp.route("/customers/<int:customer_id>/timeline")
def customer_timeline(customer_id: int):
    """Older history: the next entries for HTMX to append, else the profile from that point."""
    customer = customer_or_404(customer_id)
    before = _cursor(request.args.get("before", ""))
    if not is_htmx():
        return _profile_page(customer, before=before)
    record_audit("customer_viewed", target_type="customer", target_id=customer.id, part="timeline")
    entries, next_cursor = history.timeline(customer.id, before=before)
    context = {"customer": customer, "entries": entries, "next_cursor": next_cursor}
    return render_template(PARTS + "_timeline_page.html", **context, labels=LABELS), VARY


@bp.route("/customers/<int:customer_id>/purchases", methods=["POST"])
def add_purchase(customer_id: int):
    """Record a purchase from the profile (HTMX: fresh form, new history and figures)."""
    customer = customer_or_404(customer_id)
    form = PurchaseForm()
    if request.form.get("add_line"):
        form.add_line()
        return _form_again(customer, form, status=200)
    if not form.validate_on_submit():
        return _form_again(customer, form, status=422)
    purchase = history.record_purchase(
        customer,
        [line.line for line in form.filled_lines],
        purchased_at=form.purchased_at_utc,
        channel=form.channel.data,
        location_id=form.location_id,
        receipt_number=form.receipt_number.data,
        staff_id=current_user.id,
    )
    return _recorded(customer, purchase=purchase)


@bp.route("/customers/<int:customer_id>/interactions", methods=["POST"])
def add_interaction(customer_id: int):
    """Record a call, e-mail, chat, visit or note from the profile."""
    customer = customer_or_404(customer_id)
    form = InteractionForm()
    if not form.validate_on_submit():
        return _form_again(customer, form, status=422)
    interaction = history.record_interaction(
        customer,
        occurred_at=form.occurred_at_utc,
        direction=form.direction.data,
        channel=form.channel.data,
        summary=form.summary.data,
        staff_id=current_user.id,
    )
    return _recorded(customer, interaction=interaction)


# --- Rendering -------------------------------------------------------------------------


def _profile_page(customer: Customer, *, before=None, status: int = 200, **forms):
    """The whole profile page. Every rendering of it is an audited view of the customer."""
    record_audit("customer_viewed", target_type="customer", target_id=customer.id)
    entries, next_cursor = history.timeline(customer.id, before=before)
    context = {
        "customer": customer,
        "card": _contact_card(customer),
        "figures": history.figures(customer),
        "entries": entries,
        "next_cursor": next_cursor,
        "older_page": before is not None,
        "labels": LABELS,
        "merges": merge.open_merges(customer.id),
        **_forms(**forms),
        # Each privacy part brings its own section of the profile.
        **consent_views.profile_context(customer),
        **identifier_views.profile_context(customer),
        **request_views.profile_context(customer),
        **complaint_views.profile_context(customer),
    }
    return render_template(PAGE, **context), status, VARY


def _forms(purchase_form=None, interaction_form=None) -> dict:
    return {
        "purchase_form": purchase_form or PurchaseForm(formdata=None),
        "interaction_form": interaction_form or InteractionForm(formdata=None),
    }


def _form_again(customer: Customer, form, *, status: int):
    """A form back with its messages (or its new line): the partial for HTMX, else the page."""
    focus_first_error(form)
    name, partial = FORMS[type(form)]
    if not is_htmx():
        return _profile_page(customer, status=status, **{name: form})
    return render_template(partial, customer=customer, form=form), status, VARY


def _recorded(customer: Customer, *, purchase=None, interaction=None):
    """After a write: back to the profile (303), or for HTMX the fresh form, history and figures."""
    if not is_htmx():
        return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
    entries, next_cursor = history.timeline(customer.id)
    context = {
        "customer": customer,
        "figures": history.figures(customer),
        "entries": entries,
        "next_cursor": next_cursor,
        "purchase": purchase,
        "interaction": interaction,
        "labels": LABELS,
        "form": PurchaseForm(formdata=None) if purchase else InteractionForm(formdata=None),
    }
    return render_template(PARTS + "_recorded.html", **context), 200, VARY


def _cursor(text: str):
    if not text:
        return None
    try:
        return history.Cursor.parse(text)
    except ValueError:
        abort(400)


def _contact_card(customer: Customer) -> dict:
    """What the contact card shows, read in three queries."""
    points = list(
        ContactPoint.select()
        .where(ContactPoint.customer == customer.id)
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
    )
    addresses = (
        Address.select()
        .where(Address.customer == customer.id)
        .order_by(Address.is_primary.desc(), Address.id)
    )
    tags = (
        Tag.select(Tag.name)
        .join(CustomerTag)
        .where(CustomerTag.customer == customer.id)
        .order_by(Tag.name)
    )
    return {
        "emails": [point for point in points if point.kind == "email"],
        "phones": [point for point in points if point.kind == "phone"],
        "addresses": [_address_lines(address) for address in addresses],
        "tags": [tag.name for tag in tags],
        "language": _language_name(customer.preferred_language),
    }


def _address_lines(address: Address) -> list[str]:
    country = get_locale().territories.get(address.country, address.country)
    lines = [
        address.line1,
        address.line2,
        " ".join(part for part in (address.postal_code, address.city) if part),
        address.region,
        country,
    ]
    return [line for line in lines if line]


def _language_name(code: str) -> str:
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    return get_locale().languages.get(code, code)
