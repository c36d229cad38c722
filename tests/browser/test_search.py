"""In a real browser, staff find a customer while typing and open them with the keyboard."""

import pytest

from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def test_type_a_chinese_fragment_and_pick_with_the_keyboard(
    live_server, chromium, screenshot, staff_member, engine
):
    make_customer("伟", "张", order="family_first", phone="+8613812345678")
    wanted = make_customer("秀英", "王", order="family_first", email="wang.xiuying@qq.example")
    make_customer("Anna", "Nowak")
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1100, "height": 800})
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")

    page.keyboard.press("/")  # the shortcut focuses the search box
    page.keyboard.type("秀")
    options = page.locator("#quick-search-results [role=option]")
    options.first.wait_for()
    assert options.count() == 1
    assert "王秀英" in options.first.inner_text()
    assert page.locator("#quick-search").get_attribute("aria-expanded") == "true"
    screenshot(page, f"search-zh-{engine}")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/customers/{wanted.id}")
    assert "王秀英" in page.locator("h1").inner_text()
    context.close()


def test_arrow_keys_move_through_several_results(live_server, chromium, staff_member):
    first = make_customer("Łukasz", "Wąsowski")
    second = make_customer("Łucja", "Wąsowska")
    context = chromium.new_context(locale="pl-PL")
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.locator("#quick-search").fill("wasow")
    page.locator("#quick-search-results [role=option]").nth(1).wait_for()
    # the first result is active at once; Down moves to the second
    page.locator("#quick-search").press("ArrowDown")
    active = page.locator("#quick-search").get_attribute("aria-activedescendant")
    assert active in {f"search-result-{first.id}", f"search-result-{second.id}"}
    page.locator("#quick-search").press("Enter")
    page.wait_for_url(f"{live_server}/customers/{active.removeprefix('search-result-')}")
    context.close()
