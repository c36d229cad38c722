"""Sending campaign and automation messages: one OutgoingMessage row per customer and occasion,
delivered one at a time, throttled, each exactly once as far as this side can tell.

A row is claimed ("sending", committed) before the SMTP conversation and marked "sent" right
after the server accepts it. A run cut off by a crash leaves at most the one row it was sending
in "sending"; the next run sends that one again with the same Message-ID. The server had not
accepted it if the crash came during the conversation (the usual case); if it came in the
milliseconds between the server's "250" and the commit, the customer's mail system sees the
same Message-ID twice, which most mailboxes show once.

Consent and the address are read again just before each message: someone who withdrew while a
long campaign was sending is skipped. Marketing messages (those with a purpose) carry a one-click
unsubscribe link in the body and the RFC 8058 List-Unsubscribe headers.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template, url_for

from . import audit, consent, contact_lists, mail, message_content, settings, signed_links
from .db import write_transaction
from .extensions import db
from .i18n import in_language
from .models import ConsentPurpose, Customer, OutgoingMessage, utcnow

UNSUBSCRIBE_SALT = "unsubscribe"
UNSUBSCRIBE_LINK_DAYS = 3 * 365  # an old newsletter's link should still work
DEFAULT_PER_MINUTE = 60
MAX_PER_MINUTE = 6000
PENDING = ("queued", "sending")


class MailServerUnavailable(RuntimeError):
    """The SMTP server could not be reached: sending stops, unsent messages stay queued."""


class UnsubscribeLinkInvalid(ValueError):
    pass


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def per_minute() -> int:
    """Messages per minute, from settings (the owner sets it on the campaigns page)."""
    value = settings.get("messages_per_minute") or DEFAULT_PER_MINUTE
    return max(1, min(MAX_PER_MINUTE, int(value)))


def deliver(
    pending_ids: list[int],
    *,
    progress: Callable[[int, int], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send these messages in id order, at most per_minute() a minute, while keep_going()
    (a cancelled campaign stops between two messages).

    Raises MailServerUnavailable when the server cannot be reached; what was sent stays sent.
    """
    summary = Delivery()
    pause = 60.0 / per_minute()
    next_slot = None  # messages start at most one `pause` apart
    for done, message_id in enumerate(pending_ids, start=1):
        message = OutgoingMessage.get_or_none(OutgoingMessage.id == message_id)
        if message is None or message.status not in PENDING:
            continue
        if next_slot is not None:
            sleep(max(0.0, next_slot - time.monotonic()))
        if not keep_going():
            break
        started = time.monotonic()
        outcome = _deliver_one(message)
        if outcome == "sent":
            next_slot = started + pause
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        if progress:
            progress(done, len(pending_ids))
    return summary


def pending_ids(query) -> list[int]:
    """The ids of a query's messages still to send (queued, or cut off while sending)."""
    return [
        row[0]
        for row in query.select(OutgoingMessage.id)
        .where(OutgoingMessage.status.in_(PENDING))
        .order_by(OutgoingMessage.id)
        .tuples()
    ]


def _deliver_one(message: OutgoingMessage) -> str:
    customer = Customer.active().where(Customer.id == message.customer_id).first()
    address = (
        contact_lists.first_contacts([customer.id], "email").get(customer.id) if customer else None
    )
    if customer is None:
        return _finish(message, "skipped", "no longer a customer")
    if message.purpose_id and not _consents(message.purpose_id, customer.id):
        return _finish(message, "skipped", "consent withdrawn")
    if not address:
        return _finish(message, "skipped", "no e-mail address")
    email = _compose(message, customer, address)
    claimed = (
        OutgoingMessage.update(status="sending", language=email["Content-Language"])
        .where((OutgoingMessage.id == message.id) & OutgoingMessage.status.in_(PENDING))
        .execute()
    )
    if not claimed:
        return "skipped"  # another run took it meanwhile
    try:
        mail.send(email)
    except mail.RecipientRefused as error:
        return _finish(message, "failed", str(error).replace(address, "(address)"))
    except mail.MailNotSent as error:
        OutgoingMessage.update(status="queued").where(OutgoingMessage.id == message.id).execute()
        raise MailServerUnavailable(str(error)) from error
    return _finish(message, "sent")


def _consents(purpose_id: int, customer_id: int) -> bool:
    active = ConsentPurpose.get_or_none(ConsentPurpose.id == purpose_id)
    return bool(active and active.active and contact_lists.granted_among(purpose_id, [customer_id]))


def _finish(message: OutgoingMessage, status: str, reason: str = "") -> str:
    OutgoingMessage.update(
        status=status,
        reason=reason[:300],
        sent_at=utcnow() if status == "sent" else None,
    ).where(OutgoingMessage.id == message.id).execute()
    return status


def _compose(message: OutgoingMessage, customer: Customer, address: str):
    source = message.campaign or message.automation
    link = unsubscribe_url(message.id) if message.purpose_id else None
    rendered = render(source.content, message.purpose_id, customer, link)
    headers = {}
    if link:
        # RFC 8058: a mail client may offer its own button, which POSTs to the link.
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return mail.compose(
        subject=rendered.subject,
        body=rendered.body,
        to=address,
        language=rendered.language,
        headers=headers,
        message_id=message_id_for(message.id),
    )


@dataclass
class Rendered:
    language: str
    subject: str
    body: str


def render(content: str, purpose_id: int | None, customer: Customer, link: str | None):
    """The message one customer gets, in their language, with the unsubscribe footer when it
    is marketing (a purpose): what is sent, and what the owner's preview shows."""
    texts = message_content.parse(content)
    language = message_content.language_for(customer, texts)
    with in_language(language):
        values = message_content.placeholder_values(customer)
        text = texts[language]
        body = message_content.fill(text.body, values)
        if purpose_id:
            body += render_template(
                "mail/marketing_footer.txt",
                purpose=consent.titles(language, active_only=False).get(purpose_id, ""),
                link=link,
            )
    return Rendered(language, " ".join(message_content.fill(text.subject, values).split()), body)


def message_id_for(message_id: int) -> str:
    """The same Message-ID every time this row is sent, so a repeat after a crash is one
    message to the recipient's mail system; keyed, so it does not reveal how many we sent."""
    key = current_app.config["SECRET_KEY"].encode()
    tag = hmac.new(key, f"message-{message_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"<{message_id}.{tag}@{mail.sender_domain()}>"


# --- Unsubscribing ----------------------------------------------------------------------


def unsubscribe_url(message_id: int) -> str:
    token = signed_links.sign(UNSUBSCRIBE_SALT, message_id)
    path = url_for("auth.unsubscribe", token=token)
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    return base + path if base else url_for("auth.unsubscribe", token=token, _external=True)


def sample_unsubscribe_url() -> str:
    """What an unsubscribe link looks like, for previews: it unsubscribes no one."""
    return unsubscribe_url(0).rsplit("/", 1)[0] + "/…"


def message_for_unsubscribe(token: str) -> OutgoingMessage:
    """The message a link came in; UnsubscribeLinkInvalid when the link is not genuine."""
    message_id = signed_links.read(
        UNSUBSCRIBE_SALT,
        token,
        UNSUBSCRIBE_LINK_DAYS,
        expired=UnsubscribeLinkInvalid,
        invalid=UnsubscribeLinkInvalid,
    )
    message = OutgoingMessage.get_or_none(OutgoingMessage.id == message_id)
    if message is None or message.purpose_id is None:
        raise UnsubscribeLinkInvalid("the link is not valid")
    return message


def unsubscribe(message: OutgoingMessage, ip_address: str = "") -> bool:
    """Withdraw the customer's consent for the message's purpose, at once (channel
    "unsubscribe_link"), unless it is already withdrawn. True when this recorded a withdrawal."""
    customer = _surviving_record(message.customer_id)
    purpose = ConsentPurpose.get_by_id(message.purpose_id)
    with write_transaction(db):
        if message.unsubscribed_at is None:
            OutgoingMessage.update(unsubscribed_at=utcnow()).where(
                OutgoingMessage.id == message.id
            ).execute()
        if customer.erased_at is not None or not purpose.active:
            return False  # an erased person gets nothing more: nothing to record on them
        customer_id = customer.id
        if not contact_lists.granted_among(purpose.id, [customer_id]):
            return False
        latest = consent.latest_events(customer_id)[purpose.id]
        consent.record(
            customer_id,
            purpose.id,
            granted=False,
            wording_version=latest.wording_version,
            channel="unsubscribe_link",
            evidence=f"unsubscribe link in message {message.id}",
            recorded_by_type="customer",
            ip_address=ip_address,
        )
    return True


def _surviving_record(customer_id: int) -> Customer:
    """The record a customer's data lives on now: a merged duplicate's consent history moved
    to the record it was merged into (at any depth)."""
    customer = Customer.get_by_id(customer_id)
    seen = {customer.id}
    while customer.merged_into_id and customer.merged_into_id not in seen:
        customer = Customer.get_by_id(customer.merged_into_id)
        seen.add(customer.id)
    return customer


def audit_sent(kind: str, source_id: int, delivery: Delivery) -> None:
    audit.record(
        "messages_sent",
        actor_type="system",
        target_type=kind,
        target_id=source_id,
        sent=delivery.sent,
        failed=delivery.failed,
        skipped=delivery.skipped,
    )
