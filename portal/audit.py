"""The audit trail: one function records every audited action, chained by hashes.

Events carry ids and field names only, never personal data (SPEC section 2). Each event's
hash covers its own columns and the previous event's hash, so editing, removing or inserting
an event breaks the chain from that point on; `verify()` walks it and names the first break.
The table is append-only: migration 0009 makes the database refuse UPDATE and DELETE on it.
"""

import hashlib
import json
import operator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from peewee import Tuple

from .db import is_postgresql, write_transaction
from .extensions import db
from .models import AuditEvent, utcnow

# Any constant works; PostgreSQL serialises chain appends on this advisory lock.
_CHAIN_LOCK = 7_353_812

# Actions whose details list the customers involved (`customer_ids`) instead of naming one
# target: bulk actions and exports. The log's customer filter looks inside these too.
MULTI_CUSTOMER_ACTIONS = (
    "customers_tagged",
    "contact_list_exported",
    "retention_swept",
    "breach_report_viewed",
    "breach_report_exported",
    "report_exported",  # a complaint report names the customers on its overdue list
    "complaint_report_viewed",
    "customer_erased",  # a merged person's records are erased together
)

PAGE_SIZE = 50


def _digest(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def chained_fields(event) -> dict:
    """The columns the hash covers, in the form they were hashed."""
    occurred_at = event.occurred_at
    return {
        # A tampered row may hold something that is not a timestamp: it is hashed as it is.
        "occurred_at": occurred_at.isoformat(timespec="microseconds")
        if isinstance(occurred_at, datetime)
        else occurred_at,
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip_address": event.ip_address,
        "details": event.details,
    }


def record(
    action: str,
    *,
    actor_type: str = "system",
    actor_id: int | None = None,
    target_type: str = "",
    target_id: int | None = None,
    ip_address: str = "",
    **details,
) -> AuditEvent:
    """Append one event to the chain and return it."""
    event = AuditEvent(
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip_address=ip_address or "",
        details=json.dumps(details, sort_keys=True, default=str),
    )
    with write_transaction(db):
        if is_postgresql(db):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_CHAIN_LOCK,))
        # Stamped under the lock, so time order and chain order agree.
        event.occurred_at = utcnow()
        last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
        event.prev_hash = last.hash if last else ""
        event.hash = _digest(event.prev_hash, chained_fields(event))
        event.save(force_insert=True)
    return event


# --- Verification -------------------------------------------------------------------------

EDITED = "edited"
UNLINKED = "unlinked"


@dataclass(frozen=True)
class VerificationResult:
    """What a walk along the chain found: how many events held, and the first break if any."""

    checked: int
    broken_id: int | None = None
    broken_at: datetime | str | None = None
    problem: str = ""  # EDITED: contents changed; UNLINKED: an event removed or inserted before
    last_hash: str = ""  # of the last good event: note it down to notice a cut-off tail later

    @property
    def ok(self) -> bool:
        return self.broken_id is None


_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor_type,
    AuditEvent.actor_id,
    AuditEvent.action,
    AuditEvent.target_type,
    AuditEvent.target_id,
    AuditEvent.ip_address,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


@dataclass
class _Row:
    id: int
    occurred_at: object
    actor_type: object
    actor_id: object
    action: object
    target_type: object
    target_id: object
    ip_address: object
    details: object
    prev_hash: object
    hash: object


def _rows(batch_size: int):
    """Every event in id order, read in batches by keyset so memory stays flat at any length."""
    after = None
    while True:
        query = AuditEvent.select(*_COLUMNS).order_by(AuditEvent.id).limit(batch_size)
        if after is not None:
            query = query.where(AuditEvent.id > after)
        # Raw values: a tampered column that no longer converts must not stop the walk.
        batch = list(db.execute(query))
        for raw in batch:
            yield _converted(raw)
        if len(batch) < batch_size:
            return
        after = batch[-1][0]


def _converted(raw) -> _Row:
    # Only the timestamp needs converting (SQLite returns text); the driver types the rest.
    row = _Row(*raw)
    # A timestamp that no longer parses is hashed as stored: the event shows as edited.
    with suppress(TypeError, ValueError):
        row.occurred_at = AuditEvent.occurred_at.python_value(row.occurred_at)
    return row


def verify(batch_size: int = 5000) -> VerificationResult:
    """Recompute every event's hash in chain order; stop at the first event that does not hold."""
    previous_hash = ""  # the first event of an intact chain links to nothing
    checked = 0
    for event in _rows(batch_size):
        if _digest(str(event.prev_hash), chained_fields(event)) != event.hash:
            return VerificationResult(checked, event.id, event.occurred_at, EDITED, previous_hash)
        if event.prev_hash != previous_hash:
            return VerificationResult(checked, event.id, event.occurred_at, UNLINKED, previous_hash)
        previous_hash = event.hash
        checked += 1
    return VerificationResult(checked, last_hash=previous_hash)


# --- Reading the log ----------------------------------------------------------------------


@dataclass(frozen=True)
class LogFilters:
    """Which events the owner asked to see. Times are naive UTC; `until` is exclusive."""

    actor_type: str | None = None
    actor_id: int | None = None
    action: str | None = None
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(filters: LogFilters, before: AuditEvent | None):
    query = AuditEvent.select()
    if filters.actor_type:
        query = query.where(AuditEvent.actor_type == filters.actor_type)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    if before is not None:
        query = query.where(
            Tuple(AuditEvent.occurred_at, AuditEvent.id) < Tuple(before.occurred_at, before.id)
        )
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def _listing(customer_id: int) -> list[str]:
    """LIKE patterns for one id inside a JSON list of ids, as json.dumps writes it."""
    return [
        f"%[{customer_id}]%",
        f"%[{customer_id}, %",
        f"%, {customer_id}, %",
        f"%, {customer_id}]%",
    ]


def log_page(
    filters: LogFilters, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int | None]:
    """One page of events, newest first, and the id to pass as `before` for older ones.

    Pages by keyset on (occurred_at, id), so an old page costs what the first one costs.
    """
    cursor = AuditEvent.select().where(AuditEvent.id == before).first() if before else None
    base = _filtered(filters, cursor)
    if filters.customer_id is None:
        events = list(base.limit(size + 1))
    else:
        # Two index-friendly queries instead of one OR: events aimed at the customer, and
        # bulk events whose customer_ids list them. Each is limited; the merge is exact.
        aimed = base.where(
            AuditEvent.target_type == "customer", AuditEvent.target_id == filters.customer_id
        )
        listed = base.where(AuditEvent.action.in_(MULTI_CUSTOMER_ACTIONS))
        # `**` is ILIKE (LIKE on SQLite, where peewee's `%` means GLOB); digits have no case.
        mentions = [AuditEvent.details**pattern for pattern in _listing(filters.customer_id)]
        listed = listed.where(reduce(operator.or_, mentions))
        merged = {e.id: e for e in [*aimed.limit(size + 1), *listed.limit(size + 1)]}
        events = sorted(merged.values(), key=lambda e: (e.occurred_at, e.id), reverse=True)
        events = events[: size + 1]
    more = len(events) > size
    events = events[:size]
    return events, (events[-1].id if more else None)


def details_of(event: AuditEvent) -> dict:
    """An event's details as a dict (empty when the stored text is not a JSON object)."""
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}
