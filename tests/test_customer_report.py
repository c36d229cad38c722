"""The customer data report (issue 7): everything held about one customer, why, on which basis,
for how long, from where, and their rights; exported by owners (audited), the same document
the customer downloads. Read back with pypdf in every language."""

import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from pypdf import PdfReader

from portal import (
    complaints,
    consent,
    erasure,
    history,
    i18n,
    identifiers,
    privacy_requests,
    processing,
    settings,
)
from portal.models import AuditEvent, ConsentWording, utcnow
from tests.conftest import sign_in
from tests.factories import make_customer
from tests.test_customer_download import campaign_messages, sign_in_customer

LANGUAGES = ("en", "ru", "pl", "zh")
BUSINESS = "Kwiaciarnia Róża"


def report_url(customer, language=None) -> str:
    query = f"?language={language}" if language else ""
    return f"/owner/customers/{customer.id}/data-report.pdf{query}"


def squeezed(text: str) -> str:
    """Text without any whitespace: lines wrap anywhere in a PDF (and Chinese has no spaces)."""
    return re.sub(r"\s+", "", text)


def pdf_text(body: bytes) -> str:
    return squeezed("".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages))


def in_locale(app, language: str, make):
    """What `make()` returns under `language`, e.g. a translated heading or a formatted sum."""
    with app.test_request_context(), force_locale(language):
        return make()


def headings() -> list[str]:
    return [
        _("Who holds your data"),
        _("Your profile"),
        _("Your contact details"),
        _("Where your data came from"),
        _("Your identifiers"),
        _("Your purchases"),
        _("Your contacts with the shop"),
        _("Your complaints"),
        _("Your consent"),
        _("Messages we sent you"),
        _("What we use your data for"),
        _("Your rights"),
    ]


@pytest.fixture
def business(app):
    settings.put("business_name", BUSINESS)
    settings.put("business_address", "ul. Długa 5, 00-001 Warszawa")
    settings.put("privacy_contact", "prywatnosc@roza.example")
    settings.put("retention_customer_years", 7)
    settings.put("retention_lead_months", 18)


@pytest.fixture
def wang(app, business):
    """A Chinese customer with two purchases, a call and a complaint."""
    customer = make_customer("小明", "王", order="family_first", email="wang@example.com")
    history.record_purchase(
        customer,
        [
            ("绿茶礼盒", Decimal("2"), Decimal("158.00")),
            ("Herbata zielona", Decimal("1"), Decimal("24.50")),
        ],
        purchased_at=utcnow() - timedelta(days=40),
        receipt_number="R-CN-1",
    )
    history.record_purchase(
        customer,
        [("Ceramic mug", Decimal("1"), Decimal("39.00"))],
        purchased_at=utcnow() - timedelta(days=3),
        receipt_number="R-CN-2",
    )
    history.record_interaction(
        customer,
        occurred_at=utcnow() - timedelta(days=2),
        direction="in",
        channel="call",
        summary="询问送货 — asked about delivery",
    )
    return customer


@pytest.fixture
def lucja(app, business):
    customer = make_customer(
        "Łucja", "Żółkiewska", email="lucja@example.com", preferred_language="pl"
    )
    history.record_purchase(
        customer,
        [("Pierścionek złoty", Decimal("1"), Decimal("899.00"))],
        purchased_at=utcnow() - timedelta(days=10),
        receipt_number="R-PL-7",
    )
    return customer


@pytest.fixture
def newsletter(app):
    """A consent purpose with two wording versions; the customer agreed to 1 and withdrew under 2."""
    purpose = consent.create_purpose(
        "newsletter",
        {
            "en": ("Newsletter by e-mail", "Send me news."),
            "pl": ("Newsletter e-mailem", "Wysyłajcie mi nowości."),
            "ru": ("Рассылка по почте", "Присылайте мне новости."),
            "zh": ("电子邮件通讯", "给我发送新闻。"),
        },
    )
    consent.new_version(
        purpose.id,
        {
            "en": ("Newsletter by e-mail", "Send me news, weekly."),
            "pl": ("Newsletter e-mailem", "Co tydzień wysyłajcie mi nowości."),
            "ru": ("Рассылка по почте", "Еженедельно присылайте мне новости."),
            "zh": ("电子邮件通讯", "每周给我发送新闻。"),
        },
    )
    return purpose


# --- content, in every language -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("who", ["wang", "lucja"])
def test_report_names_the_customer_their_purchases_and_sections(
    app, owner_client, request, who, language
):
    customer = request.getfixturevalue(who)
    response = owner_client.get(report_url(customer, language))
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert squeezed(customer.display_name) in text
    for purchase in customer.purchases:
        total = in_locale(app, language, lambda amount=purchase.total: i18n.money(amount, "EUR"))
        assert squeezed(total) in text, total
        assert purchase.receipt_number in text
        for line in purchase.lines:
            assert squeezed(line.product) in text
    for heading in in_locale(app, language, headings):
        assert squeezed(heading) in text, heading


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_says_what_consent_was_given_to_which_wording_and_when(
    app, owner_client, wang, newsletter, language
):
    first = consent.record(
        wang.id,
        newsletter.id,
        granted=True,
        wording_version=1,
        channel="paper_form",
        occurred_at=utcnow() - timedelta(days=30),
    )
    consent.record(
        wang.id,
        newsletter.id,
        granted=False,
        wording_version=2,
        channel="self_service",
        recorded_by_type="customer",
    )
    text = pdf_text(owner_client.get(report_url(wang, language)).data)
    wordings = {
        w.version: w for w in ConsentWording.select().where(ConsentWording.language == "en")
    }

    def expected():
        return {
            "title": ConsentWording.get(language=language, version=2).title,
            "v1": _(
                "Wording version %(version)s of %(date)s",
                version=1,
                date=format_date(wordings[1].created_at, "medium"),
            ),
            "v2": _(
                "Wording version %(version)s of %(date)s",
                version=2,
                date=format_date(wordings[2].created_at, "medium"),
            ),
            "given": _("Given"),
            "withdrawn": _("Withdrawn"),
            "granted_on": format_date(first.occurred_at, "medium"),
        }

    shown = in_locale(app, language, expected)
    for key, value in shown.items():
        assert squeezed(value) in text, (key, value)
    # What the customer was shown: the text of each version they answered, in their language.
    for version in (1, 2):
        wording = ConsentWording.get(language=language, version=version)
        assert squeezed(wording.text) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_gives_uses_bases_retention_from_settings_and_rights(
    app, owner_client, lucja, language
):
    text = pdf_text(owner_client.get(report_url(lucja, language)).data)

    def expected():
        texts = [processing.retention_text(c) for c in processing.DATA_CATEGORIES]
        texts += [str(c.used_for) for c in processing.DATA_CATEGORIES]
        texts += [str(processing.LEGAL_BASES[c.basis]) for c in processing.DATA_CATEGORIES]
        texts += [str(right) for right in processing.RIGHTS]
        return texts

    for value in in_locale(app, language, expected):
        assert squeezed(value) in text, value
    # The configured periods, not the defaults.
    english = in_locale(app, "en", lambda: processing.retention_text(processing.DATA_CATEGORIES[0]))
    assert "7 years" in english and "18 months" in english


def test_report_names_who_holds_the_data_and_where_it_came_from(app, owner_client, business):
    customer = make_customer(
        "Anna", "Nowak", source="vendor_list", source_detail="Targi Ślubne 2024", external=True
    )
    text = pdf_text(owner_client.get(report_url(customer, "en")).data)
    for value in (BUSINESS, "ul. Długa 5", "prywatnosc@roza.example", "Targi Ślubne 2024"):
        assert squeezed(value) in text
    assert (
        squeezed("This data came from an outside list and you have not confirmed it yet.") in text
    )


def test_identifiers_show_only_their_kind_and_last_four(app, owner_client, lucja):
    with app.app_context():  # the encryption keys come from the configuration
        identifiers.add(lucja.id, "tax_number", "526-000-12-46", None)
    text = pdf_text(owner_client.get(report_url(lucja, "en")).data)
    assert squeezed(in_locale(app, "en", lambda: _("Tax number"))) + ":••••1246" in text
    assert "5260001246" not in text


@pytest.mark.parametrize("language", ["en", "zh"])
def test_report_lists_the_messages_sent_and_the_unsubscribe(app, owner_client, wang, language):
    campaign_messages(wang)
    text = pdf_text(owner_client.get(report_url(wang, language)).data)

    def expected():
        return [
            format_datetime(datetime(2026, 3, 2, 10), "medium"),
            _(
                "You unsubscribed through it on %(date)s",
                date=format_date(datetime(2026, 3, 4, 18), "medium"),
            ),
            _("not delivered: your mail server refused it"),
            _("Service message (no consent needed)"),
        ]

    purpose = {"en": "Offers by e-mail", "zh": "邮件优惠"}[
        language
    ]  # titled in the document's language
    names = ["Spring tea 春茶", "Birthday wishes", "Tasting evening reminder"]
    for value in [*names, purpose, *in_locale(app, language, expected)]:
        assert squeezed(value) in text, value
    assert squeezed("Skipped sale") not in text and squeezed("Queued news") not in text
    assert "mailboxunavailable" not in text
    # Oldest first.
    assert text.index(squeezed("Spring tea 春茶")) < text.index("Birthdaywishes")


def test_report_says_when_no_messages_were_sent(app, owner_client, lucja):
    text = pdf_text(owner_client.get(report_url(lucja, "en")).data)
    assert squeezed("We have sent you no campaign or automatic messages.") in text


# --- metadata and the response ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_metadata_has_title_author_and_language(app, owner_client, wang, language):
    reader = PdfReader(io.BytesIO(owner_client.get(report_url(wang, language)).data))
    title = in_locale(app, language, lambda: _("Your data: %(name)s", name="王小明"))
    assert reader.metadata.title == title
    assert reader.metadata.author == BUSINESS
    assert reader.trailer["/Root"]["/Lang"] == language


def test_export_is_an_uncached_attachment_in_the_customers_language(owner_client, lucja):
    response = owner_client.get(report_url(lucja))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Łucja" not in disposition and "ucja" not in disposition  # no personal data in the name
    # No ?language: the customer's own language (Polish), whatever the owner reads in.
    assert PdfReader(io.BytesIO(response.data)).trailer["/Root"]["/Lang"] == "pl"


def test_export_is_audited_with_the_customer(owner_client, owner, lucja):
    owner_client.get(report_url(lucja, "en"))
    event = AuditEvent.get(AuditEvent.action == "customer_data_report_exported")
    assert (event.actor_type, event.actor_id) == ("staff", owner.id)
    assert (event.target_type, event.target_id) == ("customer", lucja.id)
    assert "Łucja" not in event.details


def test_unknown_language_is_not_found(owner_client, lucja):
    assert owner_client.get(report_url(lucja, "de")).status_code == 404
    assert (
        not AuditEvent.select().where(AuditEvent.action == "customer_data_report_exported").exists()
    )


# --- who may, and for whom -------------------------------------------------------------------


def test_staff_cannot_export_a_report(staff_client, lucja):
    assert staff_client.get(report_url(lucja)).status_code == 403
    assert (
        not AuditEvent.select().where(AuditEvent.action == "customer_data_report_exported").exists()
    )


def test_signed_out_visitor_is_sent_to_sign_in(client, lucja):
    response = client.get(report_url(lucja))
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_erased_or_unknown_customer_is_not_found(app, owner_client, lucja):
    assert owner_client.get("/owner/customers/999999/data-report.pdf").status_code == 404
    with app.app_context():
        erasure.erase(lucja.id)
    assert owner_client.get(report_url(lucja)).status_code == 404


def test_internal_complaint_notes_never_appear(owner_client, lucja):
    complaint = complaints.open_complaint(
        lucja,
        subject="Pęknięta obrączka",
        description="The ring cracked.",
        channel="in_store",
        category="other",
        severity="medium",
    )
    complaints.add_reply(complaint, "We will repair it for free.", staff_id=None)
    complaints.add_note(complaint, "SECRET staff remark", staff_id=None)
    text = pdf_text(owner_client.get(report_url(lucja, "en")).data)
    assert squeezed("Pęknięta obrączka") in text
    assert squeezed("We will repair it for free.") in text
    assert "SECRET" not in text


# --- the customer's own download is the same document ----------------------------------------


@pytest.mark.parametrize("language", ["en", "zh"])
def test_customers_own_download_has_the_same_sections(app, client, wang, newsletter, language):
    consent.record(wang.id, newsletter.id, granted=True, wording_version=2, channel="web_form")
    sign_in_customer(client, wang, language)
    text = pdf_text(client.get("/me/download.pdf").data)
    for heading in in_locale(app, language, headings):
        assert squeezed(heading) in text, heading
    assert squeezed("王小明") in text
    assert squeezed(in_locale(app, language, lambda: str(processing.RIGHTS[0]))) in text
    version = in_locale(
        app,
        language,
        lambda: _(
            "Wording version %(version)s of %(date)s",
            version=2,
            date=format_date(ConsentWording.get(language="en", version=2).created_at, "medium"),
        ),
    )
    assert squeezed(version) in text


# --- where owners find it ---------------------------------------------------------------------


def test_profile_offers_the_report_to_owners_only(app, owner, staff_member, lucja):
    link = report_url(lucja)
    for account, shown in ((staff_member, False), (owner, True)):
        browser = app.test_client()
        assert sign_in(browser, account).status_code == 303
        html = browser.get(f"/customers/{lucja.id}").get_data(as_text=True)
        assert (link in html) is shown, account.role


def test_privacy_desk_links_open_access_requests_to_the_report(owner_client, lucja, wang):
    privacy_requests.open_request(lucja.id, "access")
    privacy_requests.open_request(wang.id, "correction")
    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert report_url(lucja) in html
    assert report_url(wang) not in html


def test_reports_page_explains_where_the_report_is_made(app, owner_client):
    html = owner_client.get("/owner/reports").get_data(as_text=True)
    assert in_locale(app, "en", lambda: _("Customer data report")) in html
    assert "/owner/privacy" in html
