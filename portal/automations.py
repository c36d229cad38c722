"""Automations: an owner's rules that e-mail customers when an occasion comes (issue 10).

The job worker runs them every hour (portal/scheduled.py), or cron with `flask automations
run`; the owner can run one at once from its page. Each run finds who is due, records one
OutgoingMessage per customer and occasion, and sends what is waiting (portal/outbox.py).

"Once per occasion" is the database's rule: OutgoingMessage is unique per customer and
occasion, and each kind names its occasions so that a repeat is the same name:

- birthday (`automation:<id>:birthday:<year>`): customers whose birthday is today, in the
  business's time zone; 29 February birthdays fall on 28 February in other years. Sent on the
  day only: a greeting days late would be odd, so a day with no run is not made up.
- after_purchase (`automation:<id>:purchase:<purchase id>`): a thank-you `days` days after
  the day of a purchase; two purchases on one day get one message (named after the first).
  Runs catch up on purchases up to CATCH_UP_DAYS late, but never reach back before the rule
  existed: a purchase whose day came before the rule was created gets nothing, so turning a
  rule on does not message old buyers. Purchases refunded in full get nothing.
- win_back (`automation:<id>:win_back:<date of the last purchase>`): customers whose last
  purchase was `days` days ago; once per last purchase, so buying again starts a new count.
  The same catch-up window and the same limit at the rule's creation apply.
- event_reminder (`automation:<id>:event:<event date>`): everyone it is for, once, from `days`
  days before the event date until that day; customers who qualify later in that window get
  it on the next run. Moving the date makes a new occasion (a reminder for the new date).

A marketing rule (one with a consent purpose) reaches only customers whose current consent
covers the purpose, while the purpose is active, and who have an e-mail address; the outbox
checks consent again just before sending and adds the unsubscribe link. Only an event reminder
may be a service message (no purpose): no consent check and no unsubscribe link, but customers
who asked for no contact (preferred channel "none") are left out. Erased and merged customers
never get anything.

Runs are serialised by a lock row in the settings table (refreshed as messages go out, taken
over when stale), so the hourly run and a "Run now" never send the same waiting message twice.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from peewee import IntegrityError, chunked, fn

from . import audit, contact_lists, customer_list, outbox
from .business_hours import business_zone
from .campaigns import Figures, figures_by, figures_of
from .customer_list import Filters
from .db import write_transaction
from .extensions import db
from .models import (
    Automation,
    ConsentPurpose,
    ContactPoint,
    Customer,
    OutgoingMessage,
    Purchase,
    Segment,
    Setting,
    utcnow,
)

KINDS = Automation.KINDS
NEEDS_DAYS = ("after_purchase", "win_back", "event_reminder")
MAX_DAYS = 3650
CATCH_UP_DAYS = 7
RECENT_MESSAGES = 50
BATCH = 500
LOCK_KEY = "automations_run_lock"
LOCK_STALE = timedelta(minutes=15)  # a run refreshes its lock with every message it sends


class AutomationsBusy(RuntimeError):
    """Another run is under way (the hourly one, or a "Run now"): it sends what is due."""


@dataclass
class RunSummary:
    """What one run did for one automation."""

    automation_id: int
    name: str
    queued: int = 0  # messages newly found due
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0  # still to send after this run (stopped early, or the server was down)
    mail_error: str = ""


# --- Dates --------------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    """The business's calendar date at a naive-UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(business_zone()).date()


def start_of(day: date) -> datetime:
    """The naive-UTC moment the business's calendar day begins."""
    local = datetime.combine(day, time(), tzinfo=business_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def _birthdays_on(today: date) -> list[tuple[int, int]]:
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not _is_leap(today.year):
        days.append((2, 29))
    return days


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def due_days(automation: Automation, today: date) -> tuple[date, date] | None:
    """The first and last day whose purchases (or last purchases) are due today: `days` ago,
    back to CATCH_UP_DAYS more for missed runs, but not before the rule was created."""
    last = today - timedelta(days=automation.days)
    created = local_date(automation.created_at) - timedelta(days=automation.days)
    first = max(last - timedelta(days=CATCH_UP_DAYS), created)
    return (first, last) if first <= last else None


def event_window(automation: Automation) -> tuple[date, date] | None:
    if automation.event_date is None:
        return None
    return automation.event_date - timedelta(days=automation.days), automation.event_date


# --- Who is due ---------------------------------------------------------------------------


def filters_of(automation: Automation) -> Filters:
    return Filters.from_json(automation.filters)


def _people(automation: Automation):
    """The active customers it is for, who have an e-mail address (and, for a service message,
    have not asked for no contact)."""
    with_email = ContactPoint.select(ContactPoint.id).where(
        (ContactPoint.customer == Customer.id) & (ContactPoint.kind == "email")
    )
    people = customer_list.filtered(filters_of(automation)).where(fn.EXISTS(with_email))
    if automation.purpose_id is None:
        people = people.where(Customer.preferred_channel != "none")
    return people


def _not_messaged(occasion: str):
    """A condition on Customer: no message for this occasion yet."""
    earlier = OutgoingMessage.select(OutgoingMessage.id).where(
        (OutgoingMessage.customer == Customer.id) & (OutgoingMessage.occasion == occasion)
    )
    return ~fn.EXISTS(earlier)


def _ids(query) -> list[int]:
    return [row[0] for row in query.select(Customer.id).order_by(Customer.id).tuples()]


def due(automation: Automation, now: datetime) -> list[tuple[int, str]]:
    """(customer id, occasion) of everyone due now and not yet messaged for the occasion,
    consent not yet considered."""
    today = local_date(now)
    people = _people(automation)
    prefix = f"automation:{automation.id}"
    if automation.kind == "birthday":
        occasion = f"{prefix}:birthday:{today.year}"
        born_today = None
        for month, day in _birthdays_on(today):
            same = (Customer.birth_date.month == month) & (Customer.birth_date.day == day)
            born_today = same if born_today is None else (born_today | same)
        query = people.where(
            Customer.birth_date.is_null(False) & born_today & _not_messaged(occasion)
        )
        return [(customer_id, occasion) for customer_id in _ids(query)]
    if automation.kind == "event_reminder":
        window = event_window(automation)
        if window is None or not window[0] <= today <= window[1]:
            return []
        occasion = f"{prefix}:event:{automation.event_date.isoformat()}"
        return [
            (customer_id, occasion) for customer_id in _ids(people.where(_not_messaged(occasion)))
        ]
    days = due_days(automation, today)
    if days is None:
        return []
    since, until = start_of(days[0]), start_of(days[1] + timedelta(days=1))
    if automation.kind == "after_purchase":
        found = _purchase_occasions(prefix, people, since, until)
    elif automation.kind == "win_back":
        lapsed = people.select(Customer.id, Customer.last_purchase_at).where(
            (Customer.last_purchase_at >= since) & (Customer.last_purchase_at < until)
        )
        found = [
            (customer_id, f"{prefix}:win_back:{local_date(last).isoformat()}")
            for customer_id, last in lapsed.order_by(Customer.id).tuples()
        ]
    else:
        raise ValueError(f"unknown automation kind {automation.kind!r}")
    return _without_earlier(automation, found)


def _purchase_occasions(prefix: str, people, since: datetime, until: datetime):
    """One occasion per customer and purchase day, named after that day's first purchase."""
    purchases = (
        Purchase.select(Purchase.id, Purchase.customer, Purchase.purchased_at)
        .where(
            (Purchase.purchased_at >= since)
            & (Purchase.purchased_at < until)
            & ((Purchase.refunded == 0) | (Purchase.refunded < Purchase.total))
            & Purchase.customer.in_(people.select(Customer.id))
        )
        .order_by(Purchase.id)
        .tuples()
    )
    first_of_day: dict[tuple[int, date], int] = {}
    for purchase_id, customer_id, purchased_at in purchases:
        first_of_day.setdefault((customer_id, local_date(purchased_at)), purchase_id)
    return sorted(
        (customer_id, f"{prefix}:purchase:{purchase_id}")
        for (customer_id, _day), purchase_id in first_of_day.items()
    )


def _without_earlier(automation: Automation, found: list[tuple[int, str]]):
    sent = set()
    for batch in chunked(sorted({occasion for _customer, occasion in found}), BATCH):
        sent.update(
            OutgoingMessage.select(OutgoingMessage.customer, OutgoingMessage.occasion)
            .where(
                (OutgoingMessage.automation == automation.id) & OutgoingMessage.occasion.in_(batch)
            )
            .tuples()
        )
    return [pair for pair in found if pair not in sent]


def _consenting(purpose: ConsentPurpose, customer_ids: list[int]) -> set[int]:
    if not purpose.active:
        return set()
    granted = set()
    for batch in chunked(customer_ids, 1000):
        granted |= contact_lists.granted_among(purpose.id, batch)
    return granted


def queue_due(automation: Automation, now: datetime) -> int:
    """Record a message for everyone due now (consent applied); the number recorded."""
    found = due(automation, now)
    if automation.purpose_id is not None and found:
        granted = _consenting(automation.purpose, sorted({c for c, _o in found}))
        found = [(customer_id, o) for customer_id, o in found if customer_id in granted]
    if not found:
        return 0
    mine = OutgoingMessage.select().where(OutgoingMessage.automation == automation.id)
    before = mine.count()
    with write_transaction(db):
        for batch in chunked(found, BATCH):
            OutgoingMessage.insert_many(
                [
                    {
                        "customer": customer_id,
                        "automation": automation.id,
                        "purpose": automation.purpose_id,
                        "occasion": occasion,
                        "created_at": utcnow(),
                    }
                    for customer_id, occasion in batch
                ]
            ).on_conflict_ignore().execute()
    return mine.count() - before


# --- Running ------------------------------------------------------------------------------


def run_due(
    now: datetime | None = None,
    *,
    automation_id: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> list[RunSummary]:
    """Run every active automation (or just this one): record who is due, then send every
    message of theirs still waiting, those a cut-off run left too. `keep_going` stops the
    sending between two messages; what is left goes out with the next run.

    Raises AutomationsBusy when another run holds the lock.
    """
    now = now or utcnow()
    _take_lock()
    try:
        query = Automation.select().where(Automation.active == True)  # noqa: E712 (SQL)
        if automation_id is not None:
            query = query.where(Automation.id == automation_id)
        summaries = []
        mail_error = ""
        for automation in query.order_by(Automation.id):
            summary = RunSummary(automation.id, automation.name, queued=queue_due(automation, now))
            if not mail_error:
                mail_error = _send_waiting(automation, summary, keep_going)
            summary.mail_error = mail_error
            summary.waiting = figures(automation).queued
            Automation.update(last_run_at=utcnow()).where(Automation.id == automation.id).execute()
            summaries.append(summary)
        return summaries
    finally:
        _release_lock()


def _send_waiting(automation: Automation, summary: RunSummary, keep_going) -> str:
    """Send the automation's waiting messages into the summary; the mail server's error if it
    could not be reached (the rest stay queued for the next run)."""
    mine = OutgoingMessage.select().where(OutgoingMessage.automation == automation.id)
    pending = outbox.pending_ids(mine)
    if not pending:
        return ""
    before = figures_of(mine)
    error = ""
    try:
        outbox.deliver(pending, progress=lambda done, total: _refresh_lock(), keep_going=keep_going)
    except outbox.MailServerUnavailable as unavailable:
        error = str(unavailable)
    # Counted from the rows, so what went out before the server failed is counted too.
    after = figures_of(mine)
    delivery = outbox.Delivery(
        sent=after.sent - before.sent,
        failed=after.failed - before.failed,
        skipped=after.skipped - before.skipped,
    )
    summary.sent, summary.failed, summary.skipped = delivery.sent, delivery.failed, delivery.skipped
    if delivery.sent or delivery.failed or delivery.skipped:
        outbox.audit_sent("automation", automation.id, delivery)
    return error


def _take_lock() -> None:
    now = utcnow()
    Setting.delete().where(
        (Setting.key == LOCK_KEY) & (Setting.updated_at < now - LOCK_STALE)
    ).execute()
    try:
        with db.atomic():
            Setting.create(key=LOCK_KEY, value=json.dumps(now.isoformat()), updated_at=now)
    except IntegrityError as busy:
        raise AutomationsBusy("another run is sending automation messages") from busy


def _refresh_lock() -> None:
    Setting.update(updated_at=utcnow()).where(Setting.key == LOCK_KEY).execute()


def _release_lock() -> None:
    Setting.delete().where(Setting.key == LOCK_KEY).execute()


# --- The owner's rules --------------------------------------------------------------------


def save(
    automation: Automation | None,
    *,
    name: str,
    kind: str,
    purpose_id: int | None,
    filters: Filters | None,
    days: int,
    event_date: date | None,
    content: str,
    staff_id: int | None,
) -> Automation:
    """Create an automation, or change one (its messages so far stay on record)."""
    if kind not in KINDS:
        raise ValueError(f"unknown automation kind {kind!r}")
    if purpose_id is None and kind != "event_reminder":
        raise ValueError("only an event reminder may go without a consent purpose")
    fields = {
        "name": name,
        "kind": kind,
        "purpose": purpose_id,
        "filters": filters.to_json() if filters is not None else "{}",
        "days": days if kind in NEEDS_DAYS else 0,
        "event_date": event_date if kind == "event_reminder" else None,
        "content": content,
    }
    with write_transaction(db):
        if automation is None:
            automation = Automation.create(created_by=staff_id, **fields)
            action = "automation_created"
        else:
            Automation.update(**fields).where(Automation.id == automation.id).execute()
            action = "automation_changed"
        audit.record(
            action,
            actor_type="staff",
            actor_id=staff_id,
            target_type="automation",
            target_id=automation.id,
            kind=kind,
            purpose_id=purpose_id,
        )
    return Automation.get_by_id(automation.id)


def set_active(automation: Automation, active: bool, staff_id: int | None) -> Automation:
    """Pause or resume. Pausing drops the messages still queued (their occasion is spent):
    resumed weeks later, they would arrive out of season."""
    with write_transaction(db):
        Automation.update(active=active).where(Automation.id == automation.id).execute()
        if not active:
            OutgoingMessage.update(status="skipped", reason="automation paused").where(
                (OutgoingMessage.automation == automation.id) & (OutgoingMessage.status == "queued")
            ).execute()
        audit.record(
            "automation_resumed" if active else "automation_paused",
            actor_type="staff",
            actor_id=staff_id,
            target_type="automation",
            target_id=automation.id,
        )
    return Automation.get_by_id(automation.id)


def segment_matching(automation: Automation) -> Segment | None:
    """The saved segment whose filters the automation holds, if one does (they are copied)."""
    try:
        held = replace(filters_of(automation), sort="")
    except ValueError:
        return None
    for segment in Segment.select().order_by(Segment.name):
        try:
            if replace(Filters.from_json(segment.filters), sort="") == held:
                return segment
        except ValueError:
            continue
    return None


def is_narrowed(automation: Automation) -> bool:
    try:
        return replace(filters_of(automation), sort="") != Filters(sort="")
    except ValueError:
        return True


# --- Results ------------------------------------------------------------------------------


def figures(automation: Automation) -> Figures:
    return figures_of(OutgoingMessage.select().where(OutgoingMessage.automation == automation.id))


def reach(automation: Automation) -> contact_lists.Preview | int:
    """Who it is for now: a marketing rule's contact-list preview (in, and left out why), or
    the number a service message could reach."""
    if automation.purpose_id is not None:
        return contact_lists.preview(automation.purpose, "email", filters=filters_of(automation))
    return _people(automation).count()


def recent_messages(automation: Automation, limit: int = RECENT_MESSAGES):
    return list(
        OutgoingMessage.select(OutgoingMessage, Customer)
        .join(Customer)
        .where(OutgoingMessage.automation == automation.id)
        .order_by(OutgoingMessage.id.desc())
        .limit(limit)
    )


def listing() -> list[tuple[Automation, Figures]]:
    """Every automation, newest first, with its figures."""
    automations = Automation.select().order_by(Automation.created_at.desc(), Automation.id.desc())
    counted = figures_by(OutgoingMessage.select(), OutgoingMessage.automation)
    return [(automation, counted.get(automation.id, Figures())) for automation in automations]
