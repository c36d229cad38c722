"""The demo generator: deterministic, in four languages and scripts, valid contact data, and
denormalised figures that agree with the purchases they summarise."""

import random
import unicodedata
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal

import phonenumbers
import pytest
from peewee import fn

from portal import demo, settings
from portal.models import (
    Address,
    Complaint,
    ComplaintMessage,
    ComplaintStatusChange,
    ConsentEvent,
    ConsentPurpose,
    ConsentWording,
    ContactPoint,
    Customer,
    CustomerTag,
    Interaction,
    Purchase,
    PurchaseLine,
    Tag,
)
from tests.conftest import csrf_token_from

TODAY = date(2026, 6, 1)  # a fixed reference day, so timestamps repeat too
COUNTRIES = {"en": {"GB", "US"}, "pl": {"PL"}, "ru": {"RU"}, "zh": {"CN"}}
POLISH_LETTERS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def generate(customers: int = 200, seed: int = 7, **options) -> dict[str, int]:
    return demo.generate(customers, seed=seed, today=TODAY, **options)


def snapshot() -> dict[str, list]:
    """Everything that makes the generated people who they are, in id order."""
    return {
        "customers": list(
            Customer.select(
                Customer.id,
                Customer.given_name,
                Customer.family_name,
                Customer.display_name,
                Customer.birth_date,
                Customer.created_at,
                Customer.lifetime_value,
            )
            .order_by(Customer.id)
            .tuples()
        ),
        "contacts": list(
            ContactPoint.select(
                ContactPoint.customer,
                ContactPoint.kind,
                ContactPoint.value,
                ContactPoint.normalized,
            )
            .order_by(ContactPoint.id)
            .tuples()
        ),
        "addresses": list(
            Address.select(Address.customer, Address.line1, Address.postal_code, Address.city)
            .order_by(Address.id)
            .tuples()
        ),
        "purchases": list(
            Purchase.select(Purchase.receipt_number, Purchase.purchased_at, Purchase.total)
            .order_by(Purchase.id)
            .tuples()
        ),
    }


def wipe_generated_rows() -> None:
    for model in (
        ConsentEvent,
        ComplaintStatusChange,
        ComplaintMessage,
        Complaint,
        Interaction,
        PurchaseLine,
        Purchase,
        CustomerTag,
        Address,
        ContactPoint,
        Customer,
    ):
        model.delete().execute()


def test_same_seed_gives_the_same_people_and_another_seed_does_not(app):
    generate(seed=7)
    first = snapshot()
    wipe_generated_rows()
    generate(seed=7)
    assert snapshot() == first
    assert len(first["customers"]) == 200

    wipe_generated_rows()
    generate(seed=8)
    assert snapshot()["customers"] != first["customers"]


def test_all_four_languages_and_scripts_are_there(app):
    generate()
    customers = list(Customer.select())
    languages = Counter(c.preferred_language for c in customers)
    assert set(languages) == {"en", "pl", "ru", "zh"}
    assert min(languages.values()) >= 25, languages  # roughly even: 50 each expected

    for customer in customers:
        if customer.preferred_language == "zh":
            assert customer.name_order == "family_first"
            assert customer.display_name == customer.family_name + customer.given_name
            assert all(
                unicodedata.name(ch).startswith("CJK UNIFIED") for ch in customer.display_name
            )
        else:
            assert customer.name_order == "given_first"
            assert customer.display_name == f"{customer.given_name} {customer.family_name}"
        if customer.preferred_language == "ru":
            assert any("CYRILLIC" in unicodedata.name(ch) for ch in customer.display_name)

    polish_names = [c.display_name for c in customers if c.preferred_language == "pl"]
    assert any(POLISH_LETTERS & set(name) for name in polish_names)


def test_phones_are_valid_for_the_customers_country_and_stored_in_e164(app):
    generate()
    phones = list(
        ContactPoint.select(ContactPoint, Customer)
        .join(Customer)
        .where(ContactPoint.kind == "phone")
    )
    assert len(phones) > 100
    for phone in phones:
        number = phonenumbers.parse(phone.normalized)
        assert phonenumbers.is_valid_number(number), phone.normalized
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        assert phone.normalized == e164
        assert phone.value == national
        region = phonenumbers.region_code_for_number(number)
        assert region in COUNTRIES[phone.customer.preferred_language]


@pytest.mark.parametrize("country", sorted(demo.PHONES))
def test_every_phone_range_yields_valid_numbers(country):
    rng = random.Random(country)
    for _ in range(300):
        shown, e164 = demo.PHONES[country].number(rng)
        number = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(number), e164
        assert phonenumbers.region_code_for_number(number) == country
        assert shown == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def test_emails_are_normalised_and_cannot_reach_real_mailboxes(app):
    generate()
    emails = list(ContactPoint.select().where(ContactPoint.kind == "email"))
    assert len(emails) > 100
    for email in emails:
        assert email.normalized == email.value.lower()
        local, domain = email.normalized.split("@")
        assert local and domain.endswith(".example")


def test_denormalised_figures_equal_the_purchases(app):
    generate()
    figures = {
        row.customer_id: row
        for row in Purchase.select(
            Purchase.customer,
            fn.SUM(Purchase.total).alias("spent"),
            fn.COUNT(Purchase.id).alias("count"),
            fn.MAX(Purchase.purchased_at).alias("last"),
        ).group_by(Purchase.customer)
    }
    customers = list(Customer.select())
    buyers = sum(1 for c in customers if c.purchase_count)
    assert 0.5 <= buyers / len(customers) <= 0.8
    for customer in customers:
        bought = figures.get(customer.id)
        if bought is None:
            assert (customer.purchase_count, customer.lifetime_value) == (0, 0)
            assert customer.last_purchase_at is None
            continue
        assert customer.purchase_count == bought.count
        # SQLite sums money as REAL, PostgreSQL as NUMERIC: compare in cents.
        assert customer.lifetime_value == Decimal(str(bought.spent)).quantize(Decimal("0.01"))
        assert customer.last_purchase_at == Purchase.purchased_at.python_value(bought.last)
        assert customer.created_at <= customer.last_purchase_at <= customer.last_activity_at


def test_each_purchase_total_is_the_sum_of_its_lines(app):
    generate()
    lines_by_purchase = {}
    for line in PurchaseLine.select():
        assert line.line_total == (line.quantity * line.unit_price).quantize(line.unit_price)
        lines_by_purchase.setdefault(line.purchase_id, []).append(line)
    purchases = list(Purchase.select())
    assert purchases
    for purchase in purchases:
        lines = lines_by_purchase[purchase.id]
        assert 1 <= len(lines) <= 4
        assert purchase.total == sum(line.line_total for line in lines)
        assert purchase.currency == "EUR"  # the settings' default
        assert purchase.receipt_number == f"R-{purchase.purchased_at.year}-{purchase.id:06d}"


def test_currency_comes_from_settings_unless_given(app):
    settings.put("currency", "PLN")
    generate(customers=30)
    assert {p.currency for p in Purchase.select()} == {"PLN"}
    generate(customers=30, currency="GBP")
    assert {p.currency for p in Purchase.select()} == {"PLN", "GBP"}


def test_complaints_consent_and_tags_tell_a_consistent_story(app, staff_member):
    generate(customers=600)

    complaints = list(Complaint.select())
    assert len({c.status for c in complaints}) >= 4
    assert {m.kind for m in ComplaintMessage.select()} == {"reply", "internal_note"}
    for complaint in complaints:
        assert complaint.due_at > complaint.opened_at
        if complaint.status != "new":
            assert complaint.assignee_id == staff_member.id
            assert complaint.first_responded_at >= complaint.opened_at
        if complaint.status == "closed":
            assert complaint.closed_at >= complaint.resolved_at >= complaint.first_responded_at

    purposes = {p.code: p for p in ConsentPurpose.select()}
    assert set(purposes) == {"email_marketing", "sms_marketing", "profiling", "partner_sharing"}
    wordings = Counter(
        w.purpose_id for w in ConsentWording.select().where(ConsentWording.version == 1)
    )
    assert all(wordings[p.id] == 4 for p in purposes.values())
    assert {e.granted for e in ConsentEvent.select()} == {True, False}

    # A "newsletter" tag is only ever on someone whose latest e-mail consent is a grant.
    newsletter = Tag.get(Tag.name == "newsletter")
    tagged = [ct.customer_id for ct in CustomerTag.select().where(CustomerTag.tag == newsletter)]
    assert tagged
    for customer_id in tagged:
        latest = (
            ConsentEvent.select()
            .where(
                ConsentEvent.customer == customer_id,
                ConsentEvent.purpose == purposes["email_marketing"],
            )
            .order_by(ConsentEvent.occurred_at.desc())
            .first()
        )
        assert latest.granted


def test_a_second_call_adds_more_customers_and_normal_inserts_still_work(app):
    first = generate(customers=50)
    assert first["customers"] == 50
    # Ids were assigned by the generator: the database must still hand out fresh ones.
    walk_in = Customer.create(display_name="Walk-in Customer")
    second = generate(customers=50)
    assert second["customers"] == 50
    assert "locations" not in second  # reference rows are reused, not duplicated
    assert Customer.select().count() == 101
    assert Customer.create(display_name="Another Walk-in").id > walk_in.id
    names = [c.display_name for c in Customer.select().order_by(Customer.id)]
    assert names[:50] != names[51:101]  # new people, not the same seed replayed


def test_flask_demo_command_generates_and_reports_counts(app):
    result = app.test_cli_runner().invoke(args=["demo", "--customers", "50"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Generated 50 customers" in result.output
    assert "purchases" in result.output
    assert Customer.select().count() == 50
    # the printed demo owner can sign in with the printed password
    owner_line = next(line for line in result.output.splitlines() if line.startswith("Demo owner:"))
    email, password = owner_line.removeprefix("Demo owner: ").split("  password: ")
    client = app.test_client()
    token = csrf_token_from(client)
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303
    # run again with --if-empty: nothing added, the same credentials printed
    again = app.test_cli_runner().invoke(args=["demo", "--customers", "50", "--if-empty"])
    assert "skipped" in again.output and owner_line in again.output
    assert Customer.select().count() == 50


def test_demo_campaigns_tell_a_consistent_story(app):
    """The demo's newsletters went only to people who had e-mail consent and an address; each
    unsubscribe-link withdrawal is attached to the newsletter it came from; `flask demo` adds
    them once."""
    from portal import campaigns, contact_lists, demo_messages
    from portal.models import Automation, Campaign, ConsentEvent, ConsentPurpose, OutgoingMessage

    generate(customers=600)
    counts = demo_messages.add(reference=datetime.combine(TODAY, time()))
    assert counts["campaigns"] == 4 and counts["automations"] == 3
    assert demo_messages.add() == {}  # once

    purpose = ConsentPurpose.get(ConsentPurpose.code == "email_marketing")
    consenting = set(contact_lists.included_ids(purpose, "email"))
    sent = [c for c in Campaign.select() if c.status == "sent"]
    assert len(sent) == 3
    unsubscribed = 0
    for campaign in sent:
        figures = campaigns.figures(campaign)
        assert figures.sent + figures.failed == figures.recipients > 0
        for message in campaign.messages:
            if message.unsubscribed_at is None:
                assert message.customer_id in consenting
                continue
            unsubscribed += 1
            event = ConsentEvent.get(
                (ConsentEvent.customer == message.customer_id)
                & (ConsentEvent.channel == "unsubscribe_link")
            )
            assert campaign.started_at < event.occurred_at
    assert unsubscribed > 0
    assert OutgoingMessage.select().where(OutgoingMessage.status == "queued").count() == 0
    assert not Automation.select().where(Automation.active).exists()
