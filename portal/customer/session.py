"""Who the signed-in customer is. One place keeps the customer's session: `sign_in_customer`,
`sign_out_customer`, `current_customer`, and the blueprint's `require_customer` hook."""

from flask import g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from .. import sign_in_sessions
from ..models import Customer
from ..web import begin_session, end_session, session_token

SESSION_KEY = "customer_id"
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
    session.setdefault("language", customer.preferred_language)
    begin_session(customer_id=customer.id)
    session[SESSION_KEY] = customer.id


def sign_out_customer() -> None:
    end_session()


def current_customer() -> Customer | None:
    """The signed-in customer of this request (None when signed out, expired or erased)."""
    if "customer" in g:
        return g.customer
    customer = None
    customer_id = session.get(SESSION_KEY)
    if customer_id:
        customer = sign_in_sessions.customer_for(session_token(), customer_id)
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
