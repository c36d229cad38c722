"""What a campaign or an automation says: a subject and a body per language, with placeholders
that are filled in for each recipient, in their language.

Content is stored as JSON, {"en": {"subject": …, "body": …}, "pl": …}. A recipient gets their
preferred language when the message has it, else the first language it has in LANGUAGES order.
Placeholders are `{name}` words from PLACEHOLDERS; anything else in braces is refused when the
owner saves, so a typo never reaches a customer as "{frist_name}".
"""

import json
import re
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from . import settings
from .i18n import money
from .models import Customer, Purchase

LANGUAGES = ("en", "ru", "pl", "zh")
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10_000
PLACEHOLDERS = {
    "first_name": _l("the customer's first name (their full name when it is not known)"),
    "name": _l("the customer's full name"),
    "last_purchase_date": _l("the date of their last purchase"),
    "last_purchase_total": _l("the total of their last purchase"),
    "shop_name": _l("your business name"),
}
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def parse(raw: str) -> dict[str, Text]:
    """The stored JSON as language → Text, languages without a subject and body left out."""
    data = json.loads(raw or "{}")
    texts = {}
    for language in LANGUAGES:
        entry = data.get(language) or {}
        subject, body = entry.get("subject", "").strip(), entry.get("body", "").strip()
        if subject and body:
            texts[language] = Text(subject, body)
    return texts


def dump(texts: dict[str, Text]) -> str:
    return json.dumps(
        {language: {"subject": t.subject, "body": t.body} for language, t in texts.items()},
        ensure_ascii=False,
    )


def unknown_placeholders(text: str) -> list[str]:
    """The `{words}` in text that are not placeholders, in order, each once."""
    found = []
    for word in _PLACEHOLDER.findall(text or ""):
        if word not in PLACEHOLDERS and word not in found:
            found.append(word)
    return found


def language_for(customer: Customer, texts: dict[str, Text]) -> str:
    if customer.preferred_language in texts:
        return customer.preferred_language
    return next(iter(texts))


def placeholder_values(customer: Customer) -> dict[str, str]:
    """Each placeholder's value for one customer, formatted in the current locale (callers
    render inside i18n.in_language(the recipient's language))."""
    last = (
        Purchase.select(Purchase.purchased_at, Purchase.total, Purchase.currency)
        .where(Purchase.customer == customer.id)
        .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
        .first()
    )
    return {
        "first_name": customer.given_name or customer.display_name,
        "name": customer.display_name,
        "last_purchase_date": format_date(last.purchased_at, "long") if last else "",
        "last_purchase_total": money(last.total, last.currency) if last else "",
        "shop_name": settings.get("business_name"),
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Text with each known placeholder replaced by its value."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
