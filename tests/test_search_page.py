"""The search box: a partial for HTMX while typing, a full page without JavaScript."""

from tests.factories import make_customer


def test_htmx_search_returns_only_the_results_partial(staff_client):
    customer = make_customer(
        "Łukasz", "Wąsowski", email="l.wasowski@poczta.example", phone="+48601555012"
    )
    response = staff_client.get("/search?q=lukasz", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html
    assert f'href="/customers/{customer.id}"' in html
    assert "Łukasz Wąsowski" in html and "l.wasowski@poczta.example" in html
    assert 'role="listbox"' in html and 'role="option"' in html


def test_search_page_without_javascript(staff_client):
    make_customer("伟", "张", order="family_first", phone="+8613812345678")
    response = staff_client.get("/search?q=伟")
    html = response.get_data(as_text=True)
    assert "<html" in html and "张伟" in html
    assert 'value="伟"' in html  # the box keeps the query


def test_no_match_says_so(staff_client):
    html = staff_client.get("/search?q=zzzz", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No customer matches “zzzz”." in html


def test_empty_query_shows_nothing(staff_client):
    html = staff_client.get("/search?q=+", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert html.strip() == ""


def test_search_needs_a_signed_in_staff_member(client):
    make_customer("Anna", "Nowak")
    response = client.get("/search?q=anna")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_every_staff_page_has_the_search_box(staff_client):
    html = staff_client.get("/").get_data(as_text=True)
    assert 'id="quick-search"' in html and 'role="combobox"' in html


def test_the_query_is_escaped_in_the_answer(staff_client):
    html = staff_client.get(
        "/search?q=<script>alert(1)</script>", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
