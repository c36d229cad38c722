"""Access, correction and erasure requests, each with its legal deadline (SPEC 5, 6).

Whoever takes a request (staff now, the self-service area later) opens it here; the privacy
desk lists open ones, overdue first.
"""

import math
from datetime import datetime, timedelta

from . import audit, settings
from .models import Customer, PrivacyRequest, utcnow


def deadline(received_at: datetime) -> datetime:
    return received_at + timedelta(days=int(settings.get("request_deadline_days")))


def open_request(
    customer_id: int,
    kind: str,
    *,
    made_via: str = "staff",
    staff_id: int | None = None,
    received_at: datetime | None = None,
) -> PrivacyRequest:
    """Start the clock on a customer's request. Audited."""
    if kind not in PrivacyRequest.KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    received_at = received_at or utcnow()
    request = PrivacyRequest.create(
        customer=customer_id,
        kind=kind,
        made_via=made_via,
        recorded_by=staff_id,
        received_at=received_at,
        due_at=deadline(received_at),
    )
    audit.record(
        "privacy_request_opened",
        actor_type="staff" if staff_id else "customer",
        actor_id=staff_id or customer_id,
        target_type="customer",
        target_id=customer_id,
        request_id=request.id,
        kind=kind,
    )
    return request


def close_request(request: PrivacyRequest, *, status: str = "completed", staff_id=None) -> None:
    """Stop the clock: the request was answered (or refused, with the reason kept elsewhere)."""
    if status not in ("completed", "refused"):
        raise ValueError(f"a request closes as completed or refused, not {status!r}")
    request.status = status
    request.closed_at = utcnow()
    request.closed_by = staff_id
    request.save(only=[PrivacyRequest.status, PrivacyRequest.closed_at, PrivacyRequest.closed_by])
    audit.record(
        "privacy_request_closed",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="customer",
        target_id=request.customer_id,
        request_id=request.id,
        kind=request.kind,
        status=status,
    )


def open_requests(kind: str | None = None):
    """Open requests, the most urgent (overdue) first."""
    query = PrivacyRequest.select().where(PrivacyRequest.status == "open")
    if kind:
        query = query.where(PrivacyRequest.kind == kind)
    return query.order_by(PrivacyRequest.due_at, PrivacyRequest.id)


def open_for_customer(customer_id: int, kind: str):
    """The customer's open request of this kind, if any."""
    return (
        PrivacyRequest.select()
        .where(
            (PrivacyRequest.customer == customer_id)
            & (PrivacyRequest.kind == kind)
            & (PrivacyRequest.status == "open")
        )
        .order_by(PrivacyRequest.id)
        .first()
    )


# --- Reading the clock -----------------------------------------------------------------

DAY = timedelta(days=1)


def days_left(request: PrivacyRequest, now: datetime | None = None) -> int:
    """Whole days until the deadline, rounded up (0 once it has passed)."""
    remaining = request.due_at - (now or utcnow())
    return max(0, math.ceil(remaining / DAY))


def days_overdue(request: PrivacyRequest, now: datetime | None = None) -> int:
    """Whole days past the deadline, at least 1 once it has passed (0 while time is left)."""
    late = (now or utcnow()) - request.due_at
    return max(1, late // DAY) if late > timedelta(0) else 0


def open_with_customers(kind: str | None = None):
    """Open requests with their customer, overdue first, then by due date (the privacy desk)."""
    return open_requests(kind).select_extend(Customer).join(Customer)


def for_customer(customer_id: int) -> list[PrivacyRequest]:
    """A customer's requests: open ones by due date, then the closed ones, newest first."""
    mine = PrivacyRequest.select().where(PrivacyRequest.customer == customer_id)
    still_open = mine.where(PrivacyRequest.status == "open").order_by(
        PrivacyRequest.due_at, PrivacyRequest.id
    )
    closed = mine.where(PrivacyRequest.status != "open").order_by(
        PrivacyRequest.received_at.desc(), PrivacyRequest.id.desc()
    )
    return [*still_open, *closed]


def received_earlier(request: PrivacyRequest, received_at: datetime) -> None:
    """The request reached the business before it was recorded: count the deadline from then.

    Only ever moves the clock earlier, so a deadline never grows by being recorded late.
    """
    if received_at >= request.received_at:
        return
    request.received_at = received_at
    request.due_at = deadline(received_at)
    request.save(only=[PrivacyRequest.received_at, PrivacyRequest.due_at])
