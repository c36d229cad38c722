"""In a real browser: staff take a privacy request on the profile without leaving it; the owner
reads the privacy desk, records a breach with the keyboard and reads who was affected, on a
desk and on a phone, in English and Polish."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal import audit, breaches, privacy_requests
from portal.models import utcnow
from tests.browser.conftest import SCREENSHOTS
from tests.browser.htmx import wait_until_settled
from tests.browser.test_profile import WIDER_THAN_SCREEN
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

DESK = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 740}
DAY = timedelta(days=1)


def signed_in(chromium, live_server, account, *, locale="en-US", viewport=DESK):
    context = chromium.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    submit_sign_in(page, live_server, account.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    return context, page


@pytest.fixture
def breach_with_victims(app, staff_member):
    """Three customers in three languages whose profiles a staff account opened last night."""
    now = utcnow()
    customers = [
        make_customer(
            "Anna",
            "Nowak",
            email="anna.nowak@example.com",
            phone="+48601234567",
            preferred_language="pl",
        ),
        make_customer(
            "伟", "张", order="family_first", email="zhang.wei@example.com", preferred_language="zh"
        ),
        make_customer("Grace", "Hopper", email="grace@example.com", preferred_language="en"),
    ]
    for customer in customers:
        audit.record(
            "customer_viewed",
            actor_type="staff",
            actor_id=staff_member.id,
            target_type="customer",
            target_id=customer.id,
            ip_address="203.0.113.7",
        )
    audit.record(
        "contact_list_exported",
        actor_type="staff",
        actor_id=staff_member.id,
        ip_address="203.0.113.7",
        purpose_id=1,
        customer_ids=[customers[0].id],
    )
    breach = breaches.record(
        discovered_at=now - 30 * timedelta(hours=1),
        description="A shop laptop with a signed-in session was stolen.",
        window_start=now - 2 * DAY,
        window_end=utcnow(),
        staff_account_id=staff_member.id,
    )
    privacy_requests.open_request(customers[0].id, "access", received_at=now - 34 * DAY)
    privacy_requests.open_request(customers[1].id, "correction", received_at=now - 3 * DAY)
    return breach


def test_staff_record_a_request_on_the_profile_in_place(
    live_server, chromium, screenshot, staff_member, engine
):
    customer = make_customer("Anna", "Nowak", email="anna.nowak@example.com")
    privacy_requests.open_request(customer.id, "access", received_at=utcnow() - 33 * DAY)
    context, page = signed_in(chromium, live_server, staff_member, viewport=PHONE)
    page.goto(f"{live_server}/customers/{customer.id}")
    page.evaluate("window.profileMarker = 'still here'")
    section = page.locator("#privacy-requests")
    expect(section.get_by_text("Overdue by 3 days")).to_be_visible()

    section.get_by_label("Kind of request").select_option("correction")
    section.get_by_role("button", name="Record request").click()
    expect(section.get_by_role("status")).to_contain_text("Request recorded.")
    wait_until_settled(page)
    assert page.evaluate("window.profileMarker") == "still here"
    expect(page.locator("#privacy-requests .privacy-request")).to_have_count(2)

    page.locator("#privacy-requests .privacy-request").first.get_by_role(
        "button", name="Mark completed"
    ).click()
    expect(page.locator("#requests-status")).to_have_text("Request marked as completed.")
    section.scroll_into_view_if_needed()
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    screenshot(page, f"privacy-requests-profile-phone-{engine}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / f"privacy-requests-section-phone-{engine}.png"))
    context.close()


@pytest.mark.parametrize("locale", ["en-US", "pl-PL"])
def test_owner_reads_the_desk_the_register_and_the_report(
    live_server, chromium, screenshot, owner, breach_with_victims, engine, locale
):
    language = locale[:2]
    for viewport_name, viewport in (("desk", DESK), ("phone", PHONE)):
        context, page = signed_in(chromium, live_server, owner, locale=locale, viewport=viewport)
        page.goto(f"{live_server}/owner/privacy")
        rows = page.locator("#open-requests tbody tr")
        expect(rows).to_have_count(2)
        assert "Anna Nowak" in rows.first.inner_text()  # the overdue one first
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        screenshot(page, f"privacy-desk-{language}-{viewport_name}-{engine}")

        page.goto(f"{live_server}/owner/privacy/breaches")
        expect(page.locator(".clock-running")).to_have_count(1)
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        screenshot(page, f"breach-register-{language}-{viewport_name}-{engine}")

        page.goto(f"{live_server}/owner/privacy/breaches/{breach_with_victims.id}")
        expect(page.locator("#affected-customers tbody tr")).to_have_count(3)
        expect(page.locator(".notice-draft")).to_have_count(3)
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        screenshot(page, f"breach-report-{language}-{viewport_name}-{engine}")
        context.close()


def test_owner_records_a_breach_with_the_keyboard(
    live_server, chromium, owner, staff_member, engine
):
    context, page = signed_in(chromium, live_server, owner)
    page.goto(f"{live_server}/owner/privacy/breaches")
    page.get_by_label("What happened").focus()
    page.keyboard.type("Phishing e-mail answered.")
    page.keyboard.press("Tab")
    page.get_by_label("Staff account").select_option(str(staff_member.id))
    earlier = (utcnow() - DAY).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("From").fill(earlier)
    page.get_by_label("To", exact=True).fill(utcnow().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("To", exact=True).press("Enter")
    page.wait_for_url(f"{live_server}/owner/privacy/breaches/*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Affected customers")
    expect(page.get_by_text("Breach recorded.")).to_be_visible()
    context.close()
