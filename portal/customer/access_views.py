"""Signing in to the customer area with an e-mailed single-use link, signing out, language."""

import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from .. import audit, customer_links, mail
from ..customers import InvalidEmail, normalize_email
from ..extensions import limiter
from ..i18n import LANGUAGE_NAMES
from ..web import client_address, is_safe_next, record_audit
from . import bp
from .forms import CustomerLanguageForm, LinkRequestForm
from .session import current_customer, sign_in_customer, sign_out_customer

log = logging.getLogger(__name__)

# Link requests are limited per client and per address (known or not, alike).
DEFAULT_LIMIT_PER_ADDRESS = "10 per 15 minutes"
DEFAULT_LIMIT_PER_EMAIL = "3 per 15 minutes"


def _email_key() -> str:
    return "customer-link-email:" + request.form.get("email", "").strip().lower()


def _too_many(_limit):
    return render_template("customer/too_many.html"), 429


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config.get("CUSTOMER_LINK_LIMIT_PER_ADDRESS", DEFAULT_LIMIT_PER_ADDRESS),
    methods=["POST"],
    on_breach=_too_many,
)
@limiter.limit(
    lambda: current_app.config.get("CUSTOMER_LINK_LIMIT_PER_EMAIL", DEFAULT_LIMIT_PER_EMAIL),
    methods=["POST"],
    key_func=_email_key,
    on_breach=_too_many,
)
def sign_in():
    """Ask for a sign-in link; the answer is the same whether the address is known or not."""
    if current_customer() is not None:
        return redirect(url_for("customer.my_data"))
    form = LinkRequestForm()
    if form.validate_on_submit():
        _send_link_to(form.email.data)
        return redirect(url_for("customer.link_sent"), code=303)
    status = 422 if form.errors else 200
    return render_template("customer/sign_in.html", form=form), status


def _send_link_to(address: str) -> None:
    try:
        _shown, normalized = normalize_email(address)
    except InvalidEmail:
        return
    contact = customer_links.contact_for_email(normalized)
    if contact is None:
        return
    customer = contact.customer
    if send_link(customer, contact.value):
        record_audit("customer_link_sent", target_type="customer", target_id=customer.id)


def send_link(customer, address: str, *, invited: bool = False) -> bool:
    """Make a link and mail it in the customer's language. False when the mail did not go."""
    token = customer_links.create_link(customer)
    try:
        mail.send_template(
            "customer_sign_in",
            to=address,
            language=customer.preferred_language or "en",
            customer=customer,
            invited=invited,
            link=url_for("customer.follow_link", token=token, _external=True),
            minutes=int(customer_links.LINK_LIFETIME.total_seconds() // 60),
        )
    except mail.MailNotSent:
        log.exception("customer %s: sign-in link not sent", customer.id)
        return False
    return True


@bp.route("/sign-in/sent")
def link_sent():
    return render_template("customer/link_sent.html")


LINK_PROBLEMS = {
    customer_links.LinkUsed: ("used", 410),
    customer_links.LinkExpired: ("expired", 410),
    customer_links.LinkInvalid: ("invalid", 404),
}


@bp.route("/link/<token>", methods=["GET", "POST"])
def follow_link(token: str):
    """Sign in with an e-mailed link, once. Opening it only shows a button: mail scanners
    open links too, and must not use them up. A used, expired or unknown link says so."""
    form = FlaskForm()
    try:
        if request.method == "GET" or not form.validate_on_submit():
            customer = customer_links.peek(token)
            # Before sign-in the page speaks the customer's language unless they chose one.
            with force_locale(session.get("language") or customer.preferred_language):
                return render_template("customer/link_confirm.html", form=form)
        customer = customer_links.consume(token)
    except customer_links.LinkError as problem:
        kind, status = LINK_PROBLEMS[type(problem)]
        return render_template("customer/link_problem.html", problem=kind), status
    sign_in_customer(customer)
    audit.record(
        "customer_signed_in",
        actor_type="customer",
        actor_id=customer.id,
        target_type="customer",
        target_id=customer.id,
        ip_address=client_address(),
    )
    return redirect(url_for("customer.my_data"), code=303)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    customer = current_customer()
    audit.record(
        "customer_signed_out",
        actor_type="customer",
        actor_id=customer.id,
        target_type="customer",
        target_id=customer.id,
        ip_address=client_address(),
    )
    sign_out_customer()
    flash(_("You have signed out."), "info")
    return redirect(url_for("customer.sign_in"), code=303)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the area's language for this browser session (select_language reads it first)."""
    form = CustomerLanguageForm()
    form.language.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    if form.validate_on_submit():
        session["language"] = form.language.data
    target = request.form.get("next")
    if not (is_safe_next(target) and target.startswith("/me")):
        target = url_for("customer.my_data")
    return redirect(target, code=303)


# The area's navigation, in order; base.html shows the pages that exist.
NAV = {
    "customer.my_data": _l("My data"),
    "customer.download": _l("Download"),
    "customer.edit_details": _l("My details"),
    "customer.consent": _l("Consent"),
    "customer.complaints": _l("Complaints"),
    "customer.erase_me": _l("Erase me"),
}


@bp.context_processor
def area_navigation():
    endpoints = current_app.view_functions
    return {
        "area_nav": [
            (endpoint, url_for(endpoint), label)
            for endpoint, label in NAV.items()
            if endpoint in endpoints
        ],
        "signed_in_customer": current_customer(),
    }
