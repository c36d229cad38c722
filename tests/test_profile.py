"""The customer profile: contact card, figures and history; purchases and interactions
recorded inline; every view audited; the page costs the same number of queries however long
the history is."""

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal import history
from portal.extensions import db
from portal.models import (
    Address,
    AuditEvent,
    Complaint,
    Customer,
    Interaction,
    Location,
    Purchase,
    PurchaseLine,
    SensitiveIdentifier,
    utcnow,
)
from portal.staff import profile_forms
from tests.conftest import csrf_token_from
from tests.factories import make_customer

HTMX = {"HX-Request": "true"}
DAY = timedelta(days=1)


@pytest.fixture
def anna(app):
    customer = make_customer(
        "Anna",
        "Nowak",
        email="anna.nowak@example.com",
        phone="+48601234567",
        tags=("green tea", "newsletter"),
        note="Prefers loose-leaf tea.",
        tier="A",
        preferred_channel="sms",
        preferred_language="pl",
        source="vendor_list",
        source_detail="Tea fair 2025",
        external=True,
    )
    Address.create(
        customer=customer, line1="ul. Długa 5", postal_code="00-238", city="Warszawa", country="PL"
    )
    SensitiveIdentifier.create(
        customer=customer, kind="tax_number", ciphertext=b"sealed", key_id="k1", last_four="4821"
    )
    return customer


def profile_url(customer) -> str:
    return f"/customers/{customer.id}"


def buy(customer, at: datetime, price="10.00", product="Sencha"):
    return history.record_purchase(
        customer, [(product, Decimal("1"), Decimal(price))], purchased_at=at, channel="store"
    )


def purchase_data(token: str, lines=(), **fields) -> dict:
    """The purchase form as a browser posts it (field names carry the form's prefix)."""
    data = {
        "purchase-csrf_token": token,
        "purchase-purchased_at": "2026-03-14T09:30",
        "purchase-channel": "store",
        "purchase-receipt_number": "R-77",
    }
    for index, (product, quantity, price) in enumerate(lines):
        data[f"purchase-lines-{index}-product"] = product
        data[f"purchase-lines-{index}-quantity"] = quantity
        data[f"purchase-lines-{index}-unit_price"] = price
    data.update({f"purchase-{name}": value for name, value in fields.items()})
    return data


def interaction_data(token: str, **fields) -> dict:
    data = {
        "interaction-csrf_token": token,
        "interaction-occurred_at": "2026-03-14T10:05",
        "interaction-direction": "in",
        "interaction-channel": "call",
        "interaction-summary": "Asked whether the new harvest of sencha has arrived.",
    }
    data.update({f"interaction-{name}": value for name, value in fields.items()})
    return data


def entry_ids(html: str) -> list[str]:
    return re.findall(r'<li class="entry entry-\w+" id="(entry-\w+)"', html)


def figures_box(html: str) -> str:
    match = re.search(r'<section id="profile-figures".*?</section>', html, re.S)
    assert match, "no figures box in the response"
    return match.group(0)


# --- The page --------------------------------------------------------------------------


def test_profile_shows_contact_card_figures_and_history(staff_client, anna, staff_member):
    buy(anna, datetime(2026, 2, 1, 10), price="45.50", product="Gyokuro")
    history.record_interaction(
        anna,
        occurred_at=datetime(2026, 2, 3, 11),
        direction="out",
        channel="call",
        summary="Called about the tasting evening.",
        staff_id=staff_member.id,
    )
    Complaint.create(
        customer=anna,
        subject="Tin arrived dented",
        status="in_progress",
        opened_at=datetime(2026, 2, 5),
    )

    response = staff_client.get(profile_url(anna))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="profile-name">Anna Nowak</h1>' in html
    assert "Tier A" in html
    assert f'href="/customers/{anna.id}/edit"' in html
    # contact card
    assert "anna.nowak@example.com" in html and 'href="tel:+48601234567"' in html
    assert "ul. Długa 5" in html and "00-238 Warszawa" in html and "Poland" in html
    assert "SMS" in html and "Polski" in html
    assert "List from a vendor: Tea fair 2025" in html
    assert "External data, not yet confirmed" in html
    assert "green tea" in html and "Prefers loose-leaf tea." in html
    # identifiers masked, never more than the last four
    assert "•••• 4821" in html and "sealed" not in html
    # figures
    box = figures_box(html)
    assert "€45.50" in box and ">1<" in box and "Customer" in box and "Feb 1, 2026" in box
    # history, newest first
    assert entry_ids(html) == ["entry-c1", "entry-i1", "entry-p1"]
    assert "Tin arrived dented" in html and "In progress" in html
    assert "Called about the tasting evening." in html and "by Sam Staff" in html
    assert "Gyokuro" in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_lead_without_history_reads_well(staff_client, app):
    lead = make_customer("伟", "张", order="family_first")
    html = staff_client.get(profile_url(lead)).get_data(as_text=True)
    assert '<h1 id="profile-name">张伟</h1>' in html
    box = figures_box(html)
    assert "Lead" in box and "€0.00" in box and "None yet" in box
    assert "No purchases, interactions or complaints yet." in html
    assert "Show older" not in html


def test_each_profile_view_is_audited_once_without_personal_data(staff_client, anna, staff_member):
    staff_client.get(profile_url(anna))
    staff_client.get(profile_url(anna))

    views = list(AuditEvent.select().where(AuditEvent.action == "customer_viewed"))
    assert len(views) == 2
    for event in views:
        assert (event.actor_type, event.actor_id) == ("staff", staff_member.id)
        assert (event.target_type, event.target_id) == ("customer", anna.id)
        assert json.loads(event.details) == {}
        for personal in ("Anna", "Nowak", "anna.nowak", "48601234567", "Warszawa", "4821"):
            assert personal not in event.details


def test_owners_use_the_profile_too(owner_client, anna):
    assert owner_client.get(profile_url(anna)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, anna):
    token = csrf_token_from(client, "/sign-in")
    for response in (
        client.get(profile_url(anna)),
        client.get(profile_url(anna) + "/timeline"),
        client.post(
            profile_url(anna) + "/purchases", data=purchase_data(token, [("Tea", "1", "2")])
        ),
        client.post(profile_url(anna) + "/interactions", data=interaction_data(token)),
    ):
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert not Purchase.select().exists() and not Interaction.select().exists()


def test_unknown_and_erased_customers_are_not_found(staff_client, anna):
    gone = make_customer("Erased", "Person", erased_at=utcnow())
    token = csrf_token_from(staff_client, "/")
    for customer_id in (gone.id, 999_999):
        url = f"/customers/{customer_id}"
        assert staff_client.get(url).status_code == 404
        assert staff_client.get(url + "/timeline", headers=HTMX).status_code == 404
        lines = [("Sencha", "1", "10")]
        post = staff_client.post(url + "/purchases", data=purchase_data(token, lines))
        assert post.status_code == 404
        post = staff_client.post(url + "/interactions", data=interaction_data(token))
        assert post.status_code == 404
    assert not Purchase.select().exists() and not Interaction.select().exists()
    assert not AuditEvent.select().where(AuditEvent.target_id == gone.id).exists()


# --- Recording a purchase --------------------------------------------------------------


def test_purchase_of_two_lines_is_recorded_inline(staff_client, anna, staff_member):
    buy(anna, datetime(2026, 1, 10, 12), price="20.00")
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Green tea", "2", "12.50"), ("Teapot", "1", "40")])
    data["purchase-total"] = "0.01"  # whatever a client claims, the server adds up the lines
    data["total"] = "0.01"

    response = staff_client.post(profile_url(anna) + "/purchases", data=data, headers=HTMX)

    assert response.status_code == 200
    purchase = Purchase.select().order_by(Purchase.id.desc()).get()
    assert purchase.total == Decimal("65.00") and purchase.currency == "EUR"
    assert purchase.receipt_number == "R-77" and purchase.recorded_by_id == staff_member.id
    assert purchase.purchased_at == datetime(2026, 3, 14, 9, 30)
    lines = [
        (line.product, line.quantity, line.unit_price, line.line_total)
        for line in PurchaseLine.select().where(PurchaseLine.purchase == purchase)
    ]
    assert lines == [
        ("Green tea", Decimal("2"), Decimal("12.50"), Decimal("25.00")),
        ("Teapot", Decimal("1"), Decimal("40.00"), Decimal("40.00")),
    ]
    fresh = Customer.get_by_id(anna.id)
    assert fresh.lifetime_value == Decimal("85.00") and fresh.purchase_count == 2
    assert fresh.last_purchase_at == datetime(2026, 3, 14, 9, 30)

    html = response.get_data(as_text=True)
    box = figures_box(html)
    assert 'data-hx-swap-oob="true"' in box
    assert "€85.00" in box and ">2<" in box and "Mar 14, 2026" in box
    assert '<div id="timeline" data-hx-swap-oob="true">' in html
    # status, figures and history swap out of band, nothing nested inside them
    assert html.count("data-hx-swap-oob") == 3
    assert entry_ids(html)[0] == f"entry-p{purchase.id}"
    assert "Teapot" in html and "€65.00" in html
    assert "Purchase of €65.00 recorded." in html
    # and a fresh, empty form to record the next one
    assert '<form id="purchase-form"' in html
    assert re.search(r'<input[^>]*name="purchase-lines-0-product"[^>]*value=""', html)


def test_times_are_typed_in_the_business_time_zone_and_stored_in_utc(app, staff_client, anna):
    app.extensions["babel"].default_timezone = "Europe/Warsaw"  # TIMEZONE=Europe/Warsaw
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Sencha", "1", "5")], purchased_at="2026-01-14T09:30")

    html = staff_client.post(profile_url(anna) + "/purchases", data=data, headers=HTMX).get_data(
        as_text=True
    )

    assert Purchase.get().purchased_at == datetime(2026, 1, 14, 8, 30)  # winter: UTC+1
    assert '<time datetime="2026-01-14T08:30:00Z">1/14/26, 9:30' in html


def test_plain_form_post_redirects_to_the_profile(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Sencha", "1", "9.90")])

    response = staff_client.post(profile_url(anna) + "/purchases", data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(profile_url(anna))
    assert Customer.get_by_id(anna.id).lifetime_value == Decimal("9.90")


@pytest.mark.parametrize(
    "lines, field, message",
    [
        ([], None, "Enter at least one line with a product and a price."),
        ([("", "", "")], None, "Enter at least one line with a product and a price."),
        ([("Sencha", "1", "-5")], "lines-0-unit_price", "The unit price cannot be negative."),
        ([("Sencha", "0", "5")], "lines-0-quantity", "Enter a quantity greater than 0."),
        ([("Sencha", "-1", "5")], "lines-0-quantity", "Enter a quantity greater than 0."),
        ([("", "2", "5")], "lines-0-product", "Enter the product for this line."),
        (
            [("Sencha", "1", "5"), ("", "", "3")],
            "lines-1-product",
            "Enter the product for this line.",
        ),
        ([("Sencha", "1", "")], "lines-0-unit_price", "Enter the unit price (0 for a free item)."),
        (
            [("Sencha", "1", "ten")],
            "lines-0-unit_price",
            "Enter the price as a number, like 12.50.",
        ),
        ([("Sencha", "1", "1.999")], "lines-0-unit_price", "Use at most 2 decimal places"),
    ],
)
def test_invalid_purchase_comes_back_with_messages_and_writes_nothing(
    staff_client, anna, lines, field, message
):
    token = csrf_token_from(staff_client, profile_url(anna))

    response = staff_client.post(
        profile_url(anna) + "/purchases", data=purchase_data(token, lines), headers=HTMX
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<form id="purchase-form"' in html
    assert "profile-figures" not in html  # only the form comes back
    if field:
        error = re.search(rf'<p class="error" id="purchase-{field}-error">([^<]*)</p>', html)
        assert error and message in error.group(1)
        assert f'aria-describedby="purchase-{field}-error"' in html
        assert "autofocus" in html
    else:
        assert message in html
    assert not Purchase.select().exists() and not PurchaseLine.select().exists()
    fresh = Customer.get_by_id(anna.id)
    assert (fresh.lifetime_value, fresh.purchase_count, fresh.last_purchase_at) == (0, 0, None)


def test_invalid_purchase_without_htmx_shows_the_page_with_its_messages(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Sencha", "0", "5")])

    response = staff_client.post(profile_url(anna) + "/purchases", data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<h1" in html and "Enter a quantity greater than 0." in html
    assert not Purchase.select().exists()


def test_purchase_dated_in_the_future_is_refused(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    later = (utcnow() + 3 * DAY).strftime("%Y-%m-%dT%H:%M")
    data = purchase_data(token, [("Sencha", "1", "5")], purchased_at=later)

    response = staff_client.post(profile_url(anna) + "/purchases", data=data, headers=HTMX)

    assert response.status_code == 422
    assert "This date is in the future." in response.get_data(as_text=True)
    assert not Purchase.select().exists()


def test_add_a_line_returns_the_form_with_one_more_line_and_keeps_what_was_typed(
    staff_client, anna
):
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Sencha", "2", "9.90"), ("Matcha", "", "")], add_line="1")
    data["add_line"] = "1"

    response = staff_client.post(profile_url(anna) + "/purchases", data=data, headers=HTMX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="purchase-lines-2-product"' in html
    assert 'value="Sencha"' in html and 'value="Matcha"' in html
    new_box = re.search(r'<input[^>]*id="purchase-lines-2-product"[^>]*>', html).group(0)
    assert "autofocus" in new_box
    assert 'class="error"' not in html
    assert not Purchase.select().exists()


def test_decimal_comma_is_understood_in_polish(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Herbata", "1,5", "12,40"), ("Dzbanek", "1", "1 250,00")])

    response = staff_client.post(
        profile_url(anna) + "/purchases",
        data=data,
        headers={**HTMX, "Accept-Language": "pl"},
    )

    assert response.status_code == 200
    assert Purchase.get().total == Decimal("1268.60")  # 1.5 × 12.40 = 18.60, plus 1,250.00


def test_a_comma_in_english_only_groups_thousands(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    refused = purchase_data(token, [("Teapot", "1", "12,5")])

    response = staff_client.post(profile_url(anna) + "/purchases", data=refused, headers=HTMX)

    assert response.status_code == 422  # never read as 125
    assert "Enter the price as a number, like 12.50." in response.get_data(as_text=True)
    grouped = purchase_data(token, [("Samovar", "1", "1,250.50")])
    staff_client.post(profile_url(anna) + "/purchases", data=grouped, headers=HTMX)
    assert Purchase.get().total == Decimal("1250.50")


def test_figures_add_up_with_stale_customer_objects(anna):
    # Two requests holding their own copy of the customer must both be counted.
    first, second = Customer.get_by_id(anna.id), Customer.get_by_id(anna.id)
    buy(first, datetime(2026, 3, 1), price="10.00")
    buy(second, datetime(2026, 2, 1), price="5.25")  # older: the last purchase stays March

    fresh = Customer.get_by_id(anna.id)
    assert fresh.lifetime_value == Decimal("15.25") and fresh.purchase_count == 2
    assert fresh.last_purchase_at == datetime(2026, 3, 1)
    assert second.lifetime_value == Decimal("15.25")  # the caller's object is refreshed


def test_the_domain_refuses_what_the_form_would(anna):
    for lines in ([], [("", 1, 1)], [("Tea", 0, 1)], [("Tea", 1, -1)]):
        with pytest.raises(history.InvalidHistory):
            history.record_purchase(anna, lines, purchased_at=utcnow(), channel="store")
    assert not Purchase.select().exists()


def test_location_can_be_chosen_when_the_business_has_locations(staff_client, anna):
    shop = Location.create(name="Old Town shop")
    html = staff_client.get(profile_url(anna)).get_data(as_text=True)
    assert "Old Town shop" in html
    token = csrf_token_from(staff_client, profile_url(anna))
    data = purchase_data(token, [("Sencha", "1", "5")], location=str(shop.id))

    staff_client.post(profile_url(anna) + "/purchases", data=data, headers=HTMX)

    assert Purchase.get().location_id == shop.id


# --- Recording an interaction ----------------------------------------------------------


def test_interaction_is_recorded_inline(staff_client, anna, staff_member):
    token = csrf_token_from(staff_client, profile_url(anna))

    response = staff_client.post(
        profile_url(anna) + "/interactions", data=interaction_data(token), headers=HTMX
    )

    assert response.status_code == 200
    interaction = Interaction.get()
    assert (interaction.direction, interaction.channel, interaction.staff_id) == (
        "in",
        "call",
        staff_member.id,
    )
    assert interaction.occurred_at == datetime(2026, 3, 14, 10, 5)
    html = response.get_data(as_text=True)
    assert entry_ids(html) == [f"entry-i{interaction.id}"]
    assert "Asked whether the new harvest of sencha has arrived." in html
    assert "Interaction recorded." in html and '<form id="interaction-form"' in html
    assert 'data-hx-swap-oob="true"' in figures_box(html)


def test_interaction_without_summary_is_refused(staff_client, anna):
    token = csrf_token_from(staff_client, profile_url(anna))
    data = interaction_data(token, summary="   ")

    response = staff_client.post(profile_url(anna) + "/interactions", data=data, headers=HTMX)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="interaction-summary-error"' in html and "Write what was said or done." in html
    assert not Interaction.select().exists()


def test_interaction_moves_last_activity_on_but_never_back(anna):
    before = Customer.get_by_id(anna.id).last_activity_at
    history.record_interaction(
        anna, occurred_at=before - 30 * DAY, direction="in", channel="note", summary="Old note"
    )
    assert Customer.get_by_id(anna.id).last_activity_at == before
    later = before + timedelta(minutes=1)
    history.record_interaction(
        anna, occurred_at=later, direction="out", channel="email", summary="Sent the price list"
    )
    assert Customer.get_by_id(anna.id).last_activity_at == later


# --- The timeline ----------------------------------------------------------------------


def test_timeline_pages_through_45_purchases_a_page_at_a_time(staff_client, anna):
    start = datetime(2025, 1, 1, 9)
    for day in range(45):
        buy(anna, start + day * DAY)

    html = staff_client.get(profile_url(anna)).get_data(as_text=True)
    pages = [entry_ids(html)]
    while cursor := re.search(r'name="before" value="([^"]+)"', html):
        html = staff_client.get(
            profile_url(anna) + "/timeline",
            query_string={"before": cursor.group(1)},
            headers=HTMX,
        ).get_data(as_text=True)
        pages.append(entry_ids(html))

    assert history.PAGE_SIZE == 10
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    seen = [entry for page in pages for entry in page]
    ids_newest_first = [
        f"entry-p{p.id}"
        for p in Purchase.select().order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
    ]
    assert seen == ids_newest_first and len(set(seen)) == 45
    # the last page replaces the "Show older" control with nothing
    assert '<div id="timeline-more" class="timeline-more" data-hx-swap-oob="true">' in html


def test_timeline_merges_kinds_and_breaks_ties_without_losing_entries(anna):
    moment = datetime(2026, 1, 1, 12)
    for _ in range(7):  # many entries at exactly the same moment, of every kind
        buy(anna, moment)
        history.record_interaction(
            anna, occurred_at=moment, direction="in", channel="note", summary="Same moment"
        )
        Complaint.create(customer=anna, subject="Same moment", opened_at=moment)
    buy(anna, moment + DAY)

    seen, cursor = [], None
    while True:
        entries, cursor = history.timeline(anna.id, before=cursor, limit=4)
        seen.extend((entry.kind, entry.record.id) for entry in entries)
        if cursor is None:
            break
        assert history.Cursor.parse(str(cursor)) == cursor

    everything, _ = history.timeline(anna.id, limit=100)
    assert seen == [(entry.kind, entry.record.id) for entry in everything]
    assert len(seen) == len(set(seen)) == 22
    assert seen[0] == ("purchase", 8)
    assert [entry.at for entry in everything] == sorted(
        (entry.at for entry in everything), reverse=True
    )


def test_timeline_shows_purchase_lines_loaded_in_one_query(anna, monkeypatch):
    for day in range(30):
        history.record_purchase(
            anna,
            [("Sencha", Decimal("1"), Decimal("5")), ("Cup", Decimal("2"), Decimal("3"))],
            purchased_at=datetime(2026, 1, 1) + day * DAY,
            channel="store",
        )
    statements = count_statements(monkeypatch)
    entries, cursor = history.timeline(anna.id)
    assert len(entries) == history.PAGE_SIZE and cursor is not None
    assert all([line.product for line in entry.lines] == ["Sencha", "Cup"] for entry in entries)
    assert len(statements) == 4  # purchases, interactions, complaints, lines


def test_a_cursor_that_is_not_one_is_refused(staff_client, anna):
    response = staff_client.get(
        profile_url(anna) + "/timeline", query_string={"before": "1 OR 1=1"}, headers=HTMX
    )
    assert response.status_code == 400


def test_older_history_without_javascript_is_the_profile_from_that_point(staff_client, anna):
    for day in range(25):
        buy(anna, datetime(2025, 1, 1) + day * DAY)
    first = staff_client.get(profile_url(anna)).get_data(as_text=True)
    cursor = re.search(r'name="before" value="([^"]+)"', first).group(1)

    response = staff_client.get(profile_url(anna) + "/timeline", query_string={"before": cursor})

    html = response.get_data(as_text=True)
    assert "<h1" in html and len(entry_ids(html)) == history.PAGE_SIZE  # entries 11 to 20
    assert "Back to the newest entries" in html
    assert AuditEvent.select().where(AuditEvent.action == "customer_viewed").count() == 2


def test_loading_older_history_is_audited(staff_client, anna):
    for day in range(25):
        buy(anna, datetime(2025, 1, 1) + day * DAY)
    first = staff_client.get(profile_url(anna)).get_data(as_text=True)
    cursor = re.search(r'name="before" value="([^"]+)"', first).group(1)

    staff_client.get(profile_url(anna) + "/timeline", query_string={"before": cursor}, headers=HTMX)

    details = [
        json.loads(e.details)
        for e in AuditEvent.select()
        .where(AuditEvent.action == "customer_viewed")
        .order_by(AuditEvent.id)
    ]
    assert details == [{}, {"part": "timeline"}]


# --- Cost ------------------------------------------------------------------------------


def count_statements(monkeypatch) -> list[str]:
    """Record every SQL statement the app sends from now on (both engines)."""
    statements = []
    real = db.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", counting)
    return statements


def profile_statements(client, customer, monkeypatch) -> int:
    client.get(profile_url(customer))  # warm up: the first request reads things once
    statements = count_statements(monkeypatch)
    assert client.get(profile_url(customer)).status_code == 200
    count = len(statements)
    monkeypatch.undo()
    return count


def test_profile_queries_do_not_grow_with_the_number_of_purchases(staff_client, monkeypatch):
    few, many = make_customer("Few", "Purchases"), make_customer("Many", "Purchases")
    for customer, count in ((few, 5), (many, 60)):
        for day in range(count):
            history.record_purchase(
                customer,
                [("Sencha", Decimal("1"), Decimal("5")), ("Cup", Decimal("2"), Decimal("3"))],
                purchased_at=datetime(2025, 1, 1) + day * DAY,
                channel="store",
            )
            history.record_interaction(
                customer,
                occurred_at=datetime(2025, 1, 1, 12) + day * DAY,
                direction="in",
                channel="call",
                summary="Called",
            )

    assert profile_statements(staff_client, few, monkeypatch) == profile_statements(
        staff_client, many, monkeypatch
    )


def test_labels_cover_every_stored_code():
    assert set(profile_forms.PURCHASE_CHANNELS) == set(Purchase.CHANNELS)
    assert set(profile_forms.INTERACTION_CHANNELS) == set(Interaction.CHANNELS)
    assert set(profile_forms.DIRECTIONS) == set(Interaction.DIRECTIONS)
    assert set(profile_forms.CUSTOMER_CHANNELS) == set(Customer.CHANNELS)
    assert set(profile_forms.SOURCES) == set(Customer.SOURCES)
    assert set(profile_forms.IDENTIFIER_KINDS) == set(SensitiveIdentifier.KINDS)
    assert set(profile_forms.COMPLAINT_STATUSES) == set(Complaint.STATUSES)
    assert set(profile_forms.SEVERITIES) == set(Complaint.SEVERITIES)
