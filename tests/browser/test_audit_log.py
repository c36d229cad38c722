"""In a real browser, the owner reads the audit log, filters it with the keyboard and pages back."""

import pytest

from portal import audit
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def seed(owner, staff_member):
    customer = make_customer("Łucja", "Wąsowska")
    audit.record("sign_in_failed", actor_type="anonymous", ip_address="198.51.100.7")
    audit.record("signed_in", actor_type="staff", actor_id=staff_member.id, ip_address="192.0.2.4")
    for _ in range(3):
        audit.record(
            "customer_viewed",
            actor_type="staff",
            actor_id=staff_member.id,
            target_type="customer",
            target_id=customer.id,
            ip_address="192.0.2.4",
        )
    audit.record(
        "customer_updated",
        actor_type="staff",
        actor_id=staff_member.id,
        target_type="customer",
        target_id=customer.id,
        ip_address="192.0.2.4",
        fields=["family_name", "email", "phone"],
    )
    audit.record(
        "customers_tagged",
        actor_type="staff",
        actor_id=owner.id,
        target_type="customer",
        ip_address="192.0.2.9",
        customer_ids=list(range(1, 30)),
        tag_id=3,
    )
    return customer


def test_owner_filters_the_audit_log_by_keyboard(
    live_server, chromium, screenshot, owner, staff_member, engine
):
    customer = seed(owner, staff_member)
    context = chromium.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/owner/audit")
    assert page.locator("h1").inner_text() == "Audit log"
    assert page.locator(".audit-table tbody tr").count() == 9  # the seed, sign-in and this look
    screenshot(page, f"audit-log-en-{engine}")

    page.locator("#who").select_option(f"staff:{staff_member.id}")
    page.locator("#customer").fill(str(customer.id))
    page.locator("#customer").press("Enter")
    page.wait_for_load_state()
    assert f"customer={customer.id}" in page.url
    assert page.locator(".audit-table tbody tr").count() == 4
    page.get_by_role("link", name=f"Customer {customer.id}").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/customers/{customer.id}")

    page.goto(f"{live_server}/owner/audit?since=2026-03-02&until=2026-03-01")
    assert page.locator("#until-error").is_visible()
    screenshot(page, f"audit-log-invalid-en-{engine}")
    context.close()


def test_audit_log_reads_in_russian_and_on_a_phone(
    live_server, chromium, screenshot, owner, staff_member, engine
):
    seed(owner, staff_member)
    context = chromium.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/owner/audit")
    assert page.locator("html").get_attribute("lang") == "ru"
    screenshot(page, f"audit-log-ru-{engine}")

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/owner/audit")
    # Nothing wider than the phone's screen: no sideways scrolling to read an event.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, f"audit-log-ru-phone-{engine}")
    context.close()
