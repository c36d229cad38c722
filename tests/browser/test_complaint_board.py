"""In a real browser, staff filter the complaints board with the keyboard and assign a complaint
from its card without leaving the board."""

from datetime import timedelta

import pytest

from portal.models import Complaint, utcnow
from tests.browser.htmx import wait_for, wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)"""


def complaint(customer, subject, severity, due_in_hours, **fields):
    now = utcnow()
    return Complaint.create(
        customer=customer,
        subject=subject,
        severity=severity,
        opened_at=now - timedelta(days=1),
        first_response_due_at=now + timedelta(hours=due_in_hours),
        due_at=now + timedelta(hours=due_in_hours + 24),
        **fields,
    )


def open_board(chromium, live_server, account, locale, viewport):
    context = chromium.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    submit_sign_in(page, live_server, account.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/complaints")
    return context, page


def test_filter_by_severity_with_the_keyboard_and_assign_inline(
    live_server, chromium, screenshot, staff_member, owner, engine
):
    anna = make_customer("Anna", "Nowak")
    urgent = complaint(anna, "Teapot lid cracked", "critical", -3)
    complaint(anna, "Order arrived late", "low", 20, status="in_progress")
    context, page = open_board(
        chromium, live_server, staff_member, "en-GB", {"width": 1280, "height": 900}
    )
    assert page.locator(".board-cards > li").count() == 2
    page.evaluate("window.sameDocument = true")

    page.locator("#severity").focus()
    page.keyboard.press("End")  # the last choice: critical
    wait_for(page, "document.querySelectorAll('.board-cards > li').length === 1")
    wait_until_settled(page)
    assert "severity=critical" in page.url  # the filtered board has its own address
    assert page.locator(".complaint-card-subject").all_inner_texts() == ["Teapot lid cracked"]

    card = page.locator(f"#complaint-card-{urgent.id}")
    card.evaluate("card => card.dataset.before = 'yes'")
    card.locator("select[name=assignee]").select_option(str(owner.id))
    card.locator(".card-assign button").click()
    # A fresh card replaces the old one, its select showing the new assignee.
    wait_for(
        page,
        f"""(() => {{
          const card = document.querySelector('#complaint-card-{urgent.id}');
          return card && !card.dataset.before && card.querySelector('select').value === '{owner.id}';
        }})()""",
    )
    wait_until_settled(page)
    assert Complaint.get_by_id(urgent.id).assignee_id == owner.id
    assert page.evaluate("window.sameDocument === true")  # no reload: the card was swapped
    screenshot(page, f"complaint-board-en-{engine}")
    context.close()


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_a_chinese_board_reads_well(
    live_server, chromium, screenshot, staff_member, engine, viewport
):
    wang = make_customer("秀英", "王", order="family_first")
    complaint(wang, "茶叶罐有凹痕", "high", -2)
    complaint(wang, "订单迟到了一周", "medium", 10, status="waiting_for_customer")
    complaint(wang, "收据金额不对", "low", 30, assignee=staff_member, status="in_progress")
    context, page = open_board(chromium, live_server, staff_member, "zh-CN", viewport)
    assert page.locator("html").get_attribute("lang") == "zh"
    assert page.locator(".board-cards > li").count() == 3
    page.evaluate("document.fonts.ready.then(() => true)")
    name = "phone" if viewport["width"] < 600 else "desktop"
    screenshot(page, f"complaint-board-zh-{name}-{engine}")
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    context.close()
