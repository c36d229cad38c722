"""Writing a prepared import into the database: one transaction, all or nothing.

`apply(import_job, options, scratch, summary, progress)` reads the rows staging.prepare left in
the scratch file, in chunks, and writes them through the driver (portal/bulk.py): new
customers with their contacts, address, tags, source system ids and consent events; additions
to customers already here (what changed is kept in an ImportChange row, for undo); purchases
from an orders export. Everything happens in one transaction that also marks the import done,
so a failure or a killed process leaves the database exactly as it was.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from peewee import fn

from .. import audit, bulk, customers, id_packing, search, settings
from ..consent import current_versions
from ..db import is_postgresql, write_transaction
from ..extensions import db
from ..history import cents
from ..models import (
    Address,
    ConsentEvent,
    ConsentPurpose,
    ContactPoint,
    Customer,
    CustomerTag,
    ExternalReference,
    ImportChange,
    ImportJob,
    Location,
    Purchase,
    PurchaseLine,
    Tag,
    utcnow,
)
from .staging import SYSTEMS, ImportOptions, Scratch, Summary

CHUNK = 1000

# Customer columns an import sets from the file (the rest keep the model's defaults).
CUSTOMER_FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "company",
    "birth_date",
    "note",
    "preferred_language",
)
ADDRESS_COLUMNS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "postal_code": "postal_code",
    "city": "city",
    "region": "region",
    "country": "country",
}
CONSENT_COLUMNS = ("accepts_email_marketing", "accepts_sms_marketing")


def apply(
    job: ImportJob,
    options: ImportOptions,
    scratch: Scratch,
    summary: Summary,
    progress: Callable[[float], None] = lambda fraction: None,
) -> Summary:
    """Write the staged rows; the import is marked done in the same transaction."""
    writer = _Writer(job, options, scratch, summary)
    total = max(1, summary.create + summary.update + summary.purchases)
    with write_transaction(db), _small_page_cache():
        with search.indexed_in_one_go(Customer.import_job == job.id):
            after = 0
            while chunk := scratch.customers("create", after, CHUNK):
                writer.create(chunk)
                after = chunk[-1][0]
                progress(writer.written / total)
        after = 0
        while chunk := scratch.customers("update", after, CHUNK):
            writer.update(chunk)
            after = chunk[-1][0]
            progress(writer.written / total)
        after = 0
        while chunk := scratch.orders(after, CHUNK):
            writer.orders(chunk)
            after = chunk[-1][0]
            progress(writer.written / total)
        writer.finish()
    return summary


@contextmanager
def _small_page_cache():
    """A 16 MiB SQLite page cache while importing (the connection's usual 64 MiB would keep a
    million-row import's memory above 200 MB for no gain: its pages are written once)."""
    if is_postgresql(db):
        yield
        return
    (usual,) = db.execute_sql("PRAGMA cache_size").fetchone()
    db.execute_sql("PRAGMA cache_size = -16384")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(usual)}")


class _Writer:
    def __init__(self, job: ImportJob, options: ImportOptions, scratch: Scratch, summary: Summary):
        self.job = job
        self.options = options
        self.scratch = scratch
        self.summary = summary
        self.now = utcnow()
        self.written = 0
        self.system = SYSTEMS.get(job.source, "spreadsheet")
        self.staff_id = job.created_by_id
        self.created_ids = id_packing.IdPacker()
        self.updated_ids: list[int] = []
        self.bought: set[int] = set()  # customers given purchases, whose figures are redone
        self._tags: dict[str, int] = {}
        self._locations = {loc.name.casefold(): loc.id for loc in Location.select()}
        external = options.list_kind == "external"
        self.source = "vendor_list" if external else "import"
        detail = options.vendor.strip() if external and options.vendor.strip() else job.filename
        self.source_detail = f"{detail} ({self.now:%Y-%m-%d})"[:300]
        self.external = external
        self.consent_rules = _consent_rules(options)
        evidence = f"Import #{job.id}: {job.filename} (SHA-256 {job.checksum[:16]})"
        if options.consent_evidence.strip():
            evidence += f"; {options.consent_evidence.strip()}"
        self.evidence = evidence[:480]

    # New customers ---------------------------------------------------------------------

    def create(self, chunk: list) -> None:
        ids = bulk.allocate_ids(Customer, len(chunk))
        if self.summary.purchases:  # staged orders name their customer by staged row
            self.scratch.set_new_ids(
                [(cid, seq) for cid, (seq, *_rest) in zip(ids, chunk, strict=True)]
            )
        rows, points, addresses, links, references, events = [], [], [], [], [], []
        for cid, (_seq, row_number, _match, data) in zip(ids, chunk, strict=True):
            rows.append(self._customer_row(cid, data))
            points += _contact_rows(cid, data, has_email=False, has_phone=False, now=self.now)
            if _has_address(data):
                addresses.append(
                    {
                        "customer": cid,
                        **{c: data[f] or "" for f, c in ADDRESS_COLUMNS.items()},
                        "is_primary": True,
                    }
                )
            links += [{"customer": cid, "tag": tag} for tag in self._tag_ids(data["tags"])]
            if data.get("external_id"):
                references.append(
                    {"customer": cid, "system": self.system, "value": data["external_id"]}
                )
            events += self._consent_rows(cid, data, row_number, current={})
            self.created_ids.add(cid)
        bulk.insert_rows(Customer, rows)
        bulk.insert_rows(ContactPoint, points)
        bulk.insert_rows(Address, addresses)
        bulk.insert_rows(CustomerTag, links)
        bulk.insert_rows(ExternalReference, references)
        bulk.insert_rows(ConsentEvent, events)
        self.summary.consent_events += len(events)
        self.written += len(chunk)

    def _customer_row(self, cid: int, data: dict) -> dict:
        names = [data["given_name"], data["family_name"], data["company"]]
        emails = [key for _, key in data["emails"]]
        phones = [e164 for _, e164 in data["phones"]]
        display = _display_name(data)
        created = _moment(data.get("created_at")) or self.now
        return {
            **{name: field.default for name, field in _CUSTOMER_DEFAULTS.items()},
            "id": cid,
            "given_name": data["given_name"],
            "family_name": data["family_name"],
            "name_order": data["name_order"],
            "display_name": display,
            "company": data["company"],
            "preferred_channel": "email" if emails else ("phone" if phones else "none"),
            "preferred_language": data["preferred_language"] or self.options.default_language,
            "birth_date": _day(data.get("birth_date")),
            "note": data["note"],
            "source": self.source,
            "source_detail": self.source_detail,
            "external": self.external,
            "import_job": self.job.id,
            "lifetime_value": Decimal(0),
            "created_at": min(created, self.now),
            "updated_at": self.now,
            "last_activity_at": self.now,
            "search_tokens": search.customer_tokens(
                [display, *names], emails, phones, data["tags"]
            ),
        }

    # Customers already here ------------------------------------------------------------

    def update(self, chunk: list) -> None:
        ids = [match for _seq, _row, match, _data in chunk]
        existing = {c.id: c for c in Customer.select().where(Customer.id.in_(ids))}
        contacts = defaultdict(set)
        for kind, value, cid in (
            ContactPoint.select(ContactPoint.kind, ContactPoint.normalized, ContactPoint.customer)
            .where(ContactPoint.customer.in_(ids))
            .tuples()
        ):
            contacts[cid].add((kind, value))
        tags = defaultdict(set)
        for cid, tag_id in (
            CustomerTag.select(CustomerTag.customer, CustomerTag.tag)
            .where(CustomerTag.customer.in_(ids))
            .tuples()
        ):
            tags[cid].add(tag_id)
        addresses = {
            a.customer_id: a
            for a in Address.select().where(Address.customer.in_(ids) & Address.is_primary)
        }
        references = set(
            ExternalReference.select(ExternalReference.customer)
            .where(ExternalReference.customer.in_(ids) & (ExternalReference.system == self.system))
            .tuples()
        )
        consent = _current_consent(ids)
        changed_ids = []
        for _seq, row_number, cid, data in chunk:
            customer = existing.get(cid)
            if customer is None or customer.erased_at or customer.merged_into_id:
                self.summary.unchanged += 1
                continue
            snapshot = self._update_one(
                customer,
                data,
                row_number,
                contacts[cid],
                tags[cid],
                addresses.get(cid),
                (cid,) in references,
                consent.get(cid, {}),
            )
            if snapshot:
                ImportChange.create(
                    import_job=self.job.id, customer=cid, snapshot=json.dumps(snapshot)
                )
                changed_ids.append(cid)
            else:
                self.summary.unchanged += 1
        search.refresh(changed_ids)
        self.updated_ids += changed_ids
        self.written += len(chunk)

    def _update_one(
        self, customer, data, row_number, contacts, tag_ids, address, has_reference, consent
    ) -> dict:
        """Add the row to a customer; return what was there before (empty: nothing changed)."""
        snapshot: dict = {}
        overwrite = self.options.overwrite
        fields = {}
        for name in CUSTOMER_FIELDS:
            if name == "name_order":
                continue
            value = _day(data.get(name)) if name == "birth_date" else data.get(name)
            if value in (None, ""):
                continue
            current = getattr(customer, name)
            if current != value and (overwrite or current in (None, "")):
                fields[name] = value
        if (
            fields.keys() & {"given_name", "family_name"}
            and data["name_order"] != customer.name_order
        ):
            fields["name_order"] = data["name_order"]
        if fields:
            snapshot["fields"] = {
                name: _jsonable(getattr(customer, name)) for name in [*fields, "display_name"]
            }
            for name, value in fields.items():
                setattr(customer, name, value)
            customer.display_name = (
                customers.display_name(
                    customer.given_name, customer.family_name, customer.name_order
                )
                or customer.display_name
            )
            Customer.update(**fields, display_name=customer.display_name).where(
                Customer.id == customer.id
            ).execute()
        new_points = [
            point
            for point in _contact_rows(
                customer.id,
                data,
                has_email=any(kind == "email" for kind, _ in contacts),
                has_phone=any(kind == "phone" for kind, _ in contacts),
                now=self.now,
            )
            if (point["kind"], point["normalized"]) not in contacts
        ]
        if new_points:
            snapshot["contact_ids"] = [
                ContactPoint.insert(**point).execute() for point in new_points
            ]
        new_tags = [t for t in self._tag_ids(data["tags"]) if t not in tag_ids]
        if new_tags:
            snapshot["tag_ids"] = new_tags
            CustomerTag.insert_many(
                [{"customer": customer.id, "tag": tag} for tag in new_tags]
            ).execute()
        if _has_address(data):
            if address is None:
                snapshot["address_id"] = Address.insert(
                    customer=customer.id,
                    is_primary=True,
                    **{c: data[f] or "" for f, c in ADDRESS_COLUMNS.items()},
                ).execute()
            else:
                changes = {
                    column: data[name]
                    for name, column in ADDRESS_COLUMNS.items()
                    if data[name]
                    and data[name] != getattr(address, column)
                    and (overwrite or not getattr(address, column))
                }
                if changes:
                    snapshot["address"] = {
                        "id": address.id,
                        "before": {c: getattr(address, c) for c in changes},
                    }
                    Address.update(**changes).where(Address.id == address.id).execute()
        if data.get("external_id") and not has_reference:
            snapshot["reference_ids"] = [
                ExternalReference.insert(
                    customer=customer.id, system=self.system, value=data["external_id"]
                ).execute()
            ]
        events = self._consent_rows(customer.id, data, row_number, current=consent)
        if events:
            snapshot["consent"] = [
                {"purpose": e["purpose"], "before": consent.get(e["purpose"])} for e in events
            ]
            bulk.insert_rows(ConsentEvent, events)
            self.summary.consent_events += len(events)
        if snapshot:
            snapshot["updated_at"] = _jsonable(customer.updated_at)
            Customer.update(updated_at=self.now).where(Customer.id == customer.id).execute()
        return snapshot

    # Purchases -------------------------------------------------------------------------

    def orders(self, chunk: list) -> None:
        ids = bulk.allocate_ids(Purchase, len(chunk))
        purchases, lines = [], []
        for pid, (_seq, _row, customer_id, data) in zip(ids, chunk, strict=True):
            priced = []
            for product, quantity, unit_price in data["lines"]:
                quantity = Decimal(quantity)
                price = Decimal(unit_price) if unit_price is not None else Decimal(0)
                priced.append(
                    {
                        "purchase": pid,
                        "product": product,
                        "quantity": quantity,
                        "unit_price": cents(price),
                        "line_total": cents(quantity * price),
                    }
                )
            total = (
                Decimal(data["total"])
                if data["total"] is not None
                else sum((line["line_total"] for line in priced), Decimal(0))
            )
            purchases.append(
                {
                    "id": pid,
                    "customer": customer_id,
                    "location": self._locations.get((data["location"] or "").casefold()),
                    "purchased_at": _moment(data["ordered_at"]) or self.now,
                    "receipt_number": data["order_number"],
                    "total": cents(total),
                    "refunded": Decimal(0),
                    "currency": data["currency"] or self._currency(),
                    "channel": "online",
                    "recorded_by": self.staff_id,
                    "created_at": self.now,
                    "import_job": self.job.id,
                }
            )
            lines += priced
            self.bought.add(customer_id)
        bulk.insert_rows(Purchase, purchases)
        bulk.insert_rows(PurchaseLine, lines)
        self.written += len(chunk)

    def _currency(self) -> str:
        return self.options.default_currency or settings.get("currency")

    # Finishing -------------------------------------------------------------------------

    def finish(self) -> None:
        bulk.reset_sequences([Customer, Purchase])
        recompute_purchase_figures(sorted(self.bought))
        self.summary.update = len(self.updated_ids)
        ImportJob.update(
            status="done",
            finished_at=utcnow(),
            created_count=self.created_ids.count,
            updated_count=len(self.updated_ids),
            skipped_count=self.summary.skip_existing
            + self.summary.in_file_duplicates
            + self.summary.error_rows,
            processed_rows=self.summary.rows,
            report=json.dumps(self.summary.to_dict(), ensure_ascii=False, default=str),
        ).where(ImportJob.id == self.job.id).execute()
        audit.record(
            "customers_imported",
            actor_type="staff" if self.staff_id else "system",
            actor_id=self.staff_id,
            target_type="import",
            target_id=self.job.id,
            created=self.created_ids.count,
            created_ids_packed=self.created_ids.packed(),
            updated_ids=sorted(self.updated_ids) if len(self.updated_ids) <= 1000 else [],
            updated_ids_packed=id_packing.pack(sorted(self.updated_ids))
            if len(self.updated_ids) > 1000
            else "",
            purchases=self.summary.purchases,
            consent_events=self.summary.consent_events,
        )

    # Shared ----------------------------------------------------------------------------

    def _tag_ids(self, names: list[str]) -> list[int]:
        missing = [name for name in names if name not in self._tags]
        if missing:
            known = dict(Tag.select(Tag.name, Tag.id).where(Tag.name.in_(missing)).tuples())
            for name in missing:
                if name not in known:
                    known[name] = Tag.insert(name=name).execute()
            self._tags.update(known)
        return [self._tags[name] for name in names]

    def _consent_rows(self, cid: int, data: dict, row_number: int, current: dict) -> list[dict]:
        """Consent events for one row: what the file says where it differs from now."""
        rows = []
        for purpose_id, version, column in self.consent_rules:
            granted = True if column == "everyone" else data.get(column)
            if granted is None or current.get(purpose_id, False) == granted:
                continue  # the file is silent, or says what is already recorded
            if not granted and purpose_id not in current:
                continue  # never asked: nothing to withdraw
            rows.append(
                {
                    "customer": cid,
                    "purpose": purpose_id,
                    "wording_version": version,
                    "granted": granted,
                    "channel": "import",
                    "recorded_by_type": "staff" if self.staff_id else "system",
                    "recorded_by_staff": self.staff_id,
                    "evidence": f"{self.evidence}, row {row_number}"[:500],
                    "occurred_at": self.now,
                }
            )
        return rows


_CUSTOMER_DEFAULTS = {
    name: field
    for name, field in Customer._meta.fields.items()
    if name != "id" and not callable(field.default)
}


def _consent_rules(options: ImportOptions) -> list[tuple[int, int, str]]:
    """(purpose id, current wording version, column or "everyone") for each purpose stated."""
    versions = current_versions()
    active = set(ConsentPurpose.select(ConsentPurpose.id).where(ConsentPurpose.active).tuples())
    rules = []
    for key, basis in sorted((options.consent or {}).items()):
        purpose_id = int(key)
        if (purpose_id,) not in active or purpose_id not in versions:
            continue
        if basis == "everyone":
            rules.append((purpose_id, versions[purpose_id], "everyone"))
        elif basis.startswith("column:") and basis[7:] in CONSENT_COLUMNS:
            rules.append((purpose_id, versions[purpose_id], basis[7:]))
    return rules


def _current_consent(ids: list[int]) -> dict[int, dict[int, bool]]:
    """customer id -> purpose id -> granted now (the latest event), for these customers."""
    state: dict[int, dict[int, bool]] = defaultdict(dict)
    query = (
        ConsentEvent.select(ConsentEvent.customer, ConsentEvent.purpose, ConsentEvent.granted)
        .where(ConsentEvent.customer.in_(ids))
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
        .tuples()
    )
    for cid, purpose_id, granted in query:
        state[cid][purpose_id] = bool(granted)
    return state


def recompute_purchase_figures(customer_ids: list[int]) -> None:
    """Set lifetime value, purchase count and last purchase from purchases, set-based."""
    for start in range(0, len(customer_ids), CHUNK):
        ids = customer_ids[start : start + CHUNK]
        mine = Purchase.customer == Customer.id
        Customer.update(
            purchase_count=Purchase.select(fn.COUNT(Purchase.id)).where(mine),
            lifetime_value=Purchase.select(
                fn.COALESCE(fn.SUM(Purchase.total - Purchase.refunded), 0)
            ).where(mine),
            last_purchase_at=Purchase.select(fn.MAX(Purchase.purchased_at)).where(mine),
        ).where(Customer.id.in_(ids)).execute()


def _contact_rows(cid: int, data: dict, *, has_email: bool, has_phone: bool, now) -> list[dict]:
    rows = []
    for kind, pairs, has in (
        ("email", data["emails"], has_email),
        ("phone", data["phones"], has_phone),
    ):
        for index, (shown, normalized) in enumerate(pairs):
            rows.append(
                {
                    "customer": cid,
                    "kind": kind,
                    "value": shown,
                    "normalized": normalized,
                    "label": "",
                    "is_primary": index == 0 and not has,
                    "created_at": now,
                }
            )
    return rows


def _has_address(data: dict) -> bool:
    return any(data[name] for name in ADDRESS_COLUMNS if name != "country")


def _display_name(data: dict) -> str:
    name = customers.display_name(data["given_name"], data["family_name"], data["name_order"])
    if name:
        return name
    if data["company"]:
        return data["company"]
    if data["emails"]:
        return data["emails"][0][0]
    return data["phones"][0][0] if data["phones"] else ""


def _day(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else value or None


def _moment(value) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else value or None


def _jsonable(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
