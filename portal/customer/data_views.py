"""My data: everything the shop holds about the signed-in customer, in their language."""

from flask import render_template, request
from flask_babel import get_locale

from .. import audit, consent, customer_data
from ..i18n import LANGUAGE_NAMES, select_language
from ..models import (
    Address,
    Complaint,
    ComplaintMessage,
    ContactPoint,
    CustomerTag,
    Purchase,
    PurchaseLine,
    Tag,
)
from ..staff.consent_forms import CHANNELS as CONSENT_CHANNELS
from ..staff.consent_forms import STATES as CONSENT_STATES
from ..staff.profile_forms import LABELS as PROFILE_LABELS
from ..web import client_address
from . import bp
from .session import current_customer

PURCHASES_PER_PAGE = 20


@bp.route("/")
def my_data():
    """The signed-in customer's data; purchases are paged, newest first."""
    customer = current_customer()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    audit.record(
        "customer_data_viewed",
        actor_type="customer",
        actor_id=customer.id,
        target_type="customer",
        target_id=customer.id,
        ip_address=client_address(),
        page=page,
    )
    purchases, more = _purchases(customer.id, page)
    language = select_language()
    return render_template(
        "customer/my_data.html",
        customer=customer,
        contacts=_contacts(customer.id),
        addresses=_addresses(customer.id),
        tags=_tags(customer.id),
        language_name=LANGUAGE_NAMES.get(customer.preferred_language, customer.preferred_language),
        purchases=purchases,
        page=page,
        more=more,
        complaints=_complaints(customer.id),
        consent_states=consent.states(customer.id, language),
        consent_history=consent.history(customer.id),
        purpose_titles=consent.purpose_titles(language),
        messages=customer_data.messages(customer.id, language),
        labels={
            "sources": PROFILE_LABELS.sources,
            "customer_channels": PROFILE_LABELS.customer_channels,
            "purchase_channels": PROFILE_LABELS.purchase_channels,
            "complaint_statuses": PROFILE_LABELS.complaint_statuses,
            "consent_states": CONSENT_STATES,
            "consent_channels": CONSENT_CHANNELS,
        },
    )


def _contacts(customer_id: int) -> list[ContactPoint]:
    return list(
        ContactPoint.select()
        .where(ContactPoint.customer == customer_id)
        .order_by(ContactPoint.kind, ContactPoint.is_primary.desc(), ContactPoint.id)
    )


def _addresses(customer_id: int) -> list[list[str]]:
    territories = get_locale().territories
    rows = (
        Address.select()
        .where(Address.customer == customer_id)
        .order_by(Address.is_primary.desc(), Address.id)
    )
    result = []
    for address in rows:
        lines = [
            address.line1,
            address.line2,
            " ".join(part for part in (address.postal_code, address.city) if part),
            address.region,
            territories.get(address.country, address.country),
        ]
        result.append([line for line in lines if line])
    return result


def _tags(customer_id: int) -> list[str]:
    rows = (
        Tag.select(Tag.name)
        .join(CustomerTag)
        .where(CustomerTag.customer == customer_id)
        .order_by(Tag.name)
    )
    return [tag.name for tag in rows]


def _purchases(customer_id: int, page: int):
    """One page of purchases, newest first, each with its lines; and whether more follow."""
    rows = list(
        Purchase.select()
        .where(Purchase.customer == customer_id)
        .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
        .offset((page - 1) * PURCHASES_PER_PAGE)
        .limit(PURCHASES_PER_PAGE + 1)
    )
    more = len(rows) > PURCHASES_PER_PAGE
    rows = rows[:PURCHASES_PER_PAGE]
    lines: dict[int, list[PurchaseLine]] = {row.id: [] for row in rows}
    if rows:
        for line in (
            PurchaseLine.select()
            .where(PurchaseLine.purchase.in_(list(lines)))
            .order_by(PurchaseLine.id)
        ):
            lines[line.purchase_id].append(line)
    return [(row, lines[row.id]) for row in rows], more


def _complaints(customer_id: int) -> list[tuple[Complaint, list[ComplaintMessage]]]:
    """Complaints, newest first, with the replies only: staff's internal notes stay inside."""
    rows = list(
        Complaint.select()
        .where(Complaint.customer == customer_id)
        .order_by(Complaint.opened_at.desc(), Complaint.id.desc())
    )
    replies: dict[int, list[ComplaintMessage]] = {row.id: [] for row in rows}
    if rows:
        for message in (
            ComplaintMessage.select()
            .where(
                ComplaintMessage.complaint.in_(list(replies)) & (ComplaintMessage.kind == "reply")
            )
            .order_by(ComplaintMessage.created_at, ComplaintMessage.id)
        ):
            replies[message.complaint_id].append(message)
    return [(row, replies[row.id]) for row in rows]
