"""The customer list: filters, sorting, keyset paging, bulk tagging and saved segments."""

import base64
import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal

from peewee import Tuple, fn

from . import consent, search
from .db import write_transaction
from .extensions import db
from .models import Address, Customer, CustomerTag, Segment, Tag, utcnow

PAGE_SIZE = 50
# What a list row shows (and every sort column); wide columns such as search_tokens stay put.
LIST_COLUMNS = (
    Customer.id,
    Customer.display_name,
    Customer.purchase_count,
    Customer.tier,
    Customer.lifetime_value,
    Customer.last_purchase_at,
    Customer.created_at,
    Customer.last_activity_at,
)
SEGMENT_COUNT_CAP = 100_000
CONSENT_STATES = ("", "granted", "not_granted", "never_asked")
# "at_risk": customers portal/forecast.py flags as drifting away (kept fresh nightly).
KINDS = ("", "lead", "customer", "at_risk")

# sort name → (column, descending). Every sort ends on the id, so keyset paging is exact.
SORTS = {
    "name": (Customer.display_name, False),
    "newest": (Customer.created_at, True),
    "spend": (Customer.lifetime_value, True),
    "activity": (Customer.last_activity_at, True),
}


@dataclass
class Filters:
    kind: str = ""  # one of KINDS
    tag: str = ""
    tier: str = ""
    city: str = ""
    consent_purpose: int | None = None
    consent_state: str = ""  # one of CONSENT_STATES
    purchased_since: date | None = None
    purchased_before: date | None = None
    min_spend: Decimal | None = None
    max_spend: Decimal | None = None
    sort: str = "name"

    def to_json(self) -> str:
        return json.dumps(
            {k: v for k, v in asdict(self).items() if v not in ("", None)}, default=str
        )

    @classmethod
    def from_json(cls, text: str) -> "Filters":
        """Filters from to_json's text; ValueError for anything to_json does not write (the
        text comes back from a page, so it may have been edited on the way)."""
        raw = json.loads(text or "{}")
        if not isinstance(raw, dict):
            raise ValueError("filters are a JSON object")
        known = {f.name for f in fields(cls)}
        values = {}
        try:
            for name, value in raw.items():
                if name not in known:
                    continue
                if name in ("purchased_since", "purchased_before"):
                    value = date.fromisoformat(value)
                elif name in ("min_spend", "max_spend"):
                    value = Decimal(value)
                    if not value.is_finite() or abs(value) >= 10**12:
                        raise ValueError(f"{name} is not an amount")
                elif name == "consent_purpose":
                    if type(value) is not int or not 0 < value < 2**31:
                        raise ValueError("consent_purpose is not a purpose id")
                elif not isinstance(value, str) or "\x00" in value:
                    raise ValueError(f"{name} is not text")
                values[name] = value
        except (TypeError, ArithmeticError) as error:
            raise ValueError(f"unreadable filters: {error}") from error
        if values.get("consent_state", "") not in CONSENT_STATES:
            raise ValueError("unknown consent state")
        return cls(**values)

    def as_query_args(self) -> dict[str, str]:
        """The filters as URL parameters (for links back to the list)."""
        return {k: str(v) for k, v in asdict(self).items() if v not in ("", None)}


def filtered(filters: Filters):
    """Active customers matching the filters, unordered."""
    query = Customer.active()
    if filters.kind == "lead":
        query = query.where(Customer.purchase_count == 0)
    elif filters.kind == "customer":
        query = query.where(Customer.purchase_count > 0)
    elif filters.kind == "at_risk":
        query = query.where(Customer.churn_risk == True)  # noqa: E712 (SQL, not Python)
    if filters.tier:
        query = query.where(Customer.tier == filters.tier)
    if filters.tag:
        tagged = (
            CustomerTag.select(CustomerTag.customer)
            .join(Tag)
            .where(Tag.name == filters.tag.strip().lower())
        )
        query = query.where(Customer.id.in_(tagged))
    if filters.city:
        in_city = Address.select(Address.customer).where(
            fn.LOWER(Address.city) == filters.city.strip().lower()
        )
        query = query.where(Customer.id.in_(in_city))
    if filters.consent_purpose and filters.consent_state:
        condition = {
            "granted": consent.granted_now(filters.consent_purpose),
            "not_granted": ~consent.granted_now(filters.consent_purpose),
            "never_asked": consent.never_asked(filters.consent_purpose),
        }[filters.consent_state]
        query = query.where(condition)
    if filters.purchased_since:
        query = query.where(
            Customer.last_purchase_at >= datetime.combine(filters.purchased_since, time())
        )
    if filters.purchased_before:
        query = query.where(
            Customer.last_purchase_at < datetime.combine(filters.purchased_before, time())
        )
    if filters.min_spend is not None:
        query = query.where(Customer.lifetime_value >= filters.min_spend)
    if filters.max_spend is not None:
        query = query.where(Customer.lifetime_value <= filters.max_spend)
    return query


def _encode_cursor(value, customer_id: int) -> str:
    raw = json.dumps([str(value) if not isinstance(value, str) else value, customer_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, column):
    """(value, id) from a cursor, or None when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, customer_id = json.loads(base64.urlsafe_b64decode(padded))
        if column is Customer.lifetime_value:
            value = Decimal(value)
        elif column is not Customer.display_name:
            value = datetime.fromisoformat(value)
        return value, int(customer_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def page(filters: Filters, after: str | None = None, size: int = PAGE_SIZE):
    """One page of the list, and the cursor of the next page (None on the last page)."""
    column, descending = SORTS.get(filters.sort, SORTS["name"])
    query = filtered(filters).select(*LIST_COLUMNS)
    position = _decode_cursor(after, column) if after else None
    if position:
        # A row-value comparison, which both engines answer from the (column, id) index.
        value, last_id = position
        key, start = Tuple(column, Customer.id), Tuple(value, last_id)
        query = query.where(key < start if descending else key > start)
    order = (column.desc(), Customer.id.desc()) if descending else (column, Customer.id)
    rows = list(query.order_by(*order).limit(size + 1))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last = rows[-1]
    return rows, _encode_cursor(getattr(last, column.name), last.id)


def count(filters: Filters, cap: int = SEGMENT_COUNT_CAP) -> int:
    """How many customers match, counted up to cap + 1."""
    capped = filtered(filters).select(Customer.id).limit(cap + 1)
    return Customer.select(fn.COUNT(1)).from_(capped.alias("capped")).scalar()


def bulk_tag(customer_ids: list[int], tag_name: str) -> int:
    """Add a tag to these customers (search follows); returns how many newly got it."""
    name = tag_name.strip().lower()
    with write_transaction(db):
        tag, _ = Tag.get_or_create(name=name)
        existing = {
            row.customer_id
            for row in CustomerTag.select(CustomerTag.customer).where(
                (CustomerTag.tag == tag) & CustomerTag.customer.in_(customer_ids)
            )
        }
        active_ids = [
            c.id for c in Customer.active().select(Customer.id).where(Customer.id.in_(customer_ids))
        ]
        new_ids = [cid for cid in active_ids if cid not in existing]
        if new_ids:
            CustomerTag.insert_many([{"customer": cid, "tag": tag.id} for cid in new_ids]).execute()
            Customer.update(updated_at=utcnow()).where(Customer.id.in_(new_ids)).execute()
            search.refresh(new_ids)
    return len(new_ids)


def save_segment(name: str, filters: Filters, staff_id: int | None) -> Segment:
    return Segment.create(name=name.strip(), filters=filters.to_json(), created_by=staff_id)


def segments_with_counts() -> list[tuple[Segment, Filters, int]]:
    """Every saved segment with its filters and how many customers it holds now."""
    result = []
    for segment in Segment.select().order_by(Segment.name):
        filters = Filters.from_json(segment.filters)
        result.append((segment, filters, count(filters)))
    return result


def tags_of(customers: list[Customer]) -> dict[int, list[str]]:
    """Tag names per customer for a page of rows, in one query."""
    names: dict[int, list[str]] = {c.id: [] for c in customers}
    if names:
        links = (
            CustomerTag.select(CustomerTag.customer, Tag.name)
            .join(Tag)
            .where(CustomerTag.customer.in_(list(names)))
            .order_by(Tag.name)
            .tuples()  # plain rows: building two models per link cost more than the query
        )
        for customer_id, name in links:
            names[customer_id].append(name)
    return names


def cities_of(customers: list[Customer]) -> dict[int, str]:
    """The primary city per customer for a page of rows, in one query."""
    cities: dict[int, str] = {}
    if customers:
        rows = (
            Address.select(Address.customer, Address.city)
            .where(Address.customer.in_([c.id for c in customers]))
            .order_by(Address.is_primary.desc(), Address.id)
            .tuples()
        )
        for customer_id, city in rows:
            cities.setdefault(customer_id, city)
    return cities
