"""Security headers and cookie flags (SPEC 7, issue 9): every page carries a strict CSP and the
other headers; the session cookie is HttpOnly, SameSite=Lax and, by default, Secure."""

import pytest

from portal import create_app
from portal.accounts import create_staff
from portal.extensions import db
from tests.conftest import PASSWORD, base_config, sign_in
from tests.factories import make_customer


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";"))}


@pytest.mark.parametrize(
    "path", ["/sign-in", "/me/sign-in", "/static/css/kartoteka.css", "/nowhere"]
)
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # a static file's response holds the file open
    csp = _csp(response)
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["default-src"] == "default-src 'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Plain HTTP: no HSTS (a browser would ignore it, and it must not pin a dev server).
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_served_over_https(client):
    response = client.get("/sign-in", base_url="https://shop.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_with_customer_data_are_not_cached(staff_client):
    customer = make_customer("Anna", "Nowak")
    response = staff_client.get(f"/customers/{customer.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(staff_client):
    """The CSP would block them: scripts and styles come from files only."""
    customer = make_customer("Anna", "Nowak")
    for path in ("/", f"/customers/{customer.id}", "/customers", "/account"):
        html = staff_client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script " not in html.replace('<script src="', "")
        assert " style=" not in html and "<style" not in html
        assert '"allowEval":false' in html  # htmx told not to evaluate code from attributes


def test_htmx_is_configured_for_the_policy(client):
    html = client.get("/sign-in").get_data(as_text=True)
    for setting in (
        '"allowEval":false',
        '"allowScriptTags":false',
        '"includeIndicatorStyles":false',
    ):
        assert setting in html


def test_session_cookie_flags(client, staff_member):
    response = sign_in(client, staff_member)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the tests serve plain HTTP and turn Secure off


def test_session_cookie_is_secure_by_default(database_url, tmp_path, monkeypatch):
    """What production gets without any setting: the cookie only travels over HTTPS."""
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = base_config(database_url)
    del config["SESSION_COOKIE_SECURE"]
    app = create_app(config, instance_path=str(tmp_path / "production"))
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        staff_member = create_staff("Sam Staff", "staff@example.com", PASSWORD)
        response = sign_in(app.test_client(), staff_member)
        assert response.status_code == 303
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        db.close_all()
