"""Sign-in sessions live on the server (issue 9): signing out, changing a password, an owner
deactivating an account or resetting its password end them, including a copy of the cookie
someone kept."""

from datetime import timedelta

from portal import sign_in_sessions
from portal.models import AuditEvent, SignInSession, StaffAccount
from portal.passwords import verify
from tests.conftest import PASSWORD, csrf_token_from, sign_in
from tests.customer_signin import sign_in_customer
from tests.factories import make_customer

COOKIE = "kartoteka_staff"
NEW_PASSWORD = "a much longer new password"


def copy_of_cookie(app, client):
    """A second browser holding a copy of client's session cookie (a stolen or kept cookie)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value, domain="localhost")
    return thief


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def signed_in_browser(app, account):
    browser = app.test_client()
    assert sign_in(browser, account).status_code == 303
    return browser


def test_sign_out_ends_the_session_on_the_server(app, staff_client):
    kept = copy_of_cookie(app, staff_client)
    assert is_signed_in(kept)
    token = csrf_token_from(staff_client, "/")
    staff_client.post("/sign-out", data={"csrf_token": token})
    assert not is_signed_in(staff_client)
    assert not is_signed_in(kept)  # the copy no longer signs anyone in
    assert SignInSession.select().count() == 0


def test_changing_the_password_signs_out_other_browsers(app, staff_member):
    desk = signed_in_browser(app, staff_member)
    phone = signed_in_browser(app, staff_member)
    kept = copy_of_cookie(app, desk)
    token = csrf_token_from(desk, "/account")
    response = desk.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert is_signed_in(desk)  # the browser that changed it goes on, with a new session
    assert not is_signed_in(phone)
    assert not is_signed_in(kept)  # even this browser's cookie from before the change
    account = StaffAccount.get_by_id(staff_member.id)
    assert verify(account.password_hash, NEW_PASSWORD)
    assert AuditEvent.select().where(AuditEvent.action == "password_changed").count() == 1
    fresh = app.test_client()
    assert sign_in(fresh, staff_member).status_code == 200  # the old password is refused
    assert sign_in(fresh, staff_member, NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing(app, staff_client, staff_member):
    before = StaffAccount.get_by_id(staff_member.id).password_hash
    phone = signed_in_browser(app, staff_member)
    token = csrf_token_from(staff_client, "/account")
    response = staff_client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)
    assert StaffAccount.get_by_id(staff_member.id).password_hash == before
    assert is_signed_in(phone)


def test_new_passwords_must_match_and_be_long_enough(staff_client, staff_member):
    before = StaffAccount.get_by_id(staff_member.id).password_hash
    token = csrf_token_from(staff_client, "/account")
    for new, repeat, message in (
        ("short", "short", "Use between 10 and 1024 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two new passwords are not the same."),
    ):
        response = staff_client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": new,
                "repeat_password": repeat,
                "csrf_token": token,
            },
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert StaffAccount.get_by_id(staff_member.id).password_hash == before


def test_sign_out_every_other_browser(app, staff_member):
    desk = signed_in_browser(app, staff_member)
    phone = signed_in_browser(app, staff_member)
    token = csrf_token_from(desk, "/account")
    assert desk.post("/account/sign-out-elsewhere", data={"csrf_token": token}).status_code == 303
    assert is_signed_in(desk)
    assert not is_signed_in(phone)


def test_an_owner_deactivating_an_account_ends_its_sessions(app, owner_client, staff_member):
    counter = signed_in_browser(app, staff_member)
    token = csrf_token_from(owner_client, "/owner/staff")
    response = owner_client.post(
        f"/owner/staff/{staff_member.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert not is_signed_in(counter)
    assert SignInSession.select().where(SignInSession.staff == staff_member.id).count() == 0
    assert sign_in(app.test_client(), staff_member).status_code == 200  # refused


def test_an_owner_resetting_a_password_ends_the_person_s_sessions(app, owner_client, staff_member):
    counter = signed_in_browser(app, staff_member)
    token = csrf_token_from(owner_client, "/owner/staff")
    response = owner_client.post(
        f"/owner/staff/{staff_member.id}/password",
        data={"password": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert not is_signed_in(counter)
    assert sign_in(app.test_client(), staff_member, NEW_PASSWORD).status_code == 303


def test_a_staff_session_expires_after_a_working_day(app, staff_client, monkeypatch):
    assert is_signed_in(staff_client)
    monkeypatch.setattr(sign_in_sessions, "STAFF_LIFETIME", timedelta(seconds=0))
    assert not is_signed_in(staff_client)


def test_a_customer_s_sign_out_ends_a_copied_cookie(app, client):
    anna = make_customer("Anna", "Nowak", email="anna@example.com")
    sign_in_customer(client, anna)
    kept = copy_of_cookie(app, client)
    assert kept.get("/me/").status_code == 200
    token = csrf_token_from(client, "/me/")
    client.post("/me/sign-out", data={"csrf_token": token})
    assert kept.get("/me/").status_code == 302
    assert client.get("/me/").status_code == 302


def test_signing_in_as_staff_ends_the_customer_session_in_that_browser(app, client, staff_member):
    anna = make_customer("Anna", "Nowak", email="anna@example.com")
    sign_in_customer(client, anna)
    kept = copy_of_cookie(app, client)
    assert sign_in(client, staff_member).status_code == 303
    assert client.get("/me/").status_code == 302
    assert kept.get("/me/").status_code == 302
