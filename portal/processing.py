"""What the business does with personal data, in one place: the data categories it keeps, what
each is used for and on which legal basis, how long it is kept, who receives it, how it is
protected, and the rights people have.

The customer data report (the answer to an access request) and the record of processing (for
a data-protection authority) are both written from this module, so they cannot disagree.
Texts are lazy: they render in the language of the document that uses them.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import settings
from .consent import current_versions
from .models import ConsentPurpose, ConsentWording

# Legal bases (GDPR art. 6(1)), as the documents name them.
LEGAL_BASES = {
    "consent": _l("Consent (you can withdraw it at any time)"),
    "contract": _l("Performance of a contract (serving you as a customer)"),
    "legal_obligation": _l("Legal obligation (accounting and consumer law)"),
    "legitimate_interest": _l("Legitimate interest (running and improving the shop)"),
}


@dataclass(frozen=True)
class DataCategory:
    code: str
    title: object  # lazy string
    contents: object
    used_for: object
    basis: str  # a key of LEGAL_BASES
    retention: str  # "customer" (after the last purchase) or "consent_proof"


DATA_CATEGORIES = (
    DataCategory(
        "identity",
        _l("Identity"),
        _l("Name, company, birth date, gender, preferred language"),
        _l("Recognising you and addressing you correctly"),
        "contract",
        "customer",
    ),
    DataCategory(
        "contact",
        _l("Contact details"),
        _l("E-mail addresses, phone numbers, postal addresses, preferred channel"),
        _l("Contacting you about purchases, orders and complaints; marketing only with consent"),
        "contract",
        "customer",
    ),
    DataCategory(
        "purchases",
        _l("Purchases"),
        _l("Purchases, receipts, products, amounts and refunds"),
        _l("Sales records, warranty and accounting"),
        "legal_obligation",
        "customer",
    ),
    DataCategory(
        "interactions",
        _l("Contacts with the shop"),
        _l("Calls, visits and messages, with a short summary"),
        _l("Serving you consistently whoever you speak to"),
        "legitimate_interest",
        "customer",
    ),
    DataCategory(
        "complaints",
        _l("Complaints"),
        _l("Complaints, their replies, resolution and your rating"),
        _l("Handling complaints within the legal deadlines"),
        "legal_obligation",
        "customer",
    ),
    DataCategory(
        "preferences",
        _l("Preferences and notes"),
        _l("Tags, notes and preferences the shop records"),
        _l("Personal service and relevant offers"),
        "legitimate_interest",
        "customer",
    ),
    DataCategory(
        "forecast",
        _l("Purchase forecast"),
        _l(
            "When your next purchase is expected, and whether you may not come back, worked out "
            "from the dates of your purchases"
        ),
        _l("Reminders and offers at the right time, sent only with your consent"),
        "legitimate_interest",
        "customer",
    ),
    DataCategory(
        "messages",
        _l("E-mails sent to you"),
        _l(
            "Which offers and reminders were e-mailed to you and when, whether they were "
            "delivered, and whether you unsubscribed through them"
        ),
        _l("Sending each message once, only with your consent, and honouring unsubscribes"),
        "consent",
        "customer",
    ),
    DataCategory(
        "identifiers",
        _l("Identifiers"),
        _l("Tax or identity document numbers, stored encrypted"),
        _l("Invoices and verifying identity where the law requires it"),
        "legal_obligation",
        "customer",
    ),
    DataCategory(
        "consent",
        _l("Consent records"),
        _l("Each consent given or withdrawn: purpose, wording version, date, channel"),
        _l("Proving what you agreed to, and when"),
        "legal_obligation",
        "consent_proof",
    ),
)

RIGHTS = (
    _l("Access: ask what data the shop holds about you and get a copy (this report)."),
    _l("Correction: have inaccurate or incomplete data corrected."),
    _l("Erasure: have your data erased when there is no reason left to keep it."),
    _l("Restriction: ask the shop to limit how it uses your data."),
    _l("Portability: receive your data in a machine-readable form (JSON or CSV)."),
    _l(
        "Objection: object to processing based on legitimate interest, and to marketing at any time."
    ),
    _l("Withdraw consent at any time, without affecting what was done before."),
    _l("Complain to the data-protection authority."),
)

# The safeguards Kartoteka itself applies; the owner adds their own in the settings.
BUILT_IN_SECURITY_MEASURES = (
    _l("Staff passwords are stored only as Argon2 hashes; sign-in attempts are rate-limited."),
    _l(
        "Sensitive identifiers are encrypted at rest with a key kept outside the database; the key can be rotated."
    ),
    _l(
        "Every view of a customer profile, every export and every reveal is recorded in a tamper-evident audit log."
    ),
    _l("Roles: only owners manage staff accounts, settings and the audit log."),
    _l(
        "Every change is protected against cross-site request forgery; cookies are secure and HTTP-only."
    ),
    _l("Data past its retention period is found by a sweep and removed or anonymised."),
    _l("Erasure removes a person's data from tables, search indexes and generated files."),
    _l("Consistent backups can be made and restored with one command."),
)

DEFAULT_RECIPIENTS = (
    _l("Accounting office: sales records, for bookkeeping and tax returns"),
    _l("E-mail delivery provider: the messages customers receive"),
    _l("Hosting provider: the server that runs Kartoteka"),
)


def retention_text(category: DataCategory) -> str:
    """How long a category is kept, with the configured periods."""
    if category.retention == "consent_proof":
        return _("As long as the data the consent covers, then erased with it.")
    return _(
        "Customers: %(years)d years after the last purchase; leads without a purchase: "
        "%(months)d months after the last contact. Sales records stay for accounting, anonymised.",
        years=int(settings.get("retention_customer_years")),
        months=int(settings.get("retention_lead_months")),
    )


def recipients() -> list[str]:
    """Who receives personal data: the owner's list, else the usual recipients of a small shop."""
    configured = settings.get("processing_recipients")
    return list(configured) if configured else [str(text) for text in DEFAULT_RECIPIENTS]


def security_measures() -> list[str]:
    """Kartoteka's own safeguards, then the ones the owner added."""
    return [str(text) for text in BUILT_IN_SECURITY_MEASURES] + list(
        settings.get("processing_security_measures") or []
    )


def controller() -> dict:
    """Who is responsible for the data: the business and how to reach it."""
    return {
        "name": settings.get("business_name"),
        "address": settings.get("business_address") or "",
        "contact": settings.get("privacy_contact") or "",
    }


# --- For the record of processing (GDPR art. 30) -------------------------------------------

# Whose data the shop processes. A customer is a lead until their first purchase.
DATA_SUBJECTS = (
    _l("Customers: people and companies who have bought from the shop"),
    _l(
        "Leads: people who have contacted the shop or signed up but not bought yet, "
        "including contacts imported from lists"
    ),
)

# What a consent purpose (e-mail or SMS marketing, profiling...) uses, by DATA_CATEGORIES code.
CONSENT_PURPOSE_CATEGORIES = ("identity", "contact", "preferences", "consent")

CONSENT_PURPOSE_RETENTION = _l(
    "Until the person withdraws consent; the proof of consent is kept as long as the data it covers."
)


def transfers() -> str:
    """Transfers of personal data outside the EEA as the owner describes them; empty: none."""
    return (settings.get("processing_transfers") or "").strip()


@dataclass(frozen=True)
class ConsentProcessing:
    """A consent purpose as a purpose of processing, with its current wording."""

    purpose_id: int
    code: str
    title: str  # in the language asked for (English, else the code, when missing)
    text: str
    version: int
    version_since: object  # datetime the current wording was written
    asked_since: object  # datetime the purpose was created


def consent_purposes(language: str) -> list[ConsentProcessing]:
    """Every active consent purpose with its current wording in `language`, in the purposes' order."""
    newest = current_versions()
    purposes = list(
        ConsentPurpose.select()
        .where(ConsentPurpose.active)
        .order_by(ConsentPurpose.position, ConsentPurpose.id)
    )
    current: dict[int, dict[str, ConsentWording]] = {}
    for row in ConsentWording.select().where(
        ConsentWording.purpose.in_([purpose.id for purpose in purposes])
        & ConsentWording.language.in_([language, "en"])
    ):
        if row.version == newest.get(row.purpose_id):
            current.setdefault(row.purpose_id, {})[row.language] = row
    result = []
    for purpose in purposes:
        found = current.get(purpose.id, {})
        shown = found.get(language) or found.get("en")
        result.append(
            ConsentProcessing(
                purpose_id=purpose.id,
                code=purpose.code,
                title=shown.title if shown else purpose.code,
                text=shown.text if shown else "",
                version=newest.get(purpose.id, 0),
                version_since=shown.created_at if shown else None,
                asked_since=purpose.created_at,
            )
        )
    return result
