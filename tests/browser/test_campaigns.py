"""In a real browser, the owner starts a campaign from the filtered customer list, writes it
through the form, reads who receives it and who is left out, checks the previews and sends it;
the page follows a campaign while it sends and shows its results. Screenshots in en, ru, pl and
zh land in test-results/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from portal import campaigns, consent
from portal.customer_list import Filters
from portal.message_content import Text, dump
from portal.models import Campaign, ExportJob, OutgoingMessage, utcnow
from tests.browser.htmx import wait_for, wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1200, "height": 900}
LOCALES = ["en-US", "ru-RU", "pl-PL", "zh-CN"]
CONTENT = {
    "en": Text(
        "Spring news for {first_name}", "Hello {first_name},\n\nnew teas are in at {shop_name}."
    ),
    "pl": Text(
        "Wiosenne nowości dla {first_name}", "Dzień dobry {first_name},\n\nmamy nowe herbaty."
    ),
    "ru": Text(
        "Весенние новинки для {first_name}", "Здравствуйте, {first_name}!\n\nНовые чаи уже здесь."
    ),
    "zh": Text("{first_name}，春季新品", "{first_name}，您好！\n\n新茶已到店。"),
}


def make_purpose():
    return consent.create_purpose(
        "email_marketing",
        {
            "en": ("E-mail offers", "Send me offers by e-mail."),
            "pl": ("Oferty e-mailem", "Wysyłajcie mi oferty e-mailem."),
            "ru": ("Предложения по почте", "Присылайте мне предложения."),
            "zh": ("电子邮件优惠", "通过电子邮件给我发送优惠。"),
        },
    )


def grant(customer, purpose, granted=True):
    consent.record(
        customer.id, purpose.id, granted=granted, wording_version=1, channel="paper_form"
    )


def customers_with_mixed_consent(purpose):
    """Four receivers, one per language (tagged vip), and one left out for each reason."""
    receivers = [
        make_customer(
            "Anna", "Nowak", email="anna@example.com", preferred_language="pl", tags=("vip",)
        ),
        make_customer(
            "Carl", "Smith", email="carl@example.com", preferred_language="en", tags=("vip",)
        ),
        make_customer(
            "Борис", "Иванов", email="boris@example.com", preferred_language="ru", tags=("vip",)
        ),
        make_customer(
            "伟",
            "张",
            order="family_first",
            email="wei@example.com",
            preferred_language="zh",
            tags=("vip",),
        ),
    ]
    withdrawn = make_customer("Dora", "Kowal", email="dora@example.com", tags=("vip",))
    make_customer("Emil", "Lis", email="emil@example.com", tags=("vip",))  # never asked
    no_email = make_customer("Fiona", "Bell", phone="+48601000001", tags=("vip",))
    make_customer("Olek", "Spoza", email="olek@example.com")  # consents, but is not a vip
    for person in [*receivers, withdrawn, no_email]:
        grant(person, purpose)
    grant(withdrawn, purpose, granted=False)
    grant(make_customer("Olga", "Inna", email="olga@example.com"), purpose)
    return receivers


def open_page(chromium, live_server, owner, locale):
    context = chromium.new_context(locale=locale, viewport=DESKTOP)
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    return context, page


def test_owner_composes_a_campaign_from_the_list_and_sends_it(
    app, live_server, chromium, screenshot, owner, engine, smtp_server
):
    smtp_server.configure(app)
    purpose = make_purpose()
    customers_with_mixed_consent(purpose)
    context, page = open_page(chromium, live_server, owner, "en-US")

    # The list's "Start a campaign" link follows the filters HTMX swaps in.
    page.goto(f"{live_server}/customers")
    page.locator("#tag").first.fill("vip")
    page.locator("#tag").first.press("Enter")
    wait_for(page, "document.querySelectorAll('.customer-table tbody tr').length === 7")
    wait_until_settled(page)
    link = page.locator("#campaign-from-list a")
    expect(link).to_have_attribute("href", re.compile("vip"))
    link.click()
    page.wait_for_url("**/owner/campaigns/new?*")
    expect(page.locator("#customers")).to_have_value("list")
    assert Filters.from_json(page.locator("#filters").input_value()) == Filters(tag="vip")

    page.locator("#name").fill("Spring teas")
    page.locator("#purpose").select_option(str(purpose.id))
    page.locator("#en-subject").fill("Spring news for {frist_name}")  # a typo, caught
    page.locator("#en-body").fill(CONTENT["en"].body)
    page.locator("#pl-subject").fill(CONTENT["pl"].subject)
    page.locator("#pl-body").fill(CONTENT["pl"].body)
    page.locator("button[type=submit].primary").click()
    expect(page.locator("#en-subject-error")).to_contain_text("Unknown placeholder: {frist_name}")
    screenshot(page, f"campaign-form-error-en-{engine}")
    assert Campaign.select().count() == 0
    page.locator("#en-subject").fill(CONTENT["en"].subject)
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/owner/campaigns/*")

    expect(page.locator('[data-figure="included"]')).to_have_text("4")
    expect(page.locator('[data-reason="withdrawn"]')).to_have_text("1")
    expect(page.locator('[data-reason="never_asked"]')).to_have_text("1")
    expect(page.locator('[data-reason="no_contact"]')).to_have_text("1")
    polish = page.locator("section[aria-labelledby=preview-pl]")
    expect(polish).to_contain_text("Anna Nowak")
    expect(polish).to_contain_text("Wiosenne nowości dla Anna")
    # Russian and Chinese are not written: those customers get the first language, English.
    expect(page.locator("section[aria-labelledby=preview-en]")).to_contain_text(
        "Spring news for Борис"
    )
    screenshot(page, f"campaign-draft-from-list-en-{engine}")

    page.get_by_role("button", name="Send now to 4 customers").click()
    page.wait_for_load_state()
    expect(page.locator('[data-figure="sent"]')).to_have_text("4")
    delivered = sorted(recipients[0] for _sender, recipients in smtp_server.envelopes)
    assert delivered == [
        "anna@example.com",
        "boris@example.com",
        "carl@example.com",
        "wei@example.com",
    ]
    screenshot(page, f"campaign-sent-en-{engine}")
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_campaign_pages_in_each_language(
    app, live_server, chromium, screenshot, owner, engine, locale
):
    """The draft with its counts and previews in four languages, one sending (polled), and the
    results; for a person to look at."""
    purpose = make_purpose()
    customers_with_mixed_consent(purpose)
    with app.test_request_context():
        draft = campaigns.save_draft(
            None,
            name="Wiosna 2026",
            purpose_id=purpose.id,
            filters=Filters(tag="vip"),
            segment_id=None,
            content=dump(CONTENT),
            staff_id=owner.id,
        )
        sending = campaigns.save_draft(
            None,
            name="Nowe herbaty",
            purpose_id=purpose.id,
            filters=Filters(tag="vip"),
            segment_id=None,
            content=dump(CONTENT),
            staff_id=owner.id,
        )
        Campaign.update(status="sending", started_at=utcnow()).where(
            Campaign.id == sending.id
        ).execute()
        campaigns.fix_recipients(Campaign.get_by_id(sending.id))
    first = OutgoingMessage.select().order_by(OutgoingMessage.id).first()
    OutgoingMessage.update(status="sent", sent_at=utcnow()).where(
        OutgoingMessage.id == first.id
    ).execute()
    job = ExportJob.create(kind="campaign_send", status="running", language="en")
    Campaign.update(job_id=job.id).where(Campaign.id == sending.id).execute()
    language = locale[:2]

    context, page = open_page(chromium, live_server, owner, locale)
    page.goto(f"{live_server}/owner/campaigns/{draft.id}")
    expect(page.locator('[data-figure="included"]')).to_have_text("4")
    for code in ("en", "pl", "ru", "zh"):
        expect(page.locator(f"section[aria-labelledby=preview-{code}]")).to_be_visible()
    expect(page.locator("section[aria-labelledby=preview-zh]")).to_contain_text("伟，春季新品")
    screenshot(page, f"campaign-draft-{language}-{engine}")

    page.goto(f"{live_server}/owner/campaigns/{sending.id}")
    expect(page.locator("#campaign-progress-bar")).to_have_attribute("value", "25")
    screenshot(page, f"campaign-sending-{language}-{engine}")

    # The worker carries on: the page, polling, shows each step and then the results.
    second = OutgoingMessage.select().order_by(OutgoingMessage.id).offset(1).first()
    OutgoingMessage.update(status="sent", sent_at=utcnow()).where(
        OutgoingMessage.id == second.id
    ).execute()
    expect(page.locator("#campaign-progress-bar")).to_have_attribute("value", "50", timeout=8000)
    OutgoingMessage.update(status="sent", sent_at=utcnow()).where(
        OutgoingMessage.status == "queued", OutgoingMessage.customer != first.customer_id
    ).execute()
    OutgoingMessage.update(status="failed", reason="550 5.1.1 Recipient address rejected").where(
        OutgoingMessage.id
        == OutgoingMessage.select(OutgoingMessage.id).order_by(OutgoingMessage.id.desc()).limit(1)
    ).execute()
    Campaign.update(status="sent", finished_at=utcnow()).where(Campaign.id == sending.id).execute()
    ExportJob.update(status="done", finished_at=utcnow()).where(ExportJob.id == job.id).execute()
    expect(page.locator('[data-figure="failed"]')).to_have_text("1", timeout=8000)
    wait_until_settled(page)
    assert page.locator("#campaign-progress[data-hx-trigger]").count() == 0  # polling stopped
    screenshot(page, f"campaign-done-{language}-{engine}")

    page.goto(f"{live_server}/owner/campaigns")
    screenshot(page, f"campaign-list-{language}-{engine}")
    context.close()
