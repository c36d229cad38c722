"""Everything held about one customer, for their own eyes and to take elsewhere (SPEC 5).

`collect` gathers it in plain structures (dicts, lists, codes, dates, decimals); the My data
page and the PDF render it, `to_json` and `to_csv` write it for another provider to read.
Never in here: complaint internal notes (staff-only by rule) and identifiers in clear (only
their kind and last four digits; revealing one is a separate, audited staff action).
"""

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

from peewee import JOIN, fn

from . import consent, merge
from .models import (
    Address,
    Automation,
    Campaign,
    Complaint,
    ComplaintMessage,
    ContactPoint,
    Customer,
    CustomerTag,
    Interaction,
    Location,
    OutgoingMessage,
    Purchase,
    PurchaseLine,
    Refund,
    SensitiveIdentifier,
    Tag,
)

FORMAT_VERSION = 1
CENT = Decimal("0.01")
PROFILE_FIELDS = (
    "display_name",
    "given_name",
    "family_name",
    "name_order",
    "company",
    "preferred_channel",
    "preferred_language",
    "birth_date",
    "gender",
    "note",
    "created_at",
    "updated_at",
)


def collect(customer: Customer, language: str | None = None) -> dict:
    """Everything held about the customer, oldest first within each section.

    Consent purposes are titled in `language` (the page's), else the customer's own.
    """
    language = language or customer.preferred_language or "en"
    return {
        "format_version": FORMAT_VERSION,
        "customer_id": customer.id,
        "profile": {name: getattr(customer, name) for name in PROFILE_FIELDS},
        "source": {
            "source": customer.source,
            "source_detail": customer.source_detail,
            "from_outside_list": customer.external,
            "confirmed_at": customer.confirmed_at,
            "import_job_id": customer.import_job_id,
        },
        "contacts": [
            {"kind": p.kind, "value": p.value, "label": p.label, "is_primary": p.is_primary}
            for p in ContactPoint.select()
            .where(ContactPoint.customer == customer.id)
            .order_by(ContactPoint.kind, ContactPoint.is_primary.desc(), ContactPoint.id)
        ],
        "addresses": [
            {
                "line1": a.line1,
                "line2": a.line2,
                "postal_code": a.postal_code,
                "city": a.city,
                "region": a.region,
                "country": a.country,
                "is_primary": a.is_primary,
            }
            for a in Address.select()
            .where(Address.customer == customer.id)
            .order_by(Address.is_primary.desc(), Address.id)
        ],
        "tags": [
            t.name
            for t in Tag.select(Tag.name)
            .join(CustomerTag)
            .where(CustomerTag.customer == customer.id)
            .order_by(Tag.name)
        ],
        "identifiers": [
            {"kind": i.kind, "last_four": i.last_four, "added_at": i.created_at}
            for i in SensitiveIdentifier.select()
            .where(SensitiveIdentifier.customer == customer.id)
            .order_by(SensitiveIdentifier.id)
        ],
        "purchases": _purchases(customer.id),
        "interactions": [
            {
                "occurred_at": i.occurred_at,
                "direction": i.direction,
                "channel": i.channel,
                "summary": i.summary,
            }
            for i in Interaction.select()
            .where(Interaction.customer == customer.id)
            .order_by(Interaction.occurred_at, Interaction.id)
        ],
        "complaints": _complaints(customer.id),
        "consent": _consent(customer.id, language),
        "messages": messages(customer.id, language),
    }


def _money(amount) -> Decimal:
    # The same digits from SQLite and PostgreSQL (one may drop trailing zeros).
    return Decimal(amount or 0).quantize(CENT)


def _quantity(quantity) -> Decimal:
    value = Decimal(quantity or 0)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def _purchases(customer_id: int) -> list[dict]:
    # The location comes in the same query: one lookup per purchase was most of the time.
    purchases = list(
        Purchase.select(Purchase, Location)
        .join(Location, JOIN.LEFT_OUTER)
        .where(Purchase.customer == customer_id)
        .order_by(Purchase.purchased_at, Purchase.id)
    )
    ids = [p.id for p in purchases]
    lines: dict[int, list[dict]] = {}
    refunds: dict[int, list[dict]] = {}
    if ids:
        for line in (
            PurchaseLine.select().where(PurchaseLine.purchase.in_(ids)).order_by(PurchaseLine.id)
        ):
            lines.setdefault(line.purchase_id, []).append(
                {
                    "product": line.product,
                    "quantity": _quantity(line.quantity),
                    "unit_price": _money(line.unit_price),
                    "line_total": _money(line.line_total),
                }
            )
        for refund in Refund.select().where(Refund.purchase.in_(ids)).order_by(Refund.id):
            refunds.setdefault(refund.purchase_id, []).append(
                {
                    "refunded_at": refund.refunded_at,
                    "amount": _money(refund.amount),
                    "reason": refund.reason,
                }
            )
    return [
        {
            "id": p.id,
            "purchased_at": p.purchased_at,
            "receipt_number": p.receipt_number,
            "channel": p.channel,
            "location": p.location.name if p.location_id else "",
            "currency": p.currency,
            "total": _money(p.total),
            "refunded": _money(p.refunded),
            "lines": lines.get(p.id, []),
            "refunds": refunds.get(p.id, []),
        }
        for p in purchases
    ]


def _complaints(customer_id: int) -> list[dict]:
    complaints = list(
        Complaint.select()
        .where(Complaint.customer == customer_id)
        .order_by(Complaint.opened_at, Complaint.id)
    )
    replies: dict[int, list[dict]] = {}
    if complaints:
        # Replies only: internal notes never leave the staff workspace.
        for message in (
            ComplaintMessage.select()
            .where(
                ComplaintMessage.complaint.in_([c.id for c in complaints])
                & (ComplaintMessage.kind == "reply")
            )
            .order_by(ComplaintMessage.created_at, ComplaintMessage.id)
        ):
            replies.setdefault(message.complaint_id, []).append(
                {
                    "from": "you" if message.author_type == "customer" else "shop",
                    "written_at": message.created_at,
                    "body": message.body,
                }
            )
    return [
        {
            "id": c.id,
            "opened_at": c.opened_at,
            "subject": c.subject,
            "description": c.description,
            "status": c.status,
            "resolved_at": c.resolved_at,
            "closed_at": c.closed_at,
            "resolution": c.resolution,
            "replies": replies.get(c.id, []),
        }
        for c in complaints
    ]


def _consent(customer_id: int, language: str) -> dict:
    """Current consent per active purpose and every event, titled in the customer's language."""
    all_titles = consent.titles(language, active_only=False)
    events = sorted(consent.history(customer_id), key=lambda e: (e.occurred_at, e.id))
    return {
        "current": [
            {"purpose": state.title, "state": state.state}
            for state in consent.states(customer_id, language)
        ],
        "history": [
            {
                "purpose": all_titles.get(event.purpose_id, ""),
                "granted": event.granted,
                "wording_version": event.wording_version,
                "channel": event.channel,
                "recorded_by": event.recorded_by_type,
                "occurred_at": event.occurred_at,
            }
            for event in events
        ],
    }


def messages(customer_id: int, language: str) -> list[dict]:
    """The campaign and automation e-mails sent to the customer (and those their mail server
    refused), oldest first: when, from which campaign or automation, for which consent purpose
    (none: a service message), and when they unsubscribed through it.

    Also those of records merged into theirs: a message for an occasion both records had stays
    with the merged record (portal/merge.py). Messages still queued are not yet sent, and
    skipped ones never were. The mail server's refusal text is left out: it is the server's
    wording about delivery, not data about the person.
    """
    moment = fn.COALESCE(OutgoingMessage.sent_at, OutgoingMessage.created_at)
    rows = list(
        OutgoingMessage.select(
            OutgoingMessage,
            # Aliased: both columns are called "name".
            fn.COALESCE(Campaign.name, Automation.name, "").alias("source_name"),
        )
        .join(Campaign, JOIN.LEFT_OUTER)
        .switch(OutgoingMessage)
        .join(Automation, JOIN.LEFT_OUTER)
        .where(
            OutgoingMessage.customer.in_(merge.merged_group(customer_id))
            & OutgoingMessage.status.in_(("sent", "failed"))
        )
        .order_by(moment, OutgoingMessage.id)
        .objects()
    )
    titles = consent.titles(language, active_only=False) if rows else {}
    return [
        {
            # A failed message keeps no time of its own: when it was queued to go.
            "date": row.sent_at or row.created_at,
            "status": row.status,
            "source": "campaign" if row.campaign_id else "automation",
            "name": row.source_name,
            "purpose": titles.get(row.purpose_id, "") if row.purpose_id else "",
            "unsubscribed_at": row.unsubscribed_at,
        }
        for row in rows
    ]


# --- machine-readable forms -----------------------------------------------------------------


def _plain(value):
    """A JSON/CSV-friendly value: ISO dates, decimals as exact strings."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_json(data: dict) -> str:
    """The data as UTF-8 JSON (non-ASCII kept as written: 张伟, Łucja)."""
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2)


def _rows(section: str, item: str, record: dict):
    for name, value in record.items():
        if isinstance(value, list | dict):
            continue
        yield section, item, name, "" if value is None else _plain(value)


def to_csv(data: dict) -> str:
    """The data as one CSV table: section, item, field, value.

    One file with the same four columns throughout, rather than a ZIP of a CSV per section:
    it opens straight away in any spreadsheet or text editor (a phone included, which
    previews a CSV but not a ZIP), nothing has to be unpacked, and a new provider reads it
    with one loop. `item` says which record a row belongs to ("purchase 3", "purchase 3 /
    line 2"), so purchases keep their lines together. Starts with a byte-order mark so
    spreadsheets read the UTF-8 correctly (Chinese and Polish names included).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "item", "field", "value"))
    rows = []
    rows += _rows("profile", "", data["profile"])
    rows += _rows("source", "", data["source"])
    for n, contact in enumerate(data["contacts"], 1):
        rows += _rows("contacts", f"contact {n}", contact)
    for n, address in enumerate(data["addresses"], 1):
        rows += _rows("addresses", f"address {n}", address)
    rows += [("tags", f"tag {n}", "name", name) for n, name in enumerate(data["tags"], 1)]
    for n, identifier in enumerate(data["identifiers"], 1):
        rows += _rows("identifiers", f"identifier {n}", identifier)
    for purchase in data["purchases"]:
        item = f"purchase {purchase['id']}"
        rows += _rows("purchases", item, purchase)
        for n, line in enumerate(purchase["lines"], 1):
            rows += _rows("purchase_lines", f"{item} / line {n}", line)
        for n, refund in enumerate(purchase["refunds"], 1):
            rows += _rows("refunds", f"{item} / refund {n}", refund)
    for n, interaction in enumerate(data["interactions"], 1):
        rows += _rows("interactions", f"interaction {n}", interaction)
    for complaint in data["complaints"]:
        item = f"complaint {complaint['id']}"
        rows += _rows("complaints", item, complaint)
        for n, reply in enumerate(complaint["replies"], 1):
            rows += _rows("complaint_replies", f"{item} / reply {n}", reply)
    for n, state in enumerate(data["consent"]["current"], 1):
        rows += _rows("consent", f"purpose {n}", state)
    for n, event in enumerate(data["consent"]["history"], 1):
        rows += _rows("consent_history", f"event {n}", event)
    for n, message in enumerate(data["messages"], 1):
        rows += _rows("messages", f"message {n}", message)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()
