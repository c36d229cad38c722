"""The customer area and the staff workspace stay apart (SPEC 5): two customers never see each
other's data through the area's sign-in and My data, a customer session opens no staff page,
and a staff session opens no customer page."""

import pytest

from portal import customer_links
from tests.conftest import csrf_token_from, sign_in
from tests.customer_signin import follow_link, sign_in_customer
from tests.factories import make_customer

STAFF_PAGES = ("/", "/customers", "/owner/audit", "/owner/privacy")


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna@example.com", phone="+48600100200")


@pytest.fixture
def boris(app):
    return make_customer("Boris", "Ivanov", email="boris@example.com", phone="+48600999888")


def test_my_data_shows_only_the_signed_in_customer(app, client, anna, boris):
    sign_in_customer(client, anna)
    page = client.get("/me/").get_data(as_text=True)
    assert "anna@example.com" in page
    for other in ("Boris", "boris@example.com", "+48600999888"):
        assert other not in page
    # No query string picks another customer.
    for probe in (
        f"/me/?customer_id={boris.id}",
        f"/me/?id={boris.id}",
        f"/me/?page=1&customer={boris.id}",
    ):
        assert "boris@example.com" not in client.get(probe).get_data(as_text=True)


def test_switching_customers_in_one_browser_leaves_nothing_of_the_first(app, client, anna, boris):
    sign_in_customer(client, anna)
    follow_link(client, f"/me/link/{customer_links.create_link(boris)}")
    page = client.get("/me/").get_data(as_text=True)
    assert "boris@example.com" in page
    assert "anna@example.com" not in page and "Anna" not in page


def test_a_customer_session_opens_no_staff_page(app, client, anna):
    sign_in_customer(client, anna)
    for path in (*STAFF_PAGES, f"/customers/{anna.id}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/sign-in"), path
    # Nor can it send itself invitations.
    token = csrf_token_from(client, "/me/")
    response = client.post(f"/customers/{anna.id}/invite", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_a_staff_session_opens_no_customer_page(app, staff_client, anna):
    assert staff_client.get("/customers").status_code == 200  # really signed in as staff
    for path in (
        "/me/",
        "/me/download",
        "/me/details",
        "/me/consent",
        "/me/complaints",
        "/me/erase",
    ):
        response = staff_client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/me/sign-in", path


def test_customer_sign_in_ends_a_staff_session_in_that_browser(app, staff_client, anna):
    sign_in_customer(staff_client, anna)
    response = staff_client.get("/customers")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_staff_sign_in_ends_a_customer_session_in_that_browser(app, client, anna, staff_member):
    sign_in_customer(client, anna)
    assert client.get("/me/").status_code == 200
    assert sign_in(client, staff_member).status_code == 303
    assert client.get("/me/").status_code == 302
