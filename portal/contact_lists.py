"""Contact lists for a consent purpose (SPEC 6 rule 2): only customers whose current consent
covers the purpose, reachable on the chosen channel. Erased and merged records never appear.

The preview counts who is in and who is left out and why; the export audits the ids it is
about to write, then streams the rows in batches, checking consent again as it reads them.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from peewee import SQL, chunked, fn

from . import audit, customer_list
from .customer_list import Filters
from .models import ConsentEvent, ConsentPurpose, ContactPoint, Customer, Segment

CHANNELS = ("email", "phone")
BATCH_SIZE = 1000
# A cell starting with one of these is a formula to a spreadsheet; names must stay names.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Preview:
    included: int
    withdrawn: int
    never_asked: int
    no_contact: int

    @property
    def left_out(self) -> int:
        return self.withdrawn + self.never_asked + self.no_contact

    def left_out_counts(self) -> dict[str, int]:
        return {
            "withdrawn": self.withdrawn,
            "never_asked": self.never_asked,
            "no_contact": self.no_contact,
        }


def _population(segment: Segment | None, filters: Filters | None = None):
    """Active customers, narrowed to a saved segment's filters (or these filters) if given."""
    if segment is not None:
        filters = Filters.from_json(segment.filters)
    return Customer.active() if filters is None else customer_list.filtered(filters)


def _reachable(channel: str):
    """A condition on Customer: they have an e-mail address (or phone number)."""
    points = ContactPoint.select(ContactPoint.id).where(
        (ContactPoint.customer == Customer.id) & (ContactPoint.kind == channel)
    )
    return fn.EXISTS(points)


def _with_current_consent(people, purpose_id: int):
    """People joined to their latest event for the purpose: one ranked pass over its events,
    which at a million customers costs far less than a correlated lookup per customer."""
    ranked = (
        ConsentEvent.select(
            ConsentEvent.customer,
            ConsentEvent.granted,
            fn.ROW_NUMBER()
            .over(
                partition_by=[ConsentEvent.customer],
                order_by=[ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc()],
            )
            .alias("rank"),
        )
        .where(ConsentEvent.purpose == purpose_id)
        .alias("latest")
    )
    joined = people.join(ranked, on=((ranked.c.customer_id == Customer.id) & (ranked.c.rank == 1)))
    return joined, ranked


def preview(
    purpose: ConsentPurpose,
    channel: str,
    segment: Segment | None = None,
    *,
    filters: Filters | None = None,
) -> Preview:
    """How many customers the list holds, and how many are left out for each reason."""
    _check_channel(channel)
    people = _population(segment, filters)
    joined, latest = _with_current_consent(people, purpose.id)
    groups = (
        joined.select(latest.c.granted, _reachable(channel), fn.COUNT(Customer.id))
        .group_by(SQL("1"), SQL("2"))
        .tuples()
    )
    counts = {(bool(granted), bool(reachable)): n for granted, reachable, n in groups}
    asked = sum(counts.values())
    withdrawn = counts.get((False, True), 0) + counts.get((False, False), 0)
    return Preview(
        included=counts.get((True, True), 0),
        withdrawn=withdrawn,
        never_asked=people.select(Customer.id).count() - asked,
        no_contact=counts.get((True, False), 0),
    )


def included_ids(
    purpose: ConsentPurpose,
    channel: str,
    segment: Segment | None = None,
    *,
    filters: Filters | None = None,
):
    """The ids of the customers on the list, in id order (read as a stream of ids)."""
    _check_channel(channel)
    joined, latest = _with_current_consent(_population(segment, filters), purpose.id)
    query = (
        joined.select(Customer.id)
        .where((latest.c.granted == True) & _reachable(channel))  # noqa: E712 (SQL, not Python)
        .order_by(Customer.id)
        .tuples()
    )
    for row in query.iterator():
        yield row[0]


def rows(purpose: ConsentPurpose, channel: str, customer_ids: list[int]) -> Iterator[tuple]:
    """(name, e-mail or phone, preferred language) of these customers, a batch at a time.

    Consent is checked again here: whoever withdrew since the ids were read is left out.
    """
    _check_channel(channel)
    for batch in chunked(customer_ids, BATCH_SIZE):
        consenting = granted_among(purpose.id, batch)
        if not consenting:
            continue
        people = list(
            Customer.active()
            .select(Customer.id, Customer.display_name, Customer.preferred_language)
            .where(Customer.id.in_(sorted(consenting)))
            .order_by(Customer.id)
        )
        contacts = first_contacts([p.id for p in people], channel)
        for person in people:
            contact = contacts.get(person.id)
            if contact:
                yield person.display_name, contact, person.preferred_language


def granted_among(purpose_id: int, customer_ids: list[int]) -> set[int]:
    """Which of these customers' latest event for the purpose is a grant (ties: the later id)."""
    events = (
        ConsentEvent.select(ConsentEvent.customer, ConsentEvent.granted)
        .where(ConsentEvent.customer.in_(customer_ids) & (ConsentEvent.purpose == purpose_id))
        .order_by(ConsentEvent.customer, ConsentEvent.occurred_at, ConsentEvent.id)
        .tuples()
    )
    latest = dict(events.iterator())  # the last event of each customer wins
    return {customer_id for customer_id, granted in latest.items() if granted}


def first_contacts(customer_ids: list[int], channel: str) -> dict[int, str]:
    """Each customer's primary (else first) address or number: e-mail as given, phone as E.164."""
    if not customer_ids:
        return {}
    points = (
        ContactPoint.select(ContactPoint.customer, ContactPoint.value, ContactPoint.normalized)
        .where(ContactPoint.customer.in_(customer_ids) & (ContactPoint.kind == channel))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
    )
    first: dict[int, str] = {}
    for point in points:
        first.setdefault(point.customer_id, point.value if channel == "email" else point.normalized)
    return first


def csv_lines(channel: str, records) -> Iterator[str]:
    """The CSV text, a line at a time, with a byte-order mark so spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", channel, "preferred_language"])
    yield "\ufeff" + _drain(buffer)
    for name, contact, language in records:
        writer.writerow([_cell(name), contact if channel == "phone" else _cell(contact), language])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def export(
    purpose: ConsentPurpose,
    channel: str,
    segment: Segment | None = None,
    *,
    actor_id: int | None = None,
    ip_address: str = "",
) -> Iterator[str]:
    """Audit the export (ids and counts only), then return the CSV lines to stream."""
    counts = preview(purpose, channel, segment)
    customer_ids = list(included_ids(purpose, channel, segment))
    audit.record(
        "contact_list_exported",
        actor_type="staff" if actor_id else "system",
        actor_id=actor_id,
        target_type="consent_purpose",
        target_id=purpose.id,
        ip_address=ip_address,
        purpose_id=purpose.id,
        segment_id=segment.id if segment else None,
        channel=channel,
        customer_ids=customer_ids,
        left_out=counts.left_out_counts(),
    )
    return csv_lines(channel, rows(purpose, channel, customer_ids))


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"a contact list goes by e-mail or phone, not {channel!r}")
