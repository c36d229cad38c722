"""The purchase forecast (issue 10, part 5): expected next purchase from each customer's own
rhythm, and a churn-risk flag when that date has slipped by more than one more interval."""

import csv
import io
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal import customer_list, forecast, history
from portal.customer_list import Filters
from portal.models import AuditEvent, Customer, ExportJob, utcnow
from portal.owner.export_forms import filters_from
from tests.conftest import csrf_token_from
from tests.factories import make_customer

NOW = datetime(2026, 11, 1, 12, 0)


def buy(customer, *days_ago):
    for days in days_ago:
        history.record_purchase(
            customer,
            [("Tea", Decimal("1"), Decimal("10.00"))],
            purchased_at=NOW - timedelta(days=days),
        )


def reloaded(customer):
    return Customer.get_by_id(customer.id)


def test_a_regular_customer_is_expected_one_interval_after_the_last_purchase(app):
    regular = make_customer("Anna", "Nowak")
    buy(regular, 70, 40, 10)  # every 30 days
    summary = forecast.refresh(now=NOW)
    anna = reloaded(regular)
    assert anna.expected_next_purchase_at == NOW + timedelta(days=20)
    assert not anna.churn_risk
    assert summary.forecast == 1 and summary.at_risk == 0


def test_a_customer_far_past_their_rhythm_is_at_risk(app):
    drifting = make_customer("Jan", "Kowalski")
    buy(drifting, 200, 170, 140)  # every 30 days, last 140 days ago: due 110 days ago
    on_time = make_customer("Ewa", "Lis")
    buy(on_time, 100, 50)  # every 50 days, due now
    summary = forecast.refresh(now=NOW)
    assert reloaded(drifting).churn_risk
    assert not reloaded(on_time).churn_risk
    assert summary.at_risk == 1


def test_the_grace_is_at_least_thirty_days(app):
    weekly = make_customer("Olga", "Ivanova")
    buy(weekly, 60, 53, 46)  # every 7 days, due 39 days ago: more than 30 days late
    just_late = make_customer("Piotr", "Zielinski")
    buy(just_late, 34, 27, 20)  # due 13 days ago: more than 7, less than 30 days late
    forecast.refresh(now=NOW)
    assert reloaded(weekly).churn_risk
    assert not reloaded(just_late).churn_risk


def test_one_purchase_borrows_the_shop_s_median_interval(app):
    buy(make_customer("A", "One"), 80, 40, 0)  # 40 days
    buy(make_customer("B", "Two"), 60, 0)  # 60 days
    buy(make_customer("C", "Three"), 100, 50, 0)  # 50 days
    newcomer = make_customer("Wei", "Zhang")
    buy(newcomer, 10)
    forecast.refresh(now=NOW)
    assert reloaded(newcomer).expected_next_purchase_at == NOW + timedelta(days=40)


def test_customers_without_purchases_have_no_forecast(app):
    lead = make_customer("Lead", "Only")
    Customer.update(expected_next_purchase_at=NOW, churn_risk=True).where(
        Customer.id == lead.id
    ).execute()
    summary = forecast.refresh(now=NOW)
    lead = reloaded(lead)
    assert lead.expected_next_purchase_at is None and not lead.churn_risk
    assert summary.forecast == 0


def test_the_command_reports_what_it_did(app):
    buy(make_customer("Jan", "Kowalski"), 400, 370)
    result = app.test_cli_runner().invoke(args=["forecast"])
    assert result.exit_code == 0, result.output
    assert "Forecast 1 customers, 1 at risk" in result.output


# --- On the profile, in the list, in segments and exports -----------------------------------


@pytest.fixture
def shop(app):
    """Jan and Wei are drifting away; Anna comes back on time; Lena has never bought."""
    jan = make_customer("Jan", "Kowalski")
    buy(jan, 200, 170, 140)  # every 30 days, expected 110 days ago
    anna = make_customer("Anna", "Nowak")
    buy(anna, 70, 40, 10)  # every 30 days, expected in 20 days
    wei = make_customer("伟", "张", order="family_first")
    buy(wei, 300)  # once; the shop's median interval is 30 days
    lena = make_customer("Lena", "Lead")
    forecast.refresh(now=NOW)
    return {"jan": jan, "anna": anna, "wei": wei, "lena": lena}


def figures_box(client, customer) -> str:
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    return re.search(r'<section id="profile-figures".*?</section>', html, re.S).group(0)


def test_profile_says_when_a_drifting_customer_was_expected_and_why(staff_client, shop):
    box = figures_box(staff_client, shop["jan"])
    assert "Expected next purchase" in box and "Jul 14, 2026" in box
    assert "At risk of not coming back" in box
    assert "Usually buys every 30 days; was expected by Jul 14, 2026<" in box


def test_a_one_time_buyer_at_risk_is_measured_by_the_shop_s_rhythm(staff_client, shop):
    box = figures_box(staff_client, shop["wei"])
    assert "At risk of not coming back" in box
    assert "Usually buys" not in box  # one purchase is no rhythm of their own
    assert (
        "repeat customers here buy about every 30 days, so was expected back by Feb 4, 2026" in box
    )


def test_profile_of_a_regular_shows_the_expected_date_and_no_alarm(staff_client, shop):
    box = figures_box(staff_client, shop["anna"])
    assert "Expected next purchase" in box and "Nov 21, 2026" in box
    assert "At risk" not in box and "Usually buys" not in box


def test_no_forecast_means_no_empty_label(staff_client, shop):
    assert "Expected next purchase" not in figures_box(staff_client, shop["lena"])
    newcomer = make_customer("Ewa", "Lis")
    buy(newcomer, 3)  # bought after tonight's forecast ran
    assert "Expected next purchase" not in figures_box(staff_client, newcomer)


def test_coming_back_clears_the_risk_at_once(staff_client, app):
    now = utcnow()
    jan = make_customer("Jan", "Kowalski")
    for days in (200, 170, 140):
        history.record_purchase(
            jan, [("Tea", Decimal("1"), Decimal("10"))], purchased_at=now - timedelta(days=days)
        )
    forecast.refresh(now=now)
    assert reloaded(jan).churn_risk
    token = csrf_token_from(staff_client, f"/customers/{jan.id}")
    bought_at = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    response = staff_client.post(
        f"/customers/{jan.id}/purchases",
        data={
            "purchase-csrf_token": token,
            "purchase-purchased_at": bought_at.strftime("%Y-%m-%dT%H:%M"),
            "purchase-channel": "store",
            "purchase-lines-0-product": "Sencha",
            "purchase-lines-0-quantity": "1",
            "purchase-lines-0-unit_price": "12",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    box = re.search(
        r'<section id="profile-figures".*?</section>', response.get_data(as_text=True), re.S
    )
    assert "At risk" not in box.group(0) and "Expected next purchase" in box.group(0)
    jan = reloaded(jan)
    # 4 purchases over 200 days less an hour: the next one in about 67 days
    assert not jan.churn_risk
    assert (
        jan.expected_next_purchase_at - bought_at == (bought_at - (now - timedelta(days=200))) / 3
    )
    assert rows_for(kind="at_risk") == set()


def test_an_old_receipt_entered_late_does_not_clear_the_risk(shop):
    buy(shop["jan"], 230)  # before the others: still every 30 days, still long overdue
    assert reloaded(shop["jan"]).churn_risk
    assert "Jan Kowalski" in rows_for(kind="at_risk")


def rows_for(**filters) -> set[str]:
    rows, _ = customer_list.page(Filters(**filters))
    return {c.display_name for c in rows}


def test_the_list_filters_customers_at_risk(staff_client, shop):
    assert rows_for(kind="at_risk") == {"Jan Kowalski", "张伟"}
    assert customer_list.count(Filters(kind="at_risk")) == 2
    html = staff_client.get("/customers?kind=at_risk").get_data(as_text=True)
    assert '<option selected value="at_risk">At risk of not coming back</option>' in html
    assert "Jan Kowalski" in html and "张伟" in html
    assert "Anna Nowak" not in html and "Lena Lead" not in html


def test_a_segment_of_customers_at_risk_counts_them_as_the_forecast_changes(staff_client, shop):
    token = csrf_token_from(staff_client, "/customers")
    filters = Filters(kind="at_risk").to_json()
    response = staff_client.post(
        "/segments", data={"csrf_token": token, "name": "Drifting away", "filters": filters}
    )
    assert response.status_code == 303
    [(segment, saved, size)] = customer_list.segments_with_counts()
    assert saved.kind == "at_risk" and size == 2
    assert ">2<" in staff_client.get("/segments").get_data(as_text=True)
    buy(shop["jan"], 1)  # Jan is back
    assert customer_list.segments_with_counts()[0][2] == 1
    forecast.refresh(now=NOW + timedelta(days=60))  # two months on, Anna is overdue too
    assert customer_list.segments_with_counts()[0][2] == 2
    assert rows_for(kind="at_risk") == {"Anna Nowak", "张伟"}


def test_the_owner_exports_the_customers_at_risk(owner_client, owner, shop):
    html = owner_client.get("/customers?kind=at_risk").get_data(as_text=True)
    hidden = re.search(r'name="export-filters" type="hidden" value="([^"]*)"', html)
    filters = hidden.group(1).replace("&#34;", '"')
    assert json.loads(filters) == {"kind": "at_risk", "sort": "name"}
    token = csrf_token_from(owner_client, "/owner/exports/new")
    response = owner_client.post(
        "/owner/exports",
        data={"export-csrf_token": token, "export-filters": filters, "export-file_format": "csv"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    job = ExportJob.get_by_id(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert job.status == "done", job.error
    with owner_client.get(f"/owner/jobs/{job.id}/download") as download:
        rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(int(row[0]) for row in rows[1:]) == sorted([shop["jan"].id, shop["wei"].id])
    assert AuditEvent.select().where(AuditEvent.action == "report_exported").count() == 1
    segment = customer_list.save_segment("Drifting", Filters(kind="at_risk"), staff_id=owner.id)
    assert filters_from(segment.filters) == Filters(kind="at_risk")
