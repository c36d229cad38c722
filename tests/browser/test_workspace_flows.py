"""The staff workspace's two promises, end to end in Chromium:
find a customer by a fragment of a Chinese name with the keyboard and record a purchase;
merge two duplicates and see the history of both on the survivor."""

from datetime import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal import history
from portal.models import Customer
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def signed_in_page(chromium, live_server, staff_member, locale="en-US"):
    context = chromium.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    return context, page


def test_find_by_chinese_fragment_pick_with_keyboard_and_add_a_purchase(
    live_server, chromium, screenshot, staff_member, engine
):
    wanted = make_customer("秀英", "王", order="family_first", phone="+8613812345678")
    make_customer("伟", "张", order="family_first")
    context, page = signed_in_page(chromium, live_server, staff_member)

    page.keyboard.press("/")
    page.keyboard.type("秀")
    page.locator("#quick-search-results [role=option]").first.wait_for()
    page.keyboard.press("Enter")  # the first result is active
    page.wait_for_url(f"{live_server}/customers/{wanted.id}")
    value = page.locator("#profile-figures .figure-value")
    assert value.inner_text() == "€0.00"
    page.evaluate("window.stillHere = true")

    page.locator("#purchase-lines-0-product").fill("乌龙茶")
    page.locator("#purchase-lines-0-quantity").fill("2")
    page.locator("#purchase-lines-0-unit_price").fill("15.25")
    page.locator("#purchase-lines-1-product").fill("茶杯")
    page.locator("#purchase-lines-1-unit_price").fill("9.90")
    page.get_by_role("button", name="Record purchase").click()

    expect(value).to_have_text("€40.40")
    assert page.evaluate("window.stillHere") is True  # updated in place, no reload
    assert Customer.get_by_id(wanted.id).lifetime_value == Decimal("40.40")
    screenshot(page, f"flow-purchase-{engine}")
    context.close()


def test_merge_two_duplicates_and_see_both_histories(
    live_server, chromium, screenshot, staff_member, engine
):
    first = make_customer("Katarzyna", "Lis", email="k.lis@poczta.example")
    second = make_customer("Katarzyma", "Lis", email="kasia.lis@poczta.example")
    history.record_purchase(
        first,
        [("Herbata", Decimal("1"), Decimal("10.00"))],
        purchased_at=datetime(2026, 2, 1, 10),
        channel="store",
    )
    history.record_purchase(
        second,
        [("Kubek", Decimal("1"), Decimal("25.00"))],
        purchased_at=datetime(2026, 3, 1, 10),
        channel="store",
    )
    context, page = signed_in_page(chromium, live_server, staff_member)

    page.goto(f"{live_server}/duplicates")
    page.get_by_role("link", name="Compare and merge").first.click()
    page.wait_for_url(f"{live_server}/customers/{first.id}/merge/{second.id}")
    page.locator("input[name=given_name][value=keep]").check()
    screenshot(page, f"flow-merge-screen-{engine}")
    page.get_by_role("button", name="Merge into Katarzyna Lis").click()

    page.wait_for_url(f"{live_server}/customers/{first.id}")
    timeline = page.locator(".timeline-section")
    expect(timeline).to_contain_text("Herbata")
    expect(timeline).to_contain_text("Kubek")
    expect(page.locator("#profile-figures .figure-value")).to_have_text("€35.00")
    expect(page.locator(".profile-about")).to_contain_text("kasia.lis@poczta.example")
    screenshot(page, f"flow-merged-profile-{engine}")

    page.get_by_role("button", name="Undo this merge").click()
    page.wait_for_url(f"{live_server}/customers/{first.id}")
    expect(page.locator(".timeline-section")).not_to_contain_text("Kubek")
    context.close()
