"""Sign-in sessions kept on the server (SPEC 7: secure cookies; issue 9: sessions end on
sign-out and password change).

The signed session cookie carries a random token; the table keeps its SHA-256. A session is
live while its row exists and is younger than its lifetime, so deleting rows ends sessions
everywhere, including copies of a cookie taken before.
"""

import hashlib
import secrets
from datetime import timedelta

from .models import Customer, SignInSession, StaffAccount, utcnow

STAFF_LIFETIME = timedelta(hours=12)  # a working day at the counter
CUSTOMER_LIFETIME = timedelta(hours=2)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(*, staff_id: int | None = None, customer_id: int | None = None) -> str:
    """Record a new signed-in browser; returns the token for its session cookie."""
    token = secrets.token_urlsafe(32)
    SignInSession.create(token_hash=_hash(token), staff=staff_id, customer=customer_id)
    return token


def end(token: str | None) -> None:
    if token:
        SignInSession.delete().where(SignInSession.token_hash == _hash(token)).execute()


def end_all_for_staff(staff_id: int, *, except_token: str | None = None) -> int:
    """End every session of a staff account (all browsers), but the one given; returns how many."""
    query = SignInSession.delete().where(SignInSession.staff == staff_id)
    if except_token:
        query = query.where(SignInSession.token_hash != _hash(except_token))
    return query.execute()


def end_all_for_customer(customer_id: int) -> int:
    return SignInSession.delete().where(SignInSession.customer == customer_id).execute()


def staff_for(token: str | None, staff_id: int) -> StaffAccount | None:
    """The active staff account this live session belongs to, or None."""
    if not token:
        return None
    return (
        StaffAccount.select()
        .join(SignInSession, on=SignInSession.staff == StaffAccount.id)
        .where(
            SignInSession.token_hash == _hash(token),
            SignInSession.created_at > utcnow() - STAFF_LIFETIME,
            StaffAccount.id == staff_id,
            StaffAccount.active == True,  # noqa: E712 (a SQL comparison)
        )
        .first()
    )


def customer_for(token: str | None, customer_id: int) -> Customer | None:
    """The customer (not erased) this live session belongs to, or None."""
    if not token:
        return None
    return (
        Customer.active()
        .join(SignInSession, on=SignInSession.customer == Customer.id)
        .where(
            SignInSession.token_hash == _hash(token),
            SignInSession.created_at > utcnow() - CUSTOMER_LIFETIME,
            Customer.id == customer_id,
        )
        .first()
    )


def purge_expired() -> int:
    """Delete sessions past the longer lifetime (the retention sweep calls this)."""
    return (
        SignInSession.delete()
        .where(SignInSession.created_at <= utcnow() - max(STAFF_LIFETIME, CUSTOMER_LIFETIME))
        .execute()
    )
