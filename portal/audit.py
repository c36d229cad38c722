"""The audit trail: one function records every audited action, chained by hashes.

Events carry ids and field names only, never personal data (SPEC section 2).
"""

import hashlib
import json

from .db import is_postgresql, write_transaction
from .extensions import db
from .models import AuditEvent, utcnow

# Any constant works; PostgreSQL serialises chain appends on this advisory lock.
_CHAIN_LOCK = 7_353_812


def _digest(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def chained_fields(event: AuditEvent) -> dict:
    """The columns the hash covers, in the form they were hashed."""
    return {
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
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
        occurred_at=utcnow(),
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
        last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
        event.prev_hash = last.hash if last else ""
        event.hash = _digest(event.prev_hash, chained_fields(event))
        event.save(force_insert=True)
    return event
