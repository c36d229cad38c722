"""Owner pages for erasure: requests waiting, a lawful reason to keep parts, a confirmation
step before erasing, and a receipt that shows counts, never personal data."""

import pytest

from portal import erasure
from portal.models import AuditEvent, ContactPoint, Customer, ErasureRequest
from tests.conftest import csrf_token_from, sign_in
from tests.factories import make_customer


@pytest.fixture
def request_for(app, owner):
    customer = make_customer(
        "Wawrzyniec", "Qlobuczyński", email="wq@example.org", phone="+48602771939"
    )
    return erasure.request_erasure(customer.id, staff_id=owner.id)


def test_owner_sees_waiting_requests_with_names(owner_client, request_for):
    page = owner_client.get("/owner/privacy/erasures").get_data(as_text=True)
    assert "Wawrzyniec Qlobuczyński" in page
    assert f"/owner/privacy/erasures/{request_for.id}" in page


def test_staff_cannot_open_erasure_pages(staff_client, request_for):
    assert staff_client.get("/owner/privacy/erasures").status_code == 403
    assert staff_client.get(f"/owner/privacy/erasures/{request_for.id}/execute").status_code == 403
    assert staff_client.get("/owner/privacy/retention").status_code == 403


def test_hold_records_parts_and_reason(owner_client, request_for):
    path = f"/owner/privacy/erasures/{request_for.id}"
    response = owner_client.post(
        path,
        data={
            "csrf_token": csrf_token_from(owner_client, path),
            "parts": ["complaints", "interactions"],
            "reason": "Court claim, case 12/2026",
        },
    )
    assert response.status_code == 303
    held = ErasureRequest.get_by_id(request_for.id)
    assert (held.status, held.kept_parts) == ("on_hold", "complaints,interactions")
    assert held.lawful_reason == "Court claim, case 12/2026"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "Court claim"}, "Choose at least one part to keep."),
        (
            {"parts": ["complaints"], "reason": ""},
            "Write the lawful reason for keeping these parts.",
        ),
        ({"parts": ["everything"], "reason": "x"}, "is not a valid choice"),
    ],
)
def test_bad_hold_is_refused_next_to_the_field(owner_client, request_for, data, message):
    path = f"/owner/privacy/erasures/{request_for.id}"
    response = owner_client.post(
        path, data={"csrf_token": csrf_token_from(owner_client, path), **data}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert ErasureRequest.get_by_id(request_for.id).status == "pending"


def test_execute_asks_first_then_erases_and_shows_a_receipt(owner_client, request_for):
    path = f"/owner/privacy/erasures/{request_for.id}/execute"
    confirm = owner_client.get(path)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "E-mail addresses and phone numbers: 2" in page
    assert Customer.get_by_id(request_for.customer_id).erased_at is None  # asking changes nothing

    response = owner_client.post(path, data={"csrf_token": csrf_token_from(owner_client, path)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/owner/privacy/erasures/{request_for.id}/receipt"
    )
    assert Customer.get_by_id(request_for.customer_id).erased_at is not None
    assert ContactPoint.select().count() == 0
    receipt = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "E-mail addresses and phone numbers: 2" in receipt
    assert "Qlobuczy" not in receipt and "wq@example.org" not in receipt
    listing = owner_client.get("/owner/privacy/erasures").get_data(as_text=True)
    assert "Qlobuczy" not in listing
    event = AuditEvent.get(AuditEvent.action == "customer_erased")
    assert event.target_id == request_for.customer_id


def test_execute_without_csrf_token_changes_nothing(owner_client, request_for):
    response = owner_client.post(f"/owner/privacy/erasures/{request_for.id}/execute", data={})
    assert response.status_code == 400
    assert Customer.get_by_id(request_for.customer_id).erased_at is None


def test_owner_pages_render_in_russian(client, owner, request_for):
    sign_in(client, owner)
    client.post("/language", data={"language": "ru", "csrf_token": csrf_token_from(client, "/")})
    page = client.get("/owner/privacy/erasures")
    assert page.status_code == 200
