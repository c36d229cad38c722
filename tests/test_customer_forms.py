"""Staff create and edit customers: normalised contacts, search follows, audited by field name,
clear messages beside each invalid field, and a warning when the person is probably on file."""

import json
from datetime import date, timedelta

import pytest

from portal import customers, search
from portal.models import (
    Address,
    AuditEvent,
    ContactPoint,
    Customer,
    CustomerTag,
    Tag,
)
from tests.conftest import csrf_token_from
from tests.factories import make_customer

NEW = "/customers/new"
DUPLICATES = "/customers/likely-duplicates"


def form(token: str, **overrides) -> dict:
    """A complete, valid new-customer form as a browser posts it."""
    data = {
        "csrf_token": token,
        "given_name": "Łukasz",
        "family_name": "Wąsowski",
        "name_order": "given_first",
        "company": "",
        "email": "Lukasz.Wasowski@Poczta.Example",
        "phone": "601 555 012",
        "email2": "",
        "phone2": "",
        "address_line1": "ul. Długa 5",
        "address_line2": "",
        "postal_code": "00-238",
        "city": "Warszawa",
        "country": "PL",
        "preferred_channel": "email",
        "preferred_language": "pl",
        "birth_date": "1985-04-23",
        "gender_choice": "",
        "gender": "",
        "tags": "VIP,  Stały klient , vip",
        "note": "Prefers morning calls.",
        "source": "in_store",
        "source_detail": "",
    }
    data.update(overrides)
    return data


def row_counts() -> dict:
    return {
        model.__name__: model.select().count()
        for model in (Customer, ContactPoint, Address, Tag, CustomerTag, AuditEvent)
    }


def audit_details(action: str) -> dict:
    event = AuditEvent.select().where(AuditEvent.action == action).get()
    return json.loads(event.details)


def contact(customer, kind: str) -> ContactPoint:
    return (
        ContactPoint.select()
        .where((ContactPoint.customer == customer) & (ContactPoint.kind == kind))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .first()
    )


def tag_names(customer) -> list[str]:
    return sorted(
        link.tag.name for link in CustomerTag.select().where(CustomerTag.customer == customer)
    )


@pytest.mark.parametrize(
    "given, family, order, shown",
    [
        ("Anna", "Nowak", "given_first", "Anna Nowak"),
        ("伟", "张", "family_first", "张伟"),
        ("Anna", "Nagy", "family_first", "Nagy Anna"),
        ("Wei", "张", "family_first", "张 Wei"),
        ("", "Nowak", "given_first", "Nowak"),
        (" Иван ", "Петров", "given_first", "Иван Петров"),
    ],
)
def test_display_name_follows_the_names_own_order(given, family, order, shown):
    assert customers.display_name(given, family, order) == shown


# --- creating ----------------------------------------------------------------------------


def test_staff_member_creates_a_customer_typed_the_polish_way(staff_client, staff_member):
    response = staff_client.post(NEW, data=form(csrf_token_from(staff_client, NEW)))

    customer = Customer.get()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/customers/{customer.id}")
    assert customer.display_name == "Łukasz Wąsowski"
    assert customer.birth_date == date(1985, 4, 23)
    assert customer.preferred_language == "pl"
    phone = contact(customer, "phone")
    assert phone.normalized == "+48601555012" and phone.value == "+48 601 555 012"
    assert phone.is_primary
    email = contact(customer, "email")
    assert email.normalized == "lukasz.wasowski@poczta.example" and email.is_primary
    assert tag_names(customer) == ["stały klient", "vip"]
    address = Address.get(Address.customer == customer)
    assert (address.line1, address.postal_code, address.city, address.country) == (
        "ul. Długa 5",
        "00-238",
        "Warszawa",
        "PL",
    )
    event = AuditEvent.get(AuditEvent.action == "customer_created")
    assert (event.actor_type, event.actor_id, event.target_id) == (
        "staff",
        staff_member.id,
        customer.id,
    )


@pytest.mark.parametrize("query", ["lukasz wasow", "0601555012", "555 012", "poczta", "stały"])
def test_created_customer_is_found_by_search(staff_client, query):
    staff_client.post(NEW, data=form(csrf_token_from(staff_client, NEW)))
    assert [c.display_name for c in search.find(query).customers] == ["Łukasz Wąsowski"]


def test_creation_is_audited_with_field_names_only(staff_client):
    staff_client.post(NEW, data=form(csrf_token_from(staff_client, NEW)))

    details = audit_details("customer_created")
    assert {"given_name", "family_name", "email", "phone", "city", "tags"} <= set(details["fields"])
    raw = AuditEvent.get(AuditEvent.action == "customer_created").details.lower()
    for value in ("łukasz", "wąsowski", "poczta", "601", "warszawa", "vip", "1985"):
        assert value not in raw


def test_chinese_name_written_family_first_is_shown_without_a_space(staff_client):
    data = form(
        csrf_token_from(staff_client, NEW),
        given_name="伟",
        family_name="张",
        name_order="family_first",
        phone="+86 138 1234 5678",
        preferred_language="zh",
    )
    assert staff_client.post(NEW, data=data).status_code == 303
    customer = Customer.get()
    assert customer.display_name == "张伟"
    assert contact(customer, "phone").normalized == "+8613812345678"
    assert [c.id for c in search.find("伟").customers] == [customer.id]


def test_second_email_and_phone_are_kept_as_secondary_contacts(staff_client):
    data = form(
        csrf_token_from(staff_client, NEW), email2="lukasz@firma.example", phone2="+48 22 123 45 67"
    )
    staff_client.post(NEW, data=data)
    points = ContactPoint.select().order_by(ContactPoint.kind, ContactPoint.is_primary.desc())
    assert [(p.kind, p.normalized, p.is_primary) for p in points] == [
        ("email", "lukasz.wasowski@poczta.example", True),
        ("email", "lukasz@firma.example", False),
        ("phone", "+48601555012", True),
        ("phone", "+48221234567", False),
    ]


def test_gender_prefer_not_to_say_is_stored_as_such(staff_client):
    data = form(csrf_token_from(staff_client, NEW), gender_choice="prefer_not_to_say")
    staff_client.post(NEW, data=data)
    assert Customer.get().gender == customers.GENDER_UNDISCLOSED


def test_new_customer_form_asks_for_likely_duplicates_while_typing(staff_client):
    html = staff_client.get(NEW).get_data(as_text=True)
    assert 'aria-live="polite"' in html
    assert f'data-hx-get="{DUPLICATES}"' in html
    assert 'data-hx-trigger="input changed delay:300ms from:(#given_name, #family_name' in html
    assert 'data-hx-include="#given_name, #family_name, #email' in html
    assert 'data-hx-target="this"' in html
    assert '<option selected value="PL">' in html  # the shop's region is preselected


def test_anonymous_visitor_is_sent_to_sign_in(client, app):
    customer = make_customer()
    for path in (NEW, f"/customers/{customer.id}/edit", DUPLICATES + "?given_name=Anna"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- invalid input ------------------------------------------------------------------------


INVALID = [
    ("email", {"email": "lukasz@"}, "Enter an e-mail address like name@example.com."),
    ("email2", {"email2": "no at sign"}, "Enter an e-mail address like name@example.com."),
    ("phone", {"phone": "call me"}, "Enter the phone number in digits, e.g. +48 512 345 678."),
    (
        "phone",
        {"phone": "601 555"},
        "This phone number is not valid for Poland; include the country code, "
        "e.g. +48 512 345 678.",
    ),
    (
        "phone2",
        {"phone2": "+44 20 12"},
        "This phone number is not valid for United Kingdom; check the country code and the digits.",
    ),
    (
        "given_name",
        {"given_name": "", "family_name": ""},
        "Enter a given name, a family name, or both.",
    ),
    ("given_name", {"given_name": "Ł" * 201}, "Use at most 200 characters."),
    ("family_name", {"family_name": "x" * 201}, "Use at most 200 characters."),
    (
        "birth_date",
        # Three days ahead: this list is built at collection and a run may cross midnight.
        {"birth_date": (date.today() + timedelta(days=3)).isoformat()},
        "A birth date cannot be in the future.",
    ),
    (
        "birth_date",
        {"birth_date": "23.04.1985"},
        "Enter the date as year-month-day, e.g. 1985-04-23.",
    ),
    ("tags", {"tags": "ok, " + "t" * 61}, "Each tag can have at most 60 characters"),
    (
        "preferred_channel",
        {"email": "", "preferred_channel": "email"},
        "E-mail is the preferred channel: enter an e-mail address, or choose another channel.",
    ),
    (
        "gender",
        {"gender_choice": "self_described", "gender": ""},
        "Write the gender in the customer's own words, or choose another option.",
    ),
]


@pytest.mark.parametrize(
    "field, overrides, message", INVALID, ids=[f"{f}-{i}" for i, (f, *_) in enumerate(INVALID)]
)
def test_invalid_field_gets_its_message_beside_it_and_nothing_is_written(
    staff_client, field, overrides, message
):
    make_customer("Anna", "Nowak", email="anna@example.com")
    before = row_counts()

    response = staff_client.post(NEW, data=form(csrf_token_from(staff_client, NEW), **overrides))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no message beside {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert f'aria-describedby="{field}-error"' in html or f'{field}-hint {field}-error"' in html
    assert row_counts() == before


def test_typed_text_in_a_message_is_escaped(staff_client):
    tag = "<script>alert(1)</script>" + "x" * 40
    data = form(csrf_token_from(staff_client, NEW), tags=tag)
    html = staff_client.post(NEW, data=data).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_invalid_form_keeps_what_was_typed(staff_client):
    data = form(csrf_token_from(staff_client, NEW), email="lukasz@")
    html = staff_client.post(NEW, data=data).get_data(as_text=True)
    assert 'value="Łukasz"' in html and 'value="601 555 012"' in html


# --- editing --------------------------------------------------------------------------------


@pytest.fixture
def anna(app):
    customer = make_customer(
        "Anna", "Nowak", email="anna.nowak@example.com", phone="+48601555012", tags=["vip"]
    )
    Address.create(customer=customer, line1="ul. Polna 1", city="Kraków", country="PL")
    return customer


def edit_path(customer) -> str:
    return f"/customers/{customer.id}/edit"


def test_prefer_not_to_say_is_shown_as_chosen_when_editing(staff_client, anna):
    Customer.update(gender=customers.GENDER_UNDISCLOSED).where(Customer.id == anna.id).execute()
    html = staff_client.get(edit_path(anna)).get_data(as_text=True)
    assert '<option selected value="prefer_not_to_say">' in html
    assert 'value="prefer_not_to_say"' not in html.split('id="gender"', 1)[1].split(">", 1)[0]


def test_edit_form_shows_the_current_values(staff_client, anna):
    html = staff_client.get(edit_path(anna)).get_data(as_text=True)
    assert 'value="Anna"' in html and 'value="anna.nowak@example.com"' in html
    assert 'value="+48601555012"' in html and 'value="Kraków"' in html and 'value="vip"' in html
    assert f"exclude={anna.id}" in html


def edit_form(client, customer, **overrides) -> dict:
    values = customers.form_values(customer)
    values["birth_date"] = values["birth_date"].isoformat() if values["birth_date"] else ""
    return form(csrf_token_from(client, edit_path(customer)), **{**values, **overrides})


def test_staff_member_edits_a_customer_and_the_search_follows(staff_client, staff_member, anna):
    data = edit_form(
        staff_client,
        anna,
        family_name="Kowalska",
        email="Anna.Kowalska@Example.com",
        city="Gdańsk",
        tags="vip, newsletter",
    )

    response = staff_client.post(edit_path(anna), data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/customers/{anna.id}")
    customer = Customer.get_by_id(anna.id)
    assert customer.display_name == "Anna Kowalska"
    assert contact(customer, "email").normalized == "anna.kowalska@example.com"
    assert contact(customer, "phone").normalized == "+48601555012"  # untouched
    assert Address.get(Address.customer == anna).city == "Gdańsk"
    assert tag_names(customer) == ["newsletter", "vip"]
    assert [c.id for c in search.find("kowalska").customers] == [anna.id]
    assert search.find("anna.nowak").customers == []
    assert ContactPoint.select().count() == 2


def test_edit_is_audited_with_changed_field_names_and_no_values(staff_client, staff_member, anna):
    data = edit_form(staff_client, anna, family_name="Kowalska", email="anna.k@example.com")
    staff_client.post(edit_path(anna), data=data)

    event = AuditEvent.get(AuditEvent.action == "customer_updated")
    assert (event.actor_type, event.actor_id, event.target_type, event.target_id) == (
        "staff",
        staff_member.id,
        "customer",
        anna.id,
    )
    assert json.loads(event.details) == {"fields": ["family_name", "email"]}
    for value in ("kowalska", "anna.k@example.com", "nowak", "anna"):
        assert value not in event.details.lower()


def test_saving_without_changes_records_no_audit_event(staff_client, anna):
    response = staff_client.post(edit_path(anna), data=edit_form(staff_client, anna))
    assert response.status_code == 303
    assert not AuditEvent.select().where(AuditEvent.action == "customer_updated").exists()


def test_clearing_the_second_phone_and_address_removes_them(staff_client, anna):
    staff_client.post(
        edit_path(anna), data=edit_form(staff_client, anna, phone2="+48 22 123 45 67")
    )
    assert ContactPoint.select().where(ContactPoint.kind == "phone").count() == 2

    data = edit_form(
        staff_client, anna, phone2="", address_line1="", postal_code="", city="", country=""
    )
    staff_client.post(edit_path(anna), data=data)

    assert ContactPoint.select().where(ContactPoint.kind == "phone").count() == 1
    assert not Address.select().where(Address.customer == anna).exists()
    assert audit_details("customer_updated") != {}


def test_invalid_edit_changes_nothing(staff_client, anna):
    before = row_counts()
    data = edit_form(staff_client, anna, family_name="Kowalska", email="not-an-address")

    response = staff_client.post(edit_path(anna), data=data)

    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert Customer.get_by_id(anna.id).family_name == "Nowak"
    assert row_counts() == before


def test_editing_an_unknown_or_erased_customer_is_not_found(staff_client, anna):
    assert staff_client.get("/customers/999999/edit").status_code == 404
    Customer.update(erased_at=anna.created_at).where(Customer.id == anna.id).execute()
    assert staff_client.get(edit_path(anna)).status_code == 404


def test_owner_can_edit_too(owner_client, anna):
    response = owner_client.post(
        edit_path(anna), data=edit_form(owner_client, anna, company="ACME")
    )
    assert response.status_code == 303
    assert Customer.get_by_id(anna.id).company == "ACME"


# --- likely duplicates -----------------------------------------------------------------------


@pytest.fixture
def on_file(app):
    return {
        "same_email": make_customer("Zofia", "Lis", email="z.lis@example.com"),
        "same_phone": make_customer("Piotr", "Zieliński", phone="+48601555012"),
        "similar_name": make_customer("Lukasz", "Wasowski"),
        "unrelated": make_customer(
            "Ivan", "Petrov", email="ivan@example.com", phone="+79161234567"
        ),
    }


def duplicates(client, **params) -> str:
    response = client.get(DUPLICATES, query_string=params, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_likely_duplicates_list_same_email_phone_and_similar_name(staff_client, on_file):
    html = duplicates(
        staff_client,
        given_name="Łukasz",
        family_name="Wąsowsky",
        email=" Z.Lis@Example.com ",
        phone="601 555 012",
    )
    assert "<html" not in html  # only the partial
    for key in ("same_email", "same_phone", "similar_name"):
        customer = on_file[key]
        assert f'href="/customers/{customer.id}"' in html
        assert customer.display_name in html
    assert "z.lis@example.com" in html and "+48601555012" in html
    assert "same e-mail" in html and "same phone" in html and "similar name" in html
    assert "Petrov" not in html and f"/customers/{on_file['unrelated'].id}" not in html


def test_likely_duplicates_match_a_name_in_the_other_order(staff_client, on_file):
    html = duplicates(staff_client, given_name="Wasowski", family_name="Lukasz")
    assert f'href="/customers/{on_file["similar_name"].id}"' in html


def test_no_likely_duplicates_for_a_new_person(staff_client, on_file):
    html = duplicates(
        staff_client, given_name="Maria", family_name="Curie", email="m@curie.example"
    )
    assert html.strip() == ""


def test_likely_duplicates_leave_out_the_customer_being_edited(staff_client, on_file):
    customer = on_file["same_email"]
    html = duplicates(staff_client, given_name="Zofia", family_name="Lis", exclude=customer.id)
    assert f"/customers/{customer.id}" not in html


def test_likely_duplicates_skip_erased_customers(staff_client, on_file):
    customer = on_file["same_email"]
    Customer.update(erased_at=customer.created_at).where(Customer.id == customer.id).execute()
    assert duplicates(staff_client, email="z.lis@example.com").strip() == ""


def test_likely_duplicates_for_chinese_names(staff_client, app):
    zhang = make_customer("伟", "张", order="family_first")
    make_customer("玮", "张", order="family_first")
    html = duplicates(staff_client, given_name="伟", family_name="张")
    assert f'href="/customers/{zhang.id}"' in html
    assert html.count("<li>") == 1


# --- languages --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["pl", "ru", "zh"])
def test_invalid_email_message_is_in_the_users_language(staff_client, language):
    headers = {"Accept-Language": language}
    token = csrf_token_from(staff_client, NEW)
    response = staff_client.post(NEW, data=form(token, email="lukasz@"), headers=headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'lang="{language}"' in html
    message = html.split('id="email-error">', 1)[1].split("</p>", 1)[0]
    assert message.strip() and "Enter an e-mail address" not in message


@pytest.mark.parametrize("language", ["pl", "ru", "zh"])
def test_invalid_phone_message_is_in_the_users_language(staff_client, language):
    headers = {"Accept-Language": language}
    token = csrf_token_from(staff_client, NEW)
    response = staff_client.post(NEW, data=form(token, phone="601 555"), headers=headers)
    message = response.get_data(as_text=True).split('id="phone-error">', 1)[1].split("</p>", 1)[0]
    assert "This phone number is not valid" not in message
