"""The record of processing activities (GDPR art. 30): what a data-protection authority asks for.

Written from the owner's settings and portal/processing.py (the same texts as the customer
data report): who the controller is, each purpose of processing with its legal basis, data,
data subjects and retention, the consent purposes with their current wording and how many
customers consent now, recipients, transfers outside the EEA and the security measures.
The document is a few pages, so it is rendered while the owner waits.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from peewee import fn

from .. import consent, pdf, processing, settings
from ..i18n import in_language
from ..models import AuditEvent, ConsentPurpose, ConsentWording, Setting

TEMPLATE = "processing_record.html"
TITLE = _l("Record of processing activities")

# Settings the record is written from: a change to any of them makes a new version.
RECORD_SETTINGS = (
    "business_name",
    "business_address",
    "privacy_contact",
    "processing_recipients",
    "processing_transfers",
    "processing_security_measures",
    "retention_customer_years",
    "retention_lead_months",
)
# Consent purposes leave or rejoin the record without a row of their own changing.
PURPOSE_SWITCHES = ("consent_purpose_deactivated", "consent_purpose_reactivated")


@dataclass
class Purpose:
    """One purpose of processing as the record lists it."""

    title: str
    basis: str
    categories: list[str]
    retention: str
    # Only for purposes that rest on consent:
    version: int | None = None
    version_since: datetime | None = None
    asked_since: datetime | None = None
    consenting: int | None = None
    wording: str = ""


def context(language: str) -> dict:
    """What the record shows, with texts in `language` (call inside that language)."""
    categories = {category.code: category for category in processing.DATA_CATEGORIES}
    own_measures = list(settings.get("processing_security_measures") or [])
    return {
        "controller": processing.controller(),
        "purposes": [
            Purpose(
                title=str(category.used_for),
                basis=str(processing.LEGAL_BASES[category.basis]),
                categories=[f"{category.title}: {category.contents}"],
                retention=processing.retention_text(category),
            )
            for category in processing.DATA_CATEGORIES
        ],
        "consent_purposes": _consent_purposes(language, categories),
        "data_subjects": [str(subject) for subject in processing.DATA_SUBJECTS],
        "categories": processing.DATA_CATEGORIES,
        "recipients": processing.recipients(),
        "transfers": processing.transfers(),
        "built_in_measures": [str(text) for text in processing.BUILT_IN_SECURITY_MEASURES],
        "own_measures": own_measures,
        "last_changed": last_changed(),
    }


def _consent_purposes(language: str, categories: dict) -> list[Purpose]:
    consenting = {row["purpose_id"]: row["granted"] for row in consent.statistics(language)}
    used = [str(categories[code].title) for code in processing.CONSENT_PURPOSE_CATEGORIES]
    return [
        Purpose(
            title=purpose.title,
            basis=str(processing.LEGAL_BASES["consent"]),
            categories=used,
            retention=str(processing.CONSENT_PURPOSE_RETENTION),
            version=purpose.version,
            version_since=purpose.version_since,
            asked_since=purpose.asked_since,
            consenting=consenting.get(purpose.purpose_id, 0),
            wording=purpose.text,
        )
        for purpose in processing.consent_purposes(language)
    ]


def last_changed() -> datetime | None:
    """When anything the record is written from last changed: the record's version."""
    times = [
        Setting.select(fn.MAX(Setting.updated_at)).where(Setting.key.in_(RECORD_SETTINGS)).scalar(),
        ConsentPurpose.select(fn.MAX(ConsentPurpose.created_at)).scalar(),
        ConsentWording.select(fn.MAX(ConsentWording.created_at)).scalar(),
        AuditEvent.select(fn.MAX(AuditEvent.occurred_at))
        .where(AuditEvent.action.in_(PURPOSE_SWITCHES))
        .scalar(),
    ]
    known = [time for time in times if time]
    return max(known) if known else None


def render_pdf(language: str) -> bytes:
    """The record as a tagged PDF/A in `language`."""
    with in_language(language):
        # Retention texts and consent titles are chosen now, in the document's language.
        record = context(language)
    return pdf.render(TEMPLATE, title=TITLE, language=language, **record)


def filename(language: str, when: datetime) -> str:
    return f"record-of-processing-{when:%Y-%m-%d}-{language}.pdf"
