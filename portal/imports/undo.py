"""Undoing an import as a whole, in one transaction.

Customers the import created are removed with everything it gave them; customers it added
to get their earlier values back (the ImportChange snapshots) and lose the contacts, tags,
address and source ids it added; its consent changes are reversed by new events (consent
history is never rewritten); its purchases go. A record changed by anyone since the import
(edited, new consent, new purchase, a complaint…) is left as it is and counted as kept, so
an undo never throws away later work. The snapshots are emptied afterwards: the earlier
values are no longer needed.
"""

import json
from collections import defaultdict
from datetime import date, datetime

from .. import audit, search
from ..consent import current_versions
from ..db import write_transaction
from ..extensions import db
from ..models import (
    Address,
    Complaint,
    ConsentEvent,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerSignInLink,
    CustomerTag,
    ExternalReference,
    ImportChange,
    ImportJob,
    Interaction,
    PrivacyRequest,
    Purchase,
    PurchaseLine,
    Refund,
    SensitiveIdentifier,
    utcnow,
)
from .applying import CHUNK, recompute_purchase_figures
from .importer import ImportStateError


def undo(job: ImportJob, staff_id: int | None) -> dict:
    """Undo a finished import; returns how many records were removed, reverted and kept."""
    with write_transaction(db):
        job = ImportJob.get_by_id(job.id)
        if job.status != "done":
            raise ImportStateError(f"import {job.id} is {job.status}, not done")
        since = job.finished_at
        counts = {"removed": 0, "reverted": 0, "kept": 0, "purchases_removed": 0}
        created = [
            cid
            for (cid,) in Customer.select(Customer.id)
            .where((Customer.import_job == job.id) & Customer.erased_at.is_null())
            .tuples()
        ]
        kept = _changed_since(created, since, job.id, created=True)
        removable = [cid for cid in created if cid not in kept]
        for start in range(0, len(removable), CHUNK):
            _remove_customers(removable[start : start + CHUNK])
        counts["removed"] = len(removable)
        counts["kept"] += len(kept)

        reverted = []
        changes = list(ImportChange.select().where(ImportChange.import_job == job.id))
        changed_ids = [change.customer_id for change in changes]
        later = _changed_since(changed_ids, since, job.id, created=False)
        for change in changes:
            snapshot = json.loads(change.snapshot or "{}")
            if change.customer_id in later or not snapshot:
                counts["kept"] += 1
                continue
            _revert(change.customer_id, snapshot, job, staff_id)
            reverted.append(change.customer_id)
        counts["reverted"] = len(reverted)
        search.refresh(reverted)

        # Purchases it added to customers who were already here (and are not kept as changed).
        purchases = Purchase.select(Purchase.id, Purchase.customer).where(
            (Purchase.import_job == job.id)
            & Purchase.customer.not_in(list(kept | later) or [0])
            & ~Purchase.id.in_(Refund.select(Refund.purchase))
        )
        buyers = sorted({p.customer_id for p in purchases})
        ids = [p.id for p in purchases]
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            PurchaseLine.delete().where(PurchaseLine.purchase.in_(part)).execute()
            counts["purchases_removed"] += Purchase.delete().where(Purchase.id.in_(part)).execute()
        recompute_purchase_figures(buyers)

        ImportChange.update(snapshot="{}").where(ImportChange.import_job == job.id).execute()
        report = json.loads(job.report or "{}") if job.report.startswith("{") else {}
        report["undo"] = counts
        ImportJob.update(
            status="undone", undone_at=utcnow(), report=json.dumps(report, ensure_ascii=False)
        ).where(ImportJob.id == job.id).execute()
        audit.record(
            "import_undone",
            actor_type="staff" if staff_id else "system",
            actor_id=staff_id,
            target_type="import",
            target_id=job.id,
            **counts,
        )
    return counts


def _changed_since(ids: list[int], since: datetime, job_id: int, *, created: bool) -> set[int]:
    """Which of these customers someone changed after the import."""
    changed: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        changed.update(
            cid
            for (cid,) in Customer.select(Customer.id)
            .where(
                Customer.id.in_(part)
                & (
                    (Customer.updated_at > since)
                    | (Customer.last_activity_at > since)
                    | Customer.erased_at.is_null(False)
                    | Customer.merged_into.is_null(False)
                )
            )
            .tuples()
        )
        later_consent = ConsentEvent.select(ConsentEvent.customer).where(
            ConsentEvent.customer.in_(part) & (ConsentEvent.occurred_at > since)
        )
        changed.update(cid for (cid,) in later_consent.tuples())
        if created:
            # Anything recorded about a customer the import brought is work to keep.
            for model in (Interaction, Complaint, SensitiveIdentifier, PrivacyRequest):
                query = model.select(model.customer).where(model.customer.in_(part))
                changed.update(cid for (cid,) in query.tuples())
            others = Purchase.select(Purchase.customer).where(
                Purchase.customer.in_(part)
                & (Purchase.import_job.is_null() | (Purchase.import_job != job_id))
            )
            changed.update(cid for (cid,) in others.tuples())
            merges = CustomerMerge.select(CustomerMerge.survivor).where(
                CustomerMerge.survivor.in_(part)
            )
            changed.update(cid for (cid,) in merges.tuples())
    return changed


def _remove_customers(ids: list[int]) -> None:
    purchases = Purchase.select(Purchase.id).where(Purchase.customer.in_(ids))
    PurchaseLine.delete().where(PurchaseLine.purchase.in_(purchases)).execute()
    Purchase.delete().where(Purchase.customer.in_(ids)).execute()
    for model in (
        ConsentEvent,
        ContactPoint,
        Address,
        CustomerTag,
        ExternalReference,
        CustomerSignInLink,
        ImportChange,
    ):
        model.delete().where(model.customer.in_(ids)).execute()
    Customer.delete().where(Customer.id.in_(ids)).execute()


def _revert(cid: int, snapshot: dict, job: ImportJob, staff_id: int | None) -> None:
    columns = {name: _restored(name, value) for name, value in snapshot.get("fields", {}).items()}
    if snapshot.get("updated_at"):
        columns["updated_at"] = datetime.fromisoformat(snapshot["updated_at"])
    if columns:
        Customer.update(**columns).where(Customer.id == cid).execute()
    if snapshot.get("contact_ids"):
        ContactPoint.delete().where(
            ContactPoint.id.in_(snapshot["contact_ids"]) & (ContactPoint.customer == cid)
        ).execute()
    if snapshot.get("tag_ids"):
        CustomerTag.delete().where(
            (CustomerTag.customer == cid) & CustomerTag.tag.in_(snapshot["tag_ids"])
        ).execute()
    if snapshot.get("address_id"):
        Address.delete().where(
            (Address.id == snapshot["address_id"]) & (Address.customer == cid)
        ).execute()
    if snapshot.get("address"):
        Address.update(**snapshot["address"]["before"]).where(
            (Address.id == snapshot["address"]["id"]) & (Address.customer == cid)
        ).execute()
    if snapshot.get("reference_ids"):
        ExternalReference.delete().where(
            ExternalReference.id.in_(snapshot["reference_ids"])
            & (ExternalReference.customer == cid)
        ).execute()
    if snapshot.get("consent"):
        _reverse_consent(cid, snapshot["consent"], job, staff_id)


def _reverse_consent(cid: int, changes: list[dict], job: ImportJob, staff_id: int | None) -> None:
    """New events putting consent back as it was before the import (never asked = no consent)."""
    versions = current_versions()
    by_purpose = defaultdict(lambda: None)
    for change in changes:
        by_purpose[change["purpose"]] = change["before"]
    for purpose_id, before in by_purpose.items():
        ConsentEvent.create(
            customer=cid,
            purpose=purpose_id,
            wording_version=versions.get(purpose_id, 1),
            granted=bool(before),
            channel="import",
            recorded_by_type="staff" if staff_id else "system",
            recorded_by_staff=staff_id,
            evidence=f"Undo of import #{job.id}: {job.filename}"[:500],
            occurred_at=utcnow(),
        )


def _restored(name: str, value):
    if name == "birth_date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value
