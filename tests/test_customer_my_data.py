"""My data (SPEC 5): everything held about the signed-in customer, in their language, with
complaint replies but never staff's internal notes; the messages campaigns and automations
sent them (issue 10); each view audited."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal import complaints, consent, merge
from portal.models import (
    Address,
    AuditEvent,
    Customer,
    OutgoingMessage,
    Purchase,
    PurchaseLine,
    utcnow,
)
from tests.customer_signin import sign_in_customer
from tests.factories import make_customer
from tests.test_customer_download import campaign_messages

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


def messages_section(page: str) -> str:
    return page[page.index('id="messages-heading"') :]


def test_my_data_lists_the_messages_sent_with_unsubscribes(app, client, anna):
    campaign_messages(anna)
    sign_in_customer(client, anna)
    section = messages_section(client.get("/me/").get_data(as_text=True))
    assert "Messages we sent you" in section
    rows = section.split("<tr>")[2:]  # after the heading row, oldest first
    assert len(rows) == 3
    assert "Spring tea 春茶" in rows[0] and "Offers by e-mail" in rows[0]
    assert "Yes, on Mar 4, 2026" in rows[0]  # unsubscribed through it
    assert "Birthday wishes" in rows[1] and "your mail server refused it" in rows[1]
    assert "Tasting evening reminder" in rows[2] and "Service message" in rows[2]
    # Never sent: skipped (consent withdrawn) and still queued.
    assert "Skipped sale" not in section and "Queued news" not in section
    assert "mailbox unavailable" not in section


def test_my_data_says_when_no_messages_were_sent(app, client, anna):
    sign_in_customer(client, anna)
    section = messages_section(client.get("/me/").get_data(as_text=True))
    assert "We have sent you no campaign or automatic messages." in section


def test_a_message_left_on_a_merged_record_is_still_shown(app, client, anna):
    """Both records got the same campaign: after the merge the duplicate keeps its message
    (one per occasion), and the survivor's page shows both."""
    campaign_messages(anna)
    twin = make_customer("Anna", "Nowak", email="anna.nowak@example.net")
    spring = OutgoingMessage.get(OutgoingMessage.occasion == "campaign:spring")
    OutgoingMessage.create(
        customer=twin,
        campaign=spring.campaign,
        purpose=spring.purpose,
        occasion="campaign:spring",
        status="sent",
        created_at=utcnow() - timedelta(days=1),
        sent_at=utcnow() - timedelta(days=1),
    )
    merge.merge(anna, twin, set(), staff_id=None)
    assert OutgoingMessage.select().where(OutgoingMessage.customer == twin.id).count() == 1
    sign_in_customer(client, Customer.get_by_id(anna.id))
    section = messages_section(client.get("/me/").get_data(as_text=True))
    assert section.count("Spring tea 春茶") == 2
