"""Automations (issue 10): rules that e-mail customers when an occasion comes, through a real
SMTP server on loopback, never twice for the same occasion, each customer in their language,
only with consent for a marketing rule; the owner writes, pauses and runs them from pages."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal import automations, consent, create_app, history, settings
from portal.customer_list import Filters
from portal.extensions import db
from portal.message_content import Text, dump
from portal.models import Automation, OutgoingMessage, Purchase, Segment
from tests.conftest import base_config, csrf_token_from
from tests.factories import make_customer

ZONE = "Europe/Warsaw"  # two hours ahead of UTC in June: local dates differ from UTC ones
# 12:00 in Warsaw on 15 June 2026.
NOW = datetime(2026, 6, 15, 10, 0)
DAY = timedelta(days=1)
CONTENT = dump(
    {
        "en": Text("Happy birthday, {first_name}!", "All the best from {shop_name}."),
        "pl": Text("Wszystkiego najlepszego, {first_name}!", "Życzy {shop_name}."),
        "ru": Text("С днём рождения, {first_name}!", "Всего доброго от {shop_name}."),
    }
)


@pytest.fixture
def app(database_url, tmp_path):
    """A business in Warsaw, sending as fast as the outbox allows (no pause in tests)."""
    config = {**base_config(database_url), "BABEL_DEFAULT_TIMEZONE": ZONE}
    application = create_app(config, instance_path=str(tmp_path / "instance"))
    settings.put("messages_per_minute", 6000)
    yield application
    db.close_all()


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


def grant(customer, purpose, granted=True, at=None):
    consent.record(
        customer.id,
        purpose.id,
        granted=granted,
        wording_version=1,
        channel="paper_form",
        occurred_at=at,
    )


def person(given, purpose=None, *, language="en", email=True, **fields):
    """A customer with an address <given>@example.com, consenting to the purpose if given."""
    address = f"{given.lower()}@example.com" if email else None
    customer = make_customer(given, "Test", email=address, preferred_language=language, **fields)
    if purpose is not None:
        grant(customer, purpose)
    return customer


def rule(kind, purpose, *, created_at=datetime(2026, 1, 1), **fields) -> Automation:
    return Automation.create(
        name=f"{kind} rule",
        kind=kind,
        purpose=purpose.id if purpose else None,
        content=CONTENT,
        created_at=created_at,
        **fields,
    )


def run(app, now, **options):
    """A run as the scheduler does it: in a request context of its own."""
    with app.test_request_context("/"):
        return automations.run_due(now=now, **options)


def recipients(smtp_server) -> list[str]:
    return sorted(address for _sender, rcpts in smtp_server.envelopes for address in rcpts)


def local_today(app) -> date:
    """Today in the business's calendar (the pages' and the scheduler's today)."""
    with app.app_context():
        return automations.local_date(automations.utcnow())


def buy(customer, at, amount="25.00"):
    return history.record_purchase(
        customer, [("Green tea", Decimal("1"), Decimal(amount))], purchased_at=at
    )


# --- The done-when test -------------------------------------------------------------------


def test_birthday_run_twice_on_the_same_day_sends_one_message_per_customer_with_consent(
    app, smtp_server, purpose
):
    smtp_server.configure(app)
    born = {"birth_date": date(1990, 6, 15)}
    anna = person("Anna", purpose, language="pl", **born)
    boris = person("Boris", purpose, language="ru", birth_date=date(1975, 6, 15))
    grace = person("Grace", purpose, language="en", birth_date=date(2001, 6, 15))
    person("Nina", None, **born)  # never asked
    wanda = person("Wanda", purpose, **born)
    grant(wanda, purpose, granted=False)  # withdrew: the latest event counts
    person("Olek", purpose, birth_date=date(1990, 6, 16))  # tomorrow
    person("Ela", purpose, email=False, **born)  # no e-mail address
    person("Zoe", purpose)  # no birth date known
    person("Erin", purpose, erased_at=NOW - DAY, **born)
    birthday = rule("birthday", purpose)

    # 00:30 and 22:00 in Warsaw: both on 15 June there, though the first is 14 June in UTC.
    first = run(app, datetime(2026, 6, 14, 22, 30))
    second = run(app, datetime(2026, 6, 15, 20, 0))

    expected = ["anna@example.com", "boris@example.com", "grace@example.com"]
    assert recipients(smtp_server) == expected
    assert (first[0].queued, first[0].sent) == (3, 3)
    assert (second[0].queued, second[0].sent) == (0, 0)
    subjects = {m["To"]: (m["Subject"], m["Content-Language"]) for m in smtp_server.messages}
    assert subjects == {
        "anna@example.com": ("Wszystkiego najlepszego, Anna!", "pl"),
        "boris@example.com": ("С днём рождения, Boris!", "ru"),
        "grace@example.com": ("Happy birthday, Grace!", "en"),
    }
    assert {m.occasion for m in OutgoingMessage.select()} == {
        f"automation:{birthday.id}:birthday:2026"
    }
    assert {m.customer_id for m in OutgoingMessage.select()} == {anna.id, boris.id, grace.id}
    assert Automation.get_by_id(birthday.id).last_run_at is not None

    # A year later they are greeted again, once.
    run(app, NOW + 365 * DAY)
    run(app, NOW + 365 * DAY)
    assert len(smtp_server.messages) == 6


def test_birthdays_on_29_february_fall_on_28_february_in_other_years(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Leap", purpose, birth_date=date(2000, 2, 29))
    rule("birthday", purpose)
    run(app, datetime(2027, 2, 28, 10, 0))
    assert len(smtp_server.messages) == 1
    run(app, datetime(2027, 3, 1, 10, 0))
    run(app, datetime(2028, 2, 28, 10, 0))  # a leap year: not yet
    assert len(smtp_server.messages) == 1
    run(app, datetime(2028, 2, 29, 10, 0))
    assert len(smtp_server.messages) == 2


# --- Thank-you, win-back, event reminder --------------------------------------------------


def test_thank_you_goes_days_after_each_purchase_day_once(app, smtp_server, purpose):
    smtp_server.configure(app)
    anna, boris, carl, dora, emil = (
        person(name, purpose) for name in ("Anna", "Boris", "Carl", "Dora", "Emil")
    )
    quiet = person("Nina")  # bought, never consented
    # The rule is made on 14 June, three days after a purchase.
    thanks = rule("after_purchase", purpose, days=3, created_at=datetime(2026, 6, 14, 8, 0))
    first_of_day = buy(anna, datetime(2026, 6, 12, 7, 0))  # due today
    buy(anna, datetime(2026, 6, 12, 15, 0))  # the same day: no second thank-you
    buy(boris, datetime(2026, 6, 11, 22, 30))  # 00:30 on 12 June in Warsaw: due today
    buy(carl, datetime(2026, 6, 11, 9, 0))  # due 14 June, when the rule existed: caught up
    buy(dora, datetime(2026, 6, 10, 9, 0))  # due 13 June, before the rule: never
    buy(emil, datetime(2026, 6, 13, 9, 0))  # due tomorrow
    refunded = buy(emil, datetime(2026, 6, 12, 9, 0))
    Purchase.update(refunded=refunded.total).where(Purchase.id == refunded.id).execute()
    buy(quiet, datetime(2026, 6, 12, 9, 0))

    run(app, NOW)
    run(app, NOW + timedelta(hours=3))
    assert recipients(smtp_server) == ["anna@example.com", "boris@example.com", "carl@example.com"]
    anna_occasions = [
        m.occasion for m in OutgoingMessage.select().where(OutgoingMessage.customer == anna.id)
    ]
    assert anna_occasions == [f"automation:{thanks.id}:purchase:{first_of_day.id}"]

    run(app, NOW + DAY)
    run(app, NOW + DAY)
    assert recipients(smtp_server).count("emil@example.com") == 1
    assert len(smtp_server.messages) == 4


def test_win_back_goes_once_per_lapse(app, smtp_server, purpose):
    smtp_server.configure(app)
    away, recent, long_gone = (person(n, purpose) for n in ("Away", "Recent", "Gone"))
    rule("win_back", purpose, days=30, created_at=datetime(2026, 5, 1))
    buy(away, datetime(2026, 5, 16, 9, 0))  # 30 days before 15 June
    buy(recent, datetime(2026, 5, 20, 9, 0))  # 26 days
    buy(long_gone, datetime(2026, 5, 1, 9, 0))  # due 31 May: more than a week of runs missed

    run(app, NOW)
    run(app, NOW + timedelta(hours=5))
    assert recipients(smtp_server) == ["away@example.com"]

    # Back on 16 June; away again for 30 days: a new lapse, a new message.
    buy(away, datetime(2026, 6, 16, 9, 0))
    run(app, datetime(2026, 6, 19, 10, 0))  # Recent's 30 days
    run(app, datetime(2026, 7, 16, 10, 0))
    run(app, datetime(2026, 7, 16, 12, 0))
    assert recipients(smtp_server) == [
        "away@example.com",
        "away@example.com",
        "recent@example.com",
    ]


def test_event_reminder_goes_once_from_days_before_the_event(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Anna", purpose)
    late = person("Late")
    rule("event_reminder", purpose, days=5, event_date=date(2026, 6, 20))

    run(app, datetime(2026, 6, 14, 10, 0))  # six days before
    assert smtp_server.messages == []
    run(app, NOW)
    run(app, NOW + DAY)
    assert recipients(smtp_server) == ["anna@example.com"]
    grant(late, purpose, at=NOW + DAY)
    run(app, NOW + 2 * DAY)  # Late consented meanwhile: reminded once too
    run(app, datetime(2026, 6, 20, 20, 0))
    run(app, datetime(2026, 6, 21, 10, 0))  # after the event
    assert recipients(smtp_server) == ["anna@example.com", "late@example.com"]


def test_a_service_reminder_needs_no_consent_and_has_no_unsubscribe_link(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Anna", purpose)
    person("Nina")  # no consent for anything
    person("Quiet", preferred_channel="none")  # asked not to be contacted
    notice = rule("event_reminder", None, days=2, event_date=date(2026, 6, 16))
    offers = rule("event_reminder", purpose, days=2, event_date=date(2026, 6, 16))

    run(app, NOW)

    by_rule = {}
    for message in OutgoingMessage.select():
        by_rule.setdefault(message.automation_id, []).append(message.customer.given_name)
    assert sorted(by_rule[notice.id]) == ["Anna", "Nina"]
    assert by_rule[offers.id] == ["Anna"]
    service = [m for m in smtp_server.messages if "List-Unsubscribe" not in m]
    marketing = [m for m in smtp_server.messages if "List-Unsubscribe" in m]
    assert sorted(m["To"] for m in service) == ["anna@example.com", "nina@example.com"]
    assert [m["To"] for m in marketing] == ["anna@example.com"]
    assert marketing[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in smtp_server.body(marketing[0])
    assert all("/unsubscribe/" not in smtp_server.body(m) for m in service)


def test_filters_narrow_who_it_is_for(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Vip", purpose, birth_date=date(1990, 6, 15), tags=("vip",))
    person("Plain", purpose, birth_date=date(1990, 6, 15))
    rule("birthday", purpose, filters=Filters(tag="vip").to_json())
    run(app, NOW)
    assert recipients(smtp_server) == ["vip@example.com"]


# --- Pausing, running from cron, a mail server that is down -------------------------------


def test_a_paused_automation_sends_nothing(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Anna", purpose, birth_date=date(1990, 6, 15))
    birthday = rule("birthday", purpose, active=False)
    assert run(app, NOW) == []
    assert run(app, NOW, automation_id=birthday.id) == []
    assert smtp_server.messages == []
    assert OutgoingMessage.select().count() == 0
    assert Automation.get_by_id(birthday.id).last_run_at is None


def test_messages_left_queued_go_with_the_next_run_and_pausing_drops_them(
    app, smtp_server, purpose
):
    smtp_server.configure(app)
    anna = person("Anna", purpose, birth_date=date(1990, 6, 15))
    boris = person("Boris", purpose, birth_date=date(1990, 6, 15))
    birthday = rule("birthday", purpose)
    # A run stopped before sending anything (a deadline, or a killed worker).
    [stopped] = run(app, NOW, keep_going=lambda: False)
    assert (stopped.queued, stopped.sent, stopped.waiting) == (2, 0, 2)
    assert smtp_server.messages == []
    run(app, NOW + timedelta(hours=1))
    assert recipients(smtp_server) == ["anna@example.com", "boris@example.com"]

    carl = person("Carl", purpose, birth_date=date(1990, 6, 16))
    run(app, NOW + DAY, keep_going=lambda: False)
    automations.set_active(Automation.get_by_id(birthday.id), False, staff_id=None)
    [carls] = OutgoingMessage.select().where(OutgoingMessage.customer == carl.id)
    assert (carls.status, carls.reason) == ("skipped", "automation paused")
    automations.set_active(Automation.get_by_id(birthday.id), True, staff_id=None)
    run(app, NOW + DAY)
    assert len(smtp_server.messages) == 2  # the occasion was spent when it was paused
    assert {anna.id, boris.id} == {
        m.customer_id for m in OutgoingMessage.select().where(OutgoingMessage.status == "sent")
    }


def test_the_mail_server_being_down_keeps_messages_for_the_next_run(app, smtp_server, purpose):
    person("Anna", purpose, birth_date=date(1990, 6, 15))
    rule("birthday", purpose)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)  # nothing listens
    [down] = run(app, NOW)
    assert down.mail_error and down.waiting == 1 and down.sent == 0
    smtp_server.configure(app)
    [up] = run(app, NOW + timedelta(hours=1))
    assert (up.queued, up.sent, up.waiting) == (0, 1, 0)
    assert recipients(smtp_server) == ["anna@example.com"]


def test_a_second_run_while_one_is_sending_is_refused(app, purpose):
    with app.test_request_context("/"):
        automations._take_lock()
        with pytest.raises(automations.AutomationsBusy):
            automations.run_due(now=NOW)
        automations._release_lock()
        assert automations.run_due(now=NOW) == []


def test_flask_automations_run_sends_what_is_due_and_says_so(app, smtp_server, purpose):
    smtp_server.configure(app)
    person("Anna", purpose)
    reminder = rule("event_reminder", purpose, days=1, event_date=local_today(app))
    Automation.update(name="Tasting evening").where(Automation.id == reminder.id).execute()

    result = app.test_cli_runner().invoke(args=["automations", "run"])

    assert result.exit_code == 0, result.output
    assert f"Tasting evening (#{reminder.id}): 1 due, 1 sent" in result.output
    assert "1 message(s) sent" in result.output
    [message] = smtp_server.messages
    assert message["To"] == "anna@example.com"
    assert "http://localhost/unsubscribe/" in smtp_server.body(message)
    again = app.test_cli_runner().invoke(args=["automations", "run"])
    assert "0 message(s) sent" in again.output
    assert len(smtp_server.messages) == 1


# --- The owner's pages --------------------------------------------------------------------


def form_data(client, path, **fields):
    data = {
        "csrf_token": csrf_token_from(client, path),
        "name": "Birthday greetings",
        "kind": "birthday",
        "days": "",
        "event_date": "",
        "purpose": "",
        "segment": "",
        "en-subject": "Happy birthday, {first_name}!",
        "en-body": "All the best.",
    }
    return {**data, **fields}


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"kind": "event_reminder", "days": "3"},
            "event_date",
            "Enter the date of the event.",
        ),
        ({"kind": "after_purchase"}, "days", "Enter the number of days."),
        ({"kind": "birthday"}, "purpose", "Choose the consent purpose this message is for."),
        ({"kind": "win_back", "days": "0"}, "days", "A win-back message waits at least one day."),
        ({"kind": "after_purchase", "days": "3651"}, "days", "from 0 to 3650"),
        (
            {"kind": "event_reminder", "days": "3", "event_date": "2020-01-01"},
            "event_date",
            "The event date has passed",
        ),
        ({"en-subject": "Hi {frist_name}"}, "en-subject", "Unknown placeholder: {frist_name}"),
    ],
)
def test_a_wrong_form_says_why_beside_the_field_and_saves_nothing(
    owner_client, purpose, fields, field_id, message
):
    if field_id != "purpose":
        fields = {"purpose": str(purpose.id), **fields}
    path = "/owner/automations/new"
    response = owner_client.post(path, data=form_data(owner_client, path, **fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    assert error, page
    assert message in error.group(1).replace("&#34;", '"')
    assert Automation.select().count() == 0


def test_owner_writes_runs_pauses_and_reads_an_automation(app, owner_client, smtp_server, purpose):
    smtp_server.configure(app)
    today = local_today(app)
    anna = person("Anna", purpose, language="pl", birth_date=today, tags=("vip",))
    person("Boris", purpose, birth_date=today)  # not in the segment
    vips = Segment.create(name="VIPs", filters=Filters(tag="vip").to_json())
    path = "/owner/automations/new"
    response = owner_client.post(
        path,
        data=form_data(
            owner_client,
            path,
            purpose=str(purpose.id),
            segment=str(vips.id),
            **{"pl-subject": "Sto lat, {first_name}!", "pl-body": "Życzenia."},
        ),
    )
    assert response.status_code == 303
    automation = Automation.get()
    assert response.headers["Location"] == f"/owner/automations/{automation.id}"
    assert Filters.from_json(automation.filters).tag == "vip"

    page = owner_client.get(f"/owner/automations/{automation.id}").get_data(as_text=True)
    assert "On each customer's birthday" in page.replace("&#39;", "'")
    assert "Segment “VIPs”" in page
    assert "E-mail offers" in page

    run_path = f"/owner/automations/{automation.id}/run"
    token = csrf_token_from(owner_client, f"/owner/automations/{automation.id}")
    assert owner_client.post(run_path, data={"csrf_token": token}).status_code == 303
    page = owner_client.get(f"/owner/automations/{automation.id}").get_data(as_text=True)
    assert "Run finished: 1 customer was due; 1 sent" in page
    assert f'href="/customers/{anna.id}">Anna Test</a>' in page
    assert '<dd data-figure="sent">1</dd>' in page
    [message] = smtp_server.messages
    assert (message["To"], message["Subject"]) == ("anna@example.com", "Sto lat, Anna!")

    listing = owner_client.get("/owner/automations").get_data(as_text=True)
    assert "Birthday greetings" in listing and "Birthday greeting<br>" in listing
    assert 'data-figure="sent" data-label="Sent">1</td>' in listing

    active_path = f"/owner/automations/{automation.id}/active"
    response = owner_client.post(active_path, data={"csrf_token": token, "active": "0"})
    assert response.status_code == 303
    assert not Automation.get_by_id(automation.id).active
    owner_client.post(run_path, data={"csrf_token": token})
    page = owner_client.get(f"/owner/automations/{automation.id}").get_data(as_text=True)
    assert "Resume the automation before running it." in page
    assert len(smtp_server.messages) == 1

    # Editing keeps the segment chosen and what was sent.
    edit = owner_client.get(f"/owner/automations/{automation.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{vips.id}">VIPs</option>' in edit.replace(
        f'value="{vips.id}" selected', f'selected value="{vips.id}"'
    )


def test_a_service_reminder_can_be_saved_without_a_purpose(app, owner_client, purpose):
    path = "/owner/automations/new"
    event = (local_today(app) + 10 * DAY).isoformat()
    data = form_data(owner_client, path, kind="event_reminder", days="3", event_date=event)
    response = owner_client.post(path, data=data)
    assert response.status_code == 303
    automation = Automation.get()
    assert automation.purpose_id is None and automation.days == 3
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "must not contain offers" in page


def test_staff_cannot_open_or_change_automations(staff_client, purpose):
    automation = rule("birthday", purpose)
    assert staff_client.get("/owner/automations").status_code == 403
    assert staff_client.get(f"/owner/automations/{automation.id}").status_code == 403
    token = csrf_token_from(staff_client, "/customers/new")
    response = staff_client.post(
        f"/owner/automations/{automation.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 403
    assert Automation.get_by_id(automation.id).active
