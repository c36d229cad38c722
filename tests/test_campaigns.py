"""Campaigns (issue 10): sent through a real SMTP server on loopback to the customers whose
current consent covers the purpose, each in their language, with a one-click unsubscribe that
records a withdrawal; sending is throttled, per-recipient, and survives a killed worker without
sending anyone a second message."""

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from flask_babel import force_locale, gettext

from portal import campaigns, consent, outbox, settings
from portal.customer_list import Filters
from portal.message_content import Text, dump
from portal.models import Campaign, ConsentEvent, ExportJob, OutgoingMessage, utcnow
from tests.factories import make_customer
from tests.job_worker import wait_for_job

CONTENT = dump(
    {
        "en": Text("News for {first_name}", "Hello {first_name}, spring prices at {shop_name}."),
        "pl": Text("Nowości dla {first_name}", "Dzień dobry {first_name}, wiosenne ceny."),
        "ru": Text("Новости для {first_name}", "Здравствуйте, {first_name}! Весенние цены."),
    }
)
LINK = re.compile(r"^(https?://\S+/unsubscribe/\S+)$", re.M)


@pytest.fixture
def purpose(app):
    return consent.create_purpose(
        "email_marketing",
        {
            "en": ("E-mail offers", "Send me offers by e-mail."),
            "pl": ("Oferty e-mailem", "Wysyłajcie mi oferty e-mailem."),
            "ru": ("Предложения по почте", "Присылайте мне предложения."),
        },
    )


def grant(customer, purpose, granted=True):
    consent.record(
        customer.id, purpose.id, granted=granted, wording_version=1, channel="paper_form"
    )


def mixed_customers(purpose):
    """Customers with every consent situation; returns (receivers, everyone)."""
    anna = make_customer("Anna", "Nowak", email="anna@example.com", preferred_language="pl")
    boris = make_customer("Boris", "Ivanov", email="boris@example.com", preferred_language="ru")
    carl = make_customer("Carl", "Smith", email="carl@example.com", preferred_language="en")
    # Chinese is not written in the campaign: he gets its first language, English.
    wei = make_customer("Wei", "Zhang", email="wei@example.com", preferred_language="zh")
    withdrawn = make_customer("Dora", "Kowal", email="dora@example.com")
    never = make_customer("Emil", "Lis", email="emil@example.com")
    no_email = make_customer("Fiona", "Bell", phone="+48601000001")
    for person in (anna, boris, carl, wei, withdrawn, no_email):
        grant(person, purpose)
    grant(withdrawn, purpose, granted=False)  # the latest event counts
    return [anna, boris, carl, wei], [anna, boris, carl, wei, withdrawn, never, no_email]


def new_campaign(purpose, name="Spring", filters=None) -> Campaign:
    return campaigns.save_draft(
        None,
        name=name,
        purpose_id=purpose.id,
        filters=filters or Filters(),
        segment_id=None,
        content=CONTENT,
        staff_id=None,
    )


def unsubscribe_link(smtp_server, message) -> str:
    return LINK.search(smtp_server.body(message)).group(1)


def test_a_campaign_reaches_exactly_the_consenting_customers_each_in_their_language(
    app, smtp_server, purpose
):
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    campaign = new_campaign(purpose)

    with app.test_request_context():
        counts = campaigns.audience(campaign)
        assert (counts.included, counts.withdrawn, counts.never_asked, counts.no_contact) == (
            4,
            1,
            1,
            1,
        )
        campaigns.send_now(campaign, staff_id=None, language="en")

    delivered = sorted(r[0] for _sender, r in smtp_server.envelopes)
    assert delivered == sorted(f"{p.given_name.lower()}@example.com" for p in receivers)
    subjects = {
        smtp_server.to(f"{p.given_name.lower()}@example.com")[0]["Subject"] for p in receivers
    }
    assert subjects == {"Nowości dla Anna", "Новости для Boris", "News for Carl", "News for Wei"}
    [anna_mail] = smtp_server.to("anna@example.com")
    assert anna_mail["Content-Language"] == "pl"
    body = smtp_server.body(anna_mail)
    assert "Dzień dobry Anna" in body
    with app.test_request_context(), force_locale("pl"):
        assert gettext("To stop these messages, open this link (one click, no sign-in):") in body
    # RFC 8058: the header names the same link, and the one-click POST is announced.
    link = unsubscribe_link(smtp_server, anna_mail)
    assert anna_mail["List-Unsubscribe"].strip() == f"<{link}>"
    assert anna_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Placeholders are filled per recipient.
    [carl_mail] = smtp_server.to("carl@example.com")
    assert "Hello Carl, spring prices at Kartoteka demo shop." in smtp_server.body(carl_mail)

    figures = campaigns.figures(Campaign.get_by_id(campaign.id))
    assert (figures.recipients, figures.sent, figures.failed, figures.skipped) == (4, 4, 0, 0)
    assert Campaign.get_by_id(campaign.id).status == "sent"
    assert campaigns.left_out(Campaign.get_by_id(campaign.id)) == {
        "withdrawn": 1,
        "never_asked": 1,
        "no_contact": 1,
    }


def test_the_unsubscribe_link_withdraws_at_once_and_the_next_campaign_leaves_them_out(
    app, client, smtp_server, purpose
):
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    [boris_mail] = smtp_server.to("boris@example.com")
    link = urlparse(unsubscribe_link(smtp_server, boris_mail))

    page = client.get(link.path)  # no sign-in: the signed link is enough
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="ru">' in html  # Boris prefers Russian, whatever the browser says
    with app.test_request_context(), force_locale("ru"):
        assert gettext("You are unsubscribed") in html
    assert "Предложения по почте" in html

    [event] = ConsentEvent.select().where(
        (ConsentEvent.customer == receivers[1].id) & (ConsentEvent.granted == False)  # noqa: E712
    )
    assert event.channel == "unsubscribe_link"
    assert event.recorded_by_type == "customer"
    # Following it again records nothing more.
    assert client.get(link.path).status_code == 200
    withdrawals = ConsentEvent.select().where(
        (ConsentEvent.customer == receivers[1].id) & (ConsentEvent.channel == "unsubscribe_link")
    )
    assert withdrawals.count() == 1

    smtp_server.messages.clear()
    smtp_server.envelopes.clear()
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose, "Summer"), staff_id=None, language="en")
    delivered = sorted(r[0] for _sender, r in smtp_server.envelopes)
    assert delivered == ["anna@example.com", "carl@example.com", "wei@example.com"]
    first = Campaign.get(Campaign.name == "Spring")
    assert campaigns.figures(first).unsubscribed == 1


def test_a_mail_clients_one_click_post_unsubscribes_without_a_csrf_token(
    app, client, smtp_server, purpose
):
    """RFC 8058: the client POSTs List-Unsubscribe=One-Click to the header's address."""
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    [carl_mail] = smtp_server.to("carl@example.com")
    header_link = urlparse(carl_mail["List-Unsubscribe"].strip().strip("<>"))

    response = client.post(header_link.path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with app.test_request_context():
        assert not consent.latest_events(receivers[2].id)[purpose.id].granted


def test_a_tampered_unsubscribe_link_changes_nothing(app, client, smtp_server, purpose):
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    link = urlparse(unsubscribe_link(smtp_server, smtp_server.to("anna@example.com")[0]))
    events = ConsentEvent.select().count()

    assert client.get(link.path[:-3] + "xyz").status_code == 404
    assert client.post(link.path + "x").status_code == 404
    assert ConsentEvent.select().count() == events


def test_someone_who_withdraws_while_a_campaign_is_sending_is_skipped(app, smtp_server, purpose):
    """Consent is read again just before each message."""
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    carl = receivers[2]
    with app.test_request_context():
        campaigns.fix_recipients(new_campaign(purpose))
        pending = outbox.pending_ids(OutgoingMessage.select())
        # Carl withdraws while the first message's pause runs.
        outbox.deliver(pending, sleep=lambda _seconds: grant(carl, purpose, granted=False))
    assert smtp_server.to("carl@example.com") == []
    message = OutgoingMessage.get(OutgoingMessage.customer == carl.id)
    assert (message.status, message.reason) == ("skipped", "consent withdrawn")
    assert len(smtp_server.messages) == 3


def test_a_refused_recipient_is_recorded_as_failed_with_the_reason(app, smtp_server, purpose):
    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    smtp_server.refuse("wei@example.com")
    campaign = new_campaign(purpose)
    with app.test_request_context():
        campaigns.send_now(campaign, staff_id=None, language="en")
    figures = campaigns.figures(campaign)
    assert (figures.sent, figures.failed) == (3, 1)
    [failed] = campaigns.failures(campaign)
    assert failed.customer_id == receivers[3].id
    assert failed.reason.startswith("550")
    assert "wei@example.com" not in failed.reason  # the address is not copied into the record


def test_an_unreachable_mail_server_stops_sending_and_resume_carries_on(app, smtp_server, purpose):
    receivers, _everyone = mixed_customers(purpose)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_TIMEOUT=2)  # nothing listens
    campaign = new_campaign(purpose)
    with app.test_request_context():
        campaign = campaigns.send_now(campaign, staff_id=None, language="en")
    job = ExportJob.get_by_id(campaign.job_id)
    assert job.status == "failed" and "MailServerUnavailable" in job.error
    assert Campaign.get_by_id(campaign.id).status == "sending"
    assert campaigns.figures(campaign).queued == 4  # nothing lost, nothing marked sent

    smtp_server.configure(app)
    with app.test_request_context():
        campaigns.resume(Campaign.get_by_id(campaign.id), staff_id=None, language="en")
    assert len(smtp_server.messages) == 4
    assert Campaign.get_by_id(campaign.id).status == "sent"


def test_sending_is_throttled_to_the_configured_rate(app, smtp_server, purpose):
    smtp_server.configure(app)
    mixed_customers(purpose)
    settings.put("messages_per_minute", 120)  # one every half second
    pauses = []
    with app.test_request_context():
        campaigns.fix_recipients(new_campaign(purpose))
        outbox.deliver(outbox.pending_ids(OutgoingMessage.select()), sleep=pauses.append)
    assert len(smtp_server.messages) == 4
    assert len(pauses) == 3  # between messages, not before the first
    assert all(0.3 < pause <= 0.5 for pause in pauses)


# --- A killed worker ---------------------------------------------------------------------


def start_with_worker(app, job_worker, smtp_server, purpose, customers: int):
    """A campaign to `customers` consenting customers, queued for a real worker process."""
    smtp_server.configure(app)
    job_worker.env.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=str(smtp_server.port))
    for n in range(customers):
        person = make_customer(f"Person{n:02d}", "Test", email=f"p{n:02d}@example.com")
        grant(person, purpose)
    settings.put("messages_per_minute", 240)  # one every quarter second: a kill lands midway
    with app.test_request_context():
        campaign = campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    return campaign


def wait_until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def assert_each_received_exactly_one(smtp_server, customers: int):
    delivered = sorted(r[0] for _sender, r in smtp_server.envelopes)
    assert delivered == [f"p{n:02d}@example.com" for n in range(customers)]


def test_a_worker_killed_between_two_messages_sends_each_customer_exactly_one(
    app, smtp_server, job_worker, purpose
):
    campaign = start_with_worker(app, job_worker, smtp_server, purpose, customers=12)
    job_worker.start()
    sent = OutgoingMessage.select().where(OutgoingMessage.status == "sent")
    wait_until(lambda: sent.count() >= 4)
    job_worker.process.kill()  # SIGKILL: no goodbye
    job_worker.process.wait()
    assert sent.count() < 12, "the kill came too late to test anything"

    job_worker.start()
    job = wait_for_job(Campaign.get_by_id(campaign.id).job_id)
    assert job.status == "done", job.error
    assert_each_received_exactly_one(smtp_server, 12)
    assert Campaign.get_by_id(campaign.id).status == "sent"
    assert campaigns.figures(campaign).sent == 12


def test_a_worker_killed_in_the_middle_of_a_message_sends_it_once_after_the_restart(
    app, smtp_server, job_worker, purpose
):
    """The kill lands while the server holds the 5th message, before it said "250": that
    message was not delivered, and the restarted worker sends it (and the rest) once."""
    campaign = start_with_worker(app, job_worker, smtp_server, purpose, customers=8)
    smtp_server.before_accepting(5, job_worker.process_killer())
    job_worker.start()
    wait_until(lambda: job_worker.process.poll() is not None)
    assert len(smtp_server.messages) == 4
    [cut_off] = OutgoingMessage.select().where(OutgoingMessage.status == "sending")

    job_worker.start()
    job = wait_for_job(Campaign.get_by_id(campaign.id).job_id)
    assert job.status == "done", job.error
    assert_each_received_exactly_one(smtp_server, 8)
    assert OutgoingMessage.get_by_id(cut_off.id).status == "sent"


# --- Sending later -----------------------------------------------------------------------


def test_a_scheduled_campaign_is_sent_by_the_workers_clock_once_its_time_has_come(
    app, smtp_server, purpose
):
    from portal import scheduled

    smtp_server.configure(app)
    mixed_customers(purpose)
    with app.app_context():
        campaign = campaigns.schedule(
            new_campaign(purpose), utcnow() + timedelta(hours=1), staff_id=None
        )
        scheduled.send_due_campaigns()  # the worker's every-minute task, before the time
        assert Campaign.get_by_id(campaign.id).status == "scheduled"
        assert smtp_server.messages == []

        Campaign.update(send_at=utcnow() - timedelta(minutes=1)).where(
            Campaign.id == campaign.id
        ).execute()
        scheduled.send_due_campaigns()
        scheduled.send_due_campaigns()  # a second tick finds nothing more to start
    assert len(smtp_server.messages) == 4
    assert Campaign.get_by_id(campaign.id).status == "sent"


def test_flask_campaigns_send_due_starts_what_is_due(app, smtp_server, purpose):
    smtp_server.configure(app)
    mixed_customers(purpose)
    campaign = campaigns.schedule(
        new_campaign(purpose), utcnow() - timedelta(seconds=1), staff_id=None
    )
    result = app.test_cli_runner().invoke(args=["campaigns", "send-due"])
    assert result.exit_code == 0, result.output
    assert "Started 1 scheduled campaign" in result.output
    assert len(smtp_server.messages) == 4
    assert Campaign.get_by_id(campaign.id).status == "sent"


def test_an_unsubscribe_link_sent_to_a_record_merged_since_withdraws_on_the_surviving_record(
    app, client, smtp_server, purpose, owner
):
    from portal import merge

    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    survivor = make_customer("Anna", "Nowak-Lis", email="anna.lis@example.com")
    grant(survivor, purpose)
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    anna = receivers[0]
    link = urlparse(unsubscribe_link(smtp_server, smtp_server.to("anna@example.com")[0]))
    # Both records got the campaign, so Anna's message stays on her (merged) record, while
    # her consent history moves to the survivor.
    merge.merge(survivor, anna, set(), owner.id)
    assert OutgoingMessage.get(OutgoingMessage.customer == anna.id)
    with app.test_request_context():
        assert consent.latest_events(survivor.id)[purpose.id].granted

    assert client.get(link.path).status_code == 200
    with app.test_request_context():
        assert not consent.latest_events(survivor.id)[purpose.id].granted


def test_an_old_link_of_an_erased_customer_records_nothing(
    app, client, smtp_server, purpose, owner
):
    from portal import erasure

    smtp_server.configure(app)
    receivers, _everyone = mixed_customers(purpose)
    with app.test_request_context():
        campaigns.send_now(new_campaign(purpose), staff_id=None, language="en")
    link = urlparse(unsubscribe_link(smtp_server, smtp_server.to("carl@example.com")[0]))
    with app.test_request_context():
        request = erasure.request_erasure(receivers[2].id, staff_id=owner.id)
        erasure.execute(request, owner.id)
    events = ConsentEvent.select().count()

    response = client.get(link.path)
    assert response.status_code == 200  # the page says they get nothing more: true
    assert ConsentEvent.select().count() == events
