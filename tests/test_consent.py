"""Consent on the customer profile: the current state per purpose, a grant or withdrawal
recorded inline (or by a plain form post), append-only events, history, audit, and refusals."""

import json
import re
from datetime import datetime

import pytest

from portal import consent
from portal.models import AuditEvent, ConsentEvent, ConsentWording
from tests.conftest import csrf_token_from
from tests.factories import make_customer

HTMX = {"HX-Request": "true"}
EMAIL_TEXTS = {
    "en": ("E-mail offers", "I agree to receive offers by e-mail."),
    "pl": ("Oferty e-mailem", "Zgadzam się na otrzymywanie ofert e-mailem."),
    "ru": ("Предложения по почте", "Я согласен получать предложения по электронной почте."),
    "zh": ("电子邮件优惠", "我同意通过电子邮件接收优惠信息。"),
}
SMS_TEXTS = {"en": ("Text message offers", "I agree to receive offers by SMS.")}


def make_purpose(code="email_marketing", texts=None):
    return consent.create_purpose(code, texts or EMAIL_TEXTS)


def give(customer, purpose, granted=True, at=None, version=1, channel="paper_form", **extra):
    return consent.record(
        customer.id,
        purpose.id,
        granted=granted,
        wording_version=version,
        channel=channel,
        occurred_at=at,
        **extra,
    )


@pytest.fixture
def email_purpose(app):
    return make_purpose()


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")


def profile_url(customer) -> str:
    return f"/customers/{customer.id}"


def consent_url(customer) -> str:
    return f"/customers/{customer.id}/consent"


def consent_data(token, chosen, **fields) -> dict:
    data = {
        "consent-csrf_token": token,
        "consent-purpose": str(chosen.id),
        "consent-versions_for": str(chosen.id),
        "consent-decision": "granted",
        "consent-wording_version": "1",
        "consent-channel": "paper_form",
        "consent-evidence": "Form 2026/0042",
    }
    data.update({f"consent-{name}": value for name, value in fields.items()})
    return {k: v for k, v in data.items() if v is not None}


def consent_section(html: str) -> str:
    match = re.search(r'<section id="consent-section".*?</section>', html, re.S)
    assert match, "no consent section on the page"
    return match.group(0)


def state_of(html: str, purpose) -> str:
    match = re.search(rf'<dd data-purpose="{purpose.id}">\s*<span[^>]*>([^<]+)</span>', html)
    assert match, "purpose not shown"
    return match.group(1)


# --- The current state ---------------------------------------------------------------------


def test_current_consent_is_the_latest_event_per_purpose(anna, email_purpose):
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    give(anna, email_purpose, True, datetime(2026, 1, 1))
    give(anna, email_purpose, False, datetime(2026, 2, 1))
    give(anna, sms, False, datetime(2026, 1, 1))
    give(anna, sms, True, datetime(2026, 3, 1))

    states = {row.purpose_id: row.state for row in consent.states(anna.id, "en")}
    assert states == {email_purpose.id: "withdrawn", sms.id: "granted"}


def test_events_at_the_same_moment_are_ordered_by_when_they_were_written(anna, email_purpose):
    moment = datetime(2026, 1, 1, 12)
    give(anna, email_purpose, False, moment)
    give(anna, email_purpose, True, moment)
    assert consent.states(anna.id, "en")[0].state == "granted"


def test_a_purpose_never_asked_says_so(anna, email_purpose):
    [row] = consent.states(anna.id, "en")
    assert (row.state, row.event) == ("never_asked", None)


def test_recording_a_withdrawal_leaves_the_earlier_grant_untouched(anna, email_purpose):
    grant = give(anna, email_purpose, True, datetime(2026, 1, 1), evidence="Form 1")
    before = ConsentEvent.select().where(ConsentEvent.id == grant.id).dicts().get()

    give(anna, email_purpose, False, datetime(2026, 2, 1), channel="verbal")

    assert ConsentEvent.select().where(ConsentEvent.id == grant.id).dicts().get() == before
    assert ConsentEvent.select().where(ConsentEvent.customer == anna.id).count() == 2


def test_the_domain_refuses_unknown_purpose_version_or_channel(anna, email_purpose):
    with pytest.raises(consent.ConsentError):
        give(anna, email_purpose, version=2)
    with pytest.raises(consent.ConsentError):
        give(anna, email_purpose, channel="carrier_pigeon")
    with pytest.raises(consent.ConsentError):
        consent.record(anna.id, 9999, granted=True, wording_version=1, channel="verbal")
    consent.set_active(email_purpose.id, False)
    with pytest.raises(consent.ConsentError):
        give(anna, email_purpose)
    assert ConsentEvent.select().count() == 0


# --- The profile section --------------------------------------------------------------------


def test_profile_shows_each_active_purpose_with_its_state_and_date(
    staff_client, anna, email_purpose
):
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    retired = make_purpose("partner_sharing", {"en": ("Partners", "Share with partners.")})
    consent.set_active(retired.id, False)
    give(anna, email_purpose, True, datetime(2026, 3, 14, 10))

    html = staff_client.get(profile_url(anna)).get_data(as_text=True)
    section = consent_section(html)
    assert state_of(section, email_purpose) == "Given"
    assert "Mar 14, 2026" in section
    assert state_of(section, sms) == "Never asked"
    assert "Partners" not in section


def test_the_form_shows_the_current_wording_in_the_customers_language(
    staff_client, anna, email_purpose
):
    consent.new_version(email_purpose.id, {**EMAIL_TEXTS, "pl": ("Oferty", "Nowa treść zgody.")})
    section = consent_section(staff_client.get(profile_url(anna)).get_data(as_text=True))
    assert 'value="2" selected' in section or 'selected value="2"' in section
    assert '<blockquote lang="pl"' in section and "Nowa treść zgody." in section
    assert "Zgadzam się na otrzymywanie ofert e-mailem." not in section


def test_choosing_an_older_version_shows_that_texts(staff_client, anna, email_purpose):
    consent.new_version(email_purpose.id, {**EMAIL_TEXTS, "pl": ("Oferty", "Nowa treść zgody.")})
    token = csrf_token_from(staff_client, profile_url(anna))
    data = consent_data(token, email_purpose, wording_version="1", show_wording="1")
    data["show_wording"] = "1"
    response = staff_client.post(consent_url(anna), data=data, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Zgadzam się na otrzymywanie ofert e-mailem." in html
    assert ConsentEvent.select().count() == 0


def test_changing_the_purpose_offers_that_purposes_current_wording(
    staff_client, anna, email_purpose
):
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    consent.new_version(sms.id, {"en": ("Text offers", "New SMS words.")})
    token = csrf_token_from(staff_client, profile_url(anna))
    # Version 1 was chosen for e-mail offers; then the purpose changes to SMS.
    data = {**consent_data(token, sms, versions_for=str(email_purpose.id)), "show_wording": "1"}
    html = staff_client.post(consent_url(anna), data=data, headers=HTMX).get_data(as_text=True)
    assert '<option selected value="2">Version 2 (current)</option>' in html
    assert "New SMS words." in html
    assert f'name="consent-versions_for" type="hidden" value="{sms.id}"' in html


def test_a_wording_missing_in_the_customers_language_falls_back_to_english(
    staff_client, email_purpose
):
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    olga = make_customer("Olga", "Ivanova", preferred_language="ru")
    token = csrf_token_from(staff_client, profile_url(olga))
    data = {**consent_data(token, sms), "show_wording": "1"}
    html = staff_client.post(consent_url(olga), data=data, headers=HTMX).get_data(as_text=True)
    assert '<blockquote lang="en"' in html and "I agree to receive offers by SMS." in html
    assert "no version in the customer's language" in html


def test_staff_record_a_grant_inline(staff_client, anna, email_purpose, staff_member):
    token = csrf_token_from(staff_client, profile_url(anna))
    response = staff_client.post(
        consent_url(anna), data=consent_data(token, email_purpose), headers=HTMX
    )
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    # A fresh form, and out of band the new state and a status message.
    assert html.lstrip().startswith('<form id="consent-form"')
    assert 'id="consent-current" data-hx-swap-oob="true"' in html
    assert state_of(html, email_purpose) == "Given"
    assert "Consent for “E-mail offers” recorded as given." in html

    event = ConsentEvent.get()
    assert (event.customer_id, event.purpose_id, event.granted) == (anna.id, email_purpose.id, True)
    assert (event.wording_version, event.channel, event.evidence) == (
        1,
        "paper_form",
        "Form 2026/0042",
    )
    assert (event.recorded_by_type, event.recorded_by_staff_id) == ("staff", staff_member.id)


def test_a_withdrawal_is_recorded_and_the_history_shows_both_newest_first(
    staff_client, anna, email_purpose, staff_member
):
    give(
        anna, email_purpose, True, datetime(2026, 1, 5), evidence="Form 7", staff_id=staff_member.id
    )
    token = csrf_token_from(staff_client, profile_url(anna))
    data = consent_data(token, email_purpose, decision="withdrawn", channel="verbal", evidence="")
    html = staff_client.post(consent_url(anna), data=data, headers=HTMX).get_data(as_text=True)
    assert state_of(html, email_purpose) == "Withdrawn"
    assert "Withdrawal of consent for “E-mail offers” recorded." in html

    page = staff_client.get(profile_url(anna)).get_data(as_text=True)
    history = re.search(r'<details class="consent-history">.*?</details>', page, re.S).group(0)
    assert "Consent history (2 events)" in history
    entries = re.findall(r'<li class="entry">.*?</li>', history, re.S)
    assert "Withdrawn" in entries[0] and "Said aloud (verbal)" in entries[0]
    assert "Given" in entries[1] and "Paper form in store" in entries[1]
    assert "wording version 1" in entries[1] and "Evidence: Form 7" in entries[1]
    assert "recorded by Sam Staff" in entries[1]


def test_without_javascript_a_recorded_consent_redirects_to_the_profile(
    staff_client, anna, email_purpose
):
    token = csrf_token_from(staff_client, profile_url(anna))
    response = staff_client.post(consent_url(anna), data=consent_data(token, email_purpose))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(profile_url(anna))
    assert state_of(staff_client.get(profile_url(anna)).get_data(as_text=True), email_purpose) == (
        "Given"
    )


def test_owners_record_consent_too(owner_client, anna, email_purpose):
    token = csrf_token_from(owner_client, profile_url(anna))
    response = owner_client.post(consent_url(anna), data=consent_data(token, email_purpose))
    assert response.status_code == 303
    assert ConsentEvent.select().count() == 1


def test_each_recorded_event_is_audited_with_ids_only(
    staff_client, anna, email_purpose, staff_member
):
    token = csrf_token_from(staff_client, profile_url(anna))
    staff_client.post(consent_url(anna), data=consent_data(token, email_purpose), headers=HTMX)
    event = ConsentEvent.get()
    audit = AuditEvent.get(AuditEvent.action == "consent_recorded")
    assert (audit.actor_type, audit.actor_id) == ("staff", staff_member.id)
    assert (audit.target_type, audit.target_id) == ("customer", anna.id)
    assert json.loads(audit.details) == {
        "purpose_id": email_purpose.id,
        "granted": True,
        "event_id": event.id,
    }
    assert "Form 2026" not in audit.details and "anna" not in audit.details.lower()


# --- Refusals --------------------------------------------------------------------------------

INVALID = [
    ({"purpose": "9999"}, "consent-purpose", "Choose one of the purposes listed."),
    ({"purpose": None}, "consent-purpose", "Choose one of the purposes listed."),
    ({"wording_version": "7"}, "consent-wording_version", "Choose a version of this purpose"),
    ({"wording_version": None}, "consent-wording_version", "Choose a version of this purpose"),
    ({"channel": "carrier_pigeon"}, "consent-channel", "Choose one of the ways listed."),
    ({"channel": "unsubscribe_link"}, "consent-channel", "Choose one of the ways listed."),
    ({"decision": None}, "consent-decision", "Choose whether the customer gave or withdrew"),
    ({"decision": "maybe"}, "consent-decision", "Choose whether the customer gave or withdrew"),
    ({"evidence": "x" * 501}, "consent-evidence", "Keep the evidence to 500 characters or fewer."),
]


@pytest.mark.parametrize(("fields", "field_id", "message"), INVALID)
def test_invalid_consent_is_refused_beside_the_field_and_nothing_is_saved(
    staff_client, anna, email_purpose, fields, field_id, message
):
    token = csrf_token_from(staff_client, profile_url(anna))
    audit_before = AuditEvent.select().count()
    response = staff_client.post(
        consent_url(anna), data=consent_data(token, email_purpose, **fields), headers=HTMX
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert error and message in error.group(1).replace("&#39;", "'")
    assert ConsentEvent.select().count() == 0
    assert AuditEvent.select().count() == audit_before


def test_invalid_consent_without_javascript_shows_the_profile_with_the_message(
    staff_client, anna, email_purpose
):
    token = csrf_token_from(staff_client, profile_url(anna))
    response = staff_client.post(
        consent_url(anna), data=consent_data(token, email_purpose, decision=None)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<h1 id="profile-name">Anna Nowak</h1>' in html
    assert 'id="consent-decision-error"' in html
    # What was typed is kept.
    assert 'value="Form 2026/0042"' in html
    assert ConsentEvent.select().count() == 0


def test_a_deactivated_purpose_cannot_be_recorded(staff_client, anna, email_purpose):
    token = csrf_token_from(staff_client, profile_url(anna))
    consent.set_active(email_purpose.id, False)
    response = staff_client.post(
        consent_url(anna), data=consent_data(token, email_purpose), headers=HTMX
    )
    assert response.status_code == 422
    assert ConsentEvent.select().count() == 0


def test_consent_needs_the_csrf_token(staff_client, anna, email_purpose):
    response = staff_client.post(
        consent_url(anna), data=consent_data("forged", email_purpose), headers=HTMX
    )
    assert response.status_code == 400
    assert ConsentEvent.select().count() == 0


def test_erased_customers_take_no_consent(staff_client, anna, email_purpose):
    token = csrf_token_from(staff_client, profile_url(anna))
    anna.erased_at = datetime(2026, 1, 1)
    anna.save()
    response = staff_client.post(consent_url(anna), data=consent_data(token, email_purpose))
    assert response.status_code == 404
    assert ConsentEvent.select().count() == 0


def test_wording_versions_are_never_rewritten(email_purpose):
    first = list(ConsentWording.select().where(ConsentWording.version == 1).dicts())
    consent.new_version(email_purpose.id, {"en": ("E-mail news", "New words.")})
    assert list(ConsentWording.select().where(ConsentWording.version == 1).dicts()) == first
    assert consent.versions_of(email_purpose.id) == [2, 1]


# --- Statistics --------------------------------------------------------------------------------


def test_statistics_count_current_states_over_active_customers(app, email_purpose):
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    granted, withdrawn, again, never = (make_customer(n, "Test") for n in "ABCD")
    erased = make_customer("E", "Erased", erased_at=datetime(2026, 1, 1))
    give(granted, email_purpose, True, datetime(2026, 1, 1))
    give(withdrawn, email_purpose, True, datetime(2026, 1, 1))
    give(withdrawn, email_purpose, False, datetime(2026, 1, 2))
    give(again, email_purpose, False, datetime(2026, 1, 1))
    give(again, email_purpose, True, datetime(2026, 1, 2))
    give(erased, email_purpose, True, datetime(2026, 1, 1))
    give(granted, sms, False, datetime(2026, 1, 1))

    assert consent.statistics("pl") == [
        {
            "purpose_id": email_purpose.id,
            "title": "Oferty e-mailem",
            "granted": 2,
            "withdrawn": 1,
            "never_asked": 1,
        },
        {
            "purpose_id": sms.id,
            "title": "Text message offers",
            "granted": 0,
            "withdrawn": 1,
            "never_asked": 3,
        },
    ]
    assert never.id  # counted among never asked


def test_statistics_partial_renders_a_table(app, email_purpose):
    from flask import render_template

    make_customer("Anna", "Nowak")
    with app.test_request_context("/"):
        html = render_template(
            "owner/privacy/_consent_statistics.html",
            consent_statistics=consent.statistics("en"),
        )
    assert '<th scope="row">E-mail offers</th>' in html
    assert html.count('<td class="num">') == 3


def test_without_javascript_show_wording_returns_the_profile_with_that_text(
    staff_client, anna, email_purpose
):
    consent.new_version(email_purpose.id, {**EMAIL_TEXTS, "pl": ("Oferty", "Nowa treść zgody.")})
    token = csrf_token_from(staff_client, profile_url(anna))
    data = {**consent_data(token, email_purpose, wording_version="1"), "show_wording": "1"}
    response = staff_client.post(consent_url(anna), data=data)
    assert response.status_code == 200
    section = consent_section(response.get_data(as_text=True))
    assert "Zgadzam się na otrzymywanie ofert e-mailem." in section
    assert ConsentEvent.select().count() == 0


def test_labels_cover_every_stored_channel():
    from portal.staff.consent_forms import CHANNELS

    assert set(CHANNELS) == set(ConsentEvent.CHANNELS)
    assert set(consent.STAFF_CHANNELS) < set(ConsentEvent.CHANNELS)
