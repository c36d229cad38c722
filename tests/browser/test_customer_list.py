"""In a real browser, staff filter the customer list and tag a selection."""

import pytest

from portal.models import CustomerTag, Tag
from tests.browser.htmx import wait_for
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def test_filter_select_and_tag(live_server, chromium, screenshot, staff_member, engine):
    wanted = [
        make_customer("Łucja", "Wąsowska", tags=["vip"]),
        make_customer("Иван", "Петров", tags=["vip"]),
    ]
    make_customer("Anna", "Nowak")
    context = chromium.new_context(locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, staff_member.email, PASSWORD)
    page.goto(f"{live_server}/customers")
    assert page.locator(".customer-table tbody tr").count() == 3

    page.locator("#tag").first.fill("vip")
    page.locator("#tag").first.press("Enter")
    wait_for(page, "document.querySelectorAll('.customer-table tbody tr').length === 2")
    assert "tag=vip" in page.url  # the filtered list has its own address
    for customer in wanted:
        page.locator(f"#select-{customer.id}").check()
    page.locator(".bulk-actions input[name=tag]").fill("newsletter")
    screenshot(page, f"customer-list-pl-{engine}")
    page.locator(".bulk-actions button").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success").is_visible()
    tagged = {
        ct.customer_id for ct in CustomerTag.select().join(Tag).where(Tag.name == "newsletter")
    }
    assert tagged == {c.id for c in wanted}
    context.close()
