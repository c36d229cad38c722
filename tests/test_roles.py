"""Roles: owners manage staff accounts; staff are refused owner pages with a clear answer."""

from portal.models import AuditEvent, StaffAccount
from tests.conftest import PASSWORD, csrf_token_from, sign_in


def test_staff_member_is_refused_owner_pages(staff_client):
    response = staff_client.get("/owner/staff")
    assert response.status_code == 403
    assert "This page is for owners" in response.get_data(as_text=True)


def test_staff_member_cannot_create_accounts(staff_client):
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        "/owner/staff",
        data={
            "name": "Mallory",
            "email": "m@example.com",
            "role": "owner",
            "password": "x" * 12,
            "csrf_token": token,
        },
    )
    assert response.status_code == 403
    assert not StaffAccount.by_email("m@example.com").exists()


def test_staff_do_not_see_owner_navigation(staff_client):
    assert "/owner/staff" not in staff_client.get("/").get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/owner/staff")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_owner_adds_a_staff_account_who_can_sign_in(owner_client, app):
    token = csrf_token_from(owner_client, "/owner/staff")
    response = owner_client.post(
        "/owner/staff",
        data={
            "name": "Wei Zhang",
            "email": "Wei@Example.com",
            "role": "staff",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    created = StaffAccount.by_email("wei@example.com").get()
    assert created.role == "staff" and created.name == "Wei Zhang"
    assert AuditEvent.select().where(AuditEvent.action == "staff_account_created").count() == 1
    assert sign_in(app.test_client(), created).status_code == 303


def test_owner_form_errors_are_shown_beside_fields_and_save_nothing(owner_client):
    token = csrf_token_from(owner_client, "/owner/staff")
    html = owner_client.post(
        "/owner/staff",
        data={
            "name": "",
            "email": "nope",
            "role": "staff",
            "password": "short",
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    assert 'id="name-error"' in html and "Enter the person's name." in html
    assert 'id="email-error"' in html
    assert 'id="password-error"' in html and "Use at least 10 characters." in html
    assert StaffAccount.select().count() == 1


def test_duplicate_email_is_refused_beside_the_field(owner_client, owner):
    token = csrf_token_from(owner_client, "/owner/staff")
    html = owner_client.post(
        "/owner/staff",
        data={
            "name": "Twin",
            "email": owner.email,
            "role": "staff",
            "password": PASSWORD,
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    assert "An account with this e-mail already exists." in html
    assert StaffAccount.select().count() == 1
