"""In a real browser: the owner fills in the record of processing's settings with the keyboard,
sees a mistake beside its field, and downloads the record from the reports page in Chinese,
on a desk and on a phone."""

import io
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import expect

from portal import settings
from tests.browser.test_privacy_desk import DESK, PHONE, signed_in
from tests.browser.test_profile import WIDER_THAN_SCREEN

pytestmark = [
    pytest.mark.browser,
]


@pytest.mark.parametrize(("viewport", "locale"), [(DESK, "en-US"), (PHONE, "pl-PL")])
def test_owner_fills_in_the_record_and_downloads_it(
    chromium, live_server, owner, screenshot, viewport, locale
):
    context, page = signed_in(chromium, live_server, owner, locale=locale, viewport=viewport)
    name = "desk" if viewport is DESK else "phone"
    try:
        page.goto(f"{live_server}/owner/privacy")
        page.locator("a[href='/owner/settings/processing']").click()
        page.wait_for_url(f"{live_server}/owner/settings/processing")
        screenshot(page, f"processing-settings-{name}")
        assert not page.evaluate(WIDER_THAN_SCREEN)

        page.fill("#business_name", "")
        page.focus("#business_address")
        page.keyboard.type("ul. Żółkiewskiego 5")
        page.keyboard.press("Enter")
        page.keyboard.type("00-001 Warszawa")
        page.fill("#recipients", "Biuro rachunkowe Żak\n" + "x" * 301)
        page.locator("button[type=submit].primary").press("Enter")

        expect(page.locator("#business_name-error")).to_be_visible()
        expect(page.locator("#recipients-error")).to_be_visible()
        screenshot(page, f"processing-settings-errors-{name}")
        assert not page.evaluate(WIDER_THAN_SCREEN)
        assert settings.get("business_address") == ""

        page.fill("#business_name", "北京花店")
        page.fill("#recipients", "Biuro rachunkowe Żak")
        page.locator("button[type=submit].primary").click()
        expect(page.locator(".flash, [role=status]").first).to_be_visible()
        assert settings.get("business_address") == "ul. Żółkiewskiego 5\n00-001 Warszawa"

        page.goto(f"{live_server}/owner/reports")
        screenshot(page, f"processing-card-{name}")
        page.select_option("#processing-record-language", "zh")
        with page.expect_download() as download:
            page.locator("#processing-card-heading ~ form button").click()
        reader = pypdf.PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
        text = "".join(sheet.extract_text() for sheet in reader.pages)
        assert "北京花店" in text and "Żółkiewskiego" in text
        assert reader.trailer["/Root"]["/Lang"] == "zh"
    finally:
        context.close()
