"""The breach register (SPEC 4, 6): record a suspected breach, keep the authority's 72-hour
clock, and find whose data a suspect account or address viewed, revealed or exported.

The report reads the audit trail, which names customers by id only; contact details for
notifying them are looked up here, and erased customers stay without any.
"""

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel import Locale, UnknownLocaleError
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from peewee import chunked

from . import audit
from .models import AuditEvent, Breach, ContactPoint, Customer, utcnow

NOTIFY_WITHIN = timedelta(hours=72)
HOUR = timedelta(hours=1)

# How an audited action exposed customers' data. Exports end in "_exported" (contact lists,
# customer exports, this register's own CSV) and name their customers in details.customer_ids.
REVEALED = "revealed"
VIEWED = "viewed"
EXPORTED = "exported"
WHAT_HAPPENED = (VIEWED, REVEALED, EXPORTED)


def exposure(action: str) -> str | None:
    """Whether an audited action showed customer data, and how (None: it did not)."""
    if action == "identifier_revealed":
        return REVEALED
    if action.endswith("_exported"):
        return EXPORTED
    if action.endswith("_viewed"):
        return VIEWED
    return None


# --- Recording and the 72-hour clock ---------------------------------------------------


def record(
    *,
    discovered_at: datetime,
    description: str,
    window_start: datetime,
    window_end: datetime,
    staff_account_id: int | None = None,
    ip_address: str = "",
    recorded_by: int | None = None,
    ip_of_recorder: str = "",
) -> Breach:
    """Put a suspected breach on the register. Audited with ids only."""
    if not staff_account_id and not ip_address:
        raise ValueError("a breach names a staff account or an address")
    if window_start > window_end:
        raise ValueError("the time window ends before it starts")
    breach = Breach.create(
        discovered_at=discovered_at,
        description=description,
        staff_account=staff_account_id,
        ip_address=ip_address,
        window_start=window_start,
        window_end=window_end,
        recorded_by=recorded_by,
    )
    audit.record(
        "breach_recorded",
        actor_type="staff" if recorded_by else "system",
        actor_id=recorded_by,
        target_type="breach",
        target_id=breach.id,
        ip_address=ip_of_recorder,
        breach_id=breach.id,
        staff_account_id=staff_account_id,
    )
    return breach


def record_authority_notified(
    breach: Breach, notified_at: datetime, *, staff_id: int | None, ip_address: str = ""
) -> None:
    """The authority was told: the 72-hour clock stops. Audited."""
    if notified_at < breach.discovered_at:
        raise ValueError("the authority cannot hear of a breach before its discovery")
    breach.authority_notified_at = notified_at
    breach.save(only=[Breach.authority_notified_at])
    audit.record(
        "breach_authority_notified",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="breach",
        target_id=breach.id,
        ip_address=ip_address,
        breach_id=breach.id,
    )


@dataclass(frozen=True)
class Clock:
    """Where a breach stands against the 72 hours for telling the authority."""

    deadline: datetime
    notified_at: datetime | None
    hours_left: int  # whole hours, rounded up; 0 once overdue
    hours_overdue: int  # whole hours, rounded up; 0 while time is left

    @property
    def stopped(self) -> bool:
        return self.notified_at is not None

    @property
    def overdue(self) -> bool:
        return not self.stopped and self.hours_overdue > 0

    @property
    def notified_late(self) -> bool:
        return self.stopped and self.notified_at > self.deadline


def clock(breach: Breach, now: datetime | None = None) -> Clock:
    deadline = breach.discovered_at + NOTIFY_WITHIN
    if breach.authority_notified_at is not None:
        return Clock(deadline, breach.authority_notified_at, 0, 0)
    remaining = deadline - (now or utcnow())
    if remaining >= timedelta(0):
        return Clock(deadline, None, math.ceil(remaining / HOUR), 0)
    return Clock(deadline, None, 0, max(1, math.ceil(-remaining / HOUR)))


def register():
    """Every breach: those still waiting to be reported first, by deadline; then the newest."""
    return Breach.select().order_by(
        Breach.authority_notified_at.is_null(False),
        Breach.discovered_at.desc(),
        Breach.id.desc(),
    )


def waiting_for_notification():
    return Breach.select().where(Breach.authority_notified_at.is_null())


# --- Who was affected ------------------------------------------------------------------


@dataclass
class Affected:
    """One customer whose data the suspect account or address saw, and how."""

    customer_id: int
    counts: dict = field(default_factory=lambda: dict.fromkeys(WHAT_HAPPENED, 0))
    first_at: datetime | None = None
    last_at: datetime | None = None
    erased: bool = False
    name: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""

    def saw(self, how: str, at: datetime) -> None:
        self.counts[how] += 1
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


def window_events(breach: Breach):
    """Audit events inside the breach's window by its account or from its address.

    Each condition walks an index: (actor_type, actor_id, occurred_at) for the account,
    occurred_at for the address.
    """
    in_window = AuditEvent.occurred_at.between(breach.window_start, breach.window_end)
    suspects = []
    if breach.staff_account_id:
        suspects.append(
            (AuditEvent.actor_type == "staff") & (AuditEvent.actor_id == breach.staff_account_id)
        )
    if breach.ip_address:
        suspects.append(AuditEvent.ip_address == breach.ip_address)
    if not suspects:
        return AuditEvent.select().where(False)
    shows_data = (
        (AuditEvent.action == "identifier_revealed")
        | AuditEvent.action.endswith("_exported")
        | AuditEvent.action.endswith("_viewed")
    )
    matches = suspects[0] if len(suspects) == 1 else suspects[0] | suspects[1]
    return (
        AuditEvent.select(
            AuditEvent.occurred_at,
            AuditEvent.action,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.details,
        )
        .where(in_window & matches & shows_data)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )


def _customers_named(event) -> set[int]:
    ids = set()
    if event.target_type == "customer" and event.target_id is not None:
        ids.add(event.target_id)
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        details = {}
    for value in details.get("customer_ids") or ():
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            ids.add(int(value))
    return ids


def affected_customers(breach: Breach) -> list[Affected]:
    """Customers whose data was viewed, revealed or exported in the window, first seen first."""
    found: dict[int, Affected] = {}
    for event in window_events(breach).iterator():
        how = exposure(event.action)
        if how is None:
            continue
        for customer_id in _customers_named(event):
            found.setdefault(customer_id, Affected(customer_id)).saw(how, event.occurred_at)
    rows = sorted(found.values(), key=lambda row: (row.first_at, row.customer_id))
    _add_contact_details(rows)
    return rows


def _add_contact_details(rows: list[Affected]) -> None:
    """Name, primary e-mail and phone, and language, for customers not erased."""
    by_id = {row.customer_id: row for row in rows}
    for ids in chunked(list(by_id), 500):
        customers = Customer.select(
            Customer.id, Customer.display_name, Customer.preferred_language, Customer.erased_at
        ).where(Customer.id.in_(ids))
        for customer in customers:
            row = by_id[customer.id]
            if customer.erased_at is not None:
                row.erased = True
                continue
            row.name = customer.display_name
            row.language = customer.preferred_language
        points = (
            ContactPoint.select(ContactPoint.customer, ContactPoint.kind, ContactPoint.value)
            .where(ContactPoint.customer.in_(ids))
            .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        )
        for point in points:
            row = by_id[point.customer_id]
            if row.erased:
                continue
            if point.kind == "email" and not row.email:
                row.email = point.value
            elif point.kind == "phone" and not row.phone:
                row.phone = point.value
    # Anyone never found (a customer row removed outright) is treated as erased.
    for row in rows:
        if not row.name and not row.erased:
            row.erased = True


# --- The CSV and the notices -----------------------------------------------------------

# A spreadsheet runs a cell that starts like a formula; phone numbers (+48 601...) are fine.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not text.lstrip("+-").replace(" ", "").isdigit():
        return "'" + text
    return text


def report_csv(rows: list[Affected], headings: list[str]) -> str:
    """The affected-customers report as CSV (times in UTC, ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for row in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row.customer_id,
                    "" if row.erased else row.name,
                    row.email,
                    row.phone,
                    row.language,
                    row.counts[VIEWED],
                    row.counts[REVEALED],
                    row.counts[EXPORTED],
                    row.first_at.isoformat(sep=" ", timespec="seconds"),
                    row.last_at.isoformat(sep=" ", timespec="seconds"),
                    "yes" if row.erased else "",
                )
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class NoticeDraft:
    language: str
    customer_count: int
    subject: str
    body: str


def notice_drafts(breach: Breach, rows: list[Affected], business_name: str) -> list[NoticeDraft]:
    """A draft notice for the affected customers in each of their languages, most used first.

    Needs an application context (the text is translated with the app's catalogs).
    """
    counts: dict[str, int] = {}
    for row in rows:
        if not row.erased:
            counts[row.language or "en"] = counts.get(row.language or "en", 0) + 1
    languages = sorted(counts, key=lambda language: (-counts[language], language))
    return [_notice_in(language, counts[language], breach, business_name) for language in languages]


def _notice_in(language: str, count: int, breach: Breach, business_name: str) -> NoticeDraft:
    try:
        Locale.parse(language)
        locale = language
    except (ValueError, UnknownLocaleError):
        locale = "en"  # a language code Babel does not know: draft in English
    with force_locale(locale):
        start = format_datetime(breach.window_start, "medium")
        end = format_datetime(breach.window_end, "medium")
        subject = _(
            "%(business)s: a security incident involving your personal data", business=business_name
        )
        paragraphs = [
            _("Dear customer,"),
            _(
                "We are writing to let you know about a security incident at %(business)s "
                "that may have involved your personal data.",
                business=business_name,
            ),
            _("What happened: %(what_happened)s", what_happened=_("[describe what happened]")),
            _("When: between %(start)s and %(end)s.", start=start, end=end),
            _(
                "Data that may have been seen: your name and contact details, and what we "
                "record about your purchases and our conversations with you."
            ),
            _("What we have done: %(measures)s", measures=_("[describe what you have done]")),
            _(
                "If you have any questions, please contact us: %(contact)s",
                contact=_("[your contact details]"),
            ),
            _("Kind regards,") + "\n" + business_name,
        ]
    return NoticeDraft(language, count, subject, "\n\n".join(paragraphs))
