"""The record of processing (GDPR art. 30): the owner's settings it is written from, and the
PDF they hand to a data-protection authority, in every language."""

import io
import json
import re
from pathlib import Path

import pypdf
import pytest
from babel.support import Translations
from flask_babel import format_date, gettext, ngettext
from markupsafe import escape

from portal import consent, processing, settings
from portal.i18n import in_language
from portal.models import AuditEvent, ConsentWording
from portal.reports import processing_record
from tests.conftest import csrf_token_from
from tests.factories import make_customer

PAGE = "/owner/settings/processing"
PDF = "/owner/reports/processing-record.pdf"
CATALOGS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("en", "ru", "pl", "zh")
KEYS = (
    "business_name",
    "business_address",
    "privacy_contact",
    "processing_recipients",
    "processing_transfers",
    "processing_security_measures",
)

NEWSLETTER = {
    "en": ("Monthly newsletter", "We send our offers by e-mail once a month."),
    "ru": ("Ежемесячная рассылка", "Раз в месяц мы присылаем предложения по почте."),
    "pl": ("Comiesięczny newsletter", "Raz w miesiącu wysyłamy oferty e-mailem."),
    "zh": ("每月通讯", "我们每月通过电子邮件发送一次优惠。"),
}
RECIPIENTS = ["Biuro rachunkowe Żak: ewidencja sprzedaży", "Почтовый сервис: рассылки"]
OWN_MEASURE = "Papierowe formularze trzymamy w zamkniętej szafie."


def form_data(**changes) -> dict:
    data = {
        "business_name": "Kwiaciarnia Źdźbło",
        "business_address": "ul. Żółkiewskiego 5\n00-001 Warszawa",
        "privacy_contact": "prywatnosc@zdzblo.example",
        "recipients": "\n".join(RECIPIENTS),
        "transfers": "",
        "security_measures": OWN_MEASURE,
    }
    data.update(changes)
    return data


def post(client, data, **kwargs):
    token = csrf_token_from(client, PAGE)
    return client.post(PAGE, data={**data, "csrf_token": token}, **kwargs)


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def squeezed(text: str) -> str:
    """Text without whitespace: PDF lines wrap wherever the page ends."""
    return "".join(text.split())


def pdf_text(reader: pypdf.PdfReader) -> str:
    return squeezed("".join(page.extract_text() for page in reader.pages))


def base_fonts(reader: pypdf.PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def newsletter(app):
    """A consent purpose in four languages, now at version 2, that two customers gave."""
    purpose = consent.create_purpose("newsletter", {"en": ("Newsletter", "Offers by e-mail.")})
    consent.new_version(purpose.id, NEWSLETTER)
    for given, family in (("小明", "王"), ("Anna", "Nowak")):
        customer = make_customer(given, family)
        consent.record(
            customer.id, purpose.id, granted=True, wording_version=2, channel="paper_form"
        )
    withdrawn = make_customer("Jan", "Kowalski")
    consent.record(withdrawn.id, purpose.id, granted=True, wording_version=2, channel="verbal")
    consent.record(withdrawn.id, purpose.id, granted=False, wording_version=2, channel="verbal")
    return purpose


# --- The PDF --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_record_says_what_the_owner_configured_in_each_language(
    app, owner_client, newsletter, language
):
    assert post(owner_client, form_data()).status_code == 303
    settings.put("retention_customer_years", 7)
    settings.put("retention_lead_months", 9)

    response = owner_client.get(PDF, query_string={"language": language})

    assert response.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = pdf_text(reader)
    with app.test_request_context(), in_language(language):
        version_since = ConsentWording.get(
            ConsentWording.purpose == newsletter.id, ConsentWording.version == 2
        ).created_at
        retention = [processing.retention_text(c) for c in processing.DATA_CATEGORIES]
        expected = [
            gettext("Record of processing activities"),
            gettext("Controller"),
            gettext("Purposes of processing"),
            gettext("Purposes based on consent"),
            gettext("Categories of data subjects"),
            gettext("Recipients"),
            gettext("Transfers outside the European Economic Area"),
            gettext("Technical and organisational security measures"),
            "Kwiaciarnia Źdźbło",
            "ul. Żółkiewskiego 5",
            "00-001 Warszawa",
            "prywatnosc@zdzblo.example",
            NEWSLETTER[language][0],
            gettext(
                "Version %(version)d, in use since %(date)s",
                version=2,
                date=format_date(version_since),
            ),
            ngettext("%(num)s customer", "%(num)s customers", 2),
            *retention,
            *RECIPIENTS,
            OWN_MEASURE,
            str(processing.BUILT_IN_SECURITY_MEASURES[0]),
            str(processing.LEGAL_BASES["consent"]),
            str(processing.DATA_SUBJECTS[1]),
            gettext(
                "None: personal data is not transferred to countries outside the European "
                "Economic Area or to international organisations."
            ),
        ]
    assert "7" in retention[0] and "9" in retention[0]  # the retention text names the periods
    for phrase in expected:
        assert squeezed(phrase) in text, phrase
    # The default recipients give way to the owner's.
    with app.test_request_context(), in_language(language):
        assert squeezed(str(processing.DEFAULT_RECIPIENTS[0])) not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pdf_carries_title_author_and_language(app, owner_client, language):
    settings.put("business_name", "Sklep Ćma")
    response = owner_client.get(PDF, query_string={"language": language})
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    with app.test_request_context(), in_language(language):
        title = gettext("Record of processing activities")
    assert reader.metadata.title == title
    assert reader.metadata.author == "Sklep Ćma"
    assert reader.trailer["/Root"]["/Lang"] == language


def test_chinese_is_drawn_with_the_chinese_font(app, owner_client, newsletter):
    settings.put("business_name", "北京花店")
    response = owner_client.get(PDF, query_string={"language": "zh"})
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert "北京花店" in pdf_text(reader)
    assert squeezed(NEWSLETTER["zh"][0]) in pdf_text(reader)
    assert any("CJK" in name for name in base_fonts(reader)), base_fonts(reader)


def test_the_record_lists_the_default_recipients_and_no_transfers_until_the_owner_says(
    app, owner_client
):
    response = owner_client.get(PDF, query_string={"language": "en"})
    text = pdf_text(pypdf.PdfReader(io.BytesIO(response.data)))
    with app.test_request_context(), in_language("en"):
        for recipient in processing.DEFAULT_RECIPIENTS:
            assert squeezed(str(recipient)) in text
        assert squeezed(gettext("No consent purposes are in use.")) in text
        assert squeezed(gettext("Not given")) in text  # no address yet


def test_transfers_the_owner_describes_are_in_the_record(app, owner_client):
    described = "Mail provider in the United States,\nunder standard contractual clauses."
    assert post(owner_client, form_data(transfers=described)).status_code == 303
    response = owner_client.get(PDF, query_string={"language": "pl"})
    text = pdf_text(pypdf.PdfReader(io.BytesIO(response.data)))
    assert squeezed(described) in text


def test_a_deactivated_purpose_leaves_the_record(app, owner_client, newsletter):
    consent.set_active(newsletter.id, False)
    response = owner_client.get(PDF, query_string={"language": "en"})
    text = pdf_text(pypdf.PdfReader(io.BytesIO(response.data)))
    assert squeezed(NEWSLETTER["en"][0]) not in text


def test_the_version_is_when_the_settings_last_changed(app, owner_client):
    with app.test_request_context():
        assert processing_record.last_changed() is None
        settings.put("privacy_contact", "privacy@example.com")
        first = processing_record.last_changed()
        settings.put("currency", "PLN")  # not in the record
        assert processing_record.last_changed() == first
        consent.create_purpose("sms", {"en": ("SMS offers", "Offers by SMS.")})
        assert processing_record.last_changed() > first


# --- The download ---------------------------------------------------------------------


def test_downloading_is_audited_and_never_cached(owner_client, owner):
    response = owner_client.get(PDF, query_string={"language": "ru"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "record-of-processing-" in disposition
    assert response.data.startswith(b"%PDF-")
    [event] = audits("processing_record_exported")
    assert (event.actor_type, event.actor_id) == ("staff", owner.id)
    assert json.loads(event.details) == {"language": "ru"}


def test_without_a_language_the_record_follows_the_page(owner_client):
    response = owner_client.get(PDF, headers={"Accept-Language": "pl"})
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert reader.trailer["/Root"]["/Lang"] == "pl"


def test_an_unknown_language_is_not_found(owner_client):
    assert owner_client.get(PDF, query_string={"language": "de"}).status_code == 404
    assert audits("processing_record_exported") == []


def test_the_reports_page_and_the_privacy_desk_lead_to_the_record(owner_client):
    reports = owner_client.get("/owner/reports").get_data(as_text=True)
    assert f'action="{PDF}"' in reports
    assert f'href="{PAGE}"' in reports
    desk = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert f'href="{PAGE}"' in desk


def test_staff_cannot_download_the_record_or_change_its_settings(staff_client):
    assert staff_client.get(PDF).status_code == 403
    assert staff_client.get(PAGE).status_code == 403
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post(PAGE, data={**form_data(), "csrf_token": token})
    assert response.status_code == 403
    assert settings.get("business_name") == settings.DEFAULTS["business_name"]
    assert audits("processing_record_exported") == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in (PDF, PAGE):
        response = client.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


# --- The settings ---------------------------------------------------------------------


def test_the_page_shows_the_current_settings(owner_client):
    settings.put("processing_recipients", RECIPIENTS)
    settings.put("business_address", "ul. Długa 1\n80-001 Gdańsk")
    html = owner_client.get(PAGE).get_data(as_text=True)
    assert re.search(r'id="business_name"[^>]*value="Kartoteka demo shop"', html)
    assert re.search(r'id="recipients"[^>]*>\s*' + re.escape("\n".join(RECIPIENTS)), html)
    assert "ul. Długa 1\n80-001 Gdańsk" in html


def test_owner_saves_the_settings_and_the_change_is_audited(owner_client):
    response = post(
        owner_client,
        form_data(
            business_address="  ul. Żółkiewskiego 5 \n\n 00-001 Warszawa ",
            recipients="\n" + RECIPIENTS[0] + "\n\n  " + RECIPIENTS[1] + "  \n",
            transfers="Mail provider in the United States.",
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(PAGE)
    assert settings.get("business_name") == "Kwiaciarnia Źdźbło"
    assert settings.get("business_address") == "ul. Żółkiewskiego 5\n00-001 Warszawa"
    assert settings.get("privacy_contact") == "prywatnosc@zdzblo.example"
    assert settings.get("processing_recipients") == RECIPIENTS  # one per line, blanks dropped
    assert settings.get("processing_transfers") == "Mail provider in the United States."
    assert settings.get("processing_security_measures") == [OWN_MEASURE]
    [event] = audits("settings_changed")
    assert json.loads(event.details) == {"fields": list(KEYS)}  # names only, no values
    assert "Saved. The record of processing" in owner_client.get(PAGE).get_data(as_text=True)


def test_saving_unchanged_settings_audits_nothing(owner_client):
    assert post(owner_client, form_data()).status_code == 303
    assert post(owner_client, form_data()).status_code == 303
    assert len(audits("settings_changed")) == 1
    assert post(owner_client, form_data(privacy_contact="")).status_code == 303
    assert json.loads(audits("settings_changed")[-1].details) == {"fields": ["privacy_contact"]}


def test_a_fresh_installation_saved_as_it_is_changes_nothing(owner_client):
    html = owner_client.get(PAGE).get_data(as_text=True)
    assert 'id="transfers"' in html
    untouched = {
        "business_name": settings.DEFAULTS["business_name"],
        "business_address": "",
        "privacy_contact": "",
        "recipients": "",
        "transfers": "",
        "security_measures": "",
    }
    assert post(owner_client, untouched).status_code == 303
    assert audits("settings_changed") == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"business_name": "  "}, "business_name", "Enter the business name."),
        (
            {"business_name": "x" * 121},
            "business_name",
            "Keep the business name to 120 characters or fewer.",
        ),
        (
            {"business_address": "\n".join(f"line {n}" for n in range(7))},
            "business_address",
            "Enter at most 6 lines; this has 7.",
        ),
        (
            {"privacy_contact": "p" * 201},
            "privacy_contact",
            "Keep the privacy contact to 200 characters or fewer.",
        ),
        (
            {"recipients": "\n".join(f"Recipient {n}" for n in range(31))},
            "recipients",
            "Enter at most 30 lines; this has 31.",
        ),
        (
            {"recipients": "Accounting\n" + "y" * 301},
            "recipients",
            "Line 2 is longer than 300 characters: shorten it or split it in two.",
        ),
        (
            {"security_measures": "z" * 301},
            "security_measures",
            "Line 1 is longer than 300 characters",
        ),
        ({"transfers": "t" * 2001}, "transfers", "Keep this to 2000 characters or fewer."),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_nothing_changes(
    owner_client, changes, field, message
):
    response = post(owner_client, form_data(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html)
    assert re.search(rf'<(input|textarea)[^>]*aria-invalid="true"[^>]*id="{field}"', html)
    # Valid fields posted beside the bad one are not saved either.
    assert all(settings.get(key) in (settings.DEFAULTS.get(key), None) for key in KEYS)
    assert audits("settings_changed") == []


def test_bad_input_is_answered_in_the_owners_language(owner_client):
    english = "Enter the business name."
    polish = Translations.load(str(CATALOGS), ["pl"]).gettext(english)  # the lead translates
    response = post(owner_client, form_data(business_name=""), headers={"Accept-Language": "pl"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="business_name-error">[^<]*{re.escape(str(escape(polish)))}', html)
    assert settings.get("business_name") == settings.DEFAULTS["business_name"]
