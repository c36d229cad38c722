"""In a real browser: staff open a complaint from a profile, reply, move it through every status
to closed; a real SMTP server receives the reply and the closing mail with the rating link, and
the customer following that link records a rating. Screenshots in English and Polish, on a
desk and on a phone."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Complaint, ComplaintMessage
from tests.browser.htmx import wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

DESK = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 740}
NOTE = "Staff only: check the supplier batch"


def signed_in(chromium, live_server, account, *, locale="en-US", viewport=DESK):
    context = chromium.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    submit_sign_in(page, live_server, account.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    return context, page


def press_status(page, label: str) -> None:
    page.locator(".status-actions button", has_text=label).click()
    wait_until_settled(page)


def test_complaint_from_profile_to_rating(
    app, live_server, chromium, staff_member, smtp_server, screenshot
):
    smtp_server.configure(app)
    customer = make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")
    context, page = signed_in(chromium, live_server, staff_member)

    page.goto(f"{live_server}/customers/{customer.id}")
    page.get_by_text("Open a complaint").click()
    page.get_by_role("button", name="Open complaint").click()  # empty: messages, no complaint
    wait_until_settled(page)
    expect(page.locator("#complaint-subject-error")).to_have_text(
        "Enter what the complaint is about."
    )
    page.locator("#complaint-subject").fill("Teapot lid cracked")
    page.locator("#complaint-description").fill("It cracked the first time.")
    page.locator("#complaint-severity").select_option("high")
    page.get_by_role("button", name="Open complaint").click()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    complaint_id = Complaint.get().id

    page.locator("#note-body").fill(NOTE)
    page.get_by_role("button", name="Add internal note").click()
    wait_until_settled(page)
    page.locator("#reply-body").fill("We will send a new lid today.")
    page.get_by_role("button", name="Send reply").click()
    wait_until_settled(page)
    expect(page.locator("#complaint-status")).to_contain_text("e-mailed to the customer")
    expect(page.locator(".message-internal_note")).to_contain_text(NOTE)
    screenshot(page, "complaint-page-en")

    for label, status in (
        ("Start work", "in_progress"),
        ("Wait for customer", "waiting_for_customer"),
        ("Start work", "in_progress"),
        ("Mark resolved", "resolved"),
        ("Close", "closed"),
    ):
        press_status(page, label)
        assert Complaint.get_by_id(complaint_id).status == status
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    assert ComplaintMessage.select().count() == 2

    assert len(smtp_server.messages) == 2
    reply, closing = (smtp_server.body(m) for m in smtp_server.messages)
    assert "We will send a new lid today." in reply
    for body in (reply, closing):
        assert NOTE not in body
    link = re.search(r"http://127\.0\.0\.1:\d+/rate/\S+", closing).group(0)
    context.close()

    customer_view = chromium.new_context(locale="en-US", viewport=PHONE)
    rating_page = customer_view.new_page()
    rating_page.goto(link)
    expect(rating_page.locator("html")).to_have_attribute("lang", "pl")
    screenshot(rating_page, "complaint-rating-phone-pl")
    rating_page.locator("input[name=score][value='4']").check()
    rating_page.locator("#comment").fill("Fast and kind")
    rating_page.locator("button[type=submit]").click()
    rating_page.wait_for_load_state()
    expect(rating_page.locator(".rating-done")).to_be_visible()
    customer_view.close()
    stored = Complaint.get_by_id(complaint_id)
    assert (stored.satisfaction, stored.satisfaction_comment) == (4, "Fast and kind")

    context, page = signed_in(chromium, live_server, staff_member, locale="pl-PL", viewport=PHONE)
    page.goto(f"{live_server}/complaints/{complaint_id}")
    expect(page.locator(".rating")).to_contain_text("4")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "complaint-page-phone-pl")
    page.goto(f"{live_server}/customers/{customer.id}")
    page.locator("#complaint-open summary").click()
    screenshot(page, "complaint-open-profile-phone-pl")
    context.close()
