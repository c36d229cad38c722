"""In a real browser: staff record consent inline on the profile, reading out the wording in
the customer's language; owners manage purposes and preview a contact list."""

from datetime import datetime

import pytest
from playwright.sync_api import expect

from portal import consent
from portal.models import ConsentEvent
from tests.browser.conftest import SCREENSHOTS
from tests.browser.htmx import wait_until_settled
from tests.browser.test_profile import WIDER_THAN_SCREEN, open_profile
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer
from tests.test_consent import EMAIL_TEXTS, SMS_TEXTS, give, make_purpose

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}


def test_staff_record_a_grant_inline_and_see_the_state_change(
    live_server, chromium, screenshot, staff_member, engine
):
    email = make_purpose()
    sms = make_purpose("sms_marketing", {**SMS_TEXTS, "pl": ("Oferty SMS", "Zgoda na SMS.")})
    customer = make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")
    give(
        customer,
        sms,
        True,
        datetime(2026, 1, 5),
        evidence="Form 2026/0007",
        staff_id=staff_member.id,
    )

    context, page = open_profile(chromium, live_server, staff_member, customer, "en-US", DESKTOP)
    state = page.locator(f'#consent-current dd[data-purpose="{email.id}"]')
    expect(state).to_contain_text("Never asked")
    page.evaluate("window.profileMarker = 'still here'")

    # The wording to read out follows the chosen purpose, in the customer's language.
    expect(page.locator(".consent-wording blockquote")).to_contain_text(EMAIL_TEXTS["pl"][1])
    # By keyboard: the next purpose; the form comes back with the cursor still in the select.
    page.locator("#consent-purpose").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".consent-wording blockquote")).to_contain_text("Zgoda na SMS.")
    wait_until_settled(page)
    expect(page.locator("#consent-purpose")).to_be_focused()
    expect(page.locator("#consent-purpose")).to_have_value(str(sms.id))
    page.locator("#consent-purpose").select_option(str(email.id))
    expect(page.locator(".consent-wording blockquote")).to_contain_text(EMAIL_TEXTS["pl"][1])
    wait_until_settled(page)

    page.get_by_label("Gave consent").check()
    page.locator("#consent-channel").select_option("paper_form")
    page.locator("#consent-evidence").fill("Form 2026/0042")
    screenshot(page, f"consent-profile-filled-en-{engine}")
    page.get_by_role("button", name="Record consent").click()

    page.get_by_role("status").filter(
        has_text="Consent for “E-mail offers” recorded as given."
    ).wait_for()
    expect(state).to_contain_text("Given")
    assert page.evaluate("window.profileMarker") == "still here"
    assert page.locator("#consent-evidence").input_value() == ""
    page.locator(".consent-history summary").click()
    expect(page.locator(".consent-history .entry").first).to_contain_text("Form 2026/0042")
    screenshot(page, f"consent-profile-recorded-en-{engine}")
    page.locator("#consent-section").screenshot(
        path=str(SCREENSHOTS / f"consent-section-recorded-en-{engine}.png")
    )
    event = ConsentEvent.select().order_by(ConsentEvent.id.desc()).get()
    assert (event.purpose_id, event.granted, event.recorded_by_staff_id) == (
        email.id,
        True,
        staff_member.id,
    )
    context.close()


def test_a_refused_consent_shows_its_message_in_place(live_server, chromium, staff_member, engine):
    make_purpose()
    customer = make_customer("Jan", "Kowalski")
    context, page = open_profile(chromium, live_server, staff_member, customer, "en-US", DESKTOP)
    page.evaluate("window.profileMarker = 'still here'")
    page.get_by_role("button", name="Record consent").click()
    error = page.locator("#consent-decision-error")
    error.wait_for()
    assert error.inner_text() == "Choose whether the customer gave or withdrew consent."
    assert page.evaluate("window.profileMarker") == "still here"
    assert ConsentEvent.select().count() == 0
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_consent_section_reads_well_in_chinese(
    live_server, chromium, screenshot, staff_member, engine, viewport
):
    email = make_purpose()
    sms = make_purpose("sms_marketing", SMS_TEXTS)
    customer = make_customer(
        "秀英", "王", order="family_first", email="wang@example.cn", preferred_language="zh"
    )
    give(
        customer,
        email,
        True,
        datetime(2026, 1, 5),
        evidence="表格 2026/0007",
        staff_id=staff_member.id,
    )
    give(customer, sms, True, datetime(2026, 1, 5), channel="web_form", recorded_by_type="customer")
    give(customer, sms, False, datetime(2026, 2, 5), channel="verbal", staff_id=staff_member.id)
    context, page = open_profile(chromium, live_server, staff_member, customer, "zh-CN", viewport)
    expect(page.locator(".consent-wording blockquote")).to_contain_text(EMAIL_TEXTS["zh"][1])
    page.locator(".consent-history summary").click()
    name = "phone" if viewport["width"] < 600 else "desktop"
    page.locator("#consent-section").scroll_into_view_if_needed()
    screenshot(page, f"consent-profile-zh-{name}-{engine}")
    section_shot = SCREENSHOTS / f"consent-section-zh-{name}-{engine}.png"
    page.locator("#consent-section").screenshot(path=str(section_shot))
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_owner_pages_for_purposes_and_contact_lists(
    live_server, chromium, screenshot, owner, engine, locale
):
    email = make_purpose()
    make_purpose("sms_marketing", SMS_TEXTS)
    consent.new_version(email.id, {**EMAIL_TEXTS, "en": ("E-mail news", "News and offers.")})
    for given, granted in (("Anna", True), ("Jan", False), ("Olga", True)):
        give(make_customer(given, "Test", email=f"{given}@example.com"), email, granted)
    make_customer("Piotr", "Test")

    context = chromium.new_context(locale=locale, viewport=DESKTOP)
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    short = locale[:2]

    page.goto(f"{live_server}/owner/consent")
    screenshot(page, f"consent-purposes-{short}-{engine}")
    page.set_viewport_size(PHONE)
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    screenshot(page, f"consent-purposes-{short}-phone-{engine}")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/owner/consent/{email.id}")
    screenshot(page, f"consent-purpose-{short}-{engine}")
    page.goto(f"{live_server}/owner/consent/new")
    screenshot(page, f"consent-purpose-new-{short}-{engine}")

    page.goto(f"{live_server}/owner/contact-lists")
    page.locator("#purpose").select_option(str(email.id))
    page.locator("#contact-list-preview h2").wait_for()
    wait_until_settled(page)
    expect(page.locator("#contact-list-preview h2")).to_contain_text("2")
    screenshot(page, f"consent-contact-list-{short}-{engine}")
    page.set_viewport_size(PHONE)
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    screenshot(page, f"consent-contact-list-{short}-phone-{engine}")
    context.close()
