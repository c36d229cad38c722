"""The customer's complaints and erase-me pages in Chromium: raise a complaint, reply with
HTMX, ask for erasure; screenshots in English, Russian and on a phone."""

import pytest

from portal import complaints
from portal.models import ComplaintMessage, ErasureRequest
from tests.browser.htmx import wait_until_settled
from tests.customer_signin import start_customer_session
from tests.factories import make_customer


def session_cookie(app, customer, language):
    """The cookie of a signed-in customer (the e-mailed link is another test's subject)."""
    client = start_customer_session(app.test_client(), customer, language)
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "language,viewport",
    [
        ("en", {"width": 1200, "height": 800}),
        ("ru", {"width": 1200, "height": 800}),
        ("en", {"width": 390, "height": 844}),
    ],
)
def test_complaints_and_erase_me(app, live_server, chromium, screenshot, language, viewport):
    customer = make_customer("Anna", "Nowak", email="anna@example.com")
    complaint = complaints.open_complaint(
        customer,
        subject="Teapot lid cracked",
        description="The lid broke on the first day.",
        channel="in_store",
        category="product_quality",
        severity="high",
    )
    complaints.change_status(complaint, "waiting_for_customer", staff_id=None)
    complaints.add_note(complaint, "INTERNAL NOTE do not show", staff_id=None)
    with app.test_request_context():
        complaints.add_reply(complaint, "Could you send us a photo?", staff_id=None)
    context = chromium.new_context(viewport=viewport)
    host = live_server.split("//")[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": app.config["SESSION_COOKIE_NAME"],
                "value": session_cookie(app, customer, language),
                "domain": host,
                "path": "/",
            }
        ]
    )
    page = context.new_page()
    tag = f"customer-{language}-{viewport['width']}"
    page.goto(f"{live_server}/me/complaints")
    screenshot(page, f"{tag}-complaints")
    page.goto(f"{live_server}/me/complaints/{complaint.id}")
    assert "INTERNAL NOTE" not in page.content()
    page.fill("textarea[name=body]", "Photo sent by e-mail.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the send button, reached with the keyboard
    wait_until_settled(page)
    page.wait_for_selector("text=Photo sent by e-mail.")
    assert ComplaintMessage.select().where(ComplaintMessage.author_type == "customer").count() == 1
    screenshot(page, f"{tag}-complaint")
    page.goto(f"{live_server}/me/erase")
    screenshot(page, f"{tag}-erase")
    page.click("form button.danger")
    page.wait_for_load_state()
    assert ErasureRequest.get(ErasureRequest.customer_id == customer.id).status == (
        "awaiting_confirmation"
    )
    screenshot(page, f"{tag}-erase-asked")
    context.close()
