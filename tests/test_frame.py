"""The frame around every page: layout, error pages, languages, formatting, HTMX, commands."""

from datetime import datetime
from decimal import Decimal

import pytest

from portal.models import Customer, Purchase, StaffAccount
from tests.conftest import PASSWORD, csrf_token_from, sign_in


def test_htmx_is_served_from_our_static_folder(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert '<script src="/static/js/htmx-2.0.11.min.js" defer></script>' in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    script = client.get("/static/js/htmx-2.0.11.min.js")
    assert script.status_code == 200 and b'version:"2.0.11"' in script.data
    script.close()


def test_pages_send_the_csrf_token_header_for_htmx(staff_client):
    html = staff_client.get("/").get_data(as_text=True)
    assert 'data-hx-headers=\'{"X-CSRFToken": "' in html


def test_htmx_style_request_with_token_header_is_accepted(staff_client, staff_member):
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        "/language", data={"language": "pl"}, headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 303
    assert StaffAccount.get_by_id(staff_member.id).preferred_language == "pl"


def test_language_switch_without_token_is_refused(staff_client, staff_member):
    response = staff_client.post("/language", data={"language": "pl"})
    assert response.status_code == 400
    assert StaffAccount.get_by_id(staff_member.id).preferred_language is None


def test_unknown_page_gets_a_styled_404(staff_client):
    response = staff_client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'class="topbar"' in html


def test_error_pages_are_translated(client):
    response = client.get("/missing", headers={"Accept-Language": "pl"})
    assert response.status_code == 404
    assert 'lang="pl"' in response.get_data(as_text=True)
    assert "Page not found" not in response.get_data(as_text=True)


def test_unexpected_error_gets_a_styled_500(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "language, revenue, heading",
    [
        ("en", "€1,234.50", "Dashboard"),
        ("pl", "1\xa0234,50\xa0€", "Pulpit"),
        ("ru", "1\xa0234,50\xa0€", "Сводка"),
        ("zh", "€1,234.50", "仪表板"),
    ],
)
def test_dashboard_formats_money_for_the_locale(staff_client, language, revenue, heading):
    customer = Customer.create(
        given_name="Anna", family_name="Nowak", display_name="Anna Nowak", purchase_count=1
    )
    Purchase.create(
        customer=customer, total=Decimal("1234.50"), currency="EUR", purchased_at=datetime.now()
    )
    html = staff_client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'lang="{language}"' in html
    assert heading in html
    assert revenue in html


def test_chosen_language_is_remembered_on_the_account(app, staff_member):
    first = app.test_client()
    sign_in(first, staff_member)
    token = csrf_token_from(first, "/")
    first.post("/language", data={"language": "zh", "csrf_token": token})
    # a new browser, without the session's choice, still gets the account's language
    second = app.test_client()
    sign_in(second, staff_member)
    assert 'lang="zh"' in second.get("/").get_data(as_text=True)


def test_create_owner_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-owner", "boss@example.com", "--name", "Boss", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    account = StaffAccount.by_email("boss@example.com").get()
    assert account.role == "owner" and account.active
    again = runner.invoke(args=["create-owner", "boss@example.com", "--password", PASSWORD])
    assert again.exit_code != 0 and "already exists" in again.output
    assert sign_in(app.test_client(), account).status_code == 303


def test_create_owner_asks_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-owner", "asked@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert StaffAccount.by_email("asked@example.com").exists()
