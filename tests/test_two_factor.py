"""Owners' two-factor sign-in (issue 9): set-up with an authenticator app, the second step at
sign-in, recovery codes, and an owner resetting a lost authenticator."""

import re
import time
from datetime import timedelta

import pyotp
import pytest

from portal import two_factor
from portal.accounts import create_staff
from portal.auth import views as auth_views
from portal.models import AuditEvent, RecoveryCode, StaffAccount
from tests.conftest import PASSWORD, authenticator_code, csrf_token_from, sign_in

SECRET_ON_PAGE = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
CODE_ON_PAGE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@pytest.fixture
def new_owner(app):
    """An owner who has not set up two-factor sign-in yet."""
    return create_staff("Nina Owner", "nina@example.com", PASSWORD, role="owner")


def audited(action: str) -> int:
    return AuditEvent.select().where(AuditEvent.action == action).count()


def post_code(client, path: str, code: str):
    token = csrf_token_from(client, path)
    return client.post(path, data={"code": code, "csrf_token": token})


def set_up(client) -> tuple[str, list[str]]:
    """Go through the set-up page as the owner would with an app: returns (secret, codes)."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn inline
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    response = post_code(client, "/account/two-factor", pyotp.TOTP(secret).now())
    assert response.status_code == 200
    return secret, CODE_ON_PAGE.findall(response.get_data(as_text=True))


def test_an_owner_must_set_up_two_factor_before_anything_else(client, new_owner):
    assert sign_in(client, new_owner).status_code == 303  # the password alone, this first time
    for path in ("/", "/owner/staff", "/customers", "/owner/audit"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/two-factor"
    assert client.get("/account/two-factor").status_code == 200


def test_set_up_refuses_a_wrong_code_and_turns_on_with_a_right_one(client, new_owner):
    sign_in(client, new_owner)
    response = post_code(client, "/account/two-factor", "123456")
    assert response.status_code == 422
    assert "That code is not right." in response.get_data(as_text=True)
    assert not StaffAccount.get_by_id(new_owner.id).has_two_factor
    secret, codes = set_up(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaffAccount.get_by_id(new_owner.id).has_two_factor
    assert audited("two_factor_enabled") == 1
    assert client.get("/owner/staff").status_code == 200


def test_the_secret_is_encrypted_at_rest(app, client, new_owner):
    sign_in(client, new_owner)
    secret, _codes = set_up(client)
    stored = bytes(StaffAccount.get_by_id(new_owner.id).totp_secret)
    assert secret.encode() not in stored
    with app.app_context():
        assert two_factor.secret_of(StaffAccount.get_by_id(new_owner.id)) == secret


def test_sign_in_asks_for_the_code_and_accepts_it_once(app, owner):
    browser = app.test_client()
    token = csrf_token_from(browser)
    response = browser.post(
        "/sign-in", data={"email": owner.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/sign-in/code"
    assert browser.get("/").status_code == 302  # not signed in between the two steps
    wrong = post_code(browser, "/sign-in/code", "000000")
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert audited("two_factor_failed") == 1
    code = authenticator_code(owner)
    assert post_code(browser, "/sign-in/code", code).status_code == 303
    assert browser.get("/owner/staff").status_code == 200
    event = AuditEvent.select().where(AuditEvent.action == "signed_in").get()
    assert '"method": "totp"' in event.details

    # Someone who watched the code being typed cannot use it again.
    other = app.test_client()
    token = csrf_token_from(other)
    other.post("/sign-in", data={"email": owner.email, "password": PASSWORD, "csrf_token": token})
    assert post_code(other, "/sign-in/code", code).status_code == 422
    assert other.get("/").status_code == 302


def test_a_recovery_code_works_once(client, app, new_owner):
    sign_in(client, new_owner)
    _secret, codes = set_up(client)
    for attempt, expected in ((1, 303), (2, 422)):
        browser = app.test_client()
        token = csrf_token_from(browser)
        browser.post(
            "/sign-in", data={"email": new_owner.email, "password": PASSWORD, "csrf_token": token}
        )
        response = post_code(browser, "/sign-in/code", codes[0].upper())  # as typed, any case
        assert response.status_code == expected, attempt
    assert RecoveryCode.select().where(RecoveryCode.used_at.is_null()).count() == 9


def test_using_a_recovery_code_says_how_many_are_left(client, app, new_owner):
    sign_in(client, new_owner)
    _secret, codes = set_up(client)
    browser = app.test_client()
    token = csrf_token_from(browser)
    browser.post(
        "/sign-in", data={"email": new_owner.email, "password": PASSWORD, "csrf_token": token}
    )
    post_code(browser, "/sign-in/code", codes[3])
    page = browser.get("/").get_data(as_text=True)
    assert "You used a recovery code; 9 are left." in page


def test_the_second_step_runs_out_after_five_minutes(app, owner, monkeypatch):
    browser = app.test_client()
    token = csrf_token_from(browser)
    browser.post("/sign-in", data={"email": owner.email, "password": PASSWORD, "csrf_token": token})
    monkeypatch.setattr(auth_views, "PENDING_LIFETIME", timedelta(seconds=0))
    response = browser.get("/sign-in/code")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"


def test_guessing_codes_is_slowed_down(app, owner):
    app.config["SIGN_IN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    browser = app.test_client()
    token = csrf_token_from(browser)
    browser.post("/sign-in", data={"email": owner.email, "password": PASSWORD, "csrf_token": token})
    statuses = [post_code(browser, "/sign-in/code", f"{n:06d}").status_code for n in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_new_recovery_codes_need_the_password_and_replace_the_old(client, app, new_owner):
    sign_in(client, new_owner)
    _secret, old_codes = set_up(client)
    token = csrf_token_from(client, "/account/recovery-codes")
    refused = client.post(
        "/account/recovery-codes", data={"password": "wrong password", "csrf_token": token}
    )
    assert refused.status_code == 422
    response = client.post(
        "/account/recovery-codes", data={"password": PASSWORD, "csrf_token": token}
    )
    new_codes = CODE_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    with app.app_context():
        account = StaffAccount.get_by_id(new_owner.id)
        assert two_factor.verify(account, old_codes[0]) is None
        assert two_factor.verify(account, new_codes[0]) == "recovery"


def test_an_owner_resets_another_owner_s_lost_authenticator(app, owner_client, new_owner):
    phone_owner = app.test_client()
    sign_in(phone_owner, new_owner)
    set_up(phone_owner)
    token = csrf_token_from(owner_client, "/owner/staff")
    response = owner_client.post(
        f"/owner/staff/{new_owner.id}/two-factor", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert audited("two_factor_reset") == 1
    assert phone_owner.get("/").status_code == 302  # their sessions ended
    account = StaffAccount.get_by_id(new_owner.id)
    assert not account.has_two_factor and account.totp_secret is None
    assert RecoveryCode.select().where(RecoveryCode.staff == new_owner.id).count() == 0
    browser = app.test_client()
    assert sign_in(browser, new_owner).status_code == 303
    assert browser.get("/owner/staff").headers["Location"] == "/account/two-factor"


def test_staff_are_not_asked_but_may_turn_it_on(app, staff_client, staff_member):
    assert staff_client.get("/customers").status_code == 200
    set_up(staff_client)
    browser = app.test_client()
    token = csrf_token_from(browser)
    response = browser.post(
        "/sign-in", data={"email": staff_member.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/sign-in/code"


def test_codes_from_the_previous_and_next_step_pass_for_clock_drift(app, owner):
    with app.app_context():
        secret = two_factor.secret_of(owner)
        step = int(time.time() // 30)
        totp = pyotp.TOTP(secret)
        assert two_factor.verify(owner, totp.at((step - 2) * 30)) is None
        assert two_factor.verify(owner, totp.at((step - 1) * 30)) == "totp"
        assert two_factor.verify(owner, totp.at((step + 1) * 30)) == "totp"
        # The earlier step is now behind the last one used: it no longer passes.
        assert two_factor.verify(owner, totp.at(step * 30)) is None
