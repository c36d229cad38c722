"""Staff sign-in: the right password lets you in, everything else is refused and changes nothing."""

import pytest
from argon2 import PasswordHasher

from portal import create_app
from portal.accounts import create_staff
from portal.extensions import db
from portal.models import AuditEvent, StaffAccount
from tests.conftest import PASSWORD, base_config, csrf_token_from, sign_in


def audit_actions():
    return [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]


def test_sign_in_opens_the_dashboard(client, staff_member):
    response = sign_in(client, staff_member)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Sam Staff" in page.get_data(as_text=True)
    assert StaffAccount.get_by_id(staff_member.id).last_sign_in_at is not None
    assert audit_actions() == ["signed_in"]


def test_workspace_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_sign_in_follows_only_same_site_next(client, staff_member):
    token = csrf_token_from(client)
    data = {"email": staff_member.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/sign-in?next=//evil.example/steal", data=data)
    assert response.headers["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(client, staff_member):
    response = sign_in(client, staff_member, password="wrong password")
    assert response.status_code == 200
    assert "That e-mail and password do not match an active account." in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302  # still signed out
    assert StaffAccount.get_by_id(staff_member.id).last_sign_in_at is None
    failed = AuditEvent.get(AuditEvent.action == "sign_in_failed")
    assert (failed.target_type, failed.target_id) == ("staff", staff_member.id)


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, staff_member):
    token = csrf_token_from(client)
    unknown = client.post(
        "/sign-in", data={"email": "nobody@example.com", "password": PASSWORD, "csrf_token": token}
    ).get_data(as_text=True)
    wrong = sign_in(client, staff_member, password="nope").get_data(as_text=True)
    message = "That e-mail and password do not match an active account."
    assert message in unknown and message in wrong
    # The failure is audited without copying the typed e-mail into the trail.
    assert "nobody@example.com" not in "".join(e.details for e in AuditEvent.select())


def test_deactivated_account_cannot_sign_in(client, staff_member):
    StaffAccount.update(active=False).where(StaffAccount.id == staff_member.id).execute()
    response = sign_in(client, staff_member)
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)


def test_deactivation_ends_an_open_session(staff_client, staff_member):
    assert staff_client.get("/").status_code == 200
    StaffAccount.update(active=False).where(StaffAccount.id == staff_member.id).execute()
    assert staff_client.get("/").status_code == 302


def test_invalid_email_gets_a_message_beside_the_field(client):
    token = csrf_token_from(client)
    html = client.post(
        "/sign-in", data={"email": "not-an-email", "password": "x", "csrf_token": token}
    ).get_data(as_text=True)
    assert 'id="email-error"' in html
    assert "Enter an e-mail address like name@example.com." in html
    assert AuditEvent.select().count() == 0


def test_sign_out_ends_the_session(staff_client):
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert staff_client.get("/").status_code == 302
    assert audit_actions()[-1] == "signed_out"


def test_sign_in_without_csrf_token_is_refused(client, staff_member):
    response = client.post("/sign-in", data={"email": staff_member.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert AuditEvent.select().count() == 0


def test_sign_out_without_csrf_token_keeps_you_signed_in(staff_client):
    assert staff_client.post("/sign-out").status_code == 400
    assert staff_client.get("/").status_code == 200


def test_eleventh_quick_attempt_is_throttled_even_with_the_right_password(client, staff_member):
    for _ in range(10):
        assert sign_in(client, staff_member, password="wrong").status_code == 200
    response = sign_in(client, staff_member)  # the right password, but too late
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert StaffAccount.get_by_id(staff_member.id).last_sign_in_at is None
    assert audit_actions().count("sign_in_throttled") == 1


def test_account_limit_holds_across_addresses(app, staff_member):
    """Changing address does not buy more guesses at one account."""
    for attempt in range(10):
        client = app.test_client()
        environ = {"REMOTE_ADDR": f"10.0.0.{attempt + 1}"}
        token = csrf_token_from(client)
        client.post(
            "/sign-in",
            data={"email": staff_member.email, "password": "wrong", "csrf_token": token},
            environ_base=environ,
        )
    client = app.test_client()
    token = csrf_token_from(client)
    response = client.post(
        "/sign-in",
        data={"email": staff_member.email, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert response.status_code == 429


def test_password_hash_is_upgraded_when_parameters_change(client, staff_member):
    old_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=2).hash(PASSWORD)
    StaffAccount.update(password_hash=old_hash).where(StaffAccount.id == staff_member.id).execute()
    assert sign_in(client, staff_member).status_code == 303
    new_hash = StaffAccount.get_by_id(staff_member.id).password_hash
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$") and ",p=1$" in new_hash


def test_passwords_are_stored_as_argon2id(staff_member):
    stored = StaffAccount.get_by_id(staff_member.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    "language, message",
    [
        ("pl", "Ten adres e-mail i hasło nie pasują do aktywnego konta."),
        ("zh", "该电子邮件和密码与任何有效账户都不匹配。"),
        ("ru", "Этот адрес электронной почты и пароль не соответствуют активной учётной записи."),
    ],
)
def test_wrong_password_message_is_translated(client, staff_member, language, message):
    response = sign_in(
        client, staff_member, password="wrong", headers={"Accept-Language": language}
    )
    assert message in response.get_data(as_text=True)


def test_sign_in_still_works_and_is_limited_when_redis_is_unreachable(database_url, tmp_path):
    """The limiter's Redis is down: sign-in neither fails with 500 nor goes unlimited."""
    config = base_config(database_url)
    config.update(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens on port 1
        SIGN_IN_LIMIT_PER_ADDRESS="3 per minute",
    )
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    try:
        account = create_staff("Sam Staff", "sam@example.com", PASSWORD)
        browser = app.test_client()
        statuses = [sign_in(browser, account, "wrong password").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
    finally:
        db.close_all()
