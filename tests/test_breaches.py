"""The breach register: the owner records a suspected breach, the 72-hour clock runs until the
authority is notified, and the report names exactly the customers whose data the suspect
account or address viewed, revealed or exported in the window, with their contact details,
a CSV download (itself audited) and a draft notice in each customer's language."""

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest

from portal import audit, breaches
from portal.accounts import create_staff
from portal.models import AuditEvent, Breach, Customer, utcnow
from tests.conftest import csrf_token_from, sign_in
from tests.factories import make_customer

HOUR = timedelta(hours=1)
SUSPECT_ADDRESS = "203.0.113.7"


def breach_form(token, **fields):
    data = {
        "breach-csrf_token": token,
        "breach-discovered_at": "2026-03-14T09:30",
        "breach-description": "A laptop with a signed-in session was stolen from the shop.",
        "breach-staff_account": "",
        "breach-ip_address": "",
        "breach-window_start": "2026-03-13T18:00",
        "breach-window_end": "2026-03-14T09:00",
    }
    data.update({f"breach-{name}": value for name, value in fields.items()})
    return data


def record_breach(window_start, window_end, *, staff_account_id=None, ip_address=""):
    return breaches.record(
        discovered_at=utcnow(),
        description="Suspect activity.",
        window_start=window_start,
        window_end=window_end,
        staff_account_id=staff_account_id,
        ip_address=ip_address,
    )


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no message beside {field_id}"
    return match.group(1)


def view_profile(client, customer, address="127.0.0.1"):
    response = client.get(f"/customers/{customer.id}", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200


def export_contact_list(account, customers, address="127.0.0.1"):
    """What the contact-list export writes to the audit log (the consent part builds the page)."""
    audit.record(
        "contact_list_exported",
        actor_type="staff",
        actor_id=account.id,
        ip_address=address,
        purpose_id=1,
        customer_ids=[c.id for c in customers],
    )


def reveal_identifier(account, customer, address="127.0.0.1"):
    audit.record(
        "identifier_revealed",
        actor_type="staff",
        actor_id=account.id,
        target_type="customer",
        target_id=customer.id,
        ip_address=address,
        identifier_id=1,
    )


def report_rows(owner_client, breach) -> list[str]:
    html = owner_client.get(f"/owner/privacy/breaches/{breach.id}").get_data(as_text=True)
    return re.findall(r'<tr id="affected-(\d+)">', html)


@pytest.fixture
def owner_desk(app, owner):
    """The owner in a browser of their own (staff_client and owner_client share one client)."""
    client = app.test_client()
    assert sign_in(client, owner).status_code == 303
    return client


@pytest.fixture
def colleague(app):
    return create_staff("Tomasz Kolega", "tomasz@example.com", "correct horse battery")


@pytest.fixture
def colleague_client(app, colleague):
    client = app.test_client()
    assert sign_in(client, colleague).status_code == 303
    return client


# --- The 72-hour clock -------------------------------------------------------------------


def test_the_clock_gives_72_hours_from_discovery():
    breach = Breach(discovered_at=datetime(2026, 3, 1, 10, 0))
    assert breaches.clock(breach, now=datetime(2026, 3, 1, 10, 0)).hours_left == 72
    two_days_later = breaches.clock(breach, now=datetime(2026, 3, 3, 10, 0))
    assert two_days_later.deadline == datetime(2026, 3, 4, 10, 0)
    assert (two_days_later.hours_left, two_days_later.overdue) == (24, False)
    # part of an hour left still counts as an hour to act in
    assert breaches.clock(breach, now=datetime(2026, 3, 4, 9, 20)).hours_left == 1
    at_deadline = breaches.clock(breach, now=datetime(2026, 3, 4, 10, 0))
    assert (at_deadline.hours_left, at_deadline.overdue) == (0, False)
    late = breaches.clock(breach, now=datetime(2026, 3, 5, 12, 30))
    assert (late.overdue, late.hours_overdue, late.hours_left) == (True, 27, 0)


def test_recording_the_notification_stops_the_clock():
    breach = Breach(
        discovered_at=datetime(2026, 3, 1, 10, 0),
        authority_notified_at=datetime(2026, 3, 2, 16, 0),
    )
    stopped = breaches.clock(breach, now=datetime(2026, 3, 9))
    assert stopped.stopped and not stopped.overdue and not stopped.notified_late
    breach.authority_notified_at = datetime(2026, 3, 4, 11, 0)
    assert breaches.clock(breach, now=datetime(2026, 3, 9)).notified_late


# --- Recording a breach ------------------------------------------------------------------


def test_owner_records_a_breach_and_it_is_audited_with_ids_only(owner_client, owner, staff_member):
    token = csrf_token_from(owner_client, "/owner/privacy/breaches")
    response = owner_client.post(
        "/owner/privacy/breaches",
        data=breach_form(token, staff_account=str(staff_member.id), ip_address=SUSPECT_ADDRESS),
    )
    assert response.status_code == 303
    breach = Breach.get()
    assert response.headers["Location"].endswith(f"/owner/privacy/breaches/{breach.id}")
    assert breach.discovered_at == datetime(2026, 3, 14, 9, 30)
    assert (breach.window_start, breach.window_end) == (
        datetime(2026, 3, 13, 18, 0),
        datetime(2026, 3, 14, 9, 0),
    )
    assert (breach.staff_account_id, breach.ip_address) == (staff_member.id, SUSPECT_ADDRESS)
    assert breach.recorded_by_id == owner.id
    event = AuditEvent.get(AuditEvent.action == "breach_recorded")
    assert (event.actor_id, event.target_type, event.target_id) == (owner.id, "breach", breach.id)
    assert json.loads(event.details) == {
        "breach_id": breach.id,
        "staff_account_id": staff_member.id,
    }
    assert "laptop" not in event.details


def test_the_register_shows_the_clock_and_the_notification_stops_it(owner_client, owner):
    breach = breaches.record(
        discovered_at=utcnow() - 70 * HOUR - timedelta(minutes=30),
        description="Phishing e-mail answered from the shop account.",
        window_start=utcnow() - 80 * HOUR,
        window_end=utcnow() - 70 * HOUR,
        ip_address=SUSPECT_ADDRESS,
    )
    page = owner_client.get("/owner/privacy/breaches").get_data(as_text=True)
    assert "2 hours left to notify the authority" in page
    assert "Phishing e-mail answered from the shop account." in page

    token = csrf_token_from(owner_client, "/owner/privacy/breaches")
    notified = (utcnow() - HOUR).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(
        f"/owner/privacy/breaches/{breach.id}/notified",
        data={
            f"notified-{breach.id}-csrf_token": token,
            f"notified-{breach.id}-notified_at": notified,
        },
    )
    assert response.status_code == 303
    assert Breach.get_by_id(breach.id).authority_notified_at is not None
    page = owner_client.get("/owner/privacy/breaches").get_data(as_text=True)
    assert "Authority notified on" in page and "hours left" not in page
    assert AuditEvent.select().where(AuditEvent.action == "breach_authority_notified").count() == 1


def test_the_register_shows_an_overdue_breach(owner_client):
    record_breach(utcnow() - 100 * HOUR, utcnow() - 90 * HOUR, ip_address=SUSPECT_ADDRESS)
    Breach.update(discovered_at=utcnow() - 75 * HOUR - timedelta(minutes=10)).execute()
    page = owner_client.get("/owner/privacy/breaches").get_data(as_text=True)
    assert "Overdue by 4 hours" in page


def test_notification_before_discovery_is_refused(owner_client):
    breach = record_breach(utcnow() - 5 * HOUR, utcnow(), ip_address=SUSPECT_ADDRESS)
    token = csrf_token_from(owner_client, "/owner/privacy/breaches")
    too_early = (breach.discovered_at - 3 * HOUR).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(
        f"/owner/privacy/breaches/{breach.id}/notified",
        data={
            f"notified-{breach.id}-csrf_token": token,
            f"notified-{breach.id}-notified_at": too_early,
        },
    )
    assert response.status_code == 422
    message = error_beside(response.get_data(as_text=True), f"notified-{breach.id}-notified_at")
    assert "before the breach was discovered" in message
    assert Breach.get_by_id(breach.id).authority_notified_at is None


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"discovered_at": "2099-01-01T10:00"}, "breach-discovered_at", "in the future"),
        ({"discovered_at": "yesterday"}, "breach-discovered_at", "Enter a date and time"),
        ({"description": "   "}, "breach-description", "Describe what happened."),
        (
            {"window_start": "2026-03-14T10:00", "window_end": "2026-03-14T08:00"},
            "breach-window_end",
            "must not be before its start",
        ),
        ({"window_start": ""}, "breach-window_start", "Enter when"),
        ({}, "breach-staff_account", "Choose the staff account, or enter the IP address"),
        ({"ip_address": "203.0.113.999"}, "breach-ip_address", "Enter an IP address"),
        ({"staff_account": "9999"}, "breach-staff_account", ""),
    ],
)
def test_bad_breach_input_is_explained_beside_the_field_and_saves_nothing(
    owner_client, fields, field_id, message
):
    token = csrf_token_from(owner_client, "/owner/privacy/breaches")
    response = owner_client.post("/owner/privacy/breaches", data=breach_form(token, **fields))
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), field_id)
    assert Breach.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "breach_recorded").exists()


def test_an_ip_address_is_stored_as_the_audit_log_writes_it(owner_client):
    token = csrf_token_from(owner_client, "/owner/privacy/breaches")
    response = owner_client.post(
        "/owner/privacy/breaches", data=breach_form(token, ip_address=" 2001:DB8:0:0::1 ")
    )
    assert response.status_code == 303
    assert Breach.get().ip_address == "2001:db8::1"


# --- Who was affected --------------------------------------------------------------------


def test_the_report_names_exactly_whom_the_account_saw_in_the_window(
    staff_client, staff_member, colleague, colleague_client, owner_desk
):
    before, in_window, other = (
        make_customer("Adam", "Przed"),
        [make_customer(f"Klient{n}", "Okno", email=f"k{n}@example.com") for n in range(4)],
        make_customer("Olek", "Obcy"),
    )
    viewed, viewed_and_exported, revealed, exported = in_window
    after = make_customer("Zenon", "Potem")

    view_profile(staff_client, before)
    start = utcnow()
    view_profile(staff_client, viewed)
    view_profile(staff_client, viewed_and_exported)
    view_profile(staff_client, viewed_and_exported)
    reveal_identifier(staff_member, revealed)
    export_contact_list(staff_member, [viewed_and_exported, exported])
    view_profile(colleague_client, other)  # another account in the same window
    end = utcnow()
    view_profile(staff_client, after)

    breach = record_breach(start, end, staff_account_id=staff_member.id)
    rows = {row.customer_id: row for row in breaches.affected_customers(breach)}
    assert set(rows) == {c.id for c in in_window}
    assert rows[viewed.id].counts == {"viewed": 1, "revealed": 0, "exported": 0}
    assert rows[viewed_and_exported.id].counts == {"viewed": 2, "revealed": 0, "exported": 1}
    assert rows[revealed.id].counts == {"viewed": 0, "revealed": 1, "exported": 0}
    assert rows[exported.id].counts == {"viewed": 0, "revealed": 0, "exported": 1}
    assert rows[viewed_and_exported.id].first_at < rows[viewed_and_exported.id].last_at
    assert rows[viewed.id].email == "k0@example.com" and rows[viewed.id].name == "Klient0 Okno"

    assert sorted(report_rows(owner_desk, breach)) == sorted(str(c.id) for c in in_window)


def test_the_report_by_address_covers_every_account_from_it(
    staff_client, staff_member, colleague_client, owner_desk
):
    from_suspect, from_shop, colleague_from_suspect, exported = (
        make_customer("Ewa", "Adres"),
        make_customer("Jan", "Sklep"),
        make_customer("Iga", "Kolega"),
        make_customer("Lech", "Eksport"),
    )
    start = utcnow()
    view_profile(staff_client, from_suspect, SUSPECT_ADDRESS)
    view_profile(staff_client, from_shop, "192.0.2.10")
    view_profile(colleague_client, colleague_from_suspect, SUSPECT_ADDRESS)
    export_contact_list(staff_member, [exported], SUSPECT_ADDRESS)
    end = utcnow()
    view_profile(staff_client, from_shop, SUSPECT_ADDRESS)  # after the window

    breach = record_breach(start, end, ip_address=SUSPECT_ADDRESS)
    affected = {row.customer_id for row in breaches.affected_customers(breach)}
    assert affected == {from_suspect.id, colleague_from_suspect.id, exported.id}


def test_erased_customers_appear_without_personal_data(staff_client, staff_member, owner_desk):
    kept = make_customer("Maria", "Zostaje", email="maria@example.com")
    gone = make_customer("Bogdan", "Usunięty", email="bogdan@example.com", phone="+48600111222")
    start = utcnow()
    view_profile(staff_client, kept)
    view_profile(staff_client, gone)
    end = utcnow()
    Customer.update(erased_at=utcnow()).where(Customer.id == gone.id).execute()
    breach = record_breach(start, end, staff_account_id=staff_member.id)

    page = owner_desk.get(f"/owner/privacy/breaches/{breach.id}").get_data(as_text=True)
    assert f'<tr id="affected-{gone.id}">' in page and f"Erased customer no. {gone.id}" in page
    csv_text = owner_desk.get(f"/owner/privacy/breaches/{breach.id}/report.csv").get_data(
        as_text=True
    )
    for personal in ("Bogdan", "Usunięty", "bogdan@example.com", "+48600111222"):
        assert personal not in page and personal not in csv_text
    assert "maria@example.com" in page and "maria@example.com" in csv_text


def test_the_csv_lists_the_affected_and_its_download_is_audited(
    staff_client, staff_member, owner_desk, owner
):
    anna = make_customer(
        "Anna", "Nowak", email="anna@example.com", phone="+48601234567", preferred_language="pl"
    )
    formula = make_customer("=HYPERLINK(1)", "Trick", email="trick@example.com")
    start = utcnow()
    view_profile(staff_client, anna)
    export_contact_list(staff_member, [anna, formula])
    end = utcnow()
    breach = record_breach(start, end, staff_account_id=staff_member.id)

    response = owner_desk.get(f"/owner/privacy/breaches/{breach.id}/report.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Customer number", "Name", "E-mail", "Phone", "Preferred language"]
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {str(anna.id), str(formula.id)}
    assert by_id[str(anna.id)][1:8] == [
        "Anna Nowak",
        "anna@example.com",
        "+48601234567",
        "pl",
        "1",
        "0",
        "1",
    ]
    # a name that a spreadsheet would run as a formula is defused
    assert by_id[str(formula.id)][1].startswith("'=")

    event = AuditEvent.get(AuditEvent.action == "breach_report_exported")
    assert event.actor_id == owner.id
    details = json.loads(event.details)
    assert details["breach_id"] == breach.id
    assert sorted(details["customer_ids"]) == sorted([anna.id, formula.id])
    assert "anna" not in event.details.lower()


def test_opening_the_report_is_an_audited_view(staff_client, staff_member, owner_desk, owner):
    anna = make_customer("Anna", "Nowak")
    start = utcnow()
    view_profile(staff_client, anna)
    breach = record_breach(start, utcnow(), staff_account_id=staff_member.id)
    owner_desk.get(f"/owner/privacy/breaches/{breach.id}")
    event = AuditEvent.get(AuditEvent.action == "breach_report_viewed")
    assert event.actor_id == owner.id
    assert json.loads(event.details)["customer_ids"] == [anna.id]


def test_notice_drafts_come_in_each_affected_customers_language(
    staff_client, staff_member, owner_desk
):
    polish = [
        make_customer("Anna", "Nowak", preferred_language="pl"),
        make_customer("Jerzy", "Wiśniewski", preferred_language="pl"),
    ]
    chinese = make_customer("伟", "张", order="family_first", preferred_language="zh")
    erased_russian = make_customer("Ivan", "Petrov", preferred_language="ru")
    start = utcnow()
    for customer in [*polish, chinese, erased_russian]:
        view_profile(staff_client, customer)
    end = utcnow()
    Customer.update(erased_at=utcnow()).where(Customer.id == erased_russian.id).execute()
    breach = record_breach(start, end, staff_account_id=staff_member.id)

    page = owner_desk.get(f"/owner/privacy/breaches/{breach.id}").get_data(as_text=True)
    drafts = re.findall(
        r'<div class="card notice-draft" id="notice-(\w+)" lang="(\w+)">\s*<h3[^>]*>(.*?) · '
        r'<span class="notice-count">(.*?)</span>',
        page,
    )
    assert drafts == [
        ("pl", "pl", "Polski", "2 customers"),
        ("zh", "zh", "中文（简体）", "1 customer"),
    ]
    # nobody is left to write to in Russian: the erased customer gets no draft
    assert 'id="notice-ru"' not in page
    business = "Kartoteka demo shop"
    for language in ("pl", "zh"):
        body = re.search(rf'id="notice-{language}-body"[^>]*>(.*?)</textarea>', page, re.S)
        assert business in body.group(1)


def test_notice_dates_are_written_the_customers_way(app, staff_member):
    window_start, window_end = datetime(2026, 3, 13, 18, 0), datetime(2026, 3, 14, 9, 0)
    breach = Breach(window_start=window_start, window_end=window_end)
    rows = [
        breaches.Affected(1, language="pl", name="A"),
        breaches.Affected(2, language="zh", name="B"),
    ]
    with app.test_request_context():
        drafts = {d.language: d for d in breaches.notice_drafts(breach, rows, "Sklep")}
    assert "13 mar 2026" in drafts["pl"].body
    assert "2026年3月13日" in drafts["zh"].body


# --- Only owners -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/owner/privacy/breaches",
        "/owner/privacy/breaches/{id}",
        "/owner/privacy/breaches/{id}/report.csv",
    ],
)
def test_staff_cannot_open_the_breach_register_or_its_reports(staff_client, path):
    breach = record_breach(utcnow() - HOUR, utcnow(), ip_address=SUSPECT_ADDRESS)
    assert staff_client.get(path.format(id=breach.id)).status_code == 403
    assert not AuditEvent.select().where(AuditEvent.action.startswith("breach_report")).exists()


def test_staff_cannot_record_a_breach_or_stop_its_clock(staff_client, staff_member):
    breach = record_breach(utcnow() - HOUR, utcnow(), ip_address=SUSPECT_ADDRESS)
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        "/owner/privacy/breaches",
        data=breach_form(token, staff_account=str(staff_member.id)) | {"csrf_token": token},
    )
    assert response.status_code == 403
    response = staff_client.post(
        f"/owner/privacy/breaches/{breach.id}/notified",
        data={"csrf_token": token, f"notified-{breach.id}-notified_at": "2026-03-14T10:00"},
    )
    assert response.status_code == 403
    assert Breach.select().count() == 1
    assert Breach.get_by_id(breach.id).authority_notified_at is None


# SQLite's plan is stable; PostgreSQL's planner chooses by table statistics.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_window_query_walks_an_index_not_the_whole_audit_log(app, engine, staff_member):
    from portal.extensions import db

    plans = []
    for suspect in ({"staff_account_id": staff_member.id}, {"ip_address": SUSPECT_ADDRESS}):
        breach = Breach(window_start=utcnow() - HOUR, window_end=utcnow(), **suspect)
        sql, params = breaches.window_events(breach).sql()
        plans.append(
            " ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        )
    assert "USING INDEX auditevent_actor_type_actor_id_occurred_at" in plans[0]
    assert all("SCAN" not in plan for plan in plans), plans
