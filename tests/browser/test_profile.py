"""In a real browser, staff record a purchase from the profile without leaving the page."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from portal import forecast, history
from portal.models import Address, Complaint, utcnow
from tests.browser.htmx import wait_for, wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

# Elements reaching past the right edge of the window (what makes a phone scroll sideways).
WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)"""


def open_profile(chromium, live_server, staff_member, customer, locale, viewport):
    context = chromium.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/customers/{customer.id}")
    return context, page


def test_staff_records_a_purchase_of_two_lines_inline(
    live_server, chromium, screenshot, staff_member, engine
):
    customer = make_customer("Anna", "Nowak", email="anna.nowak@example.com", phone="+48601234567")
    history.record_purchase(
        customer,
        [("Sencha", Decimal("1"), Decimal("20.00"))],
        purchased_at=datetime(2026, 1, 10, 12),
        channel="store",
    )
    context, page = open_profile(
        chromium, live_server, staff_member, customer, "en-US", {"width": 1200, "height": 900}
    )
    value = page.locator("#profile-figures .figure-value")
    assert value.inner_text() == "€20.00"
    # A full page load would lose this marker; an HTMX swap keeps it.
    page.evaluate("window.profileMarker = 'still here'")

    page.get_by_role("button", name="Add a line").click()
    # htmx moves the cursor into the new line once it has settled
    expect(page.locator("#purchase-lines-2-product")).to_be_focused()
    # Typing before htmx settles would lose keystrokes to its late focus on the new line.
    wait_until_settled(page)
    page.locator("#purchase-lines-0-product").fill("Green tea")
    page.locator("#purchase-lines-0-quantity").fill("2")
    page.locator("#purchase-lines-0-unit_price").fill("12.50")
    page.locator("#purchase-lines-1-product").fill("Teapot")
    page.locator("#purchase-lines-1-unit_price").fill("40")
    page.locator("#purchase-receipt_number").fill("R-2026-0042")
    screenshot(page, f"profile-purchase-filled-{engine}")
    page.get_by_role("button", name="Record purchase").click()

    wait_for(
        page, "document.querySelector('#profile-figures .figure-value').innerText === '€85.00'"
    )
    assert page.evaluate("window.profileMarker") == "still here"
    assert page.locator("#profile-figures .figure-count").inner_text() == "2"
    newest = page.locator("#timeline-list > li").first
    assert "€65.00" in newest.inner_text() and "Teapot" in newest.inner_text()
    assert page.get_by_role("status").filter(has_text="Purchase of €65.00 recorded.").count() == 1
    assert page.locator("#purchase-lines-0-product").input_value() == ""
    screenshot(page, f"profile-purchase-recorded-{engine}")
    context.close()


def test_invalid_line_shows_its_message_beside_the_field_in_place(
    live_server, chromium, staff_member, engine
):
    customer = make_customer("Jan", "Kowalski")
    context, page = open_profile(
        chromium, live_server, staff_member, customer, "en-US", {"width": 1200, "height": 900}
    )
    page.evaluate("window.profileMarker = 'still here'")
    page.locator("#purchase-lines-0-product").fill("Sencha")
    page.locator("#purchase-lines-0-quantity").fill("0")
    page.locator("#purchase-lines-0-unit_price").fill("5")
    page.get_by_role("button", name="Record purchase").click()

    error = page.locator("#purchase-lines-0-quantity-error")
    error.wait_for()
    assert error.inner_text() == "Enter a quantity greater than 0."
    assert page.evaluate("window.profileMarker") == "still here"
    expect(page.locator("#purchase-lines-0-quantity")).to_be_focused()
    assert page.locator("#profile-figures .figure-count").inner_text() == "0"
    context.close()


def test_staff_records_a_call_and_loads_older_history(live_server, chromium, staff_member, engine):
    customer = make_customer("Olga", "Ivanova")
    for day in range(1, 26):
        history.record_purchase(
            customer,
            [("Oolong", Decimal("1"), Decimal("7.00"))],
            purchased_at=datetime(2025, 1, day, 10),
            channel="store",
        )
    context, page = open_profile(
        chromium, live_server, staff_member, customer, "en-US", {"width": 1200, "height": 900}
    )
    page.evaluate("window.profileMarker = 'still here'")
    assert page.locator("#timeline-list > li").count() == history.PAGE_SIZE  # 10

    for shown in (2 * history.PAGE_SIZE, 25):
        page.get_by_role("button", name="Show older").click()
        wait_for(page, f"document.querySelectorAll('#timeline-list > li').length === {shown}")
    assert page.get_by_role("button", name="Show older").count() == 0

    page.locator("#interaction-summary").fill("Asked about the spring harvest.")
    page.locator("#interaction-channel").select_option("call")
    page.get_by_role("button", name="Record interaction").click()
    page.get_by_role("status").filter(has_text="Interaction recorded.").wait_for()
    assert (
        "Asked about the spring harvest." in page.locator("#timeline-list > li").first.inner_text()
    )
    assert page.evaluate("window.profileMarker") == "still here"
    context.close()


@pytest.mark.parametrize(
    "locale, viewport",
    [("zh-CN", {"width": 1200, "height": 900}), ("zh-CN", {"width": 390, "height": 844})],
    ids=["desktop", "phone"],
)
def test_a_chinese_profile_reads_well(
    live_server, chromium, screenshot, staff_member, engine, locale, viewport
):
    customer = make_customer(
        "秀英",
        "王",
        order="family_first",
        email="wang.xiuying@example.cn",
        phone="+8613812345678",
        tags=("乌龙茶", "会员"),
        note="喜欢安溪铁观音。",
        preferred_language="zh",
        preferred_channel="phone",
        tier="B",
    )
    Address.create(
        customer=customer, line1="南京西路 1266 号", city="上海", postal_code="200040", country="CN"
    )
    history.record_purchase(
        customer,
        [
            ("铁观音 100 克", Decimal("2"), Decimal("88.00")),
            ("紫砂壶", Decimal("1"), Decimal("360.00")),
        ],
        purchased_at=datetime(2026, 2, 14, 15, 30),
        channel="store",
        receipt_number="SH-0214-07",
    )
    history.record_interaction(
        customer,
        occurred_at=datetime(2026, 2, 20, 10),
        direction="in",
        channel="call",
        summary="询问新茶到货时间。",
        staff_id=staff_member.id,
    )
    Complaint.create(customer=customer, subject="茶叶罐有凹痕", opened_at=datetime(2026, 2, 21, 9))

    context, page = open_profile(chromium, live_server, staff_member, customer, locale, viewport)

    assert page.locator("h1").inner_text() == "王秀英"
    assert page.locator("html").get_attribute("lang") == "zh"
    assert page.locator("#timeline-list > li").count() == 3
    page.evaluate("document.fonts.ready.then(() => true)")
    name = "phone" if viewport["width"] < 600 else "desktop"
    screenshot(page, f"profile-zh-CN-{name}-{engine}")
    # nothing wider than the screen, phones included
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    context.close()


@pytest.mark.parametrize(
    "locale, viewport",
    [
        ("en-US", {"width": 1200, "height": 900}),
        ("ru-RU", {"width": 1200, "height": 900}),
        ("ru-RU", {"width": 390, "height": 844}),
    ],
    ids=["en-desktop", "ru-desktop", "ru-phone"],
)
def test_a_customer_at_risk_is_flagged_on_the_profile(
    live_server, chromium, screenshot, staff_member, engine, locale, viewport
):
    customer = make_customer("Иван", "Петров", email="ivan.petrov@example.ru")
    now = utcnow()
    for days in (200, 170, 140):  # every 30 days, then nothing for 140 days
        history.record_purchase(
            customer,
            [("Пуэр", Decimal("1"), Decimal("15.00"))],
            purchased_at=now - timedelta(days=days),
            channel="store",
        )
    forecast.refresh(now)

    context, page = open_profile(chromium, live_server, staff_member, customer, locale, viewport)

    expected = page.locator("#profile-figures .figure-next")
    # the date in the page's language, as the other dates on the panel (TIMEZONE is UTC here)
    due = (now - timedelta(days=110)).date()
    assert expected.inner_text() == format_date(due, "medium", locale=locale.replace("-", "_"))
    expect(page.locator("#profile-figures .churn-risk .badge")).to_be_visible()
    why = page.locator("#profile-figures .churn-risk-why").inner_text()
    assert "30" in why and expected.inner_text() in why
    name = "phone" if viewport["width"] < 600 else "desktop"
    screenshot(page, f"profile-at-risk-{locale}-{name}-{engine}")
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    # The contact card's long Russian labels once took the whole width and squeezed each
    # value to a letter a line: the e-mail address takes at most two lines.
    email = page.locator(".contact-card dd a[href^='mailto:']").first
    box = email.bounding_box()
    assert box["width"] > 100 and box["height"] < 70, f"the e-mail address is squeezed: {box}"
    context.close()
