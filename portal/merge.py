"""Duplicates: find likely pairs, merge two records field by field, and undo a merge.

Campaign and automation messages (OutgoingMessage) move with the rest of the history, except
one for an occasion the survivor already has a message for (both records got the same
campaign): one customer has one message per occasion (a unique index), so that one stays on
the duplicate record. It is not deleted: it is what was sent (the campaign's figures count it,
and its unsubscribe link must still find a message), and the person's own data shows it
through merged_group(). Erasing the survivor erases the duplicate with it.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime

from peewee import fn
from rapidfuzz import fuzz

from . import search
from .customers import ROW_FIELDS, display_name
from .db import write_transaction
from .extensions import db
from .models import (
    Address,
    Complaint,
    ConsentEvent,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerSignInLink,
    CustomerTag,
    Interaction,
    OutgoingMessage,
    Purchase,
    SensitiveIdentifier,
    utcnow,
)

# Fields staff choose between on the merge screen: the customer row's own fields.
CHOOSABLE_FIELDS = ROW_FIELDS
# History that moves to the survivor as a whole.
MOVED_HISTORY = (
    Purchase,
    Interaction,
    Complaint,
    ConsentEvent,
    Address,
    SensitiveIdentifier,
    CustomerSignInLink,
)
NAME_SIMILARITY = 85
# Name similarity is checked among the newest records, where duplicates are typed in;
# e-mail and phone matches are found across the whole base through their index.
NAME_SCAN_WINDOW = 5000


class MergeError(ValueError):
    pass


@dataclass
class DuplicatePair:
    first: Customer
    second: Customer
    reason: str  # "email", "phone" or "name"


def _contact_pairs(limit: int) -> list[tuple[int, int, str]]:
    one, other = ContactPoint.alias("one"), ContactPoint.alias("other")
    first, second = Customer.alias("first"), Customer.alias("second")
    rows = (
        one.select(one.customer, other.customer.alias("other_id"), one.kind)
        .join(
            other,
            on=(one.kind == other.kind)
            & (one.normalized == other.normalized)
            & (one.customer < other.customer),
        )
        .join(first, on=first.id == one.customer)
        .join(second, on=second.id == other.customer)
        .where(
            first.erased_at.is_null()
            & first.merged_into.is_null()
            & second.erased_at.is_null()
            & second.merged_into.is_null()
        )
        .order_by(one.customer.desc())
        .limit(limit)
        .tuples()
    )
    return [(a, b, kind) for a, b, kind in rows]


def _name_pairs(limit: int) -> list[tuple[int, int, str]]:
    recent = (
        Customer.active()
        .select(Customer.id, Customer.given_name, Customer.family_name)
        .order_by(Customer.id.desc())
        .limit(NAME_SCAN_WINDOW)
    )
    by_family: dict[str, list[tuple[int, str]]] = {}
    for customer in recent:
        family = search.fold(customer.family_name).strip()
        if family:
            by_family.setdefault(family, []).append((customer.id, search.fold(customer.given_name)))
    pairs = []
    for people in by_family.values():
        for i, (first_id, first_given) in enumerate(people):
            for second_id, second_given in people[i + 1 :]:
                if fuzz.ratio(first_given, second_given) >= NAME_SIMILARITY:
                    pairs.append((min(first_id, second_id), max(first_id, second_id), "name"))
                    if len(pairs) >= limit:
                        return pairs
    return pairs


def duplicate_pairs(limit: int = 50) -> list[DuplicatePair]:
    """Likely duplicates: the same e-mail or phone, or the same family name and a similar given name."""
    seen: dict[tuple[int, int], str] = {}
    for first_id, second_id, reason in _contact_pairs(limit) + _name_pairs(limit):
        seen.setdefault((first_id, second_id), reason)
    ids = {i for pair in seen for i in pair}
    customers = (
        {c.id: c for c in Customer.select().where(Customer.id.in_(list(ids)))} if ids else {}
    )
    pairs = [DuplicatePair(customers[a], customers[b], reason) for (a, b), reason in seen.items()]
    return pairs[:limit]


def _jsonable(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _restore(field: str, value):
    if value is None or field != "birth_date":
        return value
    return date.fromisoformat(value)


def recompute_totals(customer_id: int) -> None:
    """Set lifetime value, purchase count and last purchase from the customer's purchases."""
    count, total, last = (
        Purchase.select(
            fn.COUNT(Purchase.id),
            fn.COALESCE(fn.SUM(Purchase.total), 0),
            fn.MAX(Purchase.purchased_at),
        )
        .where(Purchase.customer == customer_id)
        .scalar(as_tuple=True)
    )
    Customer.update(
        purchase_count=count, lifetime_value=total, last_purchase_at=last, updated_at=utcnow()
    ).where(Customer.id == customer_id).execute()


def merge(
    survivor: Customer, duplicate: Customer, take_from_duplicate: set[str], staff_id: int | None
) -> CustomerMerge:
    """Merge duplicate into survivor in one transaction and return the record that can undo it.

    Fields named in take_from_duplicate get the duplicate's value; history moves over;
    contact points and tags the survivor already has stay with the duplicate, and so do
    messages for an occasion the survivor already has one for (see the module's docstring).
    """
    if survivor.id == duplicate.id:
        raise MergeError("a record cannot be merged with itself")
    unknown = take_from_duplicate - set(CHOOSABLE_FIELDS)
    if unknown:
        raise MergeError(f"unknown fields: {sorted(unknown)}")
    with write_transaction(db):
        survivor = Customer.active().where(Customer.id == survivor.id).get()
        duplicate = Customer.active().where(Customer.id == duplicate.id).get()
        before = {f: _jsonable(getattr(survivor, f)) for f in take_from_duplicate}
        moved: dict[str, list[int]] = {}
        for model in MOVED_HISTORY:
            ids = [r.id for r in model.select(model.id).where(model.customer == duplicate.id)]
            if ids:
                model.update(customer=survivor.id).where(model.id.in_(ids)).execute()
            moved[model._meta.table_name] = ids
        Address.update(is_primary=False).where(Address.id.in_(moved["address"] or [0])).execute()
        moved["outgoing_message"] = _move_messages(duplicate.id, survivor.id)
        moved["contact_point"] = _move_new_contacts(duplicate.id, survivor.id)
        moved["customer_tag"] = _move_new_tags(duplicate.id, survivor.id)
        changes = {f: getattr(duplicate, f) for f in take_from_duplicate}
        if {"given_name", "family_name", "name_order"} & take_from_duplicate:
            changes["display_name"] = display_name(
                changes.get("given_name", survivor.given_name),
                changes.get("family_name", survivor.family_name),
                changes.get("name_order", survivor.name_order),
            )
            before["display_name"] = survivor.display_name
        changes["last_activity_at"] = max(survivor.last_activity_at, duplicate.last_activity_at)
        before["last_activity_at"] = _jsonable(survivor.last_activity_at)
        if changes:
            Customer.update(**changes).where(Customer.id == survivor.id).execute()
        Customer.update(merged_into=survivor.id).where(Customer.id == duplicate.id).execute()
        recompute_totals(survivor.id)
        recompute_totals(duplicate.id)
        search.refresh([survivor.id, duplicate.id])
        return CustomerMerge.create(
            survivor=survivor.id,
            duplicate=duplicate.id,
            merged_by=staff_id,
            snapshot=json.dumps({"survivor_fields": before, "moved": moved}),
        )


def _move_messages(from_id: int, to_id: int) -> list[int]:
    """Move the messages whose occasion the receiving record has none for; return their ids."""
    taken = OutgoingMessage.select(OutgoingMessage.occasion).where(
        OutgoingMessage.customer == to_id
    )
    ids = [
        m.id
        for m in OutgoingMessage.select(OutgoingMessage.id).where(
            (OutgoingMessage.customer == from_id) & OutgoingMessage.occasion.not_in(taken)
        )
    ]
    if ids:
        OutgoingMessage.update(customer=to_id).where(OutgoingMessage.id.in_(ids)).execute()
    return ids


def _move_new_contacts(from_id: int, to_id: int) -> list[int]:
    known = {
        (p.kind, p.normalized)
        for p in ContactPoint.select(ContactPoint.kind, ContactPoint.normalized).where(
            ContactPoint.customer == to_id
        )
    }
    ids = [
        p.id
        for p in ContactPoint.select().where(ContactPoint.customer == from_id)
        if (p.kind, p.normalized) not in known
    ]
    if ids:
        ContactPoint.update(customer=to_id, is_primary=False).where(
            ContactPoint.id.in_(ids)
        ).execute()
    return ids


def _move_new_tags(from_id: int, to_id: int) -> list[int]:
    known = {
        link.tag_id
        for link in CustomerTag.select(CustomerTag.tag).where(CustomerTag.customer == to_id)
    }
    ids = [
        link.id
        for link in CustomerTag.select().where(CustomerTag.customer == from_id)
        if link.tag_id not in known
    ]
    if ids:
        CustomerTag.update(customer=to_id).where(CustomerTag.id.in_(ids)).execute()
    return ids


def undo(record: CustomerMerge) -> None:
    """Give the duplicate back its record and history, and the survivor its earlier values."""
    if record.undone_at is not None:
        raise MergeError("this merge was already undone")
    snapshot = json.loads(record.snapshot)
    models = {
        m._meta.table_name: m for m in (*MOVED_HISTORY, ContactPoint, CustomerTag, OutgoingMessage)
    }
    with write_transaction(db):
        for table, ids in snapshot["moved"].items():
            model = models[table]
            if not ids:
                continue
            back = model.id.in_(ids) & (model.customer == record.survivor_id)
            if model is OutgoingMessage:
                # Should the duplicate have been sent a message for the same occasion
                # meanwhile, the survivor keeps this one rather than the undo failing.
                back &= OutgoingMessage.occasion.not_in(
                    OutgoingMessage.select(OutgoingMessage.occasion).where(
                        OutgoingMessage.customer == record.duplicate_id
                    )
                )
            model.update(customer=record.duplicate_id).where(back).execute()
        restored = {f: _restore(f, v) for f, v in snapshot["survivor_fields"].items()}
        if restored:
            Customer.update(**restored).where(Customer.id == record.survivor_id).execute()
        Customer.update(merged_into=None).where(Customer.id == record.duplicate_id).execute()
        recompute_totals(record.survivor_id)
        recompute_totals(record.duplicate_id)
        search.refresh([record.survivor_id, record.duplicate_id])
        CustomerMerge.update(undone_at=utcnow()).where(CustomerMerge.id == record.id).execute()


def merged_group(customer_id: int) -> list[int]:
    """The record and every record merged into it (at any depth): the same person."""
    group, frontier = [customer_id], [customer_id]
    while frontier:
        # Through the merge records: customer.merged_into has no index (see the model).
        merged = (
            CustomerMerge.select(CustomerMerge.duplicate)
            .join(Customer, on=CustomerMerge.duplicate == Customer.id)
            .where(
                CustomerMerge.survivor.in_(frontier)
                & CustomerMerge.undone_at.is_null()
                & (Customer.merged_into == CustomerMerge.survivor)
            )
        )
        frontier = [m.duplicate_id for m in merged if m.duplicate_id not in group]
        group += frontier
    return group


def open_merges(survivor_id: int) -> list[CustomerMerge]:
    """Merges into this customer that can still be undone, newest first."""
    return list(
        CustomerMerge.select(CustomerMerge, Customer)
        .join(Customer, on=CustomerMerge.duplicate == Customer.id)
        .where((CustomerMerge.survivor == survivor_id) & CustomerMerge.undone_at.is_null())
        .order_by(CustomerMerge.merged_at.desc())
    )


def history_counts(customer_id: int) -> dict[str, int]:
    """How much history a record holds, shown on the merge screen."""
    return {
        "purchases": Purchase.select().where(Purchase.customer == customer_id).count(),
        "interactions": Interaction.select().where(Interaction.customer == customer_id).count(),
        "complaints": Complaint.select().where(Complaint.customer == customer_id).count(),
        "consent_events": ConsentEvent.select().where(ConsentEvent.customer == customer_id).count(),
    }


def contacts_of(customer_id: int) -> dict[str, list[str]]:
    """E-mail addresses and phone numbers of a record, shown side by side on the merge screen."""
    found: dict[str, list[str]] = {kind: [] for kind in ContactPoint.KINDS}
    for kind, value in (
        ContactPoint.select(ContactPoint.kind, ContactPoint.value)
        .where(ContactPoint.customer == customer_id)
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .tuples()
    ):
        found[kind].append(value)
    return found
