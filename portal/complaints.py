"""Complaints: opening one on the business-hours clock, its lifecycle, replies and internal
notes, resolution and redress, and the customer's rating after closing (issue 5).

The clock: due dates for the first response and for the resolution are counted in business
hours (portal/business_hours.py) and pause while the complaint waits for the customer.
Replies are mailed to the customer; internal notes never leave the staff workspace.
"""

import logging
from contextlib import suppress
from datetime import datetime
from decimal import Decimal

from . import audit, business_hours, mail, signed_links
from .db import write_transaction
from .extensions import db
from .models import Complaint, ComplaintMessage, ComplaintStatusChange, ContactPoint, utcnow

log = logging.getLogger(__name__)

# Which status may follow which. Reopening is resolved/closed → in_progress.
TRANSITIONS = {
    "new": ("in_progress", "waiting_for_customer", "resolved"),
    "in_progress": ("waiting_for_customer", "resolved"),
    "waiting_for_customer": ("in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
OPEN_STATUSES = ("new", "in_progress", "waiting_for_customer")
SETTLED_STATUSES = ("resolved", "closed")
REDRESS = ("refund", "replacement", "apology", "none")
CHANNELS = ("in_store", "email", "phone", "web_form")
# Raised by the customer in the self-service area (not a choice on the staff form).
SELF_SERVICE = "self_service"
CATEGORIES = ("product_quality", "delivery", "service", "billing", "other")
SCORES = (1, 2, 3, 4, 5)

RATING_SALT = "complaint-rating"
RATING_LINK_DAYS = 60


class TransitionRefused(ValueError):
    """The complaint cannot move to that status from where it is now."""

    def __init__(self, from_status: str, to_status: str):
        super().__init__(f"a complaint cannot go from {from_status!r} to {to_status!r}")
        self.from_status = from_status
        self.to_status = to_status


class RatingRefused(ValueError):
    """The complaint is not closed, or was already rated."""


class RatingLinkInvalid(ValueError):
    """The rating link was altered or does not belong to a complaint."""


class RatingLinkExpired(RatingLinkInvalid):
    """The rating link is older than RATING_LINK_DAYS."""


# --- Opening --------------------------------------------------------------------------


def open_complaint(
    customer,
    *,
    subject: str,
    description: str,
    channel: str,
    category: str,
    severity: str,
    location_id: int | None = None,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Open a complaint with its due dates counted in business hours. Audited."""
    if severity not in Complaint.SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    opened_at = now or utcnow()
    first_response_hours, resolution_hours = business_hours.response_hours(severity)
    with write_transaction(db):
        complaint = Complaint.create(
            customer=customer.id,
            location=location_id,
            subject=subject,
            description=description,
            channel=channel,
            category=category,
            severity=severity,
            status="new",
            opened_at=opened_at,
            first_response_due_at=business_hours.due_after(opened_at, first_response_hours),
            due_at=business_hours.due_after(opened_at, resolution_hours),
            updated_at=opened_at,
        )
    _audit(
        "complaint_opened",
        complaint,
        staff_id,
        by_customer=channel == SELF_SERVICE,
        severity=severity,
        category=category,
    )
    return complaint


# --- Lifecycle ------------------------------------------------------------------------


def allowed_transitions(complaint: Complaint) -> tuple[str, ...]:
    return TRANSITIONS.get(complaint.status, ())


def change_status(
    complaint: Complaint, to_status: str, *, staff_id: int | None, now: datetime | None = None
) -> Complaint:
    """Move the complaint on, or raise TransitionRefused and change nothing.

    Waiting for the customer pauses the clock; leaving that status moves the due dates on by
    the business hours spent waiting. Closing mails the customer a link to rate the outcome.
    """
    from_status = complaint.status
    if to_status not in allowed_transitions(complaint):
        raise TransitionRefused(from_status, to_status)
    now = now or utcnow()
    changes = {Complaint.status: to_status, Complaint.updated_at: now}
    if from_status == "waiting_for_customer" and complaint.paused_at:
        changes.update(_resumed_due_dates(complaint, now))
    if to_status == "waiting_for_customer":
        changes[Complaint.paused_at] = now
    if to_status == "resolved":
        changes[Complaint.resolved_at] = now
    if to_status == "closed":
        changes[Complaint.closed_at] = now
    if to_status == "in_progress" and from_status in SETTLED_STATUSES:
        # Reopened: a fresh resolution clock from now, as for a new attempt at it.
        changes[Complaint.resolved_at] = None
        changes[Complaint.closed_at] = None
        changes[Complaint.due_at] = business_hours.due_after(
            now, business_hours.response_hours(complaint.severity)[1]
        )
    with write_transaction(db):
        # Only from the status we read: a change made meanwhile by someone else wins.
        updated = (
            Complaint.update(changes)
            .where((Complaint.id == complaint.id) & (Complaint.status == from_status))
            .execute()
        )
        if not updated:
            raise TransitionRefused(from_status, to_status)
        ComplaintStatusChange.create(
            complaint=complaint.id,
            from_status=from_status,
            to_status=to_status,
            changed_by_type="staff" if staff_id else "system",
            changed_by_staff=staff_id,
            changed_at=now,
        )
    for column, value in changes.items():
        setattr(complaint, column.name, value)
    _audit(
        "complaint_status_changed",
        complaint,
        staff_id,
        from_status=from_status,
        to_status=to_status,
    )
    if to_status == "closed":
        complaint.closing_mailed = _mail_customer(
            complaint, "complaint_closed", token=rating_token(complaint)
        )
    return complaint


def _resumed_due_dates(complaint: Complaint, now: datetime) -> dict:
    """The due dates pushed later by the business hours the complaint spent waiting."""
    waited = business_hours.business_hours_between(complaint.paused_at, now)
    changes = {Complaint.paused_at: None}
    if waited <= 0:
        return changes
    if complaint.due_at:
        changes[Complaint.due_at] = business_hours.due_after(complaint.due_at, waited)
    if complaint.first_response_due_at and not complaint.first_responded_at:
        changes[Complaint.first_response_due_at] = business_hours.due_after(
            complaint.first_response_due_at, waited
        )
    return changes


def assign(complaint: Complaint, assignee_id: int | None, *, staff_id: int | None) -> Complaint:
    """Give the complaint to a staff member, or to nobody. Audited."""
    complaint.assignee = assignee_id
    complaint.updated_at = utcnow()
    complaint.save(only=[Complaint.assignee, Complaint.updated_at])
    _audit("complaint_assigned", complaint, staff_id, assignee_id=assignee_id)
    return complaint


# --- Messages -------------------------------------------------------------------------


def add_reply(complaint: Complaint, body: str, *, staff_id: int | None) -> ComplaintMessage:
    """A reply the customer sees: stored, mailed to them when they can be, and audited."""
    now = utcnow()
    with write_transaction(db):
        message = ComplaintMessage.create(
            complaint=complaint.id,
            kind="reply",
            author_type="staff",
            author_staff=staff_id,
            body=body,
            created_at=now,
        )
        complaint.updated_at = now
        fields = [Complaint.updated_at]
        if complaint.first_responded_at is None:
            complaint.first_responded_at = now
            fields.append(Complaint.first_responded_at)
        complaint.save(only=fields)
    _audit("complaint_replied", complaint, staff_id, message_id=message.id)
    message.mailed = _mail_customer(complaint, "complaint_reply", reply=body)
    return message


def add_customer_reply(
    complaint: Complaint, body: str, *, customer_id: int, now: datetime | None = None
) -> ComplaintMessage:
    """The customer's answer from the self-service area, for staff to read. Audited.

    A complaint waiting for the customer goes back to work: their answer is what it waited for.
    """
    if complaint.customer_id != customer_id:
        raise ValueError("a customer replies only to their own complaint")
    now = now or utcnow()
    with write_transaction(db):
        message = ComplaintMessage.create(
            complaint=complaint.id,
            kind="reply",
            author_type="customer",
            body=body,
            created_at=now,
        )
        complaint.updated_at = now
        complaint.save(only=[Complaint.updated_at])
    _audit("complaint_customer_replied", complaint, None, by_customer=True, message_id=message.id)
    if complaint.status == "waiting_for_customer":
        # If staff moved it meanwhile, their choice stands.
        with suppress(TransitionRefused):
            change_status(complaint, "in_progress", staff_id=None, now=now)
    return message


def customer_visible_messages(complaint: Complaint):
    """The replies of the thread, oldest first: internal notes never reach the customer."""
    return messages(complaint).where(ComplaintMessage.kind == "reply")


def add_note(complaint: Complaint, body: str, *, staff_id: int | None) -> ComplaintMessage:
    """An internal note: for staff only, never mailed nor shown to the customer."""
    message = ComplaintMessage.create(
        complaint=complaint.id,
        kind="internal_note",
        author_type="staff",
        author_staff=staff_id,
        body=body,
        created_at=utcnow(),
    )
    _audit("complaint_note_added", complaint, staff_id, message_id=message.id)
    return message


def messages(complaint: Complaint):
    """Replies and notes, oldest first, with their authors."""
    return (
        ComplaintMessage.select()
        .where(ComplaintMessage.complaint == complaint.id)
        .order_by(ComplaintMessage.created_at, ComplaintMessage.id)
    )


def status_changes(complaint: Complaint):
    return (
        ComplaintStatusChange.select()
        .where(ComplaintStatusChange.complaint == complaint.id)
        .order_by(ComplaintStatusChange.changed_at, ComplaintStatusChange.id)
    )


# --- Resolution and rating ------------------------------------------------------------


def record_resolution(
    complaint: Complaint,
    *,
    resolution: str,
    redress: str,
    redress_value: Decimal | None,
    staff_id: int | None,
) -> Complaint:
    """What was done for the customer and what it was worth. Audited (codes only)."""
    if redress not in REDRESS:
        raise ValueError(f"unknown redress {redress!r}")
    complaint.resolution = resolution
    complaint.redress = redress
    complaint.redress_value = redress_value
    complaint.updated_at = utcnow()
    complaint.save(
        only=[
            Complaint.resolution,
            Complaint.redress,
            Complaint.redress_value,
            Complaint.updated_at,
        ]
    )
    _audit("complaint_resolution_recorded", complaint, staff_id, redress=redress)
    return complaint


def rating_token(complaint: Complaint) -> str:
    """The signed part of the rating link in the closing e-mail."""
    return signed_links.sign(RATING_SALT, complaint.id)


def complaint_for_rating(token: str) -> Complaint:
    """The complaint a rating link is for; RatingLinkExpired / RatingLinkInvalid otherwise."""
    complaint_id = signed_links.read(
        RATING_SALT, token, RATING_LINK_DAYS, expired=RatingLinkExpired, invalid=RatingLinkInvalid
    )
    complaint = Complaint.get_or_none(Complaint.id == complaint_id)
    if complaint is None:
        raise RatingLinkInvalid("the complaint is gone")
    return complaint


def can_rate(complaint: Complaint) -> bool:
    return complaint.status == "closed" and complaint.satisfaction is None


def rate(complaint: Complaint, score: int, comment: str = "") -> Complaint:
    """The customer's score (1–5) and comment, once per complaint. Audited."""
    if score not in SCORES:
        raise ValueError(f"a score is 1 to 5, not {score!r}")
    if not can_rate(complaint):
        raise RatingRefused("this complaint cannot be rated now")
    with write_transaction(db):
        # Only an unrated complaint: two submits of the same link record one rating.
        rated = (
            Complaint.update(satisfaction=score, satisfaction_comment=comment)
            .where(
                (Complaint.id == complaint.id)
                & Complaint.satisfaction.is_null()
                & (Complaint.status == "closed")
            )
            .execute()
        )
    if not rated:
        raise RatingRefused("this complaint was already rated")
    complaint.satisfaction = score
    complaint.satisfaction_comment = comment
    audit.record(
        "complaint_rated",
        actor_type="customer",
        actor_id=complaint.customer_id,
        target_type="customer",
        target_id=complaint.customer_id,
        complaint_id=complaint.id,
        score=score,
    )
    return complaint


# --- The clock ------------------------------------------------------------------------


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """Open and past a due date; never while waiting for the customer, never once settled."""
    if complaint.status not in ("new", "in_progress"):
        return False
    now = now or utcnow()
    late_first_response = (
        complaint.first_responded_at is None
        and complaint.first_response_due_at is not None
        and now > complaint.first_response_due_at
    )
    late_resolution = complaint.due_at is not None and now > complaint.due_at
    return late_first_response or late_resolution


def overdue_condition(now: datetime | None = None):
    """is_overdue as a WHERE condition, for counts and lists."""
    now = now or utcnow()
    return Complaint.status.in_(("new", "in_progress")) & (
        (Complaint.first_responded_at.is_null() & (Complaint.first_response_due_at < now))
        | (Complaint.due_at < now)
    )


def open_counts(now: datetime | None = None) -> dict:
    """For the dashboard: open complaints, and how many of them are overdue."""
    open_query = Complaint.select().where(Complaint.status.in_(OPEN_STATUSES))
    return {
        "open": open_query.count(),
        "overdue": Complaint.select().where(overdue_condition(now)).count(),
    }


# --- Helpers --------------------------------------------------------------------------


def customer_email(customer_id: int) -> str | None:
    """The address complaint mail goes to: the primary e-mail, else the oldest one."""
    point = (
        ContactPoint.select(ContactPoint.value)
        .where((ContactPoint.customer == customer_id) & (ContactPoint.kind == "email"))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .first()
    )
    return point.value if point else None


def can_mail(customer) -> bool:
    """The customer has an e-mail address and has not asked to be left alone."""
    return customer.preferred_channel != "none" and customer_email(customer.id) is not None


def _mail_customer(complaint: Complaint, template: str, **context) -> bool:
    """Mail the customer about their complaint if they can be mailed. True when sent.

    A mail server that is down must not undo the reply or the status change already made;
    the failure is logged and the caller tells staff the mail did not go.
    """
    customer = complaint.customer
    address = customer_email(customer.id) if customer.preferred_channel != "none" else None
    if not address:
        return False
    try:
        mail.send_template(
            template,
            to=address,
            language=customer.preferred_language or "en",
            complaint=complaint,
            customer=customer,
            **context,
        )
    except Exception:  # noqa: BLE001 - any delivery failure is reported, not raised
        log.exception("complaint %s: %s mail not sent", complaint.id, template)
        return False
    return True


def _audit(
    action: str, complaint: Complaint, staff_id: int | None, *, by_customer=False, **details
) -> None:
    if by_customer:
        actor_type, actor_id = "customer", complaint.customer_id
    else:
        actor_type, actor_id = ("staff" if staff_id else "system"), staff_id
    audit.record(
        action,
        actor_type=actor_type,
        actor_id=actor_id,
        target_type="customer",
        target_id=complaint.customer_id,
        complaint_id=complaint.id,
        **details,
    )
