"""The customer data report: the answer to an access request (SPEC 4, 5; GDPR art. 15).

Everything held about one customer (customer_data.collect, the same facts as the My data page
and the JSON/CSV downloads), plus what the law asks an answer to say: who holds the data, what
each kind is used for and on which basis, how long it is kept, where it came from, what the
customer agreed to (each consent event with the wording version and its date) and their rights.
The texts about processing come from portal/processing.py, shared with the record of
processing, so the two documents cannot disagree.

One template (templates/pdf/customer_data.html) serves the owner's export and the customer's
own download.
"""

import functools
from collections import defaultdict
from decimal import Decimal
from unicodedata import east_asian_width

from babel.dates import format_skeleton
from flask_babel import format_date, format_datetime, format_decimal, get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import consent, customer_data, pdf, processing
from ..i18n import in_language, money
from ..models import ConsentWording, Customer, ImportJob
from ..staff.consent_forms import CHANNELS as CONSENT_CHANNELS
from ..staff.consent_forms import STATES as CONSENT_STATES
from ..staff.profile_forms import DIRECTIONS, LABELS, PURCHASE_CHANNELS

TEMPLATE = "customer_data.html"
# How many characters of a purchase's products share a line of the PDF (8 pt type on A4, after
# the indent; .ledger in print.css). Several products to a line rather than one each: the
# layout's time goes by lines, and 1,000 purchases must print in under two seconds.
LEDGER_LINE_WIDTH = 95


def context(customer: Customer, language: str) -> dict:
    """What the report shows, with texts in `language` (call inside that language)."""
    data = customer_data.collect(customer, language)
    return {
        "data": data,
        "controller": processing.controller(),
        "addresses": _address_lines(data["addresses"]),
        "source": _source(customer),
        "purchase_totals": _purchase_totals(data["purchases"]),
        "purchase_months": _by_month(_purchase_entries(data["purchases"]), "purchased_at"),
        "interaction_months": _by_month(data["interactions"], "occurred_at"),
        "consent": _consent(customer.id, language),
        "categories": [
            {
                "title": category.title,
                "contents": category.contents,
                "used_for": category.used_for,
                "basis": processing.LEGAL_BASES[category.basis],
                "retention": processing.retention_text(category),
            }
            for category in processing.DATA_CATEGORIES
        ],
        "consent_basis": processing.LEGAL_BASES["consent"],
        "rights": processing.RIGHTS,
        "labels": LABELS,
        "directions": DIRECTIONS,
        "consent_channels": CONSENT_CHANNELS,
        "consent_states": CONSENT_STATES,
    }


def render_pdf(customer: Customer, language: str) -> bytes:
    """The report as a tagged PDF/A in `language`."""
    with in_language(language):
        # retention_text and the dates it formats translate now, not when the page renders.
        report = context(customer, language)
    title = _l("Your data: %(name)s", name=customer.display_name)
    return pdf.render(TEMPLATE, title=title, language=language, **report)


def filename(customer: Customer, today) -> str:
    """The attachment's name: no personal data in it, only the record number and the day."""
    return f"data-report-{customer.id}-{today:%Y-%m-%d}.pdf"


def _address_lines(addresses: list[dict]) -> list[list[str]]:
    """Each address as the lines it is written in, the country named in the document's language."""
    territories = get_locale().territories
    result = []
    for address in addresses:
        lines = [
            address["line1"],
            address["line2"],
            " ".join(part for part in (address["postal_code"], address["city"]) if part),
            address["region"],
            territories.get(address["country"], address["country"]),
        ]
        result.append([line for line in lines if line])
    return result


def _source(customer: Customer) -> dict:
    """How the record came in; an import names the file it came from and when."""
    imported = None
    if customer.import_job_id:
        job = ImportJob.get_or_none(ImportJob.id == customer.import_job_id)
        if job is not None:
            imported = {"filename": job.filename, "imported_at": job.finished_at or job.created_at}
    return {
        "source": customer.source,
        "detail": customer.source_detail,
        "external": customer.external,
        "confirmed_at": customer.confirmed_at,
        "imported": imported,
        "since": customer.created_at,
    }


def _purchase_totals(purchases: list[dict]) -> list[dict]:
    """Spent and refunded per currency (a business may have changed its currency once)."""
    totals: dict[str, dict] = defaultdict(
        lambda: {"count": 0, "spent": Decimal("0"), "refunded": Decimal("0")}
    )
    for purchase in purchases:
        row = totals[purchase["currency"]]
        row["count"] += 1
        row["spent"] += purchase["total"]
        row["refunded"] += purchase["refunded"]
    return [{"currency": currency, **row} for currency, row in totals.items()]


def _purchase_entries(purchases: list[dict]) -> list[dict]:
    """Each purchase as the lines the PDF prints: a head (when, total, channel, receipt, shop),
    then its products packed a few to a line, then its refunds. Written here rather than in the
    template to pack the products, which saves the layout a third of its lines (see
    LEDGER_LINE_WIDTH)."""
    # Prices repeat: Babel formatting 4,000 amounts one by one was half the template's time.
    amount = functools.lru_cache(maxsize=None)(money)
    entries = []
    for purchase in purchases:
        currency = purchase["currency"]
        head = [
            format_datetime(purchase["purchased_at"], "short"),
            amount(purchase["total"], currency),
            str(PURCHASE_CHANNELS.get(purchase["channel"], purchase["channel"])),
        ]
        if purchase["receipt_number"]:
            head.append(_("Receipt %(number)s", number=purchase["receipt_number"]))
        if purchase["location"]:
            head.append(purchase["location"])
        products = [
            _(
                "%(product)s: %(total)s",
                product=line["product"],
                total=amount(line["line_total"], currency),
            )
            if line["quantity"] == 1
            else _(
                "%(product)s: %(quantity)s × %(price)s = %(total)s",
                product=line["product"],
                quantity=format_decimal(line["quantity"]),
                price=amount(line["unit_price"], currency),
                total=amount(line["line_total"], currency),
            )
            for line in purchase["lines"]
        ]
        refunds = [
            _(
                "Refunded on %(date)s: %(amount)s",
                date=format_date(refund["refunded_at"], "medium"),
                amount=amount(refund["amount"], currency),
            )
            + (f" ({refund['reason']})" if refund["reason"] else "")
            for refund in purchase["refunds"]
        ]
        entries.append(
            {
                "purchased_at": purchase["purchased_at"],
                "head": " · ".join(head),
                "details": _packed(products) + refunds,
            }
        )
    return entries


def _packed(texts: list[str]) -> list[str]:
    """Texts joined with " · " into lines of at most LEDGER_LINE_WIDTH characters (a wide,
    e.g. Chinese, character counting two); a longer text gets a line of its own."""
    lines: list[str] = []
    width = 0
    for text in texts:
        size = sum(2 if east_asian_width(char) in "WF" else 1 for char in text)
        if lines and width + 3 + size <= LEDGER_LINE_WIDTH:
            lines[-1] += " · " + text
            width += 3 + size
        else:
            lines.append(text)
            width = size
    return lines


def _by_month(items: list[dict], moment: str) -> list[dict]:
    """Items (oldest first) in months of the business's calendar, each titled like "January
    2021" in the document's language; the PDF prints a month as one paragraph."""
    locale = get_locale()
    months: list[dict] = []
    for item in items:
        local = to_user_timezone(item[moment])
        if not months or months[-1]["key"] != (local.year, local.month):
            title = format_skeleton("yMMMM", local, locale=locale)
            months.append({"key": (local.year, local.month), "title": title, "items": []})
        months[-1]["items"].append(item)
    return months


def _consent(customer_id: int, language: str) -> dict:
    """Current consent per active purpose and every event, each with the wording it refers to.

    A wording is shown as the customer saw it: the title and text of that version (in their
    language, else English, which every version has) and the day that version was written.
    """
    events = sorted(consent.history(customer_id), key=lambda event: (event.occurred_at, event.id))
    states = consent.states(customer_id, language)
    # Each wording the customer answered, once, in the order first answered.
    answered = dict.fromkeys((event.purpose_id, event.wording_version) for event in events)
    wordings = _wordings(set(answered), language)
    return {
        "current": [
            {
                "title": state.title,
                "state": state.state,
                "since": state.event.occurred_at if state.event else None,
                "wording": wordings.get((state.purpose_id, state.event.wording_version))
                if state.event
                else None,
            }
            for state in states
        ],
        "history": [
            {
                "occurred_at": event.occurred_at,
                "granted": event.granted,
                "channel": event.channel,
                "by_customer": event.recorded_by_type == "customer",
                "wording": wordings.get((event.purpose_id, event.wording_version)),
            }
            for event in events
        ],
        "wordings": [wordings[key] for key in answered if key in wordings],
    }


def _wordings(keys: set[tuple[int, int]], language: str) -> dict[tuple[int, int], dict]:
    """(purpose, version) → that version's title, text and date, in `language` else English."""
    if not keys:
        return {}
    rows = ConsentWording.select().where(
        ConsentWording.purpose.in_(sorted({purpose for purpose, _ in keys}))
        & ConsentWording.language.in_([language, "en"])
    )
    found: dict[tuple[int, int], dict] = {}
    for row in rows:
        key = (row.purpose_id, row.version)
        if key in keys and (key not in found or row.language == language):
            found[key] = {
                "title": row.title,
                "text": row.text,
                "version": row.version,
                "written_at": row.created_at,
            }
    return found
