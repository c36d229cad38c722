"""Consent in the customer area (SPEC 5): each active purpose in the customer's language with
its current wording; one click (HTMX, or a plain POST) gives or withdraws it, recorded as a
self_service event by the customer; a customer changes only their own consent."""

import json
import re

import pytest

from portal import consent
from portal.models import AuditEvent, ConsentEvent
from tests.conftest import csrf_token_from
from tests.factories import make_customer
from tests.test_customer_download import sign_in_customer

HTMX = {"HX-Request": "true"}
URL = "/me/consent"
TEXTS = {
    "en": ("E-mail offers", "I agree to receive offers by e-mail."),
    "pl": ("Oferty e-mailem", "Zgadzam się na otrzymywanie ofert e-mailem."),
    "zh": ("电子邮件优惠", "我同意通过电子邮件接收优惠信息。"),
}


@pytest.fixture
def purpose(app):
    return consent.create_purpose("email_marketing", TEXTS)


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna@example.com")


def click(client, purpose_id, granted, version=1, headers=None):
    return client.post(
        f"{URL}/{purpose_id}",
        data={
            "csrf_token": csrf_token_from(client, URL),
            "granted": "1" if granted else "0",
            "version": str(version),
        },
        headers=headers or {},
    )


@pytest.mark.parametrize("language", ["en", "pl", "zh"])
def test_each_purpose_shows_its_current_wording_in_the_customers_language(
    client, anna, purpose, language
):
    consent.new_version(
        purpose.id, {**TEXTS, language: (TEXTS[language][0], TEXTS[language][1] + " v2")}
    )
    sign_in_customer(client, anna, language)
    html = client.get(URL).get_data(as_text=True)
    title, text = TEXTS[language]
    assert title in html
    assert text + " v2" in html
    assert 'name="version" value="2"' in html


def test_retired_purposes_are_not_shown_and_cannot_be_changed(client, anna, purpose):
    retired = consent.create_purpose("sms", {"en": ("Text messages", "SMS offers.")})
    consent.set_active(retired.id, False)
    sign_in_customer(client, anna)
    assert "Text messages" not in client.get(URL).get_data(as_text=True)
    assert click(client, retired.id, True).status_code == 404
    assert not ConsentEvent.select().exists()


def test_one_click_with_htmx_gives_consent_as_a_self_service_event(client, anna, purpose):
    sign_in_customer(client, anna)
    response = click(client, purpose.id, True, headers=HTMX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(
        f'<section class="card consent-purpose" id="consent-purpose-{purpose.id}"'
    )
    assert "Withdraw my consent" in fragment

    event = ConsentEvent.get()
    assert (event.customer_id, event.purpose_id, event.granted) == (anna.id, purpose.id, True)
    assert (event.channel, event.recorded_by_type, event.recorded_by_staff_id) == (
        "self_service",
        "customer",
        None,
    )
    assert event.wording_version == 1
    audited = AuditEvent.get(AuditEvent.action == "consent_recorded")
    assert (audited.actor_type, audited.actor_id, audited.target_id) == (
        "customer",
        anna.id,
        anna.id,
    )
    assert json.loads(audited.details)["event_id"] == event.id


def test_withdrawing_without_javascript_posts_and_comes_back_to_the_page(client, anna, purpose):
    consent.record(anna.id, purpose.id, granted=True, wording_version=1, channel="paper_form")
    sign_in_customer(client, anna)
    assert "Withdraw my consent" in client.get(URL).get_data(as_text=True)
    response = click(client, purpose.id, False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(URL)
    assert consent.states(anna.id, "en")[0].state == "withdrawn"
    page = client.get(URL).get_data(as_text=True)
    assert "You have withdrawn your consent." in page and "Give my consent" in page
    # Append-only: the grant is still there, the withdrawal came after it.
    assert [e.granted for e in ConsentEvent.select().order_by(ConsentEvent.id)] == [True, False]


def test_clicking_the_same_choice_twice_records_one_event(client, anna, purpose):
    sign_in_customer(client, anna)
    click(client, purpose.id, True, headers=HTMX)
    click(client, purpose.id, True, headers=HTMX)
    assert ConsentEvent.select().count() == 1


def test_a_version_the_purpose_never_had_is_refused(client, anna, purpose):
    sign_in_customer(client, anna)
    assert click(client, purpose.id, True, version=7).status_code == 400
    assert not ConsentEvent.select().exists()


def test_a_change_without_csrf_token_is_refused(client, anna, purpose):
    sign_in_customer(client, anna)
    response = client.post(f"{URL}/{purpose.id}", data={"granted": "1", "version": "1"})
    assert response.status_code == 400
    assert not ConsentEvent.select().exists()


def test_a_customer_changes_only_their_own_consent(client, anna, purpose):
    other = make_customer("Bartosz", "Zieliński", email="b@example.com")
    consent.record(other.id, purpose.id, granted=True, wording_version=1, channel="paper_form")
    sign_in_customer(client, anna)
    html = client.get(URL).get_data(as_text=True)
    # The page shows Anna's state, not Bartosz's grant; no URL of the area names a customer.
    assert "You have not given your consent." in html
    assert not re.search(rf"/me/\S*{other.id}\b", html.replace(f"/me/consent/{purpose.id}", ""))
    click(client, purpose.id, False)
    assert consent.states(other.id, "en")[0].state == "granted"
    assert consent.states(anna.id, "en")[0].state == "withdrawn"


def test_consent_pages_need_a_customer_session(client, staff_client, anna, purpose):
    response = staff_client.get(URL)
    assert response.status_code == 302 and "/me/sign-in" in response.headers["Location"]
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        f"{URL}/{purpose.id}", data={"csrf_token": token, "granted": "1", "version": "1"}
    )
    assert response.status_code == 302
    assert not ConsentEvent.select().exists()
