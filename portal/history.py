"""A customer's history: recording purchases and interactions, the figures they add up to,
and the timeline of purchases, interactions and complaints, newest first.

The purchase figures on the customer row (lifetime value, purchase count, last purchase) are
denormalised so lists can filter and sort by them; they change here, in the same transaction
as the purchase, with SQL arithmetic so that two purchases recorded at once both count.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from peewee import JOIN, Case

from . import complaints, forecast, settings
from .db import write_transaction
from .extensions import db
from .models import (
    Complaint,
    Customer,
    Interaction,
    Location,
    Purchase,
    PurchaseLine,
    StaffAccount,
    utcnow,
)

CENT = Decimal("0.01")
PAGE_SIZE = 10


class InvalidHistory(ValueError):
    """Input the forms should have refused: no lines, a non-positive quantity, a negative price."""


def cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def _later(column, moment: datetime):
    """SQL for the later of a (nullable) timestamp column and moment, the same on both engines."""
    return Case(None, [((column.is_null()) | (column < moment), moment)], column)


# --- Recording -------------------------------------------------------------------------


def _priced_lines(lines: Iterable[tuple[str, Decimal, Decimal]]) -> list[dict]:
    priced = []
    for product, quantity, unit_price in lines:
        product = (product or "").strip()
        quantity, unit_price = Decimal(quantity), cents(unit_price)
        if not product:
            raise InvalidHistory("a purchase line needs a product")
        if quantity <= 0:
            raise InvalidHistory("a purchase line needs a quantity above zero")
        if unit_price < 0:
            raise InvalidHistory("a unit price cannot be negative")
        priced.append(
            {
                "product": product,
                "quantity": quantity,
                "unit_price": unit_price,
                "line_total": cents(quantity * unit_price),
            }
        )
    if not priced:
        raise InvalidHistory("a purchase needs at least one line")
    return priced


def record_purchase(
    customer: Customer,
    lines: Iterable[tuple[str, Decimal, Decimal]],
    *,
    purchased_at: datetime,
    channel: str = "store",
    location_id: int | None = None,
    receipt_number: str = "",
    staff_id: int | None = None,
) -> Purchase:
    """Record a purchase of (product, quantity, unit price) lines and update the customer's figures.

    Line totals and the purchase total are computed here, in the business currency; whatever
    total a client may have sent is never used. The customer object passed in is refreshed
    with the new figures.
    """
    if channel not in Purchase.CHANNELS:
        raise InvalidHistory(f"unknown purchase channel {channel!r}")
    priced = _priced_lines(lines)
    total = sum((line["line_total"] for line in priced), Decimal("0"))
    now = utcnow()
    with write_transaction(db):
        purchase = Purchase.create(
            customer=customer.id,
            location=location_id,
            purchased_at=purchased_at,
            receipt_number=(receipt_number or "").strip(),
            total=total,
            currency=settings.get("currency"),
            channel=channel,
            recorded_by=staff_id,
            created_at=now,
        )
        PurchaseLine.insert_many([{**line, "purchase": purchase.id} for line in priced]).execute()
        Customer.update(
            lifetime_value=Customer.lifetime_value + total,
            purchase_count=Customer.purchase_count + 1,
            last_purchase_at=_later(Customer.last_purchase_at, purchased_at),
            last_activity_at=_later(Customer.last_activity_at, purchased_at),
            updated_at=now,
        ).where(Customer.id == customer.id).execute()
        # Someone who came back should not stay "at risk" until the nightly refresh.
        forecast.refresh_one(customer.id, now)
        _refresh_figures(customer)
    return purchase


def record_interaction(
    customer: Customer,
    *,
    occurred_at: datetime,
    direction: str,
    channel: str,
    summary: str,
    staff_id: int | None = None,
) -> Interaction:
    """Record a call, e-mail, chat, visit or note, and move the customer's last activity on."""
    summary = (summary or "").strip()
    if not summary:
        raise InvalidHistory("an interaction needs a summary")
    if direction not in Interaction.DIRECTIONS or channel not in Interaction.CHANNELS:
        raise InvalidHistory(f"unknown direction {direction!r} or channel {channel!r}")
    with write_transaction(db):
        interaction = Interaction.create(
            customer=customer.id,
            occurred_at=occurred_at,
            direction=direction,
            channel=channel,
            summary=summary,
            staff=staff_id,
        )
        Customer.update(last_activity_at=_later(Customer.last_activity_at, occurred_at)).where(
            Customer.id == customer.id
        ).execute()
        _refresh_figures(customer)
    return interaction


def _refresh_figures(customer: Customer) -> None:
    """Copy the figures SQL just computed onto the caller's customer object."""
    columns = (
        Customer.lifetime_value,
        Customer.purchase_count,
        Customer.last_purchase_at,
        Customer.last_activity_at,
        Customer.updated_at,
        Customer.expected_next_purchase_at,
        Customer.churn_risk,
    )
    fresh = Customer.select(*columns).where(Customer.id == customer.id).get()
    for column in columns:
        setattr(customer, column.name, getattr(fresh, column.name))


# --- Figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    kind: str  # "lead" or "customer"
    lifetime_value: Decimal
    purchase_count: int
    last_purchase_at: datetime | None
    currency: str
    # From portal/forecast.py; None (and not at risk) until the customer has one.
    expected_next_purchase_at: datetime | None = None
    interval_days: int | None = None  # the interval the expected date assumes
    own_rhythm: bool = True  # False: one purchase, the shop's median interval stands in
    churn_risk: bool = False


def figures(customer: Customer) -> Figures:
    """The customer's purchase figures, from the denormalised columns (no aggregation)."""
    expected, last = customer.expected_next_purchase_at, customer.last_purchase_at
    # The forecast always lies after the last purchase it was made from; one that does not
    # is from before purchases changed (an import, a merge) and waits for the next refresh.
    forecast_holds = expected is not None and last is not None and expected > last
    return Figures(
        kind=customer.kind,
        lifetime_value=customer.lifetime_value,
        purchase_count=customer.purchase_count,
        last_purchase_at=last,
        currency=settings.get("currency"),
        expected_next_purchase_at=expected if forecast_holds else None,
        interval_days=max(1, round((expected - last) / timedelta(days=1)))
        if forecast_holds
        else None,
        own_rhythm=customer.purchase_count > 1,
        churn_risk=forecast_holds and bool(customer.churn_risk),
    )


# --- Timeline --------------------------------------------------------------------------

# At the same moment, entries sort purchase, interaction, complaint (by these letters, descending).
KINDS = {"purchase": "p", "interaction": "i", "complaint": "c"}
_CURSOR = re.compile(r"(\d{8}T\d{12})-([pic])-(\d{1,18})")
_CURSOR_TIME = "%Y%m%dT%H%M%S%f"


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the timeline: entries strictly older than (at, kind, id) come after it."""

    at: datetime
    kind: str  # one letter of KINDS
    id: int

    def __str__(self) -> str:
        return f"{self.at.strftime(_CURSOR_TIME)}-{self.kind}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        match = _CURSOR.fullmatch(text or "")
        if not match:
            raise ValueError(f"not a timeline cursor: {text!r}")
        at = datetime.strptime(match.group(1), _CURSOR_TIME)
        return cls(at, match.group(2), int(match.group(3)))


@dataclass
class Entry:
    """One timeline entry: kind is purchase, interaction or complaint; record is the row."""

    kind: str
    at: datetime
    record: Purchase | Interaction | Complaint
    lines: list[PurchaseLine] = field(default_factory=list)

    @property
    def key(self) -> Cursor:
        return Cursor(self.at, KINDS[self.kind], self.record.id)

    @property
    def overdue(self) -> bool:
        """A complaint past its due date (the timeline marks it); other kinds never are."""
        return self.kind == "complaint" and complaints.is_overdue(self.record)


def _page_of(date_column, customer_id: int, kind: str, before: Cursor | None) -> list:
    """Where-conditions for one kind: the customer's rows that sort after the cursor."""
    model = date_column.model
    conditions = [model.customer == customer_id]
    if before is not None:
        conditions.append(_older_than(date_column, model.id, kind, before))
    return conditions


def _older_than(date_column, id_column, kind: str, before: Cursor):
    """Keyset condition: rows of this kind that sort after the cursor (newest first)."""
    letter = KINDS[kind]
    if letter < before.kind:  # sorts after the cursor's kind at the same moment
        return date_column <= before.at
    if letter > before.kind:
        return date_column < before.at
    # Range on the indexed date column first; the tie on the same moment is settled by id.
    return (date_column <= before.at) & ~((date_column == before.at) & (id_column >= before.id))


def _purchases(customer_id: int, before: Cursor | None, limit: int) -> list[Purchase]:
    return list(
        Purchase.select(Purchase, Location.id, Location.name)
        .join(Location, JOIN.LEFT_OUTER)
        .where(*_page_of(Purchase.purchased_at, customer_id, "purchase", before))
        .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
        .limit(limit)
    )


def _interactions(customer_id: int, before: Cursor | None, limit: int) -> list[Interaction]:
    return list(
        Interaction.select(Interaction, StaffAccount.id, StaffAccount.name)
        .join(StaffAccount, JOIN.LEFT_OUTER)
        .where(*_page_of(Interaction.occurred_at, customer_id, "interaction", before))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )


def _complaints(customer_id: int, before: Cursor | None, limit: int) -> list[Complaint]:
    return list(
        Complaint.select()
        .where(*_page_of(Complaint.opened_at, customer_id, "complaint", before))
        .order_by(Complaint.opened_at.desc(), Complaint.id.desc())
        .limit(limit)
    )


def timeline(
    customer_id: int, *, before: Cursor | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Entry], Cursor | None]:
    """One page of the customer's purchases, interactions and complaints, newest first.

    Each kind is read newest first through its (customer, date) index, limit + 1 rows at most,
    and merged here; purchase lines come in one more query. Returns the entries and the
    cursor of the next (older) page, or None on the last page. Five queries whatever the
    history's length.
    """
    fetched = [
        *(Entry("purchase", p.purchased_at, p) for p in _purchases(customer_id, before, limit + 1)),
        *(
            Entry("interaction", i.occurred_at, i)
            for i in _interactions(customer_id, before, limit + 1)
        ),
        *(Entry("complaint", c.opened_at, c) for c in _complaints(customer_id, before, limit + 1)),
    ]
    fetched.sort(key=lambda entry: entry.key, reverse=True)
    page = fetched[:limit]
    _attach_lines([entry for entry in page if entry.kind == "purchase"])
    next_cursor = page[-1].key if len(fetched) > limit else None
    return page, next_cursor


def _attach_lines(entries: list[Entry]) -> None:
    if not entries:
        return
    by_purchase = {entry.record.id: entry for entry in entries}
    lines = PurchaseLine.select().where(PurchaseLine.purchase.in_(list(by_purchase)))
    for line in lines.order_by(PurchaseLine.id):
        by_purchase[line.purchase_id].lines.append(line)
