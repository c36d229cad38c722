"""In a real browser, staff add a national ID, see it masked, and reveal it on purpose."""

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent, SensitiveIdentifier
from tests.browser.htmx import wait_until_settled
from tests.browser.test_profile import WIDER_THAN_SCREEN, open_profile
from tests.factories import make_customer

pytestmark = pytest.mark.browser
PESEL = "44051401359"


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1200, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_staff_add_an_identifier_see_it_masked_and_reveal_it(
    live_server, chromium, screenshot, staff_member, engine, viewport
):
    customer = make_customer("Anna", "Nowak", email="anna.nowak@example.com")
    context, page = open_profile(chromium, live_server, staff_member, customer, "en-US", viewport)
    page.evaluate("window.profileMarker = 'still here'")
    section = page.locator("#identifiers")

    section.get_by_text("Add an identifier").click()
    page.locator("#identifier-kind").select_option("national_id")
    # a mistyped check digit is explained beside the number, nothing is saved
    page.locator("#identifier-value").fill("440514 01358")
    page.locator("#identifier-value").press("Enter")
    error = page.locator("#identifier-value-error")
    error.wait_for()
    assert error.inner_text() == "This PESEL number does not add up; check the digits."
    wait_until_settled(page)
    expect(page.locator("#identifier-value")).to_be_focused()
    assert SensitiveIdentifier.select().count() == 0
    screenshot(page, f"identifier-invalid-{engine}-{viewport['width']}")

    page.locator("#identifier-value").fill("440514 01359")
    page.get_by_role("button", name="Add identifier").click()
    section.get_by_role("status").filter(has_text="Identifier added.").wait_for()
    assert "•••• 1359" in section.inner_text()
    assert PESEL not in page.content()
    screenshot(page, f"identifier-masked-{engine}-{viewport['width']}")

    section.get_by_role("button", name="Reveal").click()
    revealed = section.locator(".revealed-value")
    revealed.wait_for()
    assert revealed.inner_text() == PESEL
    assert "This reveal is recorded in the audit log." in section.inner_text()
    wait_until_settled(page)
    expect(section.get_by_role("button", name="Hide")).to_be_focused()
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    section.scroll_into_view_if_needed()
    screenshot(page, f"identifier-revealed-{engine}-{viewport['width']}")
    assert page.evaluate("window.profileMarker") == "still here"
    assert AuditEvent.select().where(AuditEvent.action == "identifier_revealed").count() == 1

    # Hide with the keyboard: masked again, the cursor back on Reveal
    page.keyboard.press("Enter")
    section.locator(".masked").filter(has_text="•••• 1359").wait_for()
    wait_until_settled(page)
    expect(section.get_by_role("button", name="Reveal")).to_be_focused()
    assert PESEL not in page.content()
    context.close()
