"""Erasure (SPEC 5 "erase me", SPEC 6.3): requests, the owner's decisions, and erasing a person.

`erase()` removes a person's personal data from every table in one transaction: the customer
row is blanked (it stays, anonymised, so sales kept for accounting still add up), contacts,
addresses, tags, identifiers, sign-in links and interactions go, complaint texts, consent
evidence and mail servers' replies to campaign messages are cleared, merge snapshots that
remember the person are emptied, records merged into theirs are erased with them, and the
search index forgets them. Generated files about them are deleted after the transaction.

Verifiable on SQLite means the bytes go, not only the rows: every connection runs with
`secure_delete` (portal/db.py) so freed space is zeroed, the FTS5 index is merged so the old
segments holding the person's tokens are dropped, and the WAL is checkpointed and truncated.

Every erasure leaves a tombstone (ids and keyed hashes, no personal data) in a table and in
an append-only file outside the database, so a restored backup can be erased again
(portal/backups.py).
"""

import hashlib
import hmac
import json
import logging
import operator
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from pathlib import Path

from flask import current_app

from . import audit, jobs, mail, privacy_requests, search, settings, signed_links
from .db import is_postgresql, write_transaction
from .extensions import db
from .merge import merged_group
from .models import (
    Address,
    Complaint,
    ComplaintMessage,
    ConsentEvent,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerSignInLink,
    CustomerTag,
    ErasureRequest,
    ErasureTombstone,
    ExportJob,
    ExternalReference,
    ImportChange,
    ImportJob,
    Interaction,
    OutgoingMessage,
    Purchase,
    Refund,
    SensitiveIdentifier,
    utcnow,
)

# Parts an owner may keep for a lawful reason (a legal claim, an invoice the law requires).
PARTS = ("purchases_detail", "complaints", "interactions", "consent_evidence")
OPEN_STATUSES = ("awaiting_confirmation", "pending", "on_hold")
TRIGGERS = ("request", "retention", "restore")
TOMBSTONE_FILE = "erasure-tombstones.jsonl"
# Pages the FTS5 index merges per step: each step is a short write transaction (~0.2 s).
MERGE_PAGES = 2000
SCRUB_MIN_LENGTH = 4  # shorter strings would match unrelated text
ERASED_TEXT = "[erased]"
CONFIRM_SALT = "erasure-confirm"
CONFIRM_LINK_DAYS = 7

log = logging.getLogger(__name__)


class ErasureError(ValueError):
    pass


class AlreadyErased(ErasureError):
    pass


class ConfirmationLinkInvalid(ErasureError):
    """The confirmation link was altered, or its request is no longer waiting for it."""


class ConfirmationLinkExpired(ConfirmationLinkInvalid):
    """The confirmation link is older than CONFIRM_LINK_DAYS."""


@dataclass
class Receipt:
    """What an erasure removed and kept: counts and ids, never personal data."""

    customer_id: int
    customer_ids: list[int]
    kept: tuple[str, ...]
    removed: dict[str, int]
    files_removed: int = 0
    bytes_cleared: bool = False  # SQLite: index merged and WAL truncated; PostgreSQL: n/a
    erased_at: datetime | None = None
    pending_files: list[Path] = field(default_factory=list, repr=False)
    # (record id, created at, contact hashes) of each erased record, for the tombstone file
    tombstones: list[tuple] = field(default_factory=list, repr=False)
    customer_notified: bool = False  # the "done" e-mail went to a customer who asked


# --- Requests ------------------------------------------------------------------------------


def open_request_for(customer_id: int) -> ErasureRequest | None:
    """The customer's erasure request that is still to be decided or executed, if any."""
    return (
        ErasureRequest.select()
        .where(
            (ErasureRequest.customer_id == customer_id) & ErasureRequest.status.in_(OPEN_STATUSES)
        )
        .order_by(ErasureRequest.id)
        .first()
    )


def request_erasure(
    customer_id: int, *, made_via: str = "staff", staff_id: int | None = None
) -> ErasureRequest:
    """Record a request to erase a customer and start its legal clock. Audited.

    Made by staff on the customer's behalf, it waits for the owner (pending, due now); made
    in the self-service area, it first waits for the customer's confirmation by e-mail.
    A second request while one is open returns the open one.
    """
    if made_via not in ("staff", "self_service"):
        raise ErasureError(f"unknown channel {made_via!r}")
    with write_transaction(db):
        customer = Customer.get_or_none(Customer.id == customer_id)
        if customer is None or customer.erased_at is not None:
            raise ErasureError("no such customer, or already erased")
        existing = open_request_for(customer_id)
        if existing is not None:
            return existing
        by_staff = made_via == "staff"
        now = utcnow()
        request = ErasureRequest.create(
            customer_id=customer_id,
            requested_by_type="staff" if by_staff else "customer",
            status="pending" if by_staff else "awaiting_confirmation",
            requested_at=now,
            execute_after=now if by_staff else None,
        )
        privacy_requests.open_request(
            customer_id, "erasure", made_via=made_via, staff_id=staff_id, received_at=now
        )
        audit.record(
            "erasure_requested",
            actor_type="staff" if staff_id else "customer",
            actor_id=staff_id or customer_id,
            target_type="customer",
            target_id=customer_id,
            request_id=request.id,
            made_via=made_via,
        )
    return request


def confirm(request: ErasureRequest, *, now: datetime | None = None) -> ErasureRequest:
    """The customer confirmed by e-mail: erasure becomes due after the grace period."""
    if request.status != "awaiting_confirmation":
        raise ErasureError("only a request awaiting confirmation can be confirmed")
    now = now or utcnow()
    request.status = "pending"
    request.confirmed_at = now
    request.execute_after = now + timedelta(days=int(settings.get("erasure_grace_days")))
    request.save(
        only=[ErasureRequest.status, ErasureRequest.confirmed_at, ErasureRequest.execute_after]
    )
    audit.record(
        "erasure_confirmed",
        actor_type="customer",
        actor_id=request.customer_id,
        target_type="customer",
        target_id=request.customer_id,
        request_id=request.id,
    )
    return request


def confirmation_token(request: ErasureRequest) -> str:
    """The signed part of the link in the e-mail that asks the customer to confirm."""
    return signed_links.sign(CONFIRM_SALT, request.id)


def request_for_confirmation(token: str) -> ErasureRequest:
    """The request a confirmation link is for; ConfirmationLinkExpired / ...Invalid otherwise."""
    request_id = signed_links.read(
        CONFIRM_SALT,
        token,
        CONFIRM_LINK_DAYS,
        expired=ConfirmationLinkExpired,
        invalid=ConfirmationLinkInvalid,
    )
    request = ErasureRequest.get_or_none(ErasureRequest.id == request_id)
    if request is None or request.requested_by_type != "customer":
        raise ConfirmationLinkInvalid("no such request")
    return request


def checked_parts(parts: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(parts))
    unknown = set(chosen) - set(PARTS)
    if unknown:
        raise ErasureError(f"unknown parts {sorted(unknown)}")
    return tuple(p for p in PARTS if p in chosen)


def kept_parts(request: ErasureRequest) -> tuple[str, ...]:
    return checked_parts(p for p in request.kept_parts.split(",") if p)


def hold(request: ErasureRequest, reason: str, parts: Iterable[str], staff_id: int | None):
    """The owner keeps parts of the data for a lawful reason; the rest waits for their decision.

    The reason is the business's ground (e.g. "pending court claim, case ref."), not personal
    data: the form says so. Audited with the part names only.
    """
    parts = checked_parts(parts)
    reason = (reason or "").strip()
    if not parts or not reason:
        raise ErasureError("a hold needs at least one part and a reason")
    if request.status not in ("pending", "on_hold"):
        raise ErasureError("only a pending request can be put on hold")
    request.status = "on_hold"
    request.lawful_reason = reason
    request.kept_parts = ",".join(parts)
    request.decided_by = staff_id
    request.save(
        only=[
            ErasureRequest.status,
            ErasureRequest.lawful_reason,
            ErasureRequest.kept_parts,
            ErasureRequest.decided_by,
        ]
    )
    audit.record(
        "erasure_held",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="customer",
        target_id=request.customer_id,
        request_id=request.id,
        parts=list(parts),
    )
    return request


def cancel(request: ErasureRequest, staff_id: int | None = None) -> ErasureRequest:
    """Withdraw a request (the customer changed their mind); its legal clock stops."""
    if request.status not in OPEN_STATUSES:
        raise ErasureError("only an open request can be cancelled")
    with write_transaction(db):
        request.status = "cancelled"
        request.decided_by = staff_id
        request.save(only=[ErasureRequest.status, ErasureRequest.decided_by])
        clock = privacy_requests.open_for_customer(request.customer_id, "erasure")
        if clock is not None:
            privacy_requests.close_request(clock, status="refused", staff_id=staff_id)
        audit.record(
            "erasure_cancelled",
            actor_type="staff" if staff_id else "customer",
            actor_id=staff_id or request.customer_id,
            target_type="customer",
            target_id=request.customer_id,
            request_id=request.id,
        )
    return request


def execute(request: ErasureRequest, staff_id: int | None) -> Receipt:
    """Carry out a request, keeping the parts the owner recorded a lawful reason for."""
    if request.status not in ("pending", "on_hold"):
        raise ErasureError("only a pending or held request can be executed")
    return erase(request.customer_id, staff_id=staff_id, keep=kept_parts(request))


def preview(customer_id: int, keep: Iterable[str] = ()) -> dict[str, int]:
    """What erase() would remove (and keep) now, counted: for the confirmation page."""
    keep = checked_parts(keep)
    group = merged_group(customer_id)

    def count(model, *conditions):
        query = model.select().where(model.customer.in_(group))
        for condition in conditions:
            query = query.where(condition)
        return query.count()

    complaints = Complaint.select(Complaint.id).where(Complaint.customer.in_(group))
    invoice = "purchases_detail" in keep
    return {
        "merged_records": len(group) - 1,
        "contact_points": count(ContactPoint),
        "addresses": 0 if invoice else count(Address),
        "tags": count(CustomerTag),
        "identifiers": count(SensitiveIdentifier)
        if not invoice
        else count(SensitiveIdentifier, SensitiveIdentifier.kind != "tax_number"),
        "interactions": 0 if "interactions" in keep else count(Interaction),
        "complaint_messages": 0
        if "complaints" in keep
        else ComplaintMessage.select().where(ComplaintMessage.complaint.in_(complaints)).count(),
        "consent_evidence": 0
        if "consent_evidence" in keep
        else count(ConsentEvent, ConsentEvent.evidence != ""),
        "merge_snapshots": CustomerMerge.select()
        .where(CustomerMerge.survivor.in_(group) | CustomerMerge.duplicate.in_(group))
        .count(),
        "source_ids": count(ExternalReference),
        "import_snapshots": count(ImportChange, ImportChange.snapshot != "{}"),
        "export_files": ExportJob.select()
        .where(_exports_of(group) & (ExportJob.file_path != ""))
        .count(),
        "purchases_kept": count(Purchase),
    }


# --- Erasing -------------------------------------------------------------------------------


def erase(customer_id: int, *, staff_id: int | None = None, keep: Iterable[str] = ()) -> Receipt:
    """Erase a customer (and records merged into theirs) everywhere; return what went.

    One transaction for the rows, then generated files, then the bytes on disk.
    Raises AlreadyErased when someone else erased them first.
    """
    receipt = erase_records(customer_id, staff_id=staff_id, keep=keep)
    if receipt is None:
        raise AlreadyErased(f"customer {customer_id} is already erased")
    receipt.bytes_cleared = clear_freed_bytes()
    return receipt


def erase_records(
    customer_id: int,
    *,
    staff_id: int | None = None,
    keep: Iterable[str] = (),
    trigger: str = "request",
    ledger: "Ledger | None" = None,
    write_ledger: bool = True,
    audit_extra: dict | None = None,
) -> Receipt | None:
    """The rows of an erasure in one transaction, then the files; None if already erased.

    Batch callers (retention, restore) erase many and clear the freed bytes once at the end.
    """
    if trigger not in TRIGGERS:
        raise ErasureError(f"unknown trigger {trigger!r}")
    keep = checked_parts(keep)
    ledger = ledger or Ledger.current()
    # Where to tell the customer, read before their address and language are erased.
    notice = _done_notice(customer_id) if trigger == "request" else None
    _zero_what_is_freed()
    with write_transaction(db):
        receipt = _erase_rows(customer_id, staff_id, keep, trigger, ledger, audit_extra or {})
        if receipt is None:
            return None
        # Written before the commit: if the commit then fails, the tombstone names a person
        # who asked to be erased, and a restore erasing them is the safe side of the error.
        if write_ledger:
            ledger.append(_tombstone_lines(receipt, ledger))
    receipt.files_removed = _remove_files(receipt.pending_files)
    if notice is not None:
        receipt.customer_notified = _send_done_notice(notice, receipt)
    return receipt


@dataclass
class _DoneNotice:
    request_id: int
    address: str
    language: str


def _done_notice(customer_id: int) -> _DoneNotice | None:
    """The customer's own open request and where its "done" e-mail goes, if they made one."""
    from .complaints import customer_email  # the customer's primary e-mail address

    request = open_request_for(customer_id)
    if request is None or request.requested_by_type != "customer":
        return None
    customer = Customer.get_or_none(Customer.id == customer_id)
    address = customer_email(customer_id)
    if customer is None or not address:
        return None
    return _DoneNotice(request.id, address, customer.preferred_language or "en")


def _send_done_notice(notice: _DoneNotice, receipt: Receipt) -> bool:
    """The erasure stands whatever happens to the mail: a failure is logged, not raised."""
    try:
        mail.send_template(
            "erasure_done",
            to=notice.address,
            language=notice.language,
            kept=receipt.kept,
            purchases_kept=receipt.removed.get("purchases_kept", 0),
        )
    except Exception:  # noqa: BLE001 - any delivery failure is reported, not raised
        log.exception("erasure request %s: done mail not sent", notice.request_id)
        return False
    audit.record(
        "erasure_done_mailed",
        target_type="customer",
        target_id=receipt.customer_id,
        request_id=notice.request_id,
    )
    return True


def _erase_rows(customer_id, staff_id, keep, trigger, ledger, audit_extra) -> Receipt | None:
    exists = Customer.select(Customer.id).where(Customer.id == customer_id).exists()
    if not exists:
        raise ErasureError(f"no customer {customer_id}")
    now = utcnow()
    # Claiming the person first makes a concurrent erasure of them wait here, then find
    # nothing to do (PostgreSQL re-checks the condition after the row lock; SQLite serialises).
    claimed = (
        Customer.update(erased_at=now)
        .where((Customer.id == customer_id) & Customer.erased_at.is_null())
        .execute()
    )
    if not claimed:
        return None
    group = merged_group(customer_id)
    Customer.update(erased_at=now).where(
        Customer.id.in_(group) & Customer.erased_at.is_null()
    ).execute()
    records = list(Customer.select().where(Customer.id.in_(group)))
    contacts = list(ContactPoint.select().where(ContactPoint.customer.in_(group)))
    hashes = sorted({ledger.contact_hash(p.kind, p.normalized) for p in contacts})
    needles = _needles(records, contacts)

    removed = _remove_personal_rows(group, keep)
    removed["merge_snapshots"] = _forget_merges(group, now)
    files = [Path(j.file_path) for j in ExportJob.select().where(_exports_of(group)) if j.file_path]
    removed["export_files"] = (
        ExportJob.update(file_path="")
        .where(_exports_of(group) & (ExportJob.file_path != ""))
        .execute()
    )
    removed["text_mentions"] = _scrub_text_columns(needles)
    _blank_customer_rows(group, keep, now)
    search.refresh(group)

    for request in ErasureRequest.select().where(
        ErasureRequest.customer_id.in_(group) & ErasureRequest.status.in_(OPEN_STATUSES)
    ):
        request.status, request.completed_at = "completed", now
        request.decided_by = staff_id or request.decided_by_id
        request.save(
            only=[ErasureRequest.status, ErasureRequest.completed_at, ErasureRequest.decided_by]
        )
    for cid in group:
        clock = privacy_requests.open_for_customer(cid, "erasure")
        if clock is not None:
            privacy_requests.close_request(clock, status="completed", staff_id=staff_id)
    audit.record(
        "customer_erased",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="customer",
        target_id=customer_id,
        customer_ids=group,
        kept=list(keep),
        removed=removed,
        trigger=trigger,
        **audit_extra,
    )
    receipt = Receipt(customer_id, group, keep, removed, erased_at=now, pending_files=files)
    for record in records:
        ErasureTombstone.create(
            customer_id=record.id,
            erased_at=now,
            trigger=trigger,
            record_hash=ledger.record_hash(record.id, record.created_at),
            contact_hashes=json.dumps(hashes),
            key_id=ledger.key_id,
            kept=",".join(keep),
            removed=json.dumps(removed if record.id == customer_id else {}),
        )
    receipt.tombstones = [(r.id, r.created_at, hashes) for r in records]
    return receipt


def _exports_of(group: list[int]):
    """Generated files about the person, and reports that may name them among others."""
    return ExportJob.customer_id.in_(group) | ExportJob.kind.in_(jobs.KINDS_NAMING_CUSTOMERS)


def _remove_personal_rows(group: list[int], keep: tuple[str, ...]) -> dict[str, int]:
    """Delete or clear every row about the person; return how many of each kind."""
    removed: dict[str, int] = {}

    def of(model):
        return model.customer.in_(group)

    removed["contact_points"] = ContactPoint.delete().where(of(ContactPoint)).execute()
    removed["tags"] = CustomerTag.delete().where(of(CustomerTag)).execute()
    removed["sign_in_links"] = CustomerSignInLink.delete().where(of(CustomerSignInLink)).execute()
    removed["source_ids"] = ExternalReference.delete().where(of(ExternalReference)).execute()
    # What an import changed on them holds their earlier values: such an import can no
    # longer be undone for them.
    removed["import_snapshots"] = (
        ImportChange.update(snapshot="{}")
        .where(of(ImportChange) & (ImportChange.snapshot != "{}"))
        .execute()
    )
    invoice = "purchases_detail" in keep
    identifiers = SensitiveIdentifier.delete().where(of(SensitiveIdentifier))
    if invoice:  # an invoice names the buyer's tax number
        identifiers = identifiers.where(SensitiveIdentifier.kind != "tax_number")
    removed["identifiers"] = identifiers.execute()
    removed["addresses"] = 0 if invoice else Address.delete().where(of(Address)).execute()
    if "interactions" not in keep:
        removed["interactions"] = Interaction.delete().where(of(Interaction)).execute()
    complaints = Complaint.select(Complaint.id).where(of(Complaint))
    if "complaints" not in keep:
        removed["complaint_messages"] = (
            ComplaintMessage.delete().where(ComplaintMessage.complaint.in_(complaints)).execute()
        )
        # The complaint stays as a business statistic (category, severity, dates), without text.
        removed["complaint_texts"] = (
            Complaint.update(subject="", description="", resolution="", satisfaction_comment="")
            .where(of(Complaint))
            .execute()
        )
    if "consent_evidence" not in keep:
        # The events stay: proof of what was consented to and when, without personal detail.
        removed["consent_evidence"] = (
            ConsentEvent.update(evidence="")
            .where(of(ConsentEvent) & (ConsentEvent.evidence != ""))
            .execute()
        )
    # Campaign and automation messages stay: they hold only the customer's id, and campaign
    # results count them. A failed one's reason is the mail server's reply, which may quote
    # the address or the name.
    removed["message_reasons"] = (
        OutgoingMessage.update(reason="")
        .where(of(OutgoingMessage) & (OutgoingMessage.reason != ""))
        .execute()
    )
    purchases = Purchase.select(Purchase.id).where(of(Purchase))
    if not invoice:
        removed["refund_reasons"] = (
            Refund.update(reason="")
            .where(Refund.purchase.in_(purchases) & (Refund.reason != ""))
            .execute()
        )
    # Sales stay for accounting, linked to the anonymised record: counted, not removed.
    removed["purchases_kept"] = purchases.count()
    return removed


def _forget_merges(group: list[int], now: datetime) -> int:
    """Empty the snapshots that remember the person's earlier values; such a merge can no
    longer be undone."""
    merges = CustomerMerge.survivor.in_(group) | CustomerMerge.duplicate.in_(group)
    cleared = CustomerMerge.update(snapshot="{}").where(merges).execute()
    CustomerMerge.update(undone_at=now).where(merges & CustomerMerge.undone_at.is_null()).execute()
    return cleared


def _blank_customer_rows(group: list[int], keep: tuple[str, ...], now: datetime) -> None:
    defaults = {
        name: Customer._meta.fields[name].default
        for name in (
            "name_order",
            "company",
            "preferred_channel",
            "preferred_language",
            "gender",
            "note",
            "source_detail",
            "tier",
            "rfm_score",
        )
    }
    columns = {
        **defaults,
        "given_name": "",
        "family_name": "",
        "display_name": "",
        "birth_date": None,
        "external": False,
        "confirmed_at": None,
        "import_job": None,
        "tier_manual": False,
        "search_tokens": "",
        "updated_at": now,
    }
    if "purchases_detail" in keep:  # the buyer as an invoice names them
        for name in ("given_name", "family_name", "display_name", "name_order", "company"):
            columns.pop(name)
    Customer.update(**columns).where(Customer.id.in_(group)).execute()


def _needles(records: list[Customer], contacts: list[ContactPoint]) -> list[str]:
    """The person's strings as free text elsewhere may hold them (import reports, job params)."""
    texts = set()
    for record in records:
        texts.update(
            (record.display_name, record.company, f"{record.given_name} {record.family_name}")
        )
    for point in contacts:
        texts.update((point.value, point.normalized))
    return sorted(t.strip() for t in texts if len(t.strip()) >= SCRUB_MIN_LENGTH)


def _scrub_text_columns(needles: list[str]) -> int:
    """Replace the person's strings in free-text columns written by jobs (reports, params)."""
    if not needles:
        return 0
    changed = 0
    for model, column in ((ImportJob, ImportJob.report), (ExportJob, ExportJob.params)):
        mentions = reduce(operator.or_, (column.contains(n) for n in needles))
        for row in model.select(model.id, column).where(mentions):
            text = original = getattr(row, column.name)
            for needle in needles:
                text = text.replace(needle, ERASED_TEXT)
            if text != original:
                model.update({column: text}).where(model.id == row.id).execute()
                changed += 1
    return changed


def _remove_files(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


# --- The bytes on disk ---------------------------------------------------------------------


def _zero_what_is_freed() -> None:
    """secure_delete for the connection that erases (portal/db.py sets it on every one)."""
    if not is_postgresql(db):
        db.execute_sql("PRAGMA secure_delete = ON")


def clear_freed_bytes() -> bool:
    """Make erased values unrecoverable from the SQLite files; True when done.

    The FTS5 index keeps a deleted token in its old segment (only a delete marker is added)
    until that segment is merged: merge every segment, in short steps so other writers get
    in between. secure_delete zeroes the pages the old segments leave. Then the WAL, which
    holds earlier page images, is checkpointed into the file and truncated.
    PostgreSQL keeps dead row versions until (auto)vacuum; no row holds the values.
    """
    if is_postgresql(db):
        return True
    _zero_what_is_freed()
    connection = db.connection()
    merge = "INSERT INTO customer_search(customer_search, rank) VALUES ('merge', ?)"
    before = connection.total_changes
    db.execute_sql(merge, (-MERGE_PAGES,))  # all segments become eligible, as few as two
    while connection.total_changes - before >= 2:  # fewer changes: nothing left to merge
        before = connection.total_changes
        db.execute_sql(merge, (MERGE_PAGES,))
    return _checkpoint()


def _checkpoint(attempts: int = 20) -> bool:
    """PRAGMA wal_checkpoint(TRUNCATE), retried while readers hold old snapshots."""
    for _ in range(attempts):
        busy, _, _ = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.05)
    return False


# --- Tombstones ----------------------------------------------------------------------------


@dataclass
class Ledger:
    """The append-only tombstone file and the key its hashes are made with.

    The key comes from TOMBSTONE_KEY, else it is derived from SECRET_KEY; hashes are keyed so
    that the file cannot be matched against a list of e-mails or phone numbers without it.
    """

    path: Path
    key: bytes

    @classmethod
    def current(cls) -> "Ledger":
        config = current_app.config
        secret = (
            config.get("TOMBSTONE_KEY")
            or hmac.new(
                config["SECRET_KEY"].encode(), b"kartoteka erasure tombstones", hashlib.sha256
            ).hexdigest()
        )
        path = config.get("ERASURE_TOMBSTONE_FILE") or os.path.join(
            current_app.instance_path, TOMBSTONE_FILE
        )
        return cls(Path(path), secret.encode())

    def _hmac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        return self._hmac("key id")[:16]

    def contact_hash(self, kind: str, normalized: str) -> str:
        return self._hmac(f"{kind}:{normalized.strip().lower()}")

    def record_hash(self, customer_id: int, created_at: datetime) -> str:
        """The record itself: an id reused later by someone else does not match."""
        return self._hmac(f"customer:{customer_id}:{created_at.isoformat()}")

    def append(self, lines: list[str]) -> None:
        """Append whole lines and fsync, creating the file (mode 0600) on first use."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, "".join(line + "\n" for line in lines).encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict]:
        """Every tombstone in the file; a torn last line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return []
        tombstones = []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    tombstones.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return tombstones


def _tombstone_lines(receipt: Receipt, ledger: Ledger) -> list[str]:
    lines = []
    for record_id, created_at, hashes in receipt.tombstones:
        lines.append(
            json.dumps(
                {
                    "v": 1,
                    "customer_id": record_id,
                    "erased_at": receipt.erased_at.isoformat(),
                    "record": ledger.record_hash(record_id, created_at),
                    "contacts": hashes,
                    "key_id": ledger.key_id,
                    "kept": list(receipt.kept),
                },
                separators=(",", ":"),
            )
        )
    return lines
