"""In a real browser, the owner decides an erasure request with the keyboard and sees the
retention report; pages fit a phone. Screenshots land in test-results/screenshots/."""

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from portal import erasure
from tests.browser.test_profile import WIDER_THAN_SCREEN
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def waiting(app, owner):
    person = make_customer(
        "Wawrzyniec", "Qlobuczyński", email="wq@example.org", phone="+48602771939"
    )
    request = erasure.request_erasure(person.id, staff_id=owner.id)
    asker = make_customer("Анна", "Смирнова", email="anna@example.ru")
    erasure.confirm(erasure.request_erasure(asker.id, made_via="self_service"))
    for n in range(3):
        make_customer(f"Old{n}", "Lead", last_activity_at=datetime(2023, 1, 1 + n))
    return request


def owner_page(chromium, live_server, owner, locale, viewport):
    context = chromium.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    return context, page


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_owner_erases_a_customer_from_the_request_list(
    live_server, chromium, screenshot, owner, waiting, locale
):
    context, page = owner_page(chromium, live_server, owner, locale, DESKTOP)
    lang = locale[:2]
    page.goto(f"{live_server}/owner/privacy/erasures")
    expect(page.get_by_text("Wawrzyniec Qlobuczyński")).to_be_visible()
    screenshot(page, f"erasure-requests-{lang}")

    page.goto(f"{live_server}/owner/privacy/erasures/{waiting.id}")
    screenshot(page, f"erasure-request-{lang}")
    page.goto(f"{live_server}/owner/privacy/erasures/{waiting.id}/execute")
    screenshot(page, f"erasure-confirm-{lang}")
    # Keyboard only: from the confirmation button, Enter erases.
    page.locator("button.danger").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/owner/privacy/erasures/{waiting.id}/receipt")
    # "#5" in English, "№ 5" in Russian: the heading names the record by its number only.
    expect(page.locator("h1")).to_have_text(re.compile(rf"\b{waiting.customer_id}\b"))
    assert "Qlobuczy" not in page.content()
    screenshot(page, f"erasure-receipt-{lang}")

    page.goto(f"{live_server}/owner/privacy/retention")
    expect(page.locator("table")).to_be_visible()
    screenshot(page, f"retention-report-{lang}")
    context.close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_erasure_and_retention_pages_fit_a_phone(live_server, chromium, screenshot, owner, waiting):
    context, page = owner_page(chromium, live_server, owner, "en-US", PHONE)
    for name, path in [
        ("erasure-requests-phone", "/owner/privacy/erasures"),
        ("erasure-request-phone", f"/owner/privacy/erasures/{waiting.id}"),
        ("erasure-confirm-phone", f"/owner/privacy/erasures/{waiting.id}/execute"),
        ("retention-report-phone", "/owner/privacy/retention"),
        ("retention-confirm-phone", "/owner/privacy/retention/apply"),
    ]:
        page.goto(live_server + path)
        assert page.evaluate(WIDER_THAN_SCREEN) == [], name
        screenshot(page, name)
    context.close()
