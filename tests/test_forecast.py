"""The purchase forecast (issue 10, part 5): expected next purchase from each customer's own
rhythm, and a churn-risk flag when that date has slipped by more than one more interval."""

from datetime import datetime, timedelta
from decimal import Decimal

from portal import forecast, history
from portal.models import Customer
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
