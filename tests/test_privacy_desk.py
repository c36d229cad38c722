"""The privacy desk: open requests of every kind with the overdue first, counts and links to
the privacy tools, consent statistics; owners only."""

import json
import re
from datetime import timedelta

import pytest

from portal import breaches, privacy_requests, settings
from portal.models import AuditEvent, Customer, PrivacyRequest, utcnow
from tests.conftest import csrf_token_from
from tests.factories import make_customer

DAY = timedelta(days=1)


def request_rows(html: str) -> list[str]:
    """The open-requests table, one 'name | kind | time left' line per row, top to bottom."""
    table = re.search(r'<table class="table" id="open-requests">.*?</table>', html, re.S)
    assert table, "no open-requests table"
    rows = re.findall(r"<tr class=\"request-[\w-]+\">(.*?)</tr>", table.group(0), re.S)
    lines = []
    for row in rows:
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        lines.append(" | ".join([cells[0], cells[1], cells[4]]))
    return lines


def test_open_requests_are_listed_overdue_first_then_by_due_date(owner_client):
    now = utcnow()
    # Opened in a muddled order, so the list's order cannot come from insertion.
    people = {
        name: make_customer(name, "Klient")
        for name in ("Soon", "Late", "Later", "Relaxed", "Closed")
    }
    privacy_requests.open_request(people["Relaxed"].id, "correction", received_at=now - 2 * DAY)
    privacy_requests.open_request(people["Late"].id, "access", received_at=now - 35 * DAY)
    privacy_requests.open_request(people["Soon"].id, "erasure", received_at=now - 27 * DAY)
    privacy_requests.open_request(people["Later"].id, "access", received_at=now - 50 * DAY)
    done = privacy_requests.open_request(people["Closed"].id, "access", received_at=now - 60 * DAY)
    privacy_requests.close_request(done)

    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert request_rows(html) == [
        "Later Klient | Access to their data | Overdue by 20 days",
        "Late Klient | Access to their data | Overdue by 5 days",
        "Soon Klient | Erasure of their data | 3 days left",
        "Relaxed Klient | Correction of their data | 28 days left",
    ]
    # every name leads to the customer's profile
    assert f'href="/customers/{people["Later"].id}"' in html


def test_an_erased_customers_request_shows_no_name(owner_client):
    gone = make_customer("Bogdan", "Usunięty")
    privacy_requests.open_request(gone.id, "access")
    Customer.update(erased_at=utcnow()).where(Customer.id == gone.id).execute()
    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert request_rows(html) == ["Erased customer | Access to their data | 30 days left"]
    assert "Bogdan" not in html


def test_the_desk_says_when_nothing_is_open(owner_client):
    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert "No open requests." in html
    assert PrivacyRequest.select().count() == 0


def test_the_desk_links_to_every_privacy_tool_with_counts(owner_client):
    breaches.record(
        discovered_at=utcnow(),
        description="Suspect activity.",
        window_start=utcnow() - DAY,
        window_end=utcnow(),
        ip_address="203.0.113.7",
    )
    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    for path in (
        "/owner/privacy/erasures",
        "/owner/privacy/retention",
        "/owner/privacy/breaches",
        "/owner/audit",
        "/owner/consent",
        "/owner/contact-lists",
    ):
        assert f'href="{path}"' in html, path
    assert "1 not yet reported to the authority" in html


def test_the_desk_shows_consent_statistics(owner_client):
    from portal.models import ConsentPurpose, ConsentWording

    purpose = ConsentPurpose.create(code="email_marketing")
    ConsentWording.create(
        purpose=purpose, version=1, language="en", title="E-mail offers", text="May we write?"
    )
    make_customer("Anna", "Nowak")
    html = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert 'class="table consent-statistics"' in html
    assert "E-mail offers" in html


@pytest.mark.parametrize("path", ["/owner/privacy"])
def test_staff_cannot_open_the_privacy_desk(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 403
    assert "This page is for owners" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/owner/privacy")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


PERIODS = {
    "retention_lead_months": "18",
    "retention_customer_years": "5",
    "request_deadline_days": "20",
    "erasure_grace_days": "7",
}


def test_owner_changes_the_privacy_periods_and_the_clocks_follow(owner_client):
    token = csrf_token_from(owner_client, "/owner/privacy/periods")
    response = owner_client.post("/owner/privacy/periods", data={**PERIODS, "csrf_token": token})
    assert response.status_code == 303
    assert settings.get("retention_lead_months") == 18
    assert settings.get("erasure_grace_days") == 7
    received = utcnow() - DAY
    opened = privacy_requests.open_request(
        make_customer("Ada", "Clock").id, "access", received_at=received
    )
    assert opened.due_at == received + 20 * DAY
    desk = owner_client.get("/owner/privacy").get_data(as_text=True)
    assert "18 months without activity" in desk and "5 years after their last purchase" in desk
    changed = AuditEvent.select().where(AuditEvent.action == "settings_changed").get()
    assert json.loads(changed.details)["fields"] == list(PERIODS)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("retention_lead_months", "0", "Enter a number from 1 to 120."),
        ("retention_customer_years", "ten", "Not a valid integer value."),
        ("request_deadline_days", "", "Enter a whole number."),
        ("erasure_grace_days", "91", "Enter a number from 0 to 90."),
    ],
)
def test_bad_periods_are_refused_beside_the_field_and_nothing_changes(
    owner_client, field, value, message
):
    token = csrf_token_from(owner_client, "/owner/privacy/periods")
    response = owner_client.post(
        "/owner/privacy/periods", data={**PERIODS, field: value, "csrf_token": token}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html)
    assert all(settings.get(name) == settings.DEFAULTS[name] for name in PERIODS)


def test_staff_cannot_change_the_privacy_periods(staff_client):
    assert staff_client.get("/owner/privacy/periods").status_code == 403
    assert staff_client.post("/owner/privacy/periods", data=PERIODS).status_code in (400, 403)
    assert settings.get("request_deadline_days") == settings.DEFAULTS["request_deadline_days"]
