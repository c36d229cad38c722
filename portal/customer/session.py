"""Who the signed-in customer is. One place keeps the customer's session: `sign_in_customer`,
`sign_out_customer`, `current_customer`, and the blueprint's `require_customer` hook."""

from datetime import timedelta

from flask import g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..models import Customer, utcnow

SESSION_KEY = "customer_id"
SIGNED_IN_AT = "customer_signed_in_at"
SESSION_LIFETIME = timedelta(hours=2)
# Pages of the area a visitor reaches without being signed in (the sign-in itself).
PUBLIC_ENDPOINTS = {
    "customer.sign_in",
    "customer.link_sent",
    "customer.follow_link",
    "customer.set_language",
    "customer.confirm_erasure",  # the e-mailed link works after the session expired
    "static",
}


def sign_in_customer(customer: Customer) -> None:
    """Start a fresh customer session; any staff session in this browser ends."""
    if current_user.is_authenticated:
        logout_user()
    # Keep the language chosen before signing in; else the customer's own.
    language = session.get("language") or customer.preferred_language
    session.clear()
    if language:
        session["language"] = language
    session[SESSION_KEY] = customer.id
    session[SIGNED_IN_AT] = utcnow().isoformat()


def sign_out_customer() -> None:
    session.pop(SESSION_KEY, None)
    session.pop(SIGNED_IN_AT, None)


def current_customer() -> Customer | None:
    """The signed-in customer of this request (None when signed out, expired or erased)."""
    if "customer" in g:
        return g.customer
    customer = None
    customer_id = session.get(SESSION_KEY)
    started = session.get(SIGNED_IN_AT)
    if customer_id and started:
        from datetime import datetime

        if utcnow() - datetime.fromisoformat(started) <= SESSION_LIFETIME:
            customer = Customer.active().where(Customer.id == customer_id).first()
        if customer is None:
            sign_out_customer()
    g.customer = customer
    return customer


def require_customer():
    """before_request hook of the area: everything but the sign-in needs a signed-in customer."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_customer() is None:
        return redirect(url_for("customer.sign_in"))
    return None
