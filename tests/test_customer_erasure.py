"""Erase me: the customer asks, confirms from the e-mailed link (even signed out), the owner
sees the request, the sweep executes it after the grace period, and the customer is told."""

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portal import erasure, retention, settings
from portal.models import AuditEvent, Customer, ErasureRequest, utcnow
from tests.conftest import csrf_token_from
from tests.customer_signin import start_customer_session
from tests.factories import make_customer

ADDRESS = "anna@example.com"
LINK = re.compile(r"http://localhost(/me/erase/confirm/\S+)")


def signed_in(app, customer):
    """A browser of its own with the customer signed in (as the e-mailed link would do)."""
    return start_customer_session(app.test_client(), customer)


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email=ADDRESS, preferred_language="ru")


def ask(browser):
    token = csrf_token_from(browser, "/me/erase")
    return browser.post("/me/erase", data={"csrf_token": token})


def confirmation_path(smtp_server) -> str:
    (message,) = smtp_server.to(ADDRESS)
    return LINK.search(smtp_server.body(message)).group(1)


def confirm_signed_out(app, path):
    stranger = app.test_client()  # the session expired, or another device
    token = csrf_token_from(stranger, path)
    return stranger.post(path, data={"csrf_token": token})


def test_the_page_explains_what_is_erased_and_what_is_kept(app, anna):
    page = signed_in(app, anna).get("/me/erase").get_data(as_text=True)
    assert "accounting" in page and "cannot be undone" in page
    assert "Ask to erase my data" in page


def test_asking_mails_a_link_and_asking_again_shows_the_same_request(app, anna, smtp_server):
    smtp_server.configure(app)
    browser = signed_in(app, anna)
    assert ask(browser).status_code == 303
    request = ErasureRequest.get(ErasureRequest.customer_id == anna.id)
    assert (request.status, request.requested_by_type) == ("awaiting_confirmation", "customer")
    assert confirmation_path(smtp_server)
    assert smtp_server.to(ADDRESS)[0]["Content-Language"] == "ru"
    ask(browser)
    assert ErasureRequest.select().count() == 1
    page = browser.get("/me/erase").get_data(as_text=True)
    assert "Waiting for your confirmation." in page
    assert "Ask to erase my data" not in page


def test_the_link_confirms_without_a_session_and_the_owner_sees_it(
    app, anna, smtp_server, owner_client
):
    smtp_server.configure(app)
    settings.put("erasure_grace_days", 14)
    ask(signed_in(app, anna))
    path = confirmation_path(smtp_server)
    before = utcnow()
    response = confirm_signed_out(app, path)
    assert response.status_code == 303
    request = ErasureRequest.get(ErasureRequest.customer_id == anna.id)
    assert request.status == "pending"
    assert before + timedelta(days=14) <= request.execute_after <= utcnow() + timedelta(days=14)
    assert "request is confirmed" in app.test_client().get(path).get_data(as_text=True)
    desk = owner_client.get("/owner/privacy/erasures").get_data(as_text=True)
    assert "Anna Nowak" in desk
    assert Customer.get_by_id(anna.id).erased_at is None  # not before the grace period


def test_an_altered_or_expired_link_confirms_nothing(app, anna):
    request = erasure.request_erasure(anna.id, made_via="self_service")
    with app.app_context():
        good = erasure.confirmation_token(request)
    altered = app.test_client().get(f"/me/erase/confirm/{good[:-2]}xx")
    assert altered.status_code == 404
    assert "not valid" in altered.get_data(as_text=True)

    class LongAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - (erasure.CONFIRM_LINK_DAYS * 24 + 1) * 3600

    signing = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=erasure.CONFIRM_SALT, signer=LongAgo
    )
    old = signing.dumps(request.id)
    expired = app.test_client().get(f"/me/erase/confirm/{old}")
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    assert ErasureRequest.get_by_id(request.id).status == "awaiting_confirmation"


def test_the_sweep_erases_after_the_grace_period_and_tells_the_customer(app, anna, smtp_server):
    smtp_server.configure(app)
    browser = signed_in(app, anna)
    ask(browser)
    confirm_signed_out(app, confirmation_path(smtp_server))
    request = ErasureRequest.get(ErasureRequest.customer_id == anna.id)
    with app.app_context():
        early = retention.sweep(now=request.execute_after - timedelta(hours=1), apply=True)
        assert early.erased == 0 and len(smtp_server.to(ADDRESS)) == 1
        report = retention.sweep(now=request.execute_after + timedelta(days=1), apply=True)
    assert report.erased == 1
    assert Customer.get_by_id(anna.id).erased_at is not None
    assert ErasureRequest.get_by_id(request.id).status == "completed"
    done = smtp_server.to(ADDRESS)[-1]
    assert len(smtp_server.to(ADDRESS)) == 2
    assert done["Content-Language"] == "ru"
    assert "удалили ваши персональные данные" in smtp_server.body(done)  # in Russian
    assert AuditEvent.select().where(AuditEvent.action == "erasure_done_mailed").count() == 1
    # The customer's session no longer opens the area.
    response = browser.get("/me/complaints")
    assert response.status_code == 302 and "/me/sign-in" in response.headers["Location"]


def test_a_mail_failure_does_not_undo_the_erasure(app, anna):
    request = erasure.request_erasure(anna.id, made_via="self_service")
    erasure.confirm(request)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_TIMEOUT=2)  # nobody listens
    with app.app_context():
        receipt = erasure.execute(ErasureRequest.get_by_id(request.id), staff_id=None)
    assert receipt.customer_notified is False
    assert Customer.get_by_id(anna.id).erased_at is not None
    assert ErasureRequest.get_by_id(request.id).status == "completed"


def test_an_erasure_staff_recorded_sends_no_customer_mail(app, anna, smtp_server):
    smtp_server.configure(app)
    request = erasure.request_erasure(anna.id, made_via="staff")
    with app.app_context():
        receipt = erasure.execute(request, staff_id=None)
    assert receipt.customer_notified is False
    assert smtp_server.to(ADDRESS) == []
