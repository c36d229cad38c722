"""In a real browser: the owner reads the automations and one automation's page (what it sent,
to whom), on a desk and a phone, in English and Russian; the form shows the days and the event
date only for the kinds that use them."""

from datetime import date, datetime

import pytest
from playwright.sync_api import expect

from portal import automations, consent, settings
from portal.message_content import Text, dump
from portal.models import Automation, OutgoingMessage
from tests.browser.test_privacy_desk import DESK, PHONE, signed_in
from tests.browser.test_profile import WIDER_THAN_SCREEN
from tests.factories import make_customer

pytestmark = pytest.mark.browser

CONTENT = dump(
    {
        "en": Text("Happy birthday, {first_name}!", "All the best from {shop_name}."),
        "ru": Text("С днём рождения, {first_name}!", "Всего доброго от {shop_name}."),
    }
)


@pytest.fixture
def birthday_rule(app, smtp_server):
    """A birthday automation that greeted three customers today; two other rules beside it."""
    smtp_server.configure(app)
    settings.put("messages_per_minute", 6000)
    purpose = consent.create_purpose(
        "email_marketing",
        {"en": ("E-mail offers", "Send me offers."), "ru": ("Предложения", "Присылайте.")},
    )
    with app.app_context():
        today = automations.local_date(automations.utcnow())
    for given, family, language in (
        ("Anna", "Nowak", "pl"),
        ("Борис", "Иванов", "ru"),
        ("Grace", "Hopper", "en"),
    ):
        customer = make_customer(
            given,
            family,
            email=f"{family.lower()}@example.com",
            preferred_language=language,
            birth_date=date(1992, today.month, today.day),  # 1992: a leap year
        )
        consent.record(customer.id, purpose.id, granted=True, wording_version=1, channel="verbal")
    rule = Automation.create(
        name="Birthday greetings", kind="birthday", purpose=purpose.id, content=CONTENT
    )
    Automation.create(
        name="Thank you for shopping",
        kind="after_purchase",
        purpose=purpose.id,
        days=3,
        content=CONTENT,
    )
    Automation.create(
        name="Tasting evening: doors open at six",
        kind="event_reminder",
        days=7,
        event_date=date(2099, 12, 31),
        content=CONTENT,
        active=False,
    )
    with app.test_request_context("/"):
        automations.run_due(now=datetime.combine(today, datetime.min.time().replace(hour=12)))
    # One refused by the receiving server, as the page would show it.
    OutgoingMessage.update(status="failed", reason="550 5.1.1 mailbox unavailable").where(
        OutgoingMessage.id == OutgoingMessage.select().order_by(OutgoingMessage.id.desc()).get().id
    ).execute()
    return rule


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_owner_reads_the_automations_and_what_one_sent(
    live_server, chromium, screenshot, owner, birthday_rule, engine, locale
):
    language = locale[:2]
    for viewport_name, viewport in (("desk", DESK), ("phone", PHONE)):
        context, page = signed_in(chromium, live_server, owner, locale=locale, viewport=viewport)
        page.goto(f"{live_server}/owner/automations")
        expect(page.locator(".automation-table tbody tr")).to_have_count(3)
        expect(page.locator(".subnav [aria-current=page]")).to_have_attribute(
            "href", "/owner/automations"
        )
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        screenshot(page, f"automations-{language}-{viewport_name}-{engine}")

        page.goto(f"{live_server}/owner/automations/{birthday_rule.id}")
        expect(page.locator(".automation-messages tbody tr")).to_have_count(3)
        expect(page.locator('[data-figure="sent"]')).to_have_text("2")
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        screenshot(page, f"automation-{language}-{viewport_name}-{engine}")
        context.close()


def test_the_form_shows_days_and_date_only_for_the_kinds_that_use_them(
    live_server, chromium, screenshot, owner, engine
):
    context, page = signed_in(chromium, live_server, owner)
    page.goto(f"{live_server}/owner/automations/new")
    days, event_date = page.locator("#days"), page.locator("#event_date")
    expect(days).to_be_hidden()  # a birthday, the first kind
    expect(event_date).to_be_hidden()
    page.locator("#kind").select_option("after_purchase")
    expect(days).to_be_visible()
    expect(event_date).to_be_hidden()
    page.locator("#kind").select_option("event_reminder")
    expect(days).to_be_visible()
    expect(event_date).to_be_visible()
    screenshot(page, f"automation-form-en-{engine}")
    context.close()
