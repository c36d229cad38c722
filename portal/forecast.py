"""Who is about to drift away: each customer's expected next purchase and a churn-risk flag.

The model is the customer's own rhythm (inter-purchase intervals), chosen because a shop
owner can check it in their head and it needs no training data: someone who bought n times
between their first and last purchase buys, on average, every (last − first) / (n − 1); the
next purchase is expected that long after the last. They are at risk when that date has
passed by more than one more interval (never less than MIN_GRACE). With a single purchase
there is no rhythm yet: the shop's median interval stands in for it. Customers without a
purchase have no forecast.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from peewee import fn

from .db import write_transaction
from .extensions import db
from .models import Customer, Purchase, utcnow

MIN_GRACE = timedelta(days=30)
DEFAULT_INTERVAL = timedelta(days=90)  # a shop whose customers all bought once so far
BATCH = 5000


@dataclass
class Summary:
    forecast: int = 0
    at_risk: int = 0


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def expected_next(first: datetime, last: datetime, count: int, fallback: timedelta):
    """(expected next purchase, typical interval) for one customer's purchases."""
    interval = (last - first) / (count - 1) if count > 1 else fallback
    interval = max(interval, timedelta(days=1))  # several purchases on one day
    return last + interval, interval


def at_risk(expected: datetime, interval: timedelta, now: datetime) -> bool:
    return now > expected + max(interval, MIN_GRACE)


def refresh_one(customer_id: int, now: datetime) -> None:
    """One repeat customer's forecast, after a purchase was recorded. A first purchase waits
    for the nightly refresh: it needs the shop's median interval, which one customer's
    purchases cannot give."""
    count, first, last = (
        Purchase.select(
            fn.COUNT(Purchase.id), fn.MIN(Purchase.purchased_at), fn.MAX(Purchase.purchased_at)
        )
        .where(Purchase.customer == customer_id)
        .tuples()
        .get()
    )
    if count < 2:
        return
    expected, interval = expected_next(
        _as_datetime(first), _as_datetime(last), count, DEFAULT_INTERVAL
    )
    Customer.update(
        expected_next_purchase_at=expected, churn_risk=at_risk(expected, interval, now)
    ).where(Customer.id == customer_id).execute()


def refresh(now: datetime | None = None) -> Summary:
    """Recompute every active customer's forecast (from `flask forecast` or the scheduler)."""
    now = now or utcnow()
    rows = [
        (row[0], row[1], _as_datetime(row[2]), _as_datetime(row[3]))
        for row in Purchase.select(
            Purchase.customer,
            fn.COUNT(Purchase.id),
            fn.MIN(Purchase.purchased_at),
            fn.MAX(Purchase.purchased_at),
        )
        .join(Customer)
        .where(Customer.erased_at.is_null(), Customer.merged_into.is_null())
        .group_by(Purchase.customer)
        .tuples()
    ]
    rhythms = [(last - first) / (count - 1) for _id, count, first, last in rows if count > 1]
    fallback = median(rhythms) if rhythms else DEFAULT_INTERVAL
    summary = Summary()
    updates = []
    for customer_id, count, first, last in rows:
        expected, interval = expected_next(first, last, count, fallback)
        risky = at_risk(expected, interval, now)
        updates.append((expected, risky, customer_id))
        summary.forecast += 1
        summary.at_risk += risky
    with write_transaction(db):
        Customer.update(expected_next_purchase_at=None, churn_risk=False).where(
            Customer.purchase_count == 0
        ).execute()
        cursor = db.cursor()
        sql = "UPDATE customer SET expected_next_purchase_at = %s, churn_risk = %s WHERE id = %s"
        if db.param != "%s":
            sql = sql.replace("%s", db.param)
        for start in range(0, len(updates), BATCH):
            cursor.executemany(sql, updates[start : start + BATCH])
    return summary
