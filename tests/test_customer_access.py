"""Customer sign-in by e-mailed single-use link (SPEC 5): same answer for known and unknown
addresses, link in the customer's language, single use, expiry, rate limits, sign-out,
session expiry, language switch, and the staff's invitation from the profile."""

import hashlib
import time
from datetime import timedelta

import pytest

from portal import customer_links, sign_in_sessions
from portal.models import AuditEvent, CustomerSignInLink, utcnow
from tests.conftest import csrf_token_from
from tests.customer_signin import follow_link, link_path_in, sign_in_customer
from tests.factories import make_customer


def ask_for_link(client, email: str):
    token = csrf_token_from(client, "/me/sign-in")
    return client.post("/me/sign-in", data={"email": email, "csrf_token": token})


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="Anna@Example.com", preferred_language="pl")


def test_known_and_unknown_addresses_get_the_same_answer(app, client, smtp_server, anna):
    smtp_server.configure(app)
    known = ask_for_link(client, "  ANNA@example.com ")
    unknown = ask_for_link(client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/me/sign-in/sent"
    page = client.get("/me/sign-in/sent").get_data(as_text=True)
    assert "If this address belongs to a customer" in page
    # Only the known address got mail: to the stored address, in the customer's language.
    [message] = smtp_server.messages
    assert message["To"] == "Anna@Example.com"
    assert message["Content-Language"] == "pl"
    assert smtp_server.to("nobody@example.com") == []


def test_link_signs_in_once_and_lands_on_my_data(app, client, smtp_server, anna):
    smtp_server.configure(app)
    ask_for_link(client, "anna@example.com")
    path = link_path_in(smtp_server.body(smtp_server.messages[0]))

    response = follow_link(client, path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/me/"
    assert "Anna Nowak" in client.get("/me/").get_data(as_text=True)
    signed_in = AuditEvent.get(AuditEvent.action == "customer_signed_in")
    assert (signed_in.actor_type, signed_in.actor_id) == ("customer", anna.id)

    # Used: a second click (any browser) is refused with a clear message and a way back.
    again = client.application.test_client().get(path)
    assert again.status_code == 410
    text = again.get_data(as_text=True)
    assert "already been used" in text
    assert 'href="/me/sign-in"' in text


def test_opening_the_link_does_not_use_it_up(app, client, anna):
    """Mail scanners open links before the customer does: only the button signs in."""
    path = f"/me/link/{customer_links.create_link(anna)}"
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200 and 'type="submit"' in page.get_data(as_text=True)
    assert client.get("/me/").status_code == 302  # opening alone signs nobody in
    assert client.post(path, data={}).status_code == 400  # no CSRF token: refused
    assert client.get("/me/").status_code == 302
    assert follow_link(client, path).status_code == 303
    assert "Anna Nowak" in client.get("/me/").get_data(as_text=True)


def test_only_the_hash_of_the_token_is_stored(app, anna):
    token = customer_links.create_link(anna)
    link = CustomerSignInLink.get(CustomerSignInLink.customer == anna.id)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in link.token_hash
    assert link.expires_at - link.created_at == timedelta(minutes=15)


def test_expired_link_is_refused(app, client, anna):
    token = customer_links.create_link(anna)
    CustomerSignInLink.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    response = client.get(f"/me/link/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/me/").status_code == 302  # not signed in


def test_unknown_link_is_refused(app, client, anna):
    response = client.get("/me/link/not-a-real-token")
    assert response.status_code == 404
    assert "do not recognise this sign-in link" in response.get_data(as_text=True)


def test_link_of_an_erased_customer_signs_nobody_in(app, client, anna):
    token = customer_links.create_link(anna)
    anna.__class__.update(erased_at=utcnow()).where(anna.__class__.id == anna.id).execute()
    assert client.get(f"/me/link/{token}").status_code == 404
    assert client.get("/me/").status_code == 302


def test_shared_address_sends_one_link_for_the_most_recently_active(app, client, smtp_server):
    smtp_server.configure(app)
    older = make_customer("Ewa", "Kot", email="family@example.com")
    newer = make_customer("Jan", "Kot", email="family@example.com")
    older.__class__.update(last_activity_at=utcnow() - timedelta(days=30)).where(
        older.__class__.id == older.id
    ).execute()
    ask_for_link(client, "family@example.com")
    [message] = smtp_server.messages
    follow_link(client, link_path_in(smtp_server.body(message)))
    page = client.get("/me/").get_data(as_text=True)
    assert "Jan Kot" in page and "Ewa Kot" not in page
    assert newer.id != older.id


def test_bad_address_gets_a_message_beside_the_field(app, client, smtp_server):
    smtp_server.configure(app)
    response = ask_for_link(client, "not an address")
    assert response.status_code == 422
    assert "Enter an e-mail address like name@example.com." in response.get_data(as_text=True)
    assert smtp_server.messages == []


def test_link_requests_are_limited_per_address(app, client, smtp_server, anna):
    smtp_server.configure(app)
    app.config["CUSTOMER_LINK_LIMIT_PER_EMAIL"] = "2 per minute"
    assert ask_for_link(client, "anna@example.com").status_code == 303
    assert ask_for_link(client, "ANNA@example.com").status_code == 303
    refused = ask_for_link(client, "anna@example.com")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert len(smtp_server.messages) == 2
    # Another address from the same client is still served.
    assert ask_for_link(client, "other@example.com").status_code == 303


def test_link_requests_are_limited_per_client(app, client):
    app.config["CUSTOMER_LINK_LIMIT_PER_ADDRESS"] = "3 per minute"
    for n in range(3):
        assert ask_for_link(client, f"someone{n}@example.com").status_code == 303
    assert ask_for_link(client, "someone9@example.com").status_code == 429


def test_sign_out_ends_the_customer_session(app, client, anna):
    sign_in_customer(client, anna)
    token = csrf_token_from(client, "/me/")
    response = client.post("/me/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/me/sign-in"
    assert client.get("/me/").status_code == 302
    assert AuditEvent.select().where(AuditEvent.action == "customer_signed_out").count() == 1


def test_session_expires_after_its_lifetime(app, client, anna, monkeypatch):
    monkeypatch.setattr(sign_in_sessions, "CUSTOMER_LIFETIME", timedelta(seconds=1))
    sign_in_customer(client, anna)
    assert client.get("/me/").status_code == 200
    time.sleep(1.2)
    response = client.get("/me/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/sign-in"


def test_language_switch_works_for_customers(app, client, anna):
    sign_in_customer(client, anna)  # Anna prefers Polish: the area starts in Polish
    assert 'lang="pl"' in client.get("/me/").get_data(as_text=True)
    token = csrf_token_from(client, "/me/")
    response = client.post(
        "/me/language", data={"language": "zh", "next": "/me/", "csrf_token": token}
    )
    assert response.headers["Location"] == "/me/"
    assert '<html lang="zh">' in client.get("/me/").get_data(as_text=True)
    # The switch never sends a customer off the area.
    response = client.post(
        "/me/language", data={"language": "en", "next": "/customers", "csrf_token": token}
    )
    assert response.headers["Location"] == "/me/"


def test_staff_invite_a_customer_from_the_profile(app, staff_client, smtp_server, anna):
    smtp_server.configure(app)
    profile = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert f'action="/customers/{anna.id}/invite"' in profile
    token = csrf_token_from(staff_client, f"/customers/{anna.id}")

    response = staff_client.post(f"/customers/{anna.id}/invite", data={"csrf_token": token})
    assert response.status_code == 303
    [message] = smtp_server.to("Anna@Example.com")
    assert message["Content-Language"] == "pl"
    event = AuditEvent.get(AuditEvent.action == "customer_invitation_sent")
    assert (event.actor_type, event.target_id) == ("staff", anna.id)

    # The link in the invitation signs Anna in (and so ends the staff session in that browser).
    customer_browser = app.test_client()
    path = link_path_in(smtp_server.body(message))
    assert follow_link(customer_browser, path).status_code == 303
    assert "Anna Nowak" in customer_browser.get("/me/").get_data(as_text=True)


def test_no_invitation_for_a_customer_without_e_mail(app, staff_client, smtp_server):
    smtp_server.configure(app)
    silent = make_customer("Piotr", "Lis", phone="+48600100200")
    profile = staff_client.get(f"/customers/{silent.id}").get_data(as_text=True)
    assert "/invite" not in profile
    token = csrf_token_from(staff_client, f"/customers/{silent.id}")
    response = staff_client.post(f"/customers/{silent.id}/invite", data={"csrf_token": token})
    assert response.status_code == 404
    assert smtp_server.messages == []
