"""Complaints: opening on the business-hours clock, the lifecycle (allowed and refused
transitions), the paused clock, overdue rules, replies versus internal notes, mail received by
a real SMTP server, and the customer's rating through the signed link."""

import re
import time
from datetime import datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape

from portal import complaints, settings
from portal.models import AuditEvent, Complaint, ComplaintMessage, ComplaintStatusChange
from tests.conftest import csrf_token_from
from tests.factories import make_customer

WEEKDAYS_9_TO_5 = {str(day): ["09:00", "17:00"] for day in range(5)} | {"5": None, "6": None}
MONDAY_10 = datetime(2026, 3, 2, 10, 0)  # a Monday, in UTC (the test business's zone)
ILLEGAL = [
    (from_status, to_status)
    for from_status in Complaint.STATUSES
    for to_status in Complaint.STATUSES
    if to_status not in complaints.TRANSITIONS[from_status]
]
ALLOWED = [(f, t) for f, targets in complaints.TRANSITIONS.items() for t in targets]
NOTE_TEXT = "Internal: customer broke it himself, do not tell him"
REPLY_TEXT = "We are sending you a new teapot lid today."


@pytest.fixture
def hours(app):
    """A business open Monday to Friday 9–17 in UTC, no holidays."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    settings.put("opening_hours", WEEKDAYS_9_TO_5)
    settings.put("holidays", [])


@pytest.fixture
def customer(app):
    return make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")


def opened(customer, *, status="new", staff_id=None, **kwargs):
    complaint = complaints.open_complaint(
        customer,
        subject="Teapot lid cracked",
        description="It cracked at first use.",
        channel="in_store",
        category="product_quality",
        severity="medium",
        staff_id=staff_id,
        **kwargs,
    )
    if status != "new":
        Complaint.update(status=status).where(Complaint.id == complaint.id).execute()
    return Complaint.get_by_id(complaint.id)


def actions(complaint_id=None):
    query = AuditEvent.select().order_by(AuditEvent.id)
    return [
        e.action
        for e in query
        if complaint_id is None or f'"complaint_id": {complaint_id}' in e.details
    ]


def post(client, url, data, **headers):
    data = {"csrf_token": csrf_token_from(client, "/"), **data}
    return client.post(url, data=data, headers=headers)


# --- Opening ---------------------------------------------------------------------------


def test_staff_open_a_complaint_from_the_profile_with_business_hours_due_dates(
    staff_client, customer, hours
):
    page = staff_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Open a complaint" in page
    response = post(
        staff_client,
        f"/customers/{customer.id}/complaints",
        {
            "complaint-subject": "Teapot lid cracked",
            "complaint-description": "It cracked.",
            "complaint-channel": "email",
            "complaint-category": "product_quality",
            "complaint-severity": "high",
        },
    )
    assert response.status_code == 303
    complaint = Complaint.get()
    assert response.headers["Location"].endswith(f"/complaints/{complaint.id}")
    assert (complaint.status, complaint.severity, complaint.channel) == ("new", "high", "email")
    from portal import business_hours

    assert complaint.first_response_due_at == business_hours.due_after(complaint.opened_at, 4)
    assert complaint.due_at == business_hours.due_after(complaint.opened_at, 16)
    assert "complaint_opened" in actions(complaint.id)
    assert "Teapot lid cracked" in staff_client.get(f"/customers/{customer.id}").get_data(True)


def test_open_complaint_without_subject_gets_a_message_beside_the_field(staff_client, customer):
    response = post(
        staff_client,
        f"/customers/{customer.id}/complaints",
        {"complaint-subject": " ", "complaint-severity": "medium"},
        **{"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="complaint-subject-error">Enter what the complaint is about\.', html)
    assert Complaint.select().count() == 0


def test_due_dates_count_only_opening_hours(app, customer, hours):
    complaint = opened(customer, now=MONDAY_10)
    # Medium: 8 business hours to answer, 40 to resolve, from Monday 10:00.
    assert complaint.first_response_due_at == datetime(2026, 3, 3, 10, 0)
    assert complaint.due_at == datetime(2026, 3, 9, 10, 0)


# --- Lifecycle -------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_every_allowed_transition_is_made_recorded_and_audited(
    staff_client, staff_member, customer, from_status, to_status
):
    complaint = opened(customer, status=from_status)
    response = post(staff_client, f"/complaints/{complaint.id}/status", {"to_status": to_status})
    assert response.status_code == 303
    assert Complaint.get_by_id(complaint.id).status == to_status
    [change] = ComplaintStatusChange.select()
    assert (change.from_status, change.to_status) == (from_status, to_status)
    assert change.changed_by_staff_id == staff_member.id
    assert actions(complaint.id)[-1] == "complaint_status_changed"


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_illegal_transitions_are_refused_with_a_message_and_change_nothing(
    staff_client, customer, from_status, to_status
):
    complaint = opened(customer, status=from_status)
    before = Complaint.get_by_id(complaint.id)
    events = AuditEvent.select().count()
    response = post(
        staff_client,
        f"/complaints/{complaint.id}/status",
        {"to_status": to_status},
        **{"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "cannot move to" in html
    after = Complaint.get_by_id(complaint.id)
    assert after.status == from_status
    assert after.__data__ == before.__data__
    assert ComplaintStatusChange.select().count() == 0
    # Only the page view is audited, no status change.
    assert AuditEvent.select().count() == events
    assert "complaint_status_changed" not in actions(complaint.id)


def test_only_allowed_transitions_are_offered(staff_client, customer):
    complaint = opened(customer, status="resolved")
    html = staff_client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    offered = set(re.findall(r'name="to_status" value="(\w+)"', html))
    assert offered == {"closed", "in_progress"}


def test_unknown_status_is_refused(staff_client, customer):
    complaint = opened(customer)
    response = post(staff_client, f"/complaints/{complaint.id}/status", {"to_status": "deleted"})
    assert response.status_code == 422
    assert Complaint.get_by_id(complaint.id).status == "new"


def test_board_card_gets_its_card_back(staff_client, customer):
    complaint = opened(customer)
    response = post(
        staff_client,
        f"/complaints/{complaint.id}/status",
        {"to_status": "in_progress"},
        **{"HX-Request": "true", "HX-Target": f"complaint-card-{complaint.id}"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="complaint-card-{complaint.id}"' in html
    assert 'value="waiting_for_customer"' in html  # the buttons of the new status


def test_assign_and_unassign(staff_client, staff_member, customer):
    complaint = opened(customer)
    post(staff_client, f"/complaints/{complaint.id}/assign", {"assignee": str(staff_member.id)})
    assert Complaint.get_by_id(complaint.id).assignee_id == staff_member.id
    post(staff_client, f"/complaints/{complaint.id}/assign", {"assignee": ""})
    assert Complaint.get_by_id(complaint.id).assignee_id is None
    bad = post(staff_client, f"/complaints/{complaint.id}/assign", {"assignee": "99999"})
    assert bad.status_code == 422
    assert "Choose one from the list." in bad.get_data(as_text=True)
    assert actions(complaint.id).count("complaint_assigned") == 2


# --- The clock -------------------------------------------------------------------------


def test_waiting_for_the_customer_pauses_the_clock(app, customer, hours):
    complaint = opened(customer, now=MONDAY_10)
    complaints.change_status(
        complaint, "waiting_for_customer", staff_id=None, now=datetime(2026, 3, 2, 11, 0)
    )
    assert complaint.paused_at == datetime(2026, 3, 2, 11, 0)
    assert not complaints.is_overdue(complaint, now=datetime(2026, 3, 30, 12, 0))
    # Back on Tuesday 11:00: 6 business hours on Monday and 2 on Tuesday were spent waiting.
    complaints.change_status(complaint, "in_progress", staff_id=None, now=datetime(2026, 3, 3, 11))
    stored = Complaint.get_by_id(complaint.id)
    assert stored.paused_at is None
    assert stored.first_response_due_at == datetime(2026, 3, 4, 10, 0)  # Tue 10:00 + 8 h
    assert stored.due_at == datetime(2026, 3, 10, 10, 0)  # next Mon 10:00 + 8 h


def test_pause_does_not_move_an_answered_first_response(app, customer, hours):
    complaint = opened(customer, now=MONDAY_10)
    complaints.add_reply(complaint, "We are on it.", staff_id=None)
    complaints.change_status(complaint, "waiting_for_customer", staff_id=None, now=MONDAY_10)
    complaints.change_status(complaint, "in_progress", staff_id=None, now=datetime(2026, 3, 2, 12))
    stored = Complaint.get_by_id(complaint.id)
    assert stored.first_response_due_at == datetime(2026, 3, 3, 10, 0)
    assert stored.due_at == datetime(2026, 3, 9, 12, 0)


def test_overdue_rules(app, customer, hours):
    complaint = opened(customer, now=MONDAY_10)
    before_first_due = datetime(2026, 3, 3, 9, 0)
    after_first_due = datetime(2026, 3, 3, 11, 0)
    after_due = datetime(2026, 3, 9, 11, 0)
    assert not complaints.is_overdue(complaint, before_first_due)
    assert complaints.is_overdue(complaint, after_first_due)  # no first response yet
    complaint.first_responded_at = datetime(2026, 3, 3, 10, 30)  # answered, late but answered
    assert not complaints.is_overdue(complaint, after_first_due)
    assert complaints.is_overdue(complaint, after_due)
    for status in ("waiting_for_customer", "resolved", "closed"):
        complaint.status = status
        assert not complaints.is_overdue(complaint, after_due)
    complaint.status = "in_progress"
    complaint.save()
    assert complaints.open_counts(after_due) == {"open": 1, "overdue": 1}
    assert complaints.open_counts(before_first_due) == {"open": 1, "overdue": 0}


def test_overdue_is_marked_on_the_page(staff_client, customer):
    complaint = opened(customer)
    Complaint.update(first_response_due_at=datetime(2020, 1, 1)).where(
        Complaint.id == complaint.id
    ).execute()
    html = staff_client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "badge-overdue" in html


# --- Replies, notes and mail -----------------------------------------------------------


def test_replies_are_mailed_notes_never_and_closing_mail_carries_the_rating_link(
    app, staff_client, customer, smtp_server
):
    smtp_server.configure(app)
    complaint = opened(customer)
    url = f"/complaints/{complaint.id}"
    response = post(staff_client, f"{url}/notes", {"body": NOTE_TEXT}, **{"HX-Request": "true"})
    assert "The customer does not see it" in response.get_data(as_text=True)
    assert smtp_server.messages == []
    response = post(staff_client, f"{url}/replies", {"body": REPLY_TEXT}, **{"HX-Request": "true"})
    assert "e-mailed to the customer" in response.get_data(as_text=True)
    [reply_mail] = smtp_server.to("anna@example.com")
    assert REPLY_TEXT in smtp_server.body(reply_mail)
    assert "Teapot lid cracked" in reply_mail["Subject"]
    assert reply_mail["Content-Language"] == "pl"
    assert Complaint.get_by_id(complaint.id).first_responded_at is not None

    for status in ("in_progress", "resolved", "closed"):
        assert post(staff_client, f"{url}/status", {"to_status": status}).status_code == 303
    assert len(smtp_server.messages) == 2
    closing = smtp_server.body(smtp_server.messages[1])
    link = re.search(r"http://localhost/rate/\S+", closing)
    assert link, closing
    for message in smtp_server.messages:
        assert NOTE_TEXT not in message.as_string()
        assert "Internal" not in smtp_server.body(message)

    page = staff_client.get(url).get_data(as_text=True)
    assert "message-internal_note" in page and NOTE_TEXT in page
    assert "message-reply" in page
    kinds = [m.kind for m in ComplaintMessage.select().order_by(ComplaintMessage.id)]
    assert kinds == ["internal_note", "reply"]
    assert {"complaint_note_added", "complaint_replied"} <= set(actions(complaint.id))


def test_customer_who_opted_out_gets_no_mail(app, staff_client, smtp_server):
    smtp_server.configure(app)
    quiet = make_customer("Jan", "Kowalski", email="jan@example.com", preferred_channel="none")
    complaint = opened(quiet)
    response = post(staff_client, f"/complaints/{complaint.id}/replies", {"body": REPLY_TEXT})
    assert response.status_code == 303
    for status in ("resolved", "closed"):
        post(staff_client, f"/complaints/{complaint.id}/status", {"to_status": status})
    assert smtp_server.messages == []
    assert ComplaintMessage.select().count() == 1


def test_empty_reply_gets_a_message_beside_the_field(staff_client, customer):
    complaint = opened(customer)
    response = post(
        staff_client,
        f"/complaints/{complaint.id}/replies",
        {"body": "  "},
        **{"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert 'id="reply-body-error">Write the message first.' in response.get_data(as_text=True)
    assert ComplaintMessage.select().count() == 0


def test_resolution_and_redress(staff_client, customer):
    complaint = opened(customer)
    url = f"/complaints/{complaint.id}/resolution"
    missing_value = post(
        staff_client,
        url,
        {"resolution-resolution": "Refunded.", "resolution-redress": "refund"},
        **{"HX-Request": "true"},
    )
    assert missing_value.status_code == 422
    assert "Enter what the refund or replacement was worth." in missing_value.get_data(True)
    assert Complaint.get_by_id(complaint.id).redress == ""
    done = post(
        staff_client,
        url,
        {
            "resolution-resolution": "Refunded.",
            "resolution-redress": "refund",
            "resolution-redress_value": "25.50",
        },
    )
    assert done.status_code == 303
    stored = Complaint.get_by_id(complaint.id)
    assert (stored.resolution, stored.redress, stored.redress_value) == (
        "Refunded.",
        "refund",
        Decimal("25.50"),
    )
    assert "complaint_resolution_recorded" in actions(complaint.id)


# --- Rating ----------------------------------------------------------------------------


def in_polish(app, message: str) -> str:
    """What the customer (who reads Polish) sees for this message."""
    with app.test_request_context(), force_locale("pl"):
        return str(escape(gettext(message)))


def closed_complaint(customer):
    complaint = opened(customer, status="resolved")
    return complaints.change_status(complaint, "closed", staff_id=None)


def test_customer_rates_once_through_the_link_without_signing_in(app, client, customer):
    with app.test_request_context():
        complaint = closed_complaint(customer)
        token = complaints.rating_token(complaint)
    page = client.get(f"/rate/{token}")
    assert page.status_code == 200
    assert '<html lang="pl">' in page.get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(True)).group(1)
    missing = client.post(f"/rate/{token}", data={"csrf_token": csrf, "comment": "meh"})
    assert missing.status_code == 422
    score_error = in_polish(app, "Choose a score from 1 to 5.")
    assert score_error != "Choose a score from 1 to 5."  # the catalog really answers in Polish
    assert f'id="score-error">{score_error}' in missing.get_data(True)
    assert Complaint.get_by_id(complaint.id).satisfaction is None
    thanks = client.post(
        f"/rate/{token}", data={"csrf_token": csrf, "score": "4", "comment": "Quick, thanks"}
    )
    assert thanks.status_code == 200
    again = client.post(f"/rate/{token}", data={"csrf_token": csrf, "score": "1"})
    already = in_polish(app, "This complaint has already been rated. Thank you.")
    assert already in again.get_data(as_text=True)
    stored = Complaint.get_by_id(complaint.id)
    assert (stored.satisfaction, stored.satisfaction_comment) == (4, "Quick, thanks")
    assert actions(complaint.id).count("complaint_rated") == 1


def test_rating_shows_on_the_complaint_page(app, staff_client, customer):
    with app.test_request_context():
        complaint = closed_complaint(customer)
    complaints.rate(complaint, 5, "Great")
    html = staff_client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "Customer&#39;s rating: 5 out of 5" in html or "Customer's rating: 5 out of 5" in html


def test_tampered_and_expired_links_are_refused(app, client, customer):
    with app.test_request_context():
        complaint = closed_complaint(customer)
        token = complaints.rating_token(complaint)

        class LongAgo(TimestampSigner):
            def get_timestamp(self):
                return int(time.time()) - (complaints.RATING_LINK_DAYS + 1) * 86400

        old = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=complaints.RATING_SALT, signer=LongAgo
        ).dumps(complaint.id)
    tampered = client.get(f"/rate/{token[:-2]}xx")
    assert tampered.status_code == 404
    assert "not valid" in tampered.get_data(as_text=True)
    expired = client.get(f"/rate/{old}")
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    assert client.post(f"/rate/{old}", data={"score": "5"}).status_code >= 400
    assert Complaint.get_by_id(complaint.id).satisfaction is None


def test_reopened_complaint_cannot_be_rated(app, client, customer):
    with app.test_request_context():
        complaint = closed_complaint(customer)
        token = complaints.rating_token(complaint)
    complaints.change_status(complaint, "in_progress", staff_id=None)
    response = client.get(f"/rate/{token}")
    still_working = "We are still working on this complaint. You can rate it once it is closed."
    assert in_polish(app, still_working) in response.get_data(as_text=True)
    with pytest.raises(complaints.RatingRefused):
        complaints.rate(complaint, 3)
