"""Owners manage staff accounts (SPEC 4): role, deactivate and reactivate, reset a password;
never their own account from here (that is My account)."""

from portal.models import AuditEvent, StaffAccount
from tests.conftest import PASSWORD, csrf_token_from, sign_in


def post(client, path, **data):
    token = csrf_token_from(client, "/owner/staff")
    return client.post(path, data={"csrf_token": token, **data})


def test_the_page_offers_the_actions_for_others_only(owner_client, owner, staff_member):
    html = owner_client.get("/owner/staff").get_data(as_text=True)
    assert f"/owner/staff/{staff_member.id}/deactivate" in html
    assert f"/owner/staff/{staff_member.id}/password" in html
    assert f"/owner/staff/{owner.id}/deactivate" not in html


def test_an_owner_cannot_lock_themselves_out(owner_client, owner):
    for action in ("deactivate", "password", "two-factor", "role"):
        response = post(owner_client, f"/owner/staff/{owner.id}/{action}", role="staff")
        assert response.status_code == 403, action
    account = StaffAccount.get_by_id(owner.id)
    assert account.active and account.is_owner and account.has_two_factor


def test_deactivate_and_reactivate(app, owner_client, staff_member):
    assert post(owner_client, f"/owner/staff/{staff_member.id}/deactivate").status_code == 303
    assert not StaffAccount.get_by_id(staff_member.id).active
    assert sign_in(app.test_client(), staff_member).status_code == 200
    assert post(owner_client, f"/owner/staff/{staff_member.id}/reactivate").status_code == 303
    assert sign_in(app.test_client(), staff_member).status_code == 303
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert "staff_account_deactivated" in actions and "staff_account_reactivated" in actions


def test_making_someone_an_owner_asks_them_for_two_factor(app, owner_client, staff_member):
    response = post(owner_client, f"/owner/staff/{staff_member.id}/role", role="owner")
    assert response.status_code == 303
    assert StaffAccount.get_by_id(staff_member.id).is_owner
    browser = app.test_client()
    sign_in(browser, staff_member)
    assert browser.get("/owner/staff").headers["Location"] == "/account/two-factor"


def test_an_unknown_role_is_refused(owner_client, staff_member):
    response = post(owner_client, f"/owner/staff/{staff_member.id}/role", role="admin")
    assert response.status_code == 400
    assert not StaffAccount.get_by_id(staff_member.id).is_owner


def test_a_short_reset_password_is_refused_next_to_the_field(owner_client, staff_member):
    before = StaffAccount.get_by_id(staff_member.id).password_hash
    response = post(owner_client, f"/owner/staff/{staff_member.id}/password", password="short")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="new-password-{staff_member.id}-error"' in html
    assert "Use at least 10 characters." in html
    assert StaffAccount.get_by_id(staff_member.id).password_hash == before


def test_staff_cannot_manage_accounts(staff_client, owner):
    response = post(staff_client, f"/owner/staff/{owner.id}/deactivate")
    assert response.status_code == 403
    assert StaffAccount.get_by_id(owner.id).active


def test_an_unknown_account_is_404(owner_client):
    assert post(owner_client, "/owner/staff/99999/deactivate").status_code == 404


def test_the_reset_password_works_for_sign_in(app, owner_client, staff_member):
    post(owner_client, f"/owner/staff/{staff_member.id}/password", password="brand new password")
    assert sign_in(app.test_client(), staff_member, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), staff_member, "brand new password").status_code == 303
