"""RFM tiers: the best recent, frequent, big spenders are A; leads have no tier; manual tiers stay."""

from datetime import datetime, timedelta
from decimal import Decimal

from portal import rfm
from portal.models import Customer
from tests.factories import make_customer


def test_rfm_tiers(app):
    now = datetime(2026, 11, 1)
    customers = []
    for i in range(10):  # i = 9 is the most recent, most frequent, biggest spender
        customers.append(
            make_customer(
                f"Buyer{i}",
                "Test",
                purchase_count=i + 1,
                lifetime_value=Decimal(100 * (i + 1)),
                last_purchase_at=now - timedelta(days=300 - 30 * i),
            )
        )
    lead = make_customer("Only", "Looking", tier="B")
    manual = make_customer(
        "Hand",
        "Picked",
        purchase_count=1,
        lifetime_value=Decimal(1),
        last_purchase_at=now - timedelta(days=900),
        tier="A",
        tier_manual=True,
    )

    assert rfm.compute() == 11

    def tier(customer):
        return Customer.get_by_id(customer.id)

    assert tier(customers[9]).tier == "A" and tier(customers[9]).rfm_score == "555"
    assert tier(customers[0]).tier == "C"
    assert tier(lead).tier == "" and tier(lead).rfm_score == ""
    assert tier(manual).tier == "A"  # kept, though its score is the lowest
    assert tier(manual).rfm_score == "111"
    assert {tier(c).tier for c in customers} == {"A", "B", "C"}


def test_rfm_command(app):
    make_customer(
        "Anna",
        "Nowak",
        purchase_count=2,
        lifetime_value=Decimal(50),
        last_purchase_at=datetime(2026, 1, 1),
    )
    result = app.test_cli_runner().invoke(args=["rfm"])
    assert result.exit_code == 0, result.output
    assert "Scored 1 customers" in result.output
