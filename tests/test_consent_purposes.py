"""Owners define consent purposes with wording per language; a change of wording is a new
version and earlier versions stay; purposes can be deactivated; staff cannot manage them."""

import json
import re

import pytest

from portal import consent
from portal.models import AuditEvent, ConsentEvent, ConsentPurpose, ConsentWording
from tests.conftest import csrf_token_from
from tests.factories import make_customer
from tests.test_consent import EMAIL_TEXTS, give, make_purpose


def purpose_data(token, **fields) -> dict:
    data = {"csrf_token": token, "code": "email_marketing"}
    for language, (title, text) in EMAIL_TEXTS.items():
        data[f"{language}-title"] = title
        data[f"{language}-text"] = text
    data.update(fields)
    return data


def wording_data(token, texts) -> dict:
    data = {"csrf_token": token}
    for language in consent.LANGUAGES:
        title, text = texts.get(language, ("", ""))
        data[f"{language}-title"] = title
        data[f"{language}-text"] = text
    return data


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert match, f"no error beside {field_id}"
    return match.group(1)


@pytest.mark.parametrize("url", ["/owner/consent", "/owner/consent/new", "/owner/contact-lists"])
def test_staff_cannot_open_consent_owner_pages(staff_client, url):
    assert staff_client.get(url).status_code == 403


def test_staff_cannot_create_change_or_deactivate_purposes(staff_client, app):
    purpose = make_purpose()
    token = csrf_token_from(staff_client, "/")
    assert (
        staff_client.post("/owner/consent/new", data=purpose_data(token, code="x")).status_code
        == 403
    )
    response = staff_client.post(
        f"/owner/consent/{purpose.id}", data=wording_data(token, {"en": ("New", "New words.")})
    )
    assert response.status_code == 403
    response = staff_client.post(
        f"/owner/consent/{purpose.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 403
    assert ConsentWording.select().count() == 4 and ConsentPurpose.get().active


def test_owner_creates_a_purpose_with_wording_in_four_languages(owner_client, owner):
    token = csrf_token_from(owner_client, "/owner/consent/new")
    response = owner_client.post("/owner/consent/new", data=purpose_data(token))
    assert response.status_code == 303
    purpose = ConsentPurpose.get(ConsentPurpose.code == "email_marketing")
    assert response.headers["Location"].endswith(f"/owner/consent/{purpose.id}")
    wordings = {w.language: (w.title, w.text, w.version) for w in purpose.wordings}
    assert wordings == {lang: (*texts, 1) for lang, texts in EMAIL_TEXTS.items()}

    audit = AuditEvent.get(AuditEvent.action == "consent_purpose_created")
    assert (audit.actor_id, audit.target_id) == (owner.id, purpose.id)
    assert json.loads(audit.details) == {"purpose_id": purpose.id}

    listing = owner_client.get("/owner/consent").get_data(as_text=True)
    assert "<code>email_marketing</code>" in listing
    for title, _text in EMAIL_TEXTS.values():
        assert title in listing


def test_english_is_required_and_other_languages_optional(owner_client):
    token = csrf_token_from(owner_client, "/owner/consent/new")
    data = purpose_data(token, **{"en-title": "", "en-text": "", "ru-title": "", "ru-text": ""})
    response = owner_client.post("/owner/consent/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "en-title") == "Enter the English title."
    assert error_beside(html, "en-text") == "Enter the English wording."
    assert ConsentPurpose.select().count() == 0

    data = purpose_data(token, **{"ru-title": "", "ru-text": "", "zh-title": "", "zh-text": ""})
    assert owner_client.post("/owner/consent/new", data=data).status_code == 303
    assert {w.language for w in ConsentWording.select()} == {"en", "pl"}


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"code": ""}, "code", "Enter a short code, like email_marketing."),
        ({"code": "E-mail offers!"}, "code", "Use lower-case Latin letters"),
        ({"code": "x" * 61}, "code", "Use at most 60 characters."),
        ({"pl-text": ""}, "pl-text", "Give both the title and the wording, or neither."),
        ({"en-title": "x" * 201}, "en-title", "Use at most 200 characters."),
    ],
)
def test_invalid_purposes_are_refused_beside_the_field(owner_client, fields, field_id, message):
    token = csrf_token_from(owner_client, "/owner/consent/new")
    response = owner_client.post("/owner/consent/new", data=purpose_data(token, **fields))
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), field_id)
    assert ConsentPurpose.select().count() == 0 and ConsentWording.select().count() == 0


def test_a_code_in_use_is_refused(owner_client):
    make_purpose()
    token = csrf_token_from(owner_client, "/owner/consent/new")
    response = owner_client.post("/owner/consent/new", data=purpose_data(token))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "code") == "A purpose with this code already exists."
    assert ConsentPurpose.select().count() == 1


def test_editing_the_wording_makes_a_new_version_and_keeps_the_old(owner_client, owner):
    purpose = make_purpose()
    page = owner_client.get(f"/owner/consent/{purpose.id}").get_data(as_text=True)
    # The form starts from the current wording.
    assert 'value="Oferty e-mailem"' in page and "Saving makes version 2." in page
    token = csrf_token_from(owner_client, f"/owner/consent/{purpose.id}")
    texts = {**EMAIL_TEXTS, "en": ("E-mail news", "I agree to receive news and offers by e-mail.")}
    texts.pop("zh")
    response = owner_client.post(f"/owner/consent/{purpose.id}", data=wording_data(token, texts))
    assert response.status_code == 303

    assert consent.versions_of(purpose.id) == [2, 1]
    old = {w.language: w.title for w in purpose.wordings.where(ConsentWording.version == 1)}
    new = {w.language: w.title for w in purpose.wordings.where(ConsentWording.version == 2)}
    assert old == {lang: title for lang, (title, _t) in EMAIL_TEXTS.items()}
    assert new == {"en": "E-mail news", "pl": "Oferty e-mailem", "ru": "Предложения по почте"}

    audit = AuditEvent.get(AuditEvent.action == "consent_wording_versioned")
    assert json.loads(audit.details) == {
        "purpose_id": purpose.id,
        "version": 2,
        "languages": ["en", "pl", "ru"],
    }
    assert audit.actor_id == owner.id

    page = owner_client.get(f"/owner/consent/{purpose.id}").get_data(as_text=True)
    assert "Version 2" in page and "Version 1" in page
    assert "I agree to receive offers by e-mail." in page  # the old English text is still shown
    listing = owner_client.get("/owner/consent").get_data(as_text=True)
    assert '<td class="purpose-version">Version 2</td>' in listing and "E-mail news" in listing


def test_saving_unchanged_wording_makes_no_version(owner_client):
    purpose = make_purpose()
    token = csrf_token_from(owner_client, f"/owner/consent/{purpose.id}")
    response = owner_client.post(
        f"/owner/consent/{purpose.id}", data=wording_data(token, EMAIL_TEXTS)
    )
    assert response.status_code == 422
    assert "Change the wording before saving a new version." in response.get_data(as_text=True)
    assert consent.versions_of(purpose.id) == [1]


def test_events_keep_the_version_the_customer_saw(app):
    purpose = make_purpose()
    anna = make_customer("Anna", "Nowak")
    event = give(anna, purpose, True, version=1)
    consent.new_version(purpose.id, {"en": ("E-mail news", "New words.")})
    assert ConsentEvent.get_by_id(event.id).wording_version == 1
    assert consent.wording(purpose.id, 1, "en").text == "I agree to receive offers by e-mail."


def test_deactivated_purposes_leave_the_profile_and_come_back(owner_client, owner):
    purpose = make_purpose()
    anna = make_customer("Anna", "Nowak")
    give(anna, purpose, True)
    token = csrf_token_from(owner_client, "/owner/consent")
    response = owner_client.post(
        f"/owner/consent/{purpose.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 303
    assert not ConsentPurpose.get_by_id(purpose.id).active
    profile = owner_client.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert f'data-purpose="{purpose.id}"' not in profile
    # Its history stays on the profile.
    assert "Consent history (1 event)" in profile
    assert "Deactivated" in owner_client.get("/owner/consent").get_data(as_text=True)

    owner_client.post(
        f"/owner/consent/{purpose.id}/active", data={"csrf_token": token, "active": "1"}
    )
    assert ConsentPurpose.get_by_id(purpose.id).active
    actions = [
        e.action
        for e in AuditEvent.select().order_by(AuditEvent.id)
        if e.action.startswith("consent_purpose_") and e.target_id == purpose.id
    ]
    assert actions == [
        "consent_purpose_created",
        "consent_purpose_deactivated",
        "consent_purpose_reactivated",
    ]


def test_unknown_purposes_are_not_found(owner_client):
    assert owner_client.get("/owner/consent/999").status_code == 404
