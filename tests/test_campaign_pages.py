"""The owner's campaign pages (issue 10): composing with checked placeholders, who receives it
and who is left out (and why) before anything is sent, previews for real recipients in their
language, sending now or at a set time in the business's time zone, cancelling, resuming after
the mail server was down, the results, and the sending speed. Staff are refused."""

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal import campaigns, consent, create_app, settings
from portal.customer_list import Filters
from portal.extensions import db
from portal.message_content import Text, dump
from portal.models import AuditEvent, Campaign, ExportJob, OutgoingMessage, Segment, utcnow
from tests.conftest import base_config, csrf_token_from, sign_in
from tests.factories import make_customer

ZONE = "Europe/Warsaw"
HTMX = {"HX-Request": "true"}
GOOD = {
    "name": "Spring offers",
    "customers": "all",
    "en-subject": "News for {first_name}",
    "en-body": "Hello {first_name}, spring prices at {shop_name}.",
    "pl-subject": "Nowości dla {first_name}",
    "pl-body": "Dzień dobry {first_name}, wiosenne ceny.",
}


@pytest.fixture
def app(database_url, tmp_path):
    """A business in Warsaw: times typed into the pages are Warsaw times, stored as UTC."""
    config = {**base_config(database_url), "BABEL_DEFAULT_TIMEZONE": ZONE}
    yield create_app(config, instance_path=str(tmp_path / "instance"))
    db.close_all()


@pytest.fixture
def purpose(app):
    return consent.create_purpose(
        "email_marketing",
        {"en": ("E-mail offers", "Send me offers."), "pl": ("Oferty e-mailem", "Wysyłajcie.")},
    )


def grant(customer, purpose, granted=True):
    consent.record(
        customer.id, purpose.id, granted=granted, wording_version=1, channel="paper_form"
    )


def mixed_customers(purpose):
    """Two who receive it (Anna prefers Polish, Carl English) and one left out for each
    reason; returns the two who receive it."""
    anna = make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")
    carl = make_customer("Carl", "Smith", email="carl@example.com", preferred_language="en")
    dora = make_customer("Dora", "Kowal", email="dora@example.com")  # withdrew
    make_customer("Emil", "Lis", email="emil@example.com")  # never asked
    fiona = make_customer("Fiona", "Bell", phone="+48601000001")  # no e-mail address
    for person in (anna, carl, dora, fiona):
        grant(person, purpose)
    grant(dora, purpose, granted=False)
    return anna, carl


def post_form(client, path, data, token_page=None):
    token = csrf_token_from(client, token_page or path)
    return client.post(path, data={"csrf_token": token, **data})


def create_campaign(client, purpose, **changes) -> Campaign:
    response = post_form(
        client, "/owner/campaigns/new", {**GOOD, "purpose": str(purpose.id), **changes}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return Campaign.select().order_by(Campaign.id.desc()).get()


def page_of(client, campaign) -> str:
    response = client.get(f"/owner/campaigns/{campaign.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    """The message shown beside a field (the form macro's <p class="error" id="…-error">)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert match, f"no message beside {field_id}"
    return match.group(1)


def figure(html: str, attribute: str, name: str) -> int:
    match = re.search(rf'data-{attribute}="{name}">([\d,\s\u00a0]+)<', html)
    assert match, f"no {attribute} {name} on the page"
    return int(re.sub(r"\D", "", match.group(1)))


def warsaw_input(moment_utc: datetime) -> str:
    """What a datetime-local box in Warsaw shows for a naive-UTC moment."""
    local = moment_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(ZONE))
    return local.strftime("%Y-%m-%dT%H:%M")


# --- Composing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        (
            {"en-subject": "News for {frist_name}"},
            "en-subject",
            "Unknown placeholder: {frist_name}",
        ),
        ({"pl-body": ""}, "pl-body", "Give both the subject and the message, or neither."),
        (
            {"en-subject": "", "en-body": "", "pl-subject": "", "pl-body": ""},
            "en-subject",
            "Write the subject and message in at least one language.",
        ),
        ({"purpose": ""}, "purpose", "Choose the consent purpose this message is sent for."),
        ({"name": "  "}, "name", "Give the campaign a name"),
    ],
    ids=["unknown-placeholder", "subject-without-body", "no-language", "no-purpose", "no-name"],
)
def test_a_bad_campaign_shows_the_message_beside_the_field_and_creates_nothing(
    owner_client, purpose, changes, field_id, message
):
    data = {**GOOD, "purpose": str(purpose.id), **changes}
    response = post_form(owner_client, "/owner/campaigns/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_error(html, field_id)
    assert Campaign.select().count() == 0
    if data["en-body"]:  # what was typed comes back, so nothing has to be typed again
        assert data["en-body"] in html


def test_a_saved_draft_can_be_changed_and_deleted(owner_client, purpose):
    campaign = create_campaign(owner_client, purpose)
    assert (campaign.name, campaign.status, campaign.created_by_id) == (
        "Spring offers",
        "draft",
        AuditEvent.select().where(AuditEvent.action == "campaign_created").get().actor_id,
    )
    form = owner_client.get(f"/owner/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert "Dzień dobry {first_name}, wiosenne ceny." in form  # the saved text to edit

    response = post_form(
        owner_client,
        f"/owner/campaigns/{campaign.id}/edit",
        {
            **GOOD,
            "purpose": str(purpose.id),
            "name": "Summer offers",
            "pl-subject": "",
            "pl-body": "",
        },
    )
    assert response.status_code == 303
    changed = Campaign.get_by_id(campaign.id)
    assert changed.name == "Summer offers"
    assert set(json.loads(changed.content)) == {"en"}

    response = post_form(
        owner_client,
        f"/owner/campaigns/{campaign.id}/delete",
        {},
        f"/owner/campaigns/{campaign.id}",
    )
    assert response.headers["Location"] == "/owner/campaigns"
    assert Campaign.get_or_none(Campaign.id == campaign.id) is None


def test_a_campaign_can_start_from_the_customer_lists_filters(owner_client, purpose):
    vip = make_customer("Vera", "Ip", email="vera@example.com", tags=("vip",))
    other = make_customer("Otto", "Rest", email="otto@example.com")
    for person in (vip, other):
        grant(person, purpose)
    link = owner_client.get("/owner/campaigns/list-link", query_string={"tag": "vip"}, headers=HTMX)
    href = re.search(r'href="([^"]+)"', link.get_data(as_text=True)).group(1)
    form = owner_client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'<option selected value="list">|<option value="list" selected>', form)

    filters = Filters(tag="vip").to_json()
    campaign = create_campaign(owner_client, purpose, customers="list", filters=filters)
    assert Filters.from_json(campaign.filters).tag == "vip"
    assert figure(page_of(owner_client, campaign), "figure", "included") == 1


def test_a_campaign_to_a_saved_segment_reaches_only_its_customers(owner_client, purpose):
    vip = make_customer("Vera", "Ip", email="vera@example.com", tags=("vip",))
    other = make_customer("Otto", "Rest", email="otto@example.com")
    for person in (vip, other):
        grant(person, purpose)
    segment = Segment.create(name="VIPs", filters=Filters(tag="vip").to_json())
    form = owner_client.get(f"/owner/campaigns/new?segment={segment.id}").get_data(as_text=True)
    assert f'<option selected value="{segment.id}">VIPs</option>' in form

    campaign = create_campaign(owner_client, purpose, customers=str(segment.id))
    assert campaign.segment_id == segment.id
    html = page_of(owner_client, campaign)
    assert "Segment “VIPs”" in html
    assert figure(html, "figure", "included") == 1
    assert "Vera Ip" in html and "Otto Rest" not in html


def test_filters_the_list_could_not_set_are_not_found(owner_client, purpose):
    response = owner_client.get("/owner/campaigns/new", query_string={"filters": '{"sort": 5}'})
    assert response.status_code == 404


# --- Before sending: who receives it, and previews --------------------------------------


def test_the_page_counts_who_receives_it_and_who_is_left_out_and_why(owner_client, purpose):
    mixed_customers(purpose)
    html = page_of(owner_client, create_campaign(owner_client, purpose))
    assert figure(html, "figure", "included") == 2
    assert figure(html, "reason", "withdrawn") == 1
    assert figure(html, "reason", "never_asked") == 1
    assert figure(html, "reason", "no_contact") == 1
    assert "Send now to 2 customers" in html
    assert OutgoingMessage.select().count() == 0  # nothing sent by looking


def test_previews_show_real_recipients_each_in_their_language(owner_client, purpose):
    mixed_customers(purpose)
    html = page_of(owner_client, create_campaign(owner_client, purpose))
    polish = html[html.index('id="preview-pl"') :]
    english = html[html.index('id="preview-en"') : html.index('id="preview-pl"')]
    assert "Anna Nowak" in polish and "Nowości dla Anna" in polish
    assert "Dzień dobry Anna, wiosenne ceny." in polish
    assert "Carl Smith" in english and "News for Carl" in english
    assert "Hello Carl, spring prices at Kartoteka demo shop." in english
    assert "Dora" not in html and "Emil" not in html  # left-out customers are not previewed


# --- Sending -----------------------------------------------------------------------------


def test_send_now_sends_to_exactly_the_customers_shown_and_reports(
    app, owner_client, smtp_server, purpose
):
    smtp_server.configure(app)
    anna, carl = mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"

    response = post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)
    assert response.status_code == 303
    delivered = sorted(recipients[0] for _sender, recipients in smtp_server.envelopes)
    assert delivered == ["anna@example.com", "carl@example.com"]
    [anna_mail] = smtp_server.to("anna@example.com")
    assert anna_mail["Subject"] == "Nowości dla Anna"

    html = page_of(owner_client, campaign)
    assert Campaign.get_by_id(campaign.id).status == "sent"
    assert (figure(html, "figure", "recipients"), figure(html, "figure", "sent")) == (2, 2)
    assert figure(html, "figure", "failed") == 0
    # The left-out counts recorded when sending started.
    assert figure(html, "reason", "withdrawn") == 1
    assert figure(html, "reason", "never_asked") == 1
    assert figure(html, "reason", "no_contact") == 1
    assert 'data-hx-trigger="every 2s"' not in html  # finished: nothing to poll

    again = post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)
    assert again.status_code == 303
    assert len(smtp_server.messages) == 2  # sent once


def test_send_now_sends_nothing_when_the_number_of_recipients_changed(
    app, owner_client, smtp_server, purpose
):
    smtp_server.configure(app)
    anna, _carl = mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    page_of(owner_client, campaign)  # the button says 2
    grant(anna, purpose, granted=False)  # meanwhile Anna withdraws

    response = post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)
    assert response.status_code == 303
    assert smtp_server.messages == []
    assert Campaign.get_by_id(campaign.id).status == "draft"
    html = owner_client.get(path).get_data(as_text=True)
    assert "The number of recipients has changed to 1" in html
    assert "Send now to 1 customer" in html


def test_a_failed_message_is_listed_with_the_servers_answer(
    app, owner_client, smtp_server, purpose
):
    smtp_server.configure(app)
    smtp_server.refuse("carl@example.com")
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)
    html = page_of(owner_client, campaign)
    assert (figure(html, "figure", "sent"), figure(html, "figure", "failed")) == (1, 1)
    failures = html[html.index("campaign-failures") :]
    assert "Carl Smith" in failures and "Recipient address rejected" in failures


def test_an_unreachable_mail_server_is_explained_and_sending_can_be_resumed(
    app, owner_client, smtp_server, purpose
):
    mixed_customers(purpose)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_TIMEOUT=2)  # nothing listens
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)

    html = page_of(owner_client, campaign)
    assert "the mail server could not be reached" in html
    assert "Resume sending" in html
    assert 'data-hx-trigger="every 2s"' not in html  # stopped: nothing to wait for
    assert smtp_server.messages == []

    smtp_server.configure(app)
    response = post_form(owner_client, f"{path}/resume", {}, path)
    assert response.status_code == 303
    assert len(smtp_server.messages) == 2
    assert Campaign.get_by_id(campaign.id).status == "sent"


def test_while_sending_the_progress_partial_polls_and_cancel_stops_the_rest(
    app, owner_client, purpose
):
    """A campaign whose worker has not finished: its progress is polled; cancelling it marks
    the messages not sent yet as skipped."""
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    with app.test_request_context():
        Campaign.update(status="sending").where(Campaign.id == campaign.id).execute()
        campaigns.fix_recipients(Campaign.get_by_id(campaign.id))
    first = OutgoingMessage.select().order_by(OutgoingMessage.id).first()
    OutgoingMessage.update(status="sent", sent_at=utcnow()).where(
        OutgoingMessage.id == first.id
    ).execute()
    job = ExportJob.create(kind="campaign_send", status="running", language="en")
    Campaign.update(job_id=job.id).where(Campaign.id == campaign.id).execute()
    path = f"/owner/campaigns/{campaign.id}"

    partial = owner_client.get(path, headers=HTMX)
    html = partial.get_data(as_text=True)
    assert "HX-Request" in partial.headers["Vary"]
    assert html.lstrip().startswith('<div id="campaign-progress"')
    assert 'data-hx-trigger="every 2s"' in html
    assert "1 of 2 sent" in html and 'value="50"' in html

    response = post_form(owner_client, f"{path}/cancel", {}, path)
    assert response.status_code == 303
    assert Campaign.get_by_id(campaign.id).status == "cancelled"
    statuses = sorted(m.status for m in OutgoingMessage.select())
    assert statuses == ["sent", "skipped"]
    after = owner_client.get(path, headers=HTMX).get_data(as_text=True)
    assert 'data-hx-trigger="every 2s"' not in after  # finished: polling stops
    assert figure(after, "figure", "sent") == 1 and figure(after, "figure", "skipped") == 1


# --- Sending at a set time ---------------------------------------------------------------


def test_a_time_in_the_past_is_refused_beside_the_field(owner_client, purpose):
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    past = warsaw_input(utcnow() - timedelta(minutes=5))
    response = post_form(owner_client, f"{path}/schedule", {"send_at": past}, path)
    assert response.status_code == 422
    assert "This time has passed" in field_error(response.get_data(as_text=True), "send_at")
    assert Campaign.get_by_id(campaign.id).status == "draft"


def test_a_scheduled_campaign_is_sent_when_its_time_comes(app, owner_client, smtp_server, purpose):
    smtp_server.configure(app)
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    when = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)

    response = post_form(owner_client, f"{path}/schedule", {"send_at": warsaw_input(when)}, path)
    assert response.status_code == 303
    scheduled = Campaign.get_by_id(campaign.id)
    # Typed in Warsaw time, stored as UTC.
    assert (scheduled.status, scheduled.send_at) == ("scheduled", when)
    assert f'value="{warsaw_input(when)}"' in page_of(owner_client, campaign)

    with app.test_request_context():
        assert campaigns.send_due(now=when - timedelta(minutes=1)) == []
        assert smtp_server.messages == []
        assert campaigns.send_due(now=when + timedelta(minutes=1)) == [campaign.id]
    assert len(smtp_server.messages) == 2
    assert Campaign.get_by_id(campaign.id).status == "sent"


def test_a_cancelled_scheduled_campaign_is_not_sent(app, owner_client, smtp_server, purpose):
    smtp_server.configure(app)
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    when = utcnow() + timedelta(hours=3)
    post_form(owner_client, f"{path}/schedule", {"send_at": warsaw_input(when)}, path)

    response = post_form(owner_client, f"{path}/cancel", {}, path)
    assert response.status_code == 303
    assert Campaign.get_by_id(campaign.id).status == "cancelled"
    with app.test_request_context():
        assert campaigns.send_due(now=when + timedelta(hours=1)) == []
    assert smtp_server.messages == []
    assert "before anything was sent" in page_of(owner_client, campaign)


def test_a_sent_campaign_cannot_be_changed_and_the_page_says_so(
    app, owner_client, smtp_server, purpose
):
    smtp_server.configure(app)
    mixed_customers(purpose)
    campaign = create_campaign(owner_client, purpose)
    path = f"/owner/campaigns/{campaign.id}"
    post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)

    response = post_form(
        owner_client, f"{path}/edit", {**GOOD, "purpose": str(purpose.id), "name": "Changed"}, path
    )
    assert response.status_code == 303
    assert Campaign.get_by_id(campaign.id).name == "Spring offers"
    deleted = post_form(owner_client, f"{path}/delete", {}, path)
    assert deleted.headers["Location"] == path
    assert Campaign.get_or_none(Campaign.id == campaign.id) is not None
    assert "stays on record" in page_of(owner_client, campaign)


# --- The list and the sending speed ------------------------------------------------------


def test_the_list_shows_each_campaign_with_its_figures(app, owner_client, smtp_server, purpose):
    smtp_server.configure(app)
    mixed_customers(purpose)
    sent = create_campaign(owner_client, purpose, name="Sent one")
    path = f"/owner/campaigns/{sent.id}"
    post_form(owner_client, f"{path}/send", {"recipients": "2"}, path)
    create_campaign(owner_client, purpose, name="Still a draft")

    html = owner_client.get("/owner/campaigns").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    sent_row = next(row for row in rows if "Sent one" in row)
    draft_row = next(row for row in rows if "Still a draft" in row)
    assert "E-mail offers" in sent_row and ">Sent<" in sent_row
    assert re.findall(r'<td class="num">(\S+)</td>', sent_row) == ["2", "2", "0", "0"]
    assert ">Draft<" in draft_row


def test_the_sending_speed_is_checked_saved_and_audited(owner_client):
    refused = post_form(
        owner_client, "/owner/campaigns/speed", {"per_minute": "0"}, "/owner/campaigns"
    )
    assert refused.status_code == 422
    assert "Enter a number from 1 to 6000" in field_error(
        refused.get_data(as_text=True), "per_minute"
    )
    assert settings.get("messages_per_minute") is None

    saved = post_form(
        owner_client, "/owner/campaigns/speed", {"per_minute": "120"}, "/owner/campaigns"
    )
    assert saved.status_code == 303
    assert settings.get("messages_per_minute") == 120
    event = AuditEvent.select().where(AuditEvent.action == "settings_changed").get()
    assert "messages_per_minute" in event.details
    assert 'value="120"' in owner_client.get("/owner/campaigns").get_data(as_text=True)


# --- Who may -----------------------------------------------------------------------------


def test_staff_cannot_open_or_change_campaigns(app, client, owner, staff_member, purpose):
    with app.test_request_context():
        campaign = campaigns.save_draft(
            None,
            name="Owners only",
            purpose_id=purpose.id,
            filters=Filters(),
            segment_id=None,
            content=dump({"en": Text("Hi", "Hello")}),
            staff_id=owner.id,
        )
    assert sign_in(client, staff_member).status_code == 303
    token = csrf_token_from(client, "/customers/new")
    base = f"/owner/campaigns/{campaign.id}"
    for path in ("/owner/campaigns", "/owner/campaigns/new", base, f"{base}/edit"):
        assert client.get(path).status_code == 403, path
    for path in (f"{base}/send", f"{base}/delete", f"{base}/cancel", "/owner/campaigns/speed"):
        assert client.post(path, data={"csrf_token": token, "recipients": "0"}).status_code == 403
    assert Campaign.get_by_id(campaign.id).status == "draft"
    assert "owner/campaigns" not in client.get("/customers").get_data(as_text=True)
