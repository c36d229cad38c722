"""The customer area end to end in a real browser (issue 6 "Done when"): request a link, read
it from the test's SMTP server, sign in, see purchases, download the PDF (read back with
pypdf), withdraw a consent, and ask for erasure; plus screenshots of the download, details and
consent pages in English, Chinese and on a phone."""

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal import consent, history
from portal.models import ConsentEvent, ErasureRequest, utcnow
from tests.browser.htmx import wait_for, wait_until_settled
from tests.customer_signin import link_path_in
from tests.factories import make_customer

WIDE = {"width": 1100, "height": 800}
PHONE = {"width": 375, "height": 740}
CONFIRM_LINK = re.compile(r"http://[^/\s]+(/me/erase/confirm/\S+)")
TEXTS = {
    "en": ("E-mail offers", "I agree to receive offers by e-mail."),
    "zh": ("电子邮件优惠", "我同意通过电子邮件接收优惠信息。"),
}


@pytest.fixture
def wei(app):
    customer = make_customer(
        "伟", "张", order="family_first", email="wei@example.com", preferred_language="zh"
    )
    history.record_purchase(
        customer,
        [
            ("乌龙茶 100 g", Decimal("2"), Decimal("24.00")),
            ("Czajnik żeliwny", Decimal("1"), Decimal("99.90")),
        ],
        purchased_at=utcnow(),
        receipt_number="R-2001",
    )
    purpose = consent.create_purpose("email_marketing", TEXTS)
    consent.record(customer.id, purpose.id, granted=True, wording_version=1, channel="paper_form")
    return customer


def sign_in_by_link(page, live_server, smtp_server, address):
    page.goto(f"{live_server}/me/sign-in")
    page.fill("input[name=email]", address)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/me/sign-in/sent$"))
    [message] = smtp_server.to(address)[-1:]
    page.goto(live_server + link_path_in(smtp_server.body(message)))
    page.locator("section.card form button[type=submit]").click()  # "Sign in"
    page.wait_for_url(re.compile(r"/me/?$"))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_customer_signs_in_downloads_withdraws_consent_and_asks_for_erasure(
    app, live_server, chromium, screenshot, smtp_server, wei
):
    smtp_server.configure(app)
    context = chromium.new_context(viewport=WIDE, locale="en", accept_downloads=True)
    page = context.new_page()

    sign_in_by_link(page, live_server, smtp_server, "wei@example.com")
    assert "乌龙茶 100 g" in page.content()  # My data lists the purchases
    assert page.locator("html").get_attribute("lang") == "zh"  # the customer's own language
    # The customer switches the area to English; the rest of the test reads English labels.
    page.select_option("#language-select", "en")
    wait_for(page, "document.documentElement.lang === 'en'")

    page.click("nav a[href='/me/download']")
    page.wait_for_url(re.compile(r"/me/download$"))
    with page.expect_download() as download_info:
        page.click("a[href='/me/download.pdf']")
    with open(download_info.value.path(), "rb") as downloaded:
        pdf = PdfReader(io.BytesIO(downloaded.read()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "张伟" in text and "乌龙茶 100 g" in text and "Czajnik żeliwny" in text

    page.goto(f"{live_server}/me/consent")
    card = page.locator(".consent-purpose").first
    card.get_by_role("button").click()  # one click: "Withdraw my consent"
    wait_until_settled(page)
    assert (
        page.locator(".consent-purpose .consent-state")
        .first.inner_text()
        .strip()
        .startswith("You have withdrawn your consent.")
    )
    latest = ConsentEvent.select().order_by(ConsentEvent.id.desc()).get()
    assert (latest.granted, latest.channel, latest.recorded_by_type) == (
        False,
        "self_service",
        "customer",
    )

    page.goto(f"{live_server}/me/erase")
    page.get_by_role("button", name="Ask to erase my data").click()
    page.wait_for_load_state()
    confirm = CONFIRM_LINK.search(smtp_server.body(smtp_server.to("wei@example.com")[-1]))
    assert confirm, "no confirmation link in the e-mail"
    page.goto(live_server + confirm.group(1))
    page.get_by_role("button", name="Yes, erase my data").click()
    page.wait_for_load_state()
    assert "Thank you, your request is confirmed." in page.content()
    assert ErasureRequest.get(ErasureRequest.customer_id == wei.id).status == "pending"
    context.close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("language", "viewport", "suffix"),
    [("en", WIDE, "en"), ("zh", WIDE, "zh"), ("en", PHONE, "en-phone"), ("zh", PHONE, "zh-phone")],
)
def test_screenshots_of_download_details_and_consent(
    app, live_server, chromium, screenshot, smtp_server, wei, language, viewport, suffix
):
    smtp_server.configure(app)
    context = chromium.new_context(viewport=viewport, locale=language)
    page = context.new_page()
    sign_in_by_link(page, live_server, smtp_server, "wei@example.com")
    if page.locator("#language-select").input_value() != language:
        with page.expect_navigation():
            page.select_option("#language-select", language)
    page.goto(f"{live_server}/me/download")
    screenshot(page, f"customer-download-{suffix}")

    page.goto(f"{live_server}/me/details")
    page.fill("#email", "not an address")
    page.fill("#phone", "12")
    page.keyboard.press("Enter")
    page.wait_for_selector("#email-error")
    assert page.locator("#phone-error").is_visible()
    screenshot(page, f"customer-details-errors-{suffix}")

    page.goto(f"{live_server}/me/consent")
    page.locator(".consent-purpose button").first.focus()
    page.keyboard.press("Enter")  # works from the keyboard
    wait_until_settled(page)
    screenshot(page, f"customer-consent-{suffix}")
    context.close()
