"""In a real browser: the owner sets opening hours with the keyboard, sees a mistake beside its
field, and the page fits a phone."""

import pytest
from playwright.sync_api import expect

from portal import settings
from tests.browser.test_privacy_desk import DESK, PHONE, signed_in
from tests.browser.test_profile import WIDER_THAN_SCREEN

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("viewport", "locale"), [(DESK, "en-US"), (PHONE, "pl-PL")])
def test_owner_corrects_opening_hours_with_the_keyboard(
    chromium, live_server, owner, screenshot, viewport, locale
):
    context, page = signed_in(chromium, live_server, owner, locale=locale, viewport=viewport)
    try:
        page.goto(f"{live_server}/owner/settings/complaints")
        name = "desk" if viewport is DESK else "phone"
        screenshot(page, f"complaint-settings-{name}")
        assert not page.evaluate(WIDER_THAN_SCREEN)

        # Sunday, closed: open it in the morning, mistyping the closing time.
        page.fill("#opens_6", "10:00")
        page.fill("#closes_6", "09:00")
        page.focus("#holidays")
        page.keyboard.type("2026-12-25")
        page.keyboard.press("Enter")
        page.keyboard.type("Christmas")
        page.locator("button[type=submit].primary").press("Enter")

        expect(page.locator("#closes_6-error")).to_be_visible()
        expect(page.locator("#holidays-error")).to_be_visible()
        screenshot(page, f"complaint-settings-errors-{name}")
        assert not page.evaluate(WIDER_THAN_SCREEN)

        page.fill("#closes_6", "13:00")
        page.fill("#holidays", "2026-12-25")
        page.locator("button[type=submit].primary").click()
        expect(page.locator(".flash, [role=status]").first).to_be_visible()
        assert settings.get("opening_hours")["6"] == ["10:00", "13:00"]
        assert settings.get("holidays") == ["2026-12-25"]
    finally:
        context.close()
