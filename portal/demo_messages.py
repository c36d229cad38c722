"""Demo campaigns and automations, so the owner's pages have something to show after `make run`:
three monthly newsletters already sent (with a few refused addresses, and the demo's
unsubscribe-link withdrawals attached to the newsletter they came from), a draft, and four
automations. No mail is sent: the rows record sends that happened before the demo began.
"""

import random
from datetime import date, datetime, timedelta

from peewee import fn

from . import bulk, contact_lists
from .customer_list import Filters
from .db import write_transaction
from .extensions import db
from .message_content import Text, dump
from .models import (
    Automation,
    Campaign,
    ConsentEvent,
    ConsentPurpose,
    OutgoingMessage,
    utcnow,
)

NEWSLETTER = {
    "en": Text(
        "{shop_name}: what is new this month",
        "Hello {first_name},\n\nnew arrivals are in, and members get 10% off until the end of "
        "the month.\n\nSee you soon,\n{shop_name}",
    ),
    "pl": Text(
        "{shop_name}: nowości w tym miesiącu",
        "Dzień dobry {first_name},\n\nmamy nowe dostawy, a do końca miesiąca stali klienci "
        "mają 10% rabatu.\n\nDo zobaczenia,\n{shop_name}",
    ),
    "ru": Text(
        "{shop_name}: новинки месяца",
        "Здравствуйте, {first_name}!\n\nУ нас новые поступления, а до конца месяца постоянным "
        "покупателям скидка 10%.\n\nДо встречи,\n{shop_name}",
    ),
    "zh": Text(
        "{shop_name}：本月新品",
        "{first_name}，您好！\n\n新品已到店，本月底前会员享九折优惠。\n\n期待您的光临，\n{shop_name}",
    ),
}
BIRTHDAY = {
    "en": Text("Happy birthday, {first_name}!", "Happy birthday from all of us at {shop_name}!"),
    "pl": Text("Wszystkiego najlepszego, {first_name}!", "Najlepsze życzenia od {shop_name}!"),
    "ru": Text("С днём рождения, {first_name}!", "Поздравляем вас с днём рождения! {shop_name}"),
    "zh": Text("{first_name}，生日快乐！", "{shop_name}全体员工祝您生日快乐！"),
}
THANK_YOU = {
    "en": Text(
        "Thank you, {first_name}", "Thank you for shopping at {shop_name} on {last_purchase_date}."
    ),
    "pl": Text(
        "Dziękujemy, {first_name}", "Dziękujemy za zakupy w {shop_name} ({last_purchase_date})."
    ),
    "ru": Text("Спасибо, {first_name}", "Спасибо за покупку в {shop_name} ({last_purchase_date})."),
    "zh": Text("谢谢您，{first_name}", "感谢您于{last_purchase_date}在{shop_name}购物。"),
}
WIN_BACK = {
    "en": Text(
        "We miss you, {first_name}", "It has been a while. Come and see what is new at {shop_name}."
    ),
    "pl": Text("Tęsknimy, {first_name}", "Dawno Cię nie było. Zajrzyj, co nowego w {shop_name}."),
    "ru": Text(
        "Мы скучаем, {first_name}", "Давно вас не видели. Загляните в {shop_name} за новинками."
    ),
    "zh": Text("{first_name}，好久不见", "好久不见！欢迎再来{shop_name}看看新品。"),
}
NEWSLETTER_MONTHS = (3, 2, 1)  # sent this many months before the demo's day
REFUSED_SHARE = 0.01  # addresses the server refused (a mailbox that no longer exists)


def add(reference: datetime | None = None, seed: int = 1) -> dict[str, int]:
    """Add the demo campaigns and automations (once: nothing when campaigns exist already)."""
    if Campaign.select().exists():
        return {}
    purpose = ConsentPurpose.get_or_none(ConsentPurpose.code == "email_marketing")
    if purpose is None:
        return {}
    with write_transaction(db):
        return _add(purpose, reference or utcnow(), seed)


def _add(purpose: ConsentPurpose, reference: datetime, seed: int) -> dict[str, int]:
    rng = random.Random(f"kartoteka-demo-messages:{seed}")
    everyone = Filters()
    recipients = list(contact_lists.included_ids(purpose, "email", filters=everyone))
    unsubscribed = _unsubscribe_times(purpose.id)
    counts = {"campaigns": 0, "campaign messages": 0, "automations": 0}
    send_times = [reference - timedelta(days=30 * months) for months in NEWSLETTER_MONTHS]
    for sent_at, next_sent_at in zip(send_times, [*send_times[1:], reference], strict=True):
        campaign = Campaign.create(
            name=f"Newsletter {sent_at:%B %Y}",
            purpose=purpose.id,
            filters=everyone.to_json(),
            content=dump(NEWSLETTER),
            status="sent",
            created_at=sent_at - timedelta(days=2),
            started_at=sent_at,
            finished_at=sent_at + timedelta(hours=1),
        )
        # Then-subscribers: today's, and those who left through the link of the newsletter
        # they had last received.
        leaving = {
            customer_id: at
            for customer_id, at in unsubscribed.items()
            if sent_at < at <= next_sent_at
        }
        rows = []
        for n, customer_id in enumerate(sorted(set(recipients) | set(leaving))):
            refused = rng.random() < REFUSED_SHARE
            rows.append(
                {
                    "customer": customer_id,
                    "campaign": campaign.id,
                    "purpose": purpose.id,
                    "occasion": f"campaign:{campaign.id}",
                    "status": "failed" if refused else "sent",
                    "reason": "550 5.1.1 Recipient address rejected: User unknown"
                    if refused
                    else "",
                    "language": "",
                    "created_at": sent_at,
                    "sent_at": None if refused else sent_at + timedelta(seconds=n),
                    "unsubscribed_at": leaving.get(customer_id),
                }
            )
        bulk.insert_rows(OutgoingMessage, rows)
        counts["campaigns"] += 1
        counts["campaign messages"] += len(rows)
    Campaign.create(
        name="Winter sale",
        purpose=purpose.id,
        filters=Filters(kind="customer").to_json(),
        content=dump(NEWSLETTER),
        created_at=reference,
    )
    counts["campaigns"] += 1
    for name, kind, days, texts in (
        ("Birthday greeting", "birthday", 0, BIRTHDAY),
        ("Thank you after a purchase", "after_purchase", 3, THANK_YOU),
        ("We miss you", "win_back", 120, WIN_BACK),
    ):
        Automation.create(
            name=name,
            kind=kind,
            purpose=purpose.id,
            days=days,
            content=dump(texts),
            active=False,  # the owner turns them on: the demo's customers are made up
            created_at=reference,
        )
        counts["automations"] += 1
    return counts


def _unsubscribe_times(purpose_id: int) -> dict[int, datetime]:
    """Who withdrew through an unsubscribe link, and when (the demo generates such events)."""
    rows = (
        ConsentEvent.select(ConsentEvent.customer, fn.MAX(ConsentEvent.occurred_at))
        .where(
            (ConsentEvent.purpose == purpose_id)
            & (ConsentEvent.channel == "unsubscribe_link")
            & (ConsentEvent.granted == False)  # noqa: E712 (SQL, not Python)
        )
        .group_by(ConsentEvent.customer)
        .tuples()
    )
    return {customer_id: _as_datetime(at) for customer_id, at in rows}


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return datetime.fromisoformat(str(value))
