"""In a real browser, a staff member signs in and sees the dashboard in their language."""

import pytest

from portal.models import StaffAccount
from tests.browser.htmx import wait_for
from tests.conftest import PASSWORD, authenticator_code

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "locale, heading, sign_in_button",
    [("pl-PL", "Pulpit", "Zaloguj się"), ("zh-CN", "仪表板", "登录")],
)
def test_staff_signs_in_and_sees_the_dashboard(
    live_server, chromium, screenshot, staff_member, engine, locale, heading, sign_in_button
):
    context = chromium.new_context(locale=locale, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/sign-in")

    page.get_by_label("E-mail" if locale == "pl-PL" else "电子邮件").fill(staff_member.email)
    page.locator("#password").fill(PASSWORD)
    screenshot(page, f"sign-in-{locale}-{engine}")
    page.get_by_role("button", name=sign_in_button).click()

    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text() == heading
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert staff_member.name in page.locator(".topbar").inner_text()
    screenshot(page, f"dashboard-{locale}-{engine}")
    context.close()


def submit_sign_in(page, live_server, email, password):
    """Sign in through the form; an owner's second step gets the code their app shows."""
    page.goto(f"{live_server}/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("button[type=submit].primary").click()
    page.wait_for_load_state()
    if page.url == f"{live_server}/sign-in/code":
        page.locator("#code").fill(authenticator_code(StaffAccount.by_email(email).get()))
        page.locator("button[type=submit].primary").click()
        page.wait_for_load_state()


def test_wrong_password_shows_the_message_in_the_browser(live_server, chromium, staff_member):
    context = chromium.new_context(locale="ru-RU")
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, "not the password")
    alert = page.get_by_role("alert")
    assert "не соответствуют активной учётной записи" in alert.inner_text()
    assert page.url.startswith(f"{live_server}/sign-in")
    context.close()


def test_language_switcher_changes_the_interface(live_server, chromium, staff_member):
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text() == "Dashboard"
    # choosing a language submits the switcher (keyboard users press its button)
    page.locator("#language-select").select_option("ru")
    wait_for(page, "document.documentElement.lang === 'ru'")
    assert page.locator("h1").inner_text() == "Сводка"
    context.close()
