"""Screenshots of the customer area's sign-in, link-sent and My data pages (en, zh, phone),
and the link flow in a real browser: request a link, read it from SMTP, sign in."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from portal import complaints
from portal.models import Address, Purchase, PurchaseLine, utcnow
from tests.customer_signin import link_path_in
from tests.factories import make_customer

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def wei(app):
    customer = make_customer(
        "伟",
        "张",
        order="family_first",
        email="wei@example.com",
        preferred_language="zh",
        tags=("VIP",),
    )
    Address.create(
        customer=customer,
        line1="Nowy Świat 12",
        postal_code="00-400",
        city="Warszawa",
        country="PL",
    )
    for n, product in enumerate(("乌龙茶 100 g", "Teapot, cast iron")):
        purchase = Purchase.create(
            customer=customer,
            purchased_at=utcnow() - timedelta(days=n + 1),
            receipt_number=f"R-{2001 + n}",
            total=Decimal("48.00"),
            currency="PLN",
        )
        PurchaseLine.create(
            purchase=purchase,
            product=product,
            quantity=2,
            unit_price=Decimal("24.00"),
            line_total=Decimal("48.00"),
        )
    complaint = complaints.open_complaint(
        customer,
        subject="Lid cracked",
        description="",
        channel="in_store",
        category="product_quality",
        severity="low",
    )
    complaints.add_reply(complaint, "A new lid is on its way.", staff_id=None)
    return customer


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_customer_signs_in_by_link(app, live_server, chromium, screenshot, smtp_server, wei):
    smtp_server.configure(app)
    for language, viewport in (
        ("en", {"width": 1100, "height": 800}),
        ("zh", {"width": 1100, "height": 800}),
        ("en", PHONE),
    ):
        context = chromium.new_context(viewport=viewport, locale=language)
        page = context.new_page()
        suffix = f"{language}-{'phone' if viewport is PHONE else 'wide'}"
        page.goto(f"{live_server}/me/sign-in")
        screenshot(page, f"customer-sign-in-{suffix}")
        page.fill("input[name=email]", "wei@example.com")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/me/sign-in/sent$"))
        screenshot(page, f"customer-link-sent-{suffix}")
        path = link_path_in(smtp_server.body(smtp_server.messages[-1]))
        page.goto(live_server + path)
        screenshot(page, f"customer-link-confirm-{suffix}")
        page.locator("section.card form button[type=submit]").click()  # "Sign in"
        page.wait_for_url(re.compile(r"/me/$"))
        assert page.locator("html").get_attribute("lang") == "zh"  # Wei's own language
        if language == "en":  # the area's switcher changes it for this session
            with page.expect_navigation():
                page.select_option("#language-select", "en")
            assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_text("Teapot, cast iron").is_visible()
        screenshot(page, f"customer-my-data-{suffix}")
        context.close()
