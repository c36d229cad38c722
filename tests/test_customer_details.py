"""Correct (SPEC 5): the customer edits their contact details and preferences with the staff
form's validation; nothing is saved on error; the change is audited as theirs and staff see it."""

import json

import pytest

from portal import customers
from portal.models import Address, AuditEvent, ContactPoint, Customer
from tests.conftest import csrf_token_from, sign_in
from tests.factories import make_customer
from tests.test_customer_download import sign_in_customer

URL = "/me/details"


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna@example.com", tags=("vip",), note="Likes tea")


def form_of(client, **changes) -> dict:
    """The details form as the page fills it for this customer, with some fields changed."""
    data = {
        "csrf_token": csrf_token_from(client, URL),
        "given_name": "Anna",
        "family_name": "Nowak",
        "name_order": "given_first",
        "email": "anna@example.com",
        "email2": "",
        "phone": "",
        "phone2": "",
        "address_line1": "",
        "address_line2": "",
        "postal_code": "",
        "city": "",
        "country": "",
        "preferred_channel": "email",
        "preferred_language": "en",
    }
    data.update(changes)
    return data


def test_the_form_shows_the_customers_current_details(client, anna):
    sign_in_customer(client, anna)
    html = client.get(URL).get_data(as_text=True)
    assert 'value="anna@example.com"' in html
    assert 'value="Nowak"' in html
    # What only staff edit is not offered to the customer.
    assert 'name="tags"' not in html and 'name="note"' not in html


def test_a_correction_is_saved_audited_as_the_customers_and_keeps_the_rest(client, anna):
    sign_in_customer(client, anna)
    response = client.post(
        URL,
        data=form_of(
            client,
            email="anna.nowak@example.com",
            phone="512 345 678",
            address_line1="ul. Długa 5",
            city="Kraków",
            preferred_channel="sms",
            preferred_language="pl",
        ),
    )
    assert response.status_code == 303
    saved = Customer.get_by_id(anna.id)
    assert (saved.preferred_channel, saved.preferred_language) == ("sms", "pl")
    contacts = {
        p.kind: p.normalized for p in ContactPoint.select().where(ContactPoint.customer == anna.id)
    }
    assert contacts == {"email": "anna.nowak@example.com", "phone": "+48512345678"}
    assert Address.get(Address.customer == anna.id).city == "Kraków"
    # Fields the customer cannot edit are untouched.
    assert saved.note == "Likes tea"
    assert customers.form_values(saved)["tags"] == "vip"

    event = AuditEvent.get(AuditEvent.action == "customer_updated")
    assert (event.actor_type, event.actor_id) == ("customer", anna.id)
    assert (event.target_type, event.target_id) == ("customer", anna.id)
    fields = json.loads(event.details)["fields"]
    assert fields == [
        "email",
        "phone",
        "address_line1",
        "city",
        "preferred_channel",
        "preferred_language",
    ]
    # Field names only: never the new values.
    assert "Kraków" not in event.details and "anna.nowak" not in event.details


@pytest.mark.parametrize(
    ("language", "changes", "field", "message"),
    [
        (
            "en",
            {"email": "not-an-address"},
            "email",
            "Enter an e-mail address like name@example.com.",
        ),
        ("en", {"phone": "12"}, "phone", "This phone number is not valid"),
        (
            "en",
            {"given_name": "", "family_name": ""},
            "given_name",
            "Enter a given name, a family name, or both.",
        ),
        (
            "en",
            {"email": "", "preferred_channel": "email"},
            "preferred_channel",
            "E-mail is the preferred channel",
        ),
        ("en", {"preferred_channel": "post"}, "preferred_channel", "Post is the preferred channel"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_saves_nothing(
    client, anna, language, changes, field, message
):
    sign_in_customer(client, anna, language)
    before = customers.form_values(Customer.get_by_id(anna.id))
    response = client.post(URL, data=form_of(client, city="Warszawa", **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert customers.form_values(Customer.get_by_id(anna.id)) == before
    assert not AuditEvent.select().where(AuditEvent.action == "customer_updated").exists()


def test_messages_are_in_the_customers_language(client, anna):
    sign_in_customer(client, anna, "pl")
    polish = client.post(URL, data=form_of(client, email="nope")).get_data(as_text=True)
    assert "Wpisz adres e-mail w formacie name@example.com." in polish


def test_without_csrf_nothing_is_saved(client, anna):
    sign_in_customer(client, anna)
    data = form_of(client, city="Gdańsk", address_line1="Mariacka 1")
    del data["csrf_token"]
    assert client.post(URL, data=data).status_code in (400, 422)
    assert not Address.select().where(Address.customer == anna.id).exists()


def test_staff_see_the_new_values_and_the_audit_log_shows_who_changed_them(
    app, client, anna, owner
):
    sign_in_customer(client, anna)
    client.post(URL, data=form_of(client, phone="+48 601 234 567", preferred_channel="phone"))

    staff = app.test_client()
    assert sign_in(staff, owner).status_code == 303
    profile = staff.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "+48 601 234 567" in profile
    log = staff.get("/owner/audit?action=customer_updated").get_data(as_text=True)
    assert "Changed a customer" in log
    assert "phone, preferred_channel" in log
    assert "A customer (self-service)" in log or "customer" in log.lower()


def test_a_customer_edits_only_their_own_record(client, anna):
    other = make_customer("Bartosz", "Zieliński", email="bartosz@example.com")
    sign_in_customer(client, anna)
    # Nothing in the URL or form names a customer: the session decides whose record it is.
    client.post(
        URL, data=form_of(client, city="Łódź", address_line1="Piotrkowska 1", customer_id=other.id)
    )
    assert Address.get(Address.customer == anna.id).city == "Łódź"
    assert not Address.select().where(Address.customer == other.id).exists()
    assert Customer.get_by_id(other.id).display_name == "Bartosz Zieliński"


def test_details_need_a_customer_session(client, anna):
    assert client.get(URL).status_code == 302
    # Refused before any form is read (CSRF first, then the session): nothing changes.
    assert client.post(URL, data={"city": "X"}).status_code in (302, 400)
    assert not Address.select().exists()


def test_a_staff_session_does_not_open_the_customer_details(staff_client, anna):
    response = staff_client.get(URL)
    assert response.status_code == 302
    assert "/me/sign-in" in response.headers["Location"]
