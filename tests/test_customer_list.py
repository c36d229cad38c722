"""The customer list: filters, sorting, keyset paging, bulk tagging and segments."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape as html_escape

from portal import customer_list, search
from portal.customer_list import Filters
from portal.extensions import db
from portal.models import (
    Address,
    AuditEvent,
    ConsentEvent,
    ConsentPurpose,
    CustomerTag,
    Segment,
    Tag,
)
from tests.conftest import csrf_token_from
from tests.factories import make_customer


def names(rows):
    return [c.display_name for c in rows]


@pytest.fixture
def shop(app):
    now = datetime(2026, 11, 1)
    anna = make_customer(
        "Anna",
        "Nowak",
        purchase_count=3,
        lifetime_value=Decimal("620.00"),
        last_purchase_at=now - timedelta(days=10),
        tier="A",
        tags=["vip"],
    )
    Address.create(customer=anna, city="Warszawa")
    ivan = make_customer(
        "Иван",
        "Петров",
        purchase_count=1,
        lifetime_value=Decimal("80.00"),
        last_purchase_at=now - timedelta(days=200),
        tier="C",
    )
    Address.create(customer=ivan, city="Москва")
    wei = make_customer("伟", "张", order="family_first", tags=["vip"])  # a lead
    Address.create(customer=wei, city="Warszawa")
    purpose = ConsentPurpose.create(code="email_marketing")
    for who, granted, days_ago in ((anna, True, 30), (ivan, True, 30), (ivan, False, 5)):
        ConsentEvent.create(
            customer=who,
            purpose=purpose,
            wording_version=1,
            granted=granted,
            channel="web_form",
            occurred_at=now - timedelta(days=days_ago),
        )
    return {"anna": anna, "ivan": ivan, "wei": wei, "purpose": purpose}


def rows_for(**filters):
    rows, _ = customer_list.page(Filters(**filters))
    return set(names(rows))


def test_filters(shop):
    assert rows_for(kind="lead") == {"张伟"}
    assert rows_for(kind="customer") == {"Anna Nowak", "Иван Петров"}
    assert rows_for(tag="VIP ") == {"Anna Nowak", "张伟"}
    assert rows_for(tier="C") == {"Иван Петров"}
    assert rows_for(city="warszawa") == {"Anna Nowak", "张伟"}
    assert rows_for(min_spend=Decimal("100")) == {"Anna Nowak"}
    assert rows_for(max_spend=Decimal("100")) == {"Иван Петров", "张伟"}
    assert rows_for(purchased_since=datetime(2026, 9, 1).date()) == {"Anna Nowak"}
    assert rows_for(purchased_before=datetime(2026, 9, 1).date()) == {"Иван Петров"}
    assert rows_for(tag="vip", city="warszawa", kind="customer") == {"Anna Nowak"}


def test_consent_filter_uses_the_latest_event(shop):
    purpose = shop["purpose"].id
    assert rows_for(consent_purpose=purpose, consent_state="granted") == {"Anna Nowak"}
    assert rows_for(consent_purpose=purpose, consent_state="not_granted") == {"Иван Петров", "张伟"}
    assert rows_for(consent_purpose=purpose, consent_state="never_asked") == {"张伟"}


@pytest.mark.parametrize("sort", ["name", "newest", "spend", "activity"])
def test_keyset_paging_visits_everyone_once_in_order(app, sort):
    for i in range(23):
        make_customer(
            f"Person{i:02d}",
            "Same",
            lifetime_value=Decimal(i % 4),
        )
    seen, cursor = [], None
    while True:
        rows, cursor = customer_list.page(Filters(sort=sort), after=cursor, size=5)
        seen.extend(rows)
        if cursor is None:
            break
    assert len(seen) == 23 and len({c.id for c in seen}) == 23
    column, descending = customer_list.SORTS[sort]
    keys = [(getattr(c, column.name), c.id) for c in seen]
    assert keys == sorted(keys, reverse=descending)


def test_a_forged_cursor_starts_from_the_top(shop):
    rows, _ = customer_list.page(Filters(), after="not-a-cursor")
    assert len(rows) == 3


def test_list_page_shows_rows_and_needs_constant_queries(staff_client, shop):
    def queries_for_list():
        executed = []
        original = db.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            executed.append(sql)
            return original(sql, params, *args, **kwargs)

        db.obj.execute_sql = counting
        try:
            html = staff_client.get("/customers").get_data(as_text=True)
        finally:
            db.obj.execute_sql = original
        return html, len(executed)

    html, few = queries_for_list()
    assert "Anna Nowak" in html and "Москва" in html and "vip" in html
    for i in range(30):
        make_customer(f"Extra{i}", "Kowalski", tags=["x"])
    _, many = queries_for_list()
    assert many == few


def test_list_html_uses_keyset_links(staff_client, app):
    for i in range(55):
        make_customer(f"P{i:02d}", "Kowal")
    html = staff_client.get("/customers").get_data(as_text=True)
    assert 'rel="next"' in html and "after=" in html
    assert "offset" not in html.lower()


def test_invalid_filter_gets_a_message_beside_the_field(staff_client, shop):
    response = staff_client.get("/customers?min_spend=500&max_spend=10")
    html = response.get_data(as_text=True)
    assert 'id="max_spend-error"' in html
    assert "Anna Nowak" not in html
    html = staff_client.get("/customers?min_spend=abc").get_data(as_text=True)
    assert 'id="min_spend-error"' in html


def test_bulk_tagging(staff_client, shop):
    token = csrf_token_from(staff_client, "/customers")
    ids = [shop["anna"].id, shop["ivan"].id]
    response = staff_client.post(
        "/customers/bulk-tag", data={"csrf_token": token, "tag": "Newsletter", "customer_ids": ids}
    )
    assert response.status_code == 303
    tagged = {
        ct.customer_id for ct in CustomerTag.select().join(Tag).where(Tag.name == "newsletter")
    }
    assert tagged == set(ids)
    assert {c.display_name for c in search.find("newsletter").customers} == {
        "Anna Nowak",
        "Иван Петров",
    }
    event = AuditEvent.get(AuditEvent.action == "customers_tagged")
    assert "Anna" not in event.details


def test_bulk_tagging_without_a_tag_or_selection_changes_nothing(staff_client, shop):
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post(
        "/customers/bulk-tag",
        data={"csrf_token": token, "tag": "", "customer_ids": [shop["anna"].id]},
    )
    assert response.status_code == 422 and "Enter a tag." in response.get_data(as_text=True)
    response = staff_client.post("/customers/bulk-tag", data={"csrf_token": token, "tag": "x"})
    assert response.status_code == 422 and "Select at least one customer" in response.get_data(
        as_text=True
    )
    assert CustomerTag.select().count() == 2


def test_segments_are_saved_with_live_counts(staff_client, shop):
    token = csrf_token_from(staff_client, "/customers")
    filters = Filters(tag="vip", city="warszawa")
    response = staff_client.post(
        "/segments",
        data={"csrf_token": token, "name": "VIP in Warsaw", "filters": filters.to_json()},
    )
    assert response.status_code == 303
    page = staff_client.get("/segments").get_data(as_text=True)
    assert "VIP in Warsaw" in page and ">2<" in page
    make_customer("Ewa", "Lis", tags=["vip"]).addresses  # noqa: B018
    Address.create(customer=make_customer("Olga", "Sokół", tags=["vip"]), city="Warszawa")
    assert ">3<" in staff_client.get("/segments").get_data(as_text=True)
    assert Segment.get().filters == filters.to_json()


def test_segment_needs_a_name(staff_client, shop):
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post(
        "/segments", data={"csrf_token": token, "name": "", "filters": "{}"}
    )
    assert response.status_code == 422 and "Give the segment a name." in response.get_data(
        as_text=True
    )
    assert Segment.select().count() == 0


def test_count_is_capped(shop):
    assert customer_list.count(Filters(), cap=2) == 3
    assert customer_list.count(Filters(kind="lead")) == 1


def test_filtering_in_place_also_renews_the_filters_a_segment_is_saved_with(staff_client, shop):
    # HTMX swaps only the results after a filter change; the save-segment form must come
    # with them, or it would save the filters the page was first opened with.
    swapped = staff_client.get("/customers?tag=vip", headers={"HX-Request": "true"})
    html = swapped.get_data(as_text=True)
    assert 'action="/segments"' in html
    assert html_escape(Filters(tag="vip").to_json()) in html
