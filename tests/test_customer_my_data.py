"""My data (SPEC 5): everything held about the signed-in customer, in their language, with
complaint replies but never staff's internal notes; each view audited."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal import complaints, consent
from portal.models import Address, AuditEvent, Purchase, PurchaseLine, utcnow
from tests.customer_signin import sign_in_customer
from tests.factories import make_customer

NOTE_MARKER = "INTERNAL-NOTE-7f3a"


@pytest.fixture
def anna(app):
    customer = make_customer(
        "Anna",
        "Nowak",
        email="anna@example.com",
        phone="+48600100200",
        tags=("regular",),
        source="vendor_list",
        source_detail="Spring fair list",
        external=True,
    )
    Address.create(
        customer=customer, line1="Długa 5", postal_code="00-001", city="Warszawa", country="PL"
    )
    return customer


def buy(customer, product: str, *, days_ago: int, receipt: str = ""):
    purchase = Purchase.create(
        customer=customer,
        purchased_at=utcnow() - timedelta(days=days_ago),
        receipt_number=receipt,
        total=Decimal("12.50"),
        currency="PLN",
    )
    PurchaseLine.create(
        purchase=purchase,
        product=product,
        quantity=1,
        unit_price=Decimal("12.50"),
        line_total=Decimal("12.50"),
    )
    return purchase


def test_my_data_shows_everything_held(app, client, anna):
    buy(anna, "Green tea 100 g", days_ago=3, receipt="R-1001")
    complaint = complaints.open_complaint(
        anna,
        subject="Teapot lid cracked",
        description="It cracked at first use.",
        channel="in_store",
        category="product_quality",
        severity="medium",
    )
    complaints.add_reply(complaint, "We will send a new lid.", staff_id=None)
    purpose = consent.create_purpose("newsletter", {"en": ("Newsletter", "News by e-mail.")})
    consent.record(anna.id, purpose.id, granted=True, wording_version=1, channel="paper_form")
    consent.record(anna.id, purpose.id, granted=False, wording_version=1, channel="web_form")

    sign_in_customer(client, anna)
    page = client.get("/me/").get_data(as_text=True)

    for expected in (
        "Anna Nowak",
        "anna@example.com",
        "+48600100200",
        "Długa 5",
        "regular",  # the shop's labels are data held about her too
        "List from a vendor",
        "Spring fair list",
        "outside list",  # external data not yet confirmed
        "R-1001",
        "Green tea 100 g",
        "Teapot lid cracked",
        "We will send a new lid.",
        "Newsletter",
        "Withdrawn",
        "Given",  # the history keeps the earlier grant
    ):
        assert expected in page, expected


def test_internal_notes_never_reach_the_customer(app, client, anna):
    complaint = complaints.open_complaint(
        anna,
        subject="Late delivery",
        description="",
        channel="email",
        category="delivery",
        severity="low",
    )
    complaints.add_note(complaint, f"Customer sounds difficult {NOTE_MARKER}", staff_id=None)
    complaints.add_reply(complaint, "Sorry, it ships today.", staff_id=None)
    sign_in_customer(client, anna)
    page = client.get("/me/").get_data(as_text=True)
    assert "Sorry, it ships today." in page
    assert NOTE_MARKER not in page


def test_purchases_are_newest_first_and_paged(app, client, anna):
    for n in range(25):
        buy(anna, f"Item {n:02d}", days_ago=n + 1)
    sign_in_customer(client, anna)
    first = client.get("/me/").get_data(as_text=True)
    assert first.index("Item 00") < first.index("Item 01")
    assert "Item 19" in first and "Item 20" not in first
    assert "?page=2" in first
    second = client.get("/me/?page=2").get_data(as_text=True)
    assert "Item 20" in second and "Item 24" in second and "Item 19" not in second


def test_each_view_is_audited_as_the_customer(app, client, anna):
    sign_in_customer(client, anna)
    client.get("/me/")
    client.get("/me/?page=2")
    events = list(AuditEvent.select().where(AuditEvent.action == "customer_data_viewed"))
    assert len(events) == 2
    for event in events:
        assert (event.actor_type, event.actor_id) == ("customer", anna.id)
        assert (event.target_type, event.target_id) == ("customer", anna.id)
        assert "anna" not in event.details.lower()  # ids only, no personal data


def test_my_data_reads_in_the_customers_language(app, client):
    zhang = make_customer(
        "伟", "张", order="family_first", email="wei@example.com", preferred_language="zh"
    )
    buy(zhang, "乌龙茶", days_ago=1)
    sign_in_customer(client, zhang)
    page = client.get("/me/").get_data(as_text=True)
    assert '<html lang="zh">' in page
    assert "张伟" in page and "乌龙茶" in page


def test_signed_out_visitor_gets_the_sign_in_page(app, client, anna):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/sign-in"
