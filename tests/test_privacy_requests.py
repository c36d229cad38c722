"""Access, correction and erasure requests on the legal clock: staff record them from the
profile, the deadline follows the owner's setting, bad input saves nothing, and staff close
access and correction requests as completed or refused."""

import json
import re
from datetime import date, datetime, timedelta

import pytest

from portal import privacy_requests, settings
from portal.models import AuditEvent, PrivacyRequest, utcnow
from tests.conftest import csrf_token_from
from tests.factories import make_customer

HTMX = {"HX-Request": "true"}
DAY = timedelta(days=1)


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna.nowak@example.com", preferred_language="pl")


def post_request(client, customer, *, htmx=True, **fields):
    token = csrf_token_from(client, f"/customers/{customer.id}")
    data = {
        "request-csrf_token": token,
        "request-kind": "access",
        "request-received_on": date.today().isoformat(),
    }
    data.update({f"request-{name}": value for name, value in fields.items()})
    return client.post(
        f"/customers/{customer.id}/privacy-requests", data=data, headers=HTMX if htmx else {}
    )


def close(client, customer, request, status, *, htmx=True):
    token = csrf_token_from(client, f"/customers/{customer.id}")
    return client.post(
        f"/customers/{customer.id}/privacy-requests/{request.id}/close",
        data={"csrf_token": token, "status": status},
        headers=HTMX if htmx else {},
    )


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no message beside {field_id}"
    return match.group(1)


# --- The deadline ------------------------------------------------------------------------


def test_deadline_is_thirty_days_by_default(app, anna):
    received = datetime(2026, 3, 2, 9, 0)
    request = privacy_requests.open_request(anna.id, "access", received_at=received)
    assert request.due_at == datetime(2026, 4, 1, 9, 0)


def test_deadline_follows_the_request_deadline_setting(staff_client, anna):
    settings.put("request_deadline_days", 10)
    response = post_request(staff_client, anna, received_on="2026-03-02")
    assert response.status_code == 200
    request = PrivacyRequest.get(PrivacyRequest.customer == anna.id)
    # The business runs on UTC in tests: the day received starts at midnight UTC.
    assert request.received_at == datetime(2026, 3, 2)
    assert request.due_at == datetime(2026, 3, 12)


def test_days_left_round_up_and_days_overdue_count_whole_days(app, anna):
    now = datetime(2026, 5, 1, 12, 0)
    request = privacy_requests.open_request(anna.id, "access", received_at=now - 29.5 * DAY)
    assert request.due_at == now + 0.5 * DAY
    assert privacy_requests.days_left(request, now) == 1
    assert not request.is_overdue(now)
    a_minute_late = request.due_at + timedelta(minutes=1)
    assert request.is_overdue(a_minute_late)
    assert privacy_requests.days_overdue(request, a_minute_late) == 1
    assert privacy_requests.days_overdue(request, request.due_at + 2.5 * DAY) == 2
    assert privacy_requests.days_left(request, a_minute_late) == 0


# --- Recording from the profile ----------------------------------------------------------


def test_staff_record_an_access_request_and_the_section_shows_its_due_date(
    staff_client, anna, staff_member
):
    response = post_request(staff_client, anna, kind="correction")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    request = PrivacyRequest.get(PrivacyRequest.customer == anna.id)
    assert (request.kind, request.status, request.made_via) == ("correction", "open", "staff")
    assert request.recorded_by_id == staff_member.id
    assert 'id="privacy-requests"' in html
    assert f'id="privacy-request-{request.id}"' in html
    assert "Correction of their data" in html
    assert "30 days left" in html or "29 days left" in html
    event = AuditEvent.get(AuditEvent.action == "privacy_request_opened")
    assert (event.actor_id, event.target_id) == (staff_member.id, anna.id)
    assert json.loads(event.details) == {"kind": "correction", "request_id": request.id}


def test_without_htmx_recording_returns_to_the_profile(staff_client, anna):
    response = post_request(staff_client, anna, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/customers/{anna.id}")
    page = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "Access to their data" in page


def test_profile_flags_an_overdue_request(staff_client, anna):
    privacy_requests.open_request(anna.id, "access", received_at=utcnow() - 33 * DAY)
    privacy_requests.open_request(anna.id, "correction", received_at=utcnow() - 2 * DAY)
    html = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)
    section = html[html.index('id="privacy-requests"') :]
    assert "Overdue by 3 days" in section
    assert "28 days left" in section
    # the overdue one comes first
    assert section.index("Access to their data") < section.index("Correction of their data")


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"received_on": (date.today() + 2 * DAY).isoformat()},
            "request-received_on",
            "This date is in the future",
        ),
        ({"received_on": "14/03/2026"}, "request-received_on", "Enter a date, like 2026-03-14."),
        ({"received_on": ""}, "request-received_on", "Enter"),
        ({"kind": "deletion"}, "request-kind", ""),
    ],
)
def test_bad_input_is_explained_beside_the_field_and_saves_nothing(
    staff_client, anna, fields, field_id, message
):
    response = post_request(staff_client, anna, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_beside(html, field_id)
    assert f'aria-describedby="{field_id}-hint {field_id}-error"' in html or (
        f'aria-describedby="{field_id}-error"' in html
    )
    assert PrivacyRequest.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "privacy_request_opened").exists()


def test_bad_input_without_htmx_shows_the_whole_profile_with_the_message(staff_client, anna):
    response = post_request(
        staff_client, anna, htmx=False, received_on=(date.today() + 3 * DAY).isoformat()
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="profile-name"' in html
    assert "This date is in the future" in error_beside(html, "request-received_on")
    assert PrivacyRequest.select().count() == 0


def test_requests_need_a_valid_csrf_token(staff_client, anna):
    response = staff_client.post(
        f"/customers/{anna.id}/privacy-requests",
        data={"request-kind": "access", "request-received_on": date.today().isoformat()},
    )
    assert response.status_code == 400
    assert PrivacyRequest.select().count() == 0


# --- Closing -----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["completed", "refused"])
def test_staff_close_an_access_request_and_the_clock_stops(
    staff_client, anna, staff_member, outcome
):
    request = privacy_requests.open_request(anna.id, "access", received_at=utcnow() - 40 * DAY)
    response = close(staff_client, anna, request, outcome)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Request marked as {outcome}." in html
    assert "Overdue" not in html
    request = PrivacyRequest.get_by_id(request.id)
    assert request.status == outcome and request.closed_by_id == staff_member.id
    assert request.closed_at is not None
    assert list(privacy_requests.open_requests()) == []
    event = AuditEvent.get(AuditEvent.action == "privacy_request_closed")
    assert json.loads(event.details)["status"] == outcome


def test_closing_twice_changes_nothing_the_second_time(staff_client, anna):
    request = privacy_requests.open_request(anna.id, "correction")
    close(staff_client, anna, request, "completed")
    response = close(staff_client, anna, request, "refused")
    assert "This request was already closed." in response.get_data(as_text=True)
    assert PrivacyRequest.get_by_id(request.id).status == "completed"
    assert AuditEvent.select().where(AuditEvent.action == "privacy_request_closed").count() == 1


def test_an_unknown_outcome_is_refused(staff_client, anna):
    request = privacy_requests.open_request(anna.id, "access")
    response = close(staff_client, anna, request, "ignored")
    assert response.status_code == 422
    assert PrivacyRequest.get_by_id(request.id).status == "open"


def test_erasure_requests_are_not_closed_by_hand(staff_client, anna):
    request = privacy_requests.open_request(anna.id, "erasure")
    assert close(staff_client, anna, request, "completed").status_code == 404
    assert PrivacyRequest.get_by_id(request.id).status == "open"


def test_a_request_is_closed_only_through_its_own_customer(staff_client, anna):
    other = make_customer("Piotr", "Zieliński")
    request = privacy_requests.open_request(anna.id, "access")
    assert close(staff_client, other, request, "completed").status_code == 404
    assert PrivacyRequest.get_by_id(request.id).status == "open"


# --- Erasure (the erasure service opens the clock) ---------------------------------------


def test_an_erasure_request_taken_by_staff_opens_exactly_one_clock(
    staff_client, anna, staff_member
):
    pytest.importorskip("portal.erasure")
    from portal.models import ErasureRequest

    received = date.today() - 3 * DAY
    response = post_request(staff_client, anna, kind="erasure", received_on=received.isoformat())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ErasureRequest.select().where(ErasureRequest.customer_id == anna.id).count() == 1
    clocks = list(PrivacyRequest.select().where(PrivacyRequest.customer == anna.id))
    assert [(r.kind, r.status) for r in clocks] == [("erasure", "open")]
    # counted from the day it reached the shop, not the day it was typed in
    assert clocks[0].received_at == datetime.combine(received, datetime.min.time())
    assert clocks[0].due_at == clocks[0].received_at + 30 * DAY
