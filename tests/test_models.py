"""The data model stores the domain faithfully on both engines."""

from datetime import datetime
from decimal import Decimal

import pytest
from peewee import IntegrityError

from portal.db import is_postgresql
from portal.extensions import db
from portal.models import (
    ConsentEvent,
    ConsentPurpose,
    ConsentWording,
    ContactPoint,
    Customer,
    CustomerTag,
    Purchase,
    PurchaseLine,
    StaffAccount,
    Tag,
)


def make_customer(**overrides):
    fields = {"given_name": "Łukasz", "family_name": "Wąsowski", "display_name": "Łukasz Wąsowski"}
    fields.update(overrides)
    return Customer.create(**fields)


def test_names_in_every_script_round_trip(app):
    for given, family, order, shown in [
        ("Łukasz", "Wąsowski", "given_first", "Łukasz Wąsowski"),
        ("Иван", "Петров", "given_first", "Иван Петров"),
        ("伟", "张", "family_first", "张伟"),
    ]:
        customer = make_customer(
            given_name=given, family_name=family, name_order=order, display_name=shown
        )
        stored = Customer.get_by_id(customer.id)
        assert (stored.given_name, stored.family_name, stored.display_name) == (
            given,
            family,
            shown,
        )


def test_kind_is_derived_from_purchases(app):
    customer = make_customer()
    assert customer.kind == "lead"
    customer.purchase_count = 1
    assert customer.kind == "customer"


def test_money_keeps_cents(app):
    customer = make_customer()
    purchase = Purchase.create(customer=customer, total=Decimal("1234.56"), currency="PLN")
    PurchaseLine.create(
        purchase=purchase,
        product="Herbata",
        quantity=Decimal("3"),
        unit_price=Decimal("411.52"),
        line_total=Decimal("1234.56"),
    )
    stored = Purchase.get_by_id(purchase.id)
    assert stored.total == Decimal("1234.56")
    assert [line.line_total for line in stored.lines] == [Decimal("1234.56")]


def test_purchases_keep_their_customer(app):
    """Sales stay for accounting: a customer with purchases cannot be deleted by accident."""
    customer = make_customer()
    Purchase.create(customer=customer, total=Decimal("10"), currency="EUR")
    with pytest.raises(IntegrityError), db.atomic():
        customer.delete_instance()
    assert Customer.select().count() == 1


def test_contact_points_go_with_their_customer(app):
    customer = make_customer()
    ContactPoint.create(
        customer=customer, kind="email", value="L@Example.com", normalized="l@example.com"
    )
    customer.delete_instance()
    assert ContactPoint.select().count() == 0


def test_a_customer_has_a_tag_once(app):
    customer = make_customer()
    tag = Tag.create(name="vip")
    CustomerTag.create(customer=customer, tag=tag)
    with pytest.raises(IntegrityError), db.atomic():
        CustomerTag.create(customer=customer, tag=tag)


def test_staff_email_is_unique(app):
    StaffAccount.create(name="A", email="a@example.com", password_hash="x")
    with pytest.raises(IntegrityError), db.atomic():
        StaffAccount.create(name="B", email="a@example.com", password_hash="y")


def test_consent_wording_versions_are_kept_side_by_side(app):
    purpose = ConsentPurpose.create(code="email_marketing")
    ConsentWording.create(
        purpose=purpose, version=1, language="pl", title="Newsletter", text="Zgoda v1"
    )
    ConsentWording.create(
        purpose=purpose, version=2, language="pl", title="Newsletter", text="Zgoda v2"
    )
    with pytest.raises(IntegrityError), db.atomic():
        ConsentWording.create(purpose=purpose, version=2, language="pl", title="x", text="dup")
    customer = make_customer()
    ConsentEvent.create(
        customer=customer,
        purpose=purpose,
        wording_version=1,
        granted=True,
        channel="paper_form",
        occurred_at=datetime(2026, 1, 1),
    )
    assert ConsentEvent.get().wording_version == 1


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(app, engine):
    if engine != "sqlite":
        assert is_postgresql(db)
        return
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
