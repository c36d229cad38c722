"""The owner's audit log: newest first, filtered by who, what, which customer and when (in the
business's time zone), paged by keyset; bad filters get a message beside the field; reading
the log is itself audited; staff cannot open it (SPEC 6 rule 5)."""

import ast
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent
from portal.owner.audit_forms import ACTION_LABELS
from tests.factories import make_customer

LOG = "/owner/audit"
PORTAL = Path(__file__).resolve().parent.parent / "portal"


def event_at(when: datetime, action="customer_viewed", **fields) -> AuditEvent:
    """An event at a chosen moment (the log reads events; the chain is tested elsewhere)."""
    values = {"actor_type": "system", "target_type": "", "details": "{}"} | fields
    return AuditEvent.create(occurred_at=when, action=action, **values)


def shown_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="event-(\d+)"', html)]


def errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="error" id="(\w+)-error">([^<]*)</p>', html))


def older_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next">', html)
    return match.group(1).replace("&amp;", "&") if match else None


# --- Who may read it ---------------------------------------------------------------------


def test_staff_cannot_open_audit_log(staff_client):
    response = staff_client.get(LOG)

    assert response.status_code == 403
    assert not AuditEvent.select().where(AuditEvent.action == "audit_log_viewed").exists()


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(client):
    response = client.get(LOG)
    assert response.status_code in (302, 303)
    assert "/sign-in" in response.headers["Location"]


# --- What it shows -----------------------------------------------------------------------


def test_owner_sees_who_did_what_to_which_record(owner_client, staff_member, owner):
    customer = make_customer("Anna", "Nowak")
    audit.record(
        "customer_updated",
        actor_type="staff",
        actor_id=staff_member.id,
        target_type="customer",
        target_id=customer.id,
        ip_address="192.0.2.44",
        fields=["family_name", "email"],
    )
    audit.record("sign_in_failed", actor_type="anonymous", ip_address="198.51.100.7")

    html = owner_client.get(LOG).get_data(as_text=True)

    assert "Sam Staff" in html
    assert "Changed a customer" in html and "Failed to sign in" in html
    assert f'href="/customers/{customer.id}"' in html
    assert "192.0.2.44" in html and "198.51.100.7" in html
    assert "family_name, email" in html
    assert "Someone not signed in" in html
    # Customers appear by number only: the log is not a way around the audited profile.
    assert "Anna" not in html and "Nowak" not in html


def test_newest_events_come_first_and_reading_the_log_is_audited(owner_client, owner):
    first = audit.record("signed_in", actor_type="staff", actor_id=owner.id)
    second = audit.record("segment_saved", actor_type="staff", actor_id=owner.id)

    ids = shown_ids(owner_client.get(LOG).get_data(as_text=True))

    viewed = AuditEvent.get(AuditEvent.action == "audit_log_viewed")
    assert ids[:1] == [viewed.id]  # the look itself is on the page
    assert ids.index(second.id) < ids.index(first.id)
    assert (viewed.actor_type, viewed.actor_id) == ("staff", owner.id)


def test_what_was_looked_for_is_recorded_with_the_view(owner_client, staff_member):
    customer = make_customer()

    owner_client.get(
        f"{LOG}?who=staff:{staff_member.id}&action=customer_viewed"
        f"&customer={customer.id}&since=2026-01-01&until=2026-01-31"
    )

    viewed = AuditEvent.get(AuditEvent.action == "audit_log_viewed")
    assert (viewed.target_type, viewed.target_id) == ("customer", customer.id)
    assert json.loads(viewed.details) == {
        "who": f"staff:{staff_member.id}",
        "what": "customer_viewed",
        "since": "2026-01-01",
        "until": "2026-01-31",
    }


# --- Filters -----------------------------------------------------------------------------


def test_filter_by_staff_account_or_kind_of_actor(owner_client, staff_member, owner):
    by_staff = audit.record("customer_viewed", actor_type="staff", actor_id=staff_member.id)
    by_owner = audit.record("customer_viewed", actor_type="staff", actor_id=owner.id)
    by_system = audit.record("privacy_request_closed", actor_type="system")
    by_nobody = audit.record("sign_in_failed", actor_type="anonymous")

    def shown(query):
        return set(shown_ids(owner_client.get(f"{LOG}?{query}").get_data(as_text=True)))

    assert shown(f"who=staff:{staff_member.id}") == {by_staff.id}
    assert by_owner.id in shown(f"who=staff:{owner.id}")
    assert shown("who=system") == {by_system.id}
    assert shown("who=anonymous") == {by_nobody.id}


def test_filter_by_action(owner_client):
    wanted = audit.record("identifier_revealed", target_type="customer", target_id=1)
    audit.record("customer_viewed", target_type="customer", target_id=1)

    html = owner_client.get(f"{LOG}?action=identifier_revealed").get_data(as_text=True)

    assert shown_ids(html) == [wanted.id]
    assert '<option selected value="identifier_revealed">Revealed an identifier</option>' in html


def test_filter_by_customer_finds_bulk_events_that_list_them(owner_client):
    one, other = make_customer("Anna", "Nowak"), make_customer("Ewa", "Lis")
    aimed = audit.record("customer_viewed", target_type="customer", target_id=one.id)
    audit.record("customer_viewed", target_type="customer", target_id=other.id)
    listed = audit.record(
        "contact_list_exported",
        target_type="consent_purpose",
        target_id=one.id,  # a purpose that happens to share the number: not about the customer
        customer_ids=[other.id, one.id, 5000 + one.id],
    )
    audit.record("customers_tagged", customer_ids=[10 * one.id, one.id + 10, 10 + one.id * 100])
    only_first = audit.record("customers_tagged", customer_ids=[one.id])

    html = owner_client.get(f"{LOG}?customer={one.id}&action=").get_data(as_text=True)

    assert set(shown_ids(html)) - {AuditEvent.select().order_by(AuditEvent.id.desc()).get().id} == {
        aimed.id,
        listed.id,
        only_first.id,
    }


def test_dates_are_whole_days_in_the_business_time_zone(app, owner_client):
    app.extensions["babel"].default_timezone = "Europe/Warsaw"  # winter: UTC+1
    event_at(datetime(2026, 1, 13, 22, 30))  # 13 Jan, 23:30 in Warsaw
    inside = [
        event_at(datetime(2026, 1, 13, 23, 30)),  # 14 Jan, 00:30 in Warsaw
        event_at(datetime(2026, 1, 14, 22, 59)),  # 14 Jan, 23:59
    ]
    event_at(datetime(2026, 1, 14, 23, 1))  # 15 Jan, 00:01

    html = owner_client.get(f"{LOG}?since=2026-01-14&until=2026-01-14").get_data(as_text=True)

    assert shown_ids(html) == [inside[1].id, inside[0].id]
    assert '<time datetime="2026-01-13T23:30:00Z">Jan 14, 2026, 12:30:00' in html


def test_older_events_page_by_keyset_without_offsets(owner_client, monkeypatch):
    start = datetime(2026, 2, 1, 9)
    # Two events share each second: the id breaks the tie without losing or repeating one.
    events = [event_at(start + timedelta(seconds=n // 2)) for n in range(120)]
    newest_first = [e.id for e in reversed(events)]
    statements = []
    real = db.obj.execute_sql
    monkeypatch.setattr(
        db.obj, "execute_sql", lambda sql, *a, **k: statements.append(sql) or real(sql, *a, **k)
    )

    seen, url = [], f"{LOG}?action=customer_viewed"
    while url:
        html = owner_client.get(url).get_data(as_text=True)
        page = shown_ids(html)
        assert len(page) <= audit.PAGE_SIZE
        seen += page
        url = older_link(html)
        assert url is None or "action=customer_viewed" in url

    assert seen == newest_first
    reads = [sql for sql in statements if '"audit_event"' in sql and sql.startswith("SELECT")]
    assert reads and not [sql for sql in reads if "OFFSET" in sql.upper()]


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("customer=abc", "customer", "Enter a customer number, like 1024."),
        ("customer=0", "customer", "Enter a customer number, like 1024."),
        ("customer=99999999999999", "customer", "Enter a customer number, like 1024."),
        ("since=2026-02-30", "since", "Enter a date, like 2026-03-14."),
        ("until=yesterday", "until", "Enter a date, like 2026-03-14."),
        ("since=2026-03-02&until=2026-03-01", "until", "The end date is before the start date."),
        ("who=staff:99999", "who", "Choose one from the list."),
        ("who=robot", "who", "Choose one from the list."),
        ("action=drop_table", "action", "Choose one from the list."),
    ],
)
def test_bad_filters_get_a_message_beside_the_field(owner_client, query, field, message):
    audit.record("customer_viewed", target_type="customer", target_id=1)

    response = owner_client.get(f"{LOG}?{query}")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors(html) == {field: message}
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', html)
    assert shown_ids(html) == []


def test_a_cursor_that_is_not_one_shows_the_newest_events(owner_client):
    event = audit.record("customer_viewed")
    for cursor in ("abc", "-1", "99999999999999999999", "0"):
        response = owner_client.get(f"{LOG}?before={cursor}")
        assert response.status_code == 200
        assert event.id in shown_ids(response.get_data(as_text=True))


def test_messages_come_in_the_owners_language(owner_client):
    html = owner_client.get(f"{LOG}?customer=abc", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )
    assert 'lang="ru"' in html
    assert errors(html).keys() == {"customer"}


# --- Every audited action has words in the log ---------------------------------------------


def recorded_actions() -> dict[str, set[str]]:
    """Action names the code records, with the detail keywords each call passes."""
    found: dict[str, set[str]] = {}
    for path in PORTAL.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assigned = {
                target.id: node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and call.args):
                    continue
                name = getattr(call.func, "attr", getattr(call.func, "id", ""))
                if name not in {"record", "record_audit", "_audit"}:
                    continue
                first = call.args[0]
                if isinstance(first, ast.Name):
                    first = assigned.get(first.id, first)
                keywords = {k.arg for k in call.keywords if k.arg}
                for node in ast.walk(first):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        found.setdefault(node.value, set()).update(keywords)
    return found


def test_every_recorded_action_has_a_label():
    actions = recorded_actions()
    assert {"customer_viewed", "signed_in", "audit_log_viewed"} <= actions.keys()
    assert sorted(actions.keys() - ACTION_LABELS.keys()) == []


def test_actions_that_list_customers_are_found_by_the_customer_filter():
    listing = {
        action for action, keywords in recorded_actions().items() if "customer_ids" in keywords
    }
    assert sorted(listing - set(audit.MULTI_CUSTOMER_ACTIONS)) == []
