"""The one-click unsubscribe page, opened from a real campaign e-mail in Chromium: it withdraws
at once and speaks the customer's language, whatever the browser's (issue 10)."""

import re

import pytest

from portal import campaigns, consent
from portal.customer_list import Filters
from portal.message_content import Text, dump
from tests.factories import make_customer

LINK = re.compile(r"^https?://\S+(/unsubscribe/\S+)$", re.M)
LANGUAGES = ("en", "ru", "pl", "zh")
TITLES = {
    "en": ("E-mail offers", "Send me offers by e-mail."),
    "ru": ("Предложения по почте", "Присылайте мне предложения."),
    "pl": ("Oferty e-mailem", "Wysyłajcie mi oferty e-mailem."),
    "zh": ("电子邮件优惠", "请通过电子邮件给我发送优惠。"),
}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_unsubscribe_link_in_a_received_e_mail_withdraws_in_the_customers_language(
    app, live_server, chromium, screenshot, smtp_server
):
    from flask_babel import force_locale, gettext

    smtp_server.configure(app)
    app.config["PUBLIC_URL"] = live_server
    purpose = consent.create_purpose("email_marketing", TITLES)
    people = {}
    for n, language in enumerate(LANGUAGES):
        person = make_customer(
            f"Person{n}", "Test", email=f"p{n}@example.com", preferred_language=language
        )
        consent.record(person.id, purpose.id, granted=True, wording_version=1, channel="verbal")
        people[language] = person
    content = dump({"en": Text("News", "Hello {first_name}.")})
    with app.test_request_context():
        campaign = campaigns.save_draft(
            None,
            name="News",
            purpose_id=purpose.id,
            filters=Filters(),
            segment_id=None,
            content=content,
            staff_id=None,
        )
        campaigns.send_now(campaign, staff_id=None, language="en")

    browser = chromium.new_context(locale="en-GB")  # the browser says English throughout
    page = browser.new_page()
    for n, language in enumerate(LANGUAGES):
        [mail] = smtp_server.to(f"p{n}@example.com")
        path = LINK.search(smtp_server.body(mail)).group(1)
        page.goto(live_server + path)
        with app.test_request_context(), force_locale(language):
            heading = gettext("You are unsubscribed")
        assert page.locator("h1").inner_text() == heading
        assert page.locator("html").get_attribute("lang") == language
        assert TITLES[language][0] in page.locator("main").inner_text()
        screenshot(page, f"unsubscribe-{language}")
        with app.test_request_context():
            assert not consent.latest_events(people[language].id)[purpose.id].granted
    browser.close()
