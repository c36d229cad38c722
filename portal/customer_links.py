"""Single-use sign-in links for the customer area (SPEC 5).

The raw token travels only in the e-mail; the database keeps its SHA-256, so a copy of the
database signs nobody in. A link works once, for LINK_LIFETIME after it was made.
"""

import hashlib
import secrets
from datetime import timedelta

from .db import write_transaction
from .extensions import db
from .models import ContactPoint, Customer, CustomerSignInLink, utcnow

LINK_LIFETIME = timedelta(minutes=15)


class LinkError(Exception):
    """The link cannot sign anyone in."""


class LinkInvalid(LinkError):
    """No such link (mistyped, made up, or its customer is gone)."""


class LinkExpired(LinkError):
    """The link is older than LINK_LIFETIME."""


class LinkUsed(LinkError):
    """The link has signed someone in already."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(customer: Customer) -> str:
    """Make a link for the customer and return its raw token (shown once, in the e-mail)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    CustomerSignInLink.create(
        customer=customer,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    return token


def _usable_link(token: str) -> CustomerSignInLink:
    """The link behind a token if it can still sign someone in; a LinkError otherwise."""
    if not token or len(token) > 200:
        raise LinkInvalid()
    link = CustomerSignInLink.get_or_none(CustomerSignInLink.token_hash == _hash(token))
    if link is None:
        raise LinkInvalid()
    if link.used_at is not None:
        raise LinkUsed()
    if utcnow() > link.expires_at:
        raise LinkExpired()
    return link


def _customer_of(link: CustomerSignInLink) -> Customer:
    customer = Customer.active().where(Customer.id == link.customer_id).first()
    if customer is None:
        raise LinkInvalid()
    return customer


def peek(token: str) -> Customer:
    """Whom the link would sign in, without using it up (mail scanners open links too)."""
    return _customer_of(_usable_link(token))


def consume(token: str) -> Customer:
    """The customer the link signs in; marks it used. Raises a LinkError subclass otherwise."""
    with write_transaction(db):
        link = _usable_link(token)
        # Conditional update: of two simultaneous clicks only one finds the link unused.
        claimed = (
            CustomerSignInLink.update(used_at=utcnow())
            .where((CustomerSignInLink.id == link.id) & CustomerSignInLink.used_at.is_null())
            .execute()
        )
        if not claimed:
            raise LinkUsed()
    return _customer_of(link)


def contact_for_email(normalized_email: str) -> ContactPoint | None:
    """The e-mail contact an address signs in, with its customer.

    When several active customers share the address (a family, an undetected duplicate) the
    most recently active one gets the link: one e-mail, and never a choice of other people.
    """
    return (
        ContactPoint.select(ContactPoint, Customer)
        .join(Customer)
        .where(
            (ContactPoint.kind == "email")
            & (ContactPoint.normalized == normalized_email)
            & Customer.erased_at.is_null()
            & Customer.merged_into.is_null()
        )
        .order_by(Customer.last_activity_at.desc(), Customer.id.desc())
        .first()
    )


def email_of(customer: Customer) -> str | None:
    """Where a customer's links go: the primary e-mail, else the oldest one."""
    point = (
        ContactPoint.select(ContactPoint.value)
        .where((ContactPoint.customer == customer.id) & (ContactPoint.kind == "email"))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .first()
    )
    return point.value if point else None
