"""The customer's complaints in the self-service area: raising one, following its status in
plain words, reading replies (never internal notes), replying, and reaching only their own."""

import pytest

from portal import complaints
from portal.models import AuditEvent, Complaint, ComplaintMessage
from tests.conftest import csrf_token_from
from tests.customer_signin import start_customer_session
from tests.factories import make_customer

NOTE_MARKER = "INTERNAL-NOTE-MARKER-7431"
REPLY_TEXT = "We are sending you a new teapot lid today."


def signed_in(app, customer):
    """A browser of its own with the customer signed in (as the e-mailed link would do)."""
    return start_customer_session(app.test_client(), customer)


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna@example.com")


@pytest.fixture
def boris(app):
    return make_customer("Boris", "Ivanov", email="boris@example.com")


def open_for(customer, subject="Teapot lid cracked"):
    return complaints.open_complaint(
        customer,
        subject=subject,
        description="The lid broke on the first day.",
        channel="in_store",
        category="product_quality",
        severity="high",
    )


def test_customer_raises_a_complaint_staff_then_judge_its_severity(app, anna):
    browser = signed_in(app, anna)
    token = csrf_token_from(browser, "/me/complaints")
    response = browser.post(
        "/me/complaints",
        data={
            "csrf_token": token,
            "subject": "Late delivery",
            "description": "Ordered a week ago, still nothing.",
            "category": "delivery",
            "severity": "critical",  # not a field of the customer's form: ignored
        },
    )
    complaint = Complaint.get(Complaint.customer == anna.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/me/complaints/{complaint.id}")
    assert (complaint.subject, complaint.category) == ("Late delivery", "delivery")
    assert (complaint.severity, complaint.channel, complaint.status) == (
        "medium",
        "self_service",
        "new",
    )
    opened = AuditEvent.get(AuditEvent.action == "complaint_opened")
    assert (opened.actor_type, opened.actor_id) == ("customer", anna.id)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Late delivery" in page and "Received" in page


def test_a_complaint_without_subject_is_refused_beside_the_field(app, anna):
    browser = signed_in(app, anna)
    token = csrf_token_from(browser, "/me/complaints")
    response = browser.post(
        "/me/complaints",
        data={"csrf_token": token, "subject": " ", "description": "x", "category": "other"},
    )
    assert response.status_code == 422
    assert "Enter what the complaint is about." in response.get_data(as_text=True)
    assert Complaint.select().count() == 0


def test_status_and_history_read_in_plain_words(app, anna):
    complaint = open_for(anna)
    complaints.change_status(complaint, "in_progress", staff_id=None)
    complaints.change_status(complaint, "waiting_for_customer", staff_id=None)
    browser = signed_in(app, anna)
    listing = browser.get("/me/complaints").get_data(as_text=True)
    assert "Waiting for your answer" in listing
    page = browser.get(f"/me/complaints/{complaint.id}").get_data(as_text=True)
    assert "We received your complaint." in page
    assert "We started working on your complaint." in page
    assert "We asked you for more information." in page
    assert "waiting_for_customer" not in page.replace("status-waiting_for_customer", "")


def test_the_customer_reads_replies_but_never_internal_notes(app, anna):
    complaint = open_for(anna)
    with app.test_request_context():
        complaints.add_reply(complaint, REPLY_TEXT, staff_id=None)
    complaints.add_note(complaint, f"{NOTE_MARKER} do not tell her", staff_id=None)
    browser = signed_in(app, anna)
    listing = browser.get("/me/complaints").get_data(as_text=True)
    page = browser.get(f"/me/complaints/{complaint.id}").get_data(as_text=True)
    token = csrf_token_from(browser, f"/me/complaints/{complaint.id}")
    partial = browser.post(
        f"/me/complaints/{complaint.id}/replies",
        data={"csrf_token": token, "body": "Thank you!"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert REPLY_TEXT in page and REPLY_TEXT in partial and "Thank you!" in partial
    for html in (listing, page, partial):
        assert NOTE_MARKER not in html


def test_a_reply_reaches_staff_and_resumes_a_waiting_complaint(app, anna, staff_client):
    complaint = open_for(anna)
    complaints.change_status(complaint, "waiting_for_customer", staff_id=None)
    browser = signed_in(app, anna)
    token = csrf_token_from(browser, f"/me/complaints/{complaint.id}")
    response = browser.post(
        f"/me/complaints/{complaint.id}/replies",
        data={"csrf_token": token, "body": "The photo is attached to my e-mail."},
    )
    assert response.status_code == 303
    message = ComplaintMessage.get(ComplaintMessage.complaint == complaint.id)
    assert (message.kind, message.author_type) == ("reply", "customer")
    assert Complaint.get_by_id(complaint.id).status == "in_progress"
    replied = AuditEvent.get(AuditEvent.action == "complaint_customer_replied")
    assert (replied.actor_type, replied.actor_id) == ("customer", anna.id)
    staff_page = staff_client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "The photo is attached to my e-mail." in staff_page
    assert "From the customer" in staff_page


def test_an_empty_reply_or_a_reply_to_a_closed_complaint_is_refused(app, anna):
    complaint = open_for(anna)
    browser = signed_in(app, anna)
    token = csrf_token_from(browser, f"/me/complaints/{complaint.id}")
    empty = browser.post(
        f"/me/complaints/{complaint.id}/replies", data={"csrf_token": token, "body": "  "}
    )
    assert empty.status_code == 422
    assert "Write your reply first." in empty.get_data(as_text=True)
    with app.test_request_context():  # closing mails the customer a rating link
        for status in ("resolved", "closed"):
            complaints.change_status(complaint, status, staff_id=None)
    closed = browser.post(
        f"/me/complaints/{complaint.id}/replies", data={"csrf_token": token, "body": "Hello?"}
    )
    assert closed.status_code == 422
    assert ComplaintMessage.select().count() == 0


def test_another_customers_complaint_is_404_on_every_url(app, anna, boris):
    theirs = open_for(boris, subject="Boris private complaint")
    browser = signed_in(app, anna)
    token = csrf_token_from(browser, "/me/complaints")
    assert "Boris private complaint" not in browser.get("/me/complaints").get_data(as_text=True)
    assert browser.get(f"/me/complaints/{theirs.id}").status_code == 404
    reply = browser.post(
        f"/me/complaints/{theirs.id}/replies", data={"csrf_token": token, "body": "Hijack"}
    )
    htmx_reply = browser.post(
        f"/me/complaints/{theirs.id}/replies",
        data={"csrf_token": token, "body": "Hijack"},
        headers={"HX-Request": "true"},
    )
    assert reply.status_code == htmx_reply.status_code == 404
    assert ComplaintMessage.select().count() == 0


def test_complaint_pages_need_a_customer_session(client, app, anna, staff_client):
    complaint = open_for(anna)
    for path in ("/me/complaints", f"/me/complaints/{complaint.id}"):
        response = staff_client.get(path)  # a staff session is not a customer session
        assert response.status_code == 302
        assert "/me/sign-in" in response.headers["Location"]
