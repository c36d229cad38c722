"""The retention sweep finds who is past their retention period and why, erases them when
applied, leaves alone who must stay, and can run unattended (SPEC 6.4)."""

import json
import threading
from datetime import datetime
from decimal import Decimal

import pytest

from portal import erasure, merge, retention
from portal.extensions import db
from portal.models import (
    AuditEvent,
    ConsentEvent,
    ConsentPurpose,
    Customer,
    ErasureRequest,
    Purchase,
)
from portal.privacy_cli import retention_cli
from tests.conftest import csrf_token_from
from tests.factories import make_customer

NOW = datetime(2026, 6, 1, 12)
AS_OF = "2026-06-01T12:00:00"


def lead(name, last_activity, **fields):
    return make_customer(
        name, "Lead", created_at=datetime(2023, 1, 1), last_activity_at=last_activity, **fields
    )


def buyer(name, bought, last_activity=None):
    customer = make_customer(name, "Buyer", created_at=datetime(2015, 1, 1))
    Purchase.create(customer=customer, total=Decimal("10"), currency="EUR", purchased_at=bought)
    merge.recompute_totals(customer.id)
    Customer.update(last_activity_at=last_activity or bought).where(
        Customer.id == customer.id
    ).execute()
    return customer


def consent(customer, granted, when):
    purpose = ConsentPurpose.get_or_create(code="email_marketing")[0]
    ConsentEvent.create(
        customer=customer,
        purpose=purpose,
        wording_version=1,
        granted=granted,
        channel="paper_form",
        occurred_at=when,
    )


@pytest.fixture
def people(app, owner):
    quiet_lead = lead("Quiet", datetime(2025, 4, 30))
    withdrawn = lead("Withdrawn", datetime(2025, 1, 1))
    consent(withdrawn, True, datetime(2024, 1, 1))
    consent(withdrawn, False, datetime(2024, 6, 1))
    lapsed = buyer("Lapsed", datetime(2020, 5, 31))
    on_hold = lead("Held", datetime(2024, 1, 1))
    hold = erasure.request_erasure(on_hold.id, staff_id=owner.id)
    erasure.hold(hold, "Court claim, case 12/2026", ["complaints"], owner.id)
    confirmed = make_customer("Confirmed", "Asker", last_activity_at=datetime(2026, 5, 1))
    asked = erasure.request_erasure(confirmed.id, made_via="self_service")
    erasure.confirm(asked, now=datetime(2026, 5, 1))  # grace period of 14 days ends 15 May
    kept = {
        "recent_lead": lead("Recent", datetime(2025, 6, 2)),
        "consenting_lead": lead("Consenting", datetime(2024, 1, 1)),
        "recent_buyer": buyer("Recent", datetime(2020, 6, 2)),
        "active_old_buyer": buyer("Active", datetime(2019, 1, 1), datetime(2026, 1, 1)),
        "erased": lead("Erased", datetime(2020, 1, 1)),
        "still_in_grace": make_customer("Graceful", "Asker"),
    }
    consent(kept["consenting_lead"], True, datetime(2023, 6, 1))
    Customer.update(erased_at=datetime(2025, 1, 1)).where(
        Customer.id == kept["erased"].id
    ).execute()
    erasure.confirm(
        erasure.request_erasure(kept["still_in_grace"].id, made_via="self_service"),
        now=datetime(2026, 5, 25),
    )
    found = {
        quiet_lead.id: "lead",
        withdrawn.id: "lead",
        lapsed.id: "customer",
        confirmed.id: "requested",
    }
    return found, on_hold, kept


def test_report_finds_who_is_past_retention_and_why(app, people):
    found, on_hold, kept = people
    with app.app_context():
        report = retention.sweep(now=NOW)
    assert {f.customer_id: f.category for f in report.rows if f.action == "erase"} == found
    assert report.counts == {"lead": 2, "customer": 1, "requested": 1}
    assert report.lead_cutoff == datetime(2025, 6, 1, 12)
    assert report.customer_cutoff == datetime(2020, 6, 1, 12)
    lapsed = next(f for f in report.rows if f.category == "customer")
    assert lapsed.since == datetime(2020, 5, 31)
    # A lawful reason keeps a person, and the report says so.
    assert [(f.customer_id, f.action) for f in report.rows if f.action == "keep"] == [
        (on_hold.id, "keep")
    ]
    assert report.kept == 1
    for person in kept.values():
        assert person.id not in {f.customer_id for f in report.rows}
    # Reporting changes nothing.
    assert Customer.select().where(Customer.erased_at.is_null(False)).count() == 1


def test_apply_erases_them_and_a_second_run_finds_nothing(app, people):
    found, on_hold, kept = people
    with app.app_context():
        report = retention.sweep(now=NOW, apply=True)
        assert report.erased == 4
        again = retention.sweep(now=NOW, apply=True)
    assert (again.total, again.erased, again.kept) == (0, 0, 1)
    erased = {c.id for c in Customer.select().where(Customer.erased_at.is_null(False))}
    assert erased == {*found, kept["erased"].id}
    assert Customer.get_by_id(on_hold.id).given_name == "Held"
    assert ErasureRequest.get(ErasureRequest.customer_id == on_hold.id).status == "on_hold"
    swept = AuditEvent.select().where(AuditEvent.action == "retention_swept")
    assert sorted(i for e in swept for i in json.loads(e.details)["customer_ids"]) == sorted(found)
    assert AuditEvent.select().where(AuditEvent.action == "customer_erased").count() == 4
    # The confirmed self-service request is completed by the sweep.
    assert ErasureRequest.select().where(ErasureRequest.status == "completed").count() == 1


def test_concurrent_sweeps_do_not_erase_anyone_twice(app, people):
    found, _on_hold, _kept = people
    results = []

    def run():
        with app.app_context():
            results.append(retention.sweep(now=NOW, apply=True))
        db.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.erased for r in results) == len(found)
    assert AuditEvent.select().where(AuditEvent.action == "customer_erased").count() == len(found)


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert retention.months_before(datetime(2026, 3, 31, 8), 1) == datetime(2026, 2, 28, 8)
    assert retention.months_before(datetime(2026, 6, 1), 12) == datetime(2025, 6, 1)
    assert retention.months_before(datetime(2026, 1, 15), 72) == datetime(2020, 1, 15)


def test_cli_reports_then_applies_with_exit_code_zero(app, people):
    found, _on_hold, _kept = people
    runner = app.test_cli_runner()
    result = runner.invoke(retention_cli, ["sweep", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert (
        "Would erase 4: 2 leads, 1 customers, 1 confirmed requests; kept on hold: 1."
        in result.output
    )
    assert "retention for leads: 12 months" in result.output
    assert Customer.select().where(Customer.erased_at.is_null(False)).count() == 1

    result = runner.invoke(retention_cli, ["sweep", "--apply", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "Erased 4:" in result.output
    result = runner.invoke(retention_cli, ["sweep", "--apply", "--as-of", AS_OF])
    assert result.exit_code == 0 and "Erased 0:" in result.output


def test_owner_page_reports_and_applies_after_confirmation(owner_client, people):
    found, _on_hold, _kept = people
    page = owner_client.get("/owner/privacy/retention").get_data(as_text=True)
    assert "Never bought and no current consent" in page
    assert "Kept: erasure on hold for a lawful reason" in page
    confirm = owner_client.get("/owner/privacy/retention/apply")
    assert confirm.status_code == 200
    assert Customer.select().where(Customer.erased_at.is_null(False)).count() == 1
    token = csrf_token_from(owner_client, "/owner/privacy/retention/apply")
    response = owner_client.post("/owner/privacy/retention/apply", data={"csrf_token": token})
    assert response.status_code == 303
    # The page's sweep runs at the real time: every finding here is past retention today too.
    assert {c.id for c in Customer.select().where(Customer.erased_at.is_null(False))} >= set(found)
