"""The customer-base summary (issue 7): right figures for a small hand-made base, erased and
merged records left out, months counted in the business's time zone; the PDF in every
language with its headings, totals and metadata; the web page showing the latest summary.
Issue 10 adds campaign and automation messages: per month, per finished campaign and per
automation."""

import io
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask import render_template
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from portal import consent, history, jobs, settings
from portal.models import (
    Automation,
    Campaign,
    Complaint,
    ConsentPurpose,
    Customer,
    ExportJob,
    Location,
    OutgoingMessage,
    utcnow,
)
from portal.reports import base_summary
from tests.conftest import csrf_token_from
from tests.factories import make_customer

NOW = datetime(2026, 6, 15, 12, 0)  # the period is July 2025 to June 2026
LANGUAGES = ("en", "ru", "pl", "zh")
HEADINGS = (
    "Customers and leads",
    "Purchases and revenue",
    "Revenue by location",
    "Tiers",
    "Consent coverage",
    "Complaints",
    "Campaigns and automations",
)


def buy(customer, amount: str, when: datetime, location=None):
    return history.record_purchase(
        customer,
        [("Tea", Decimal("1"), Decimal(amount))],
        purchased_at=when,
        location_id=location.id if location else None,
    )


def purpose(code: str, title: str):
    created = consent.create_purpose(code, {"en": (title, f"{title}, please.")})
    return created.id


def grant(customer, purpose_id: int, when: datetime, granted: bool = True):
    consent.record(
        customer.id,
        purpose_id,
        granted=granted,
        wording_version=1,
        channel="paper_form",
        occurred_at=when,
    )


def complaint(customer, opened_at: datetime, **fields):
    return Complaint.create(customer=customer, subject="Lid cracked", opened_at=opened_at, **fields)


@pytest.fixture
def base(app):
    """Four active records, one erased and one merged, in the business zone Europe/Warsaw."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Warsaw"
    with app.test_request_context():
        old_town = Location.create(name="Old Town shop")
        beijing_road = Location.create(name="北京路店")
        email = purpose("email_offers", "E-mail offers")
        partners = purpose("partners", "Sharing with partners")

        old_lead = make_customer("Olek", "Stary", created_at=datetime(2024, 3, 1))
        anna = make_customer("Anna", "Nowak", created_at=datetime(2025, 7, 10))
        buy(anna, "100.00", datetime(2026, 5, 10, 10), old_town)
        buy(anna, "50.00", datetime(2026, 6, 3, 10))
        # 23:00 UTC on 31 May is 01:00 on 1 June in Warsaw: both count in June.
        boris = make_customer("Boris", "Petrov", created_at=datetime(2026, 5, 31, 23, 0))
        buy(boris, "30.00", datetime(2026, 5, 31, 22, 30), beijing_road)
        wang = make_customer("小明", "王", order="family_first", created_at=datetime(2026, 6, 2))
        erased = make_customer("Ewa", "Gone", created_at=datetime(2026, 5, 5))
        buy(erased, "200.00", datetime(2026, 5, 20, 10), old_town)
        merged = make_customer("Anna", "Nowak-Duplicate", created_at=datetime(2026, 5, 6))

        Customer.update(tier="A").where(Customer.id == anna.id).execute()
        Customer.update(tier="C").where(Customer.id == boris.id).execute()
        Customer.update(tier="B").where(Customer.id.in_([erased.id, merged.id])).execute()
        grant(anna, email, datetime(2026, 1, 1))
        grant(boris, email, datetime(2026, 1, 1))
        grant(boris, email, datetime(2026, 2, 1), granted=False)
        for gone in (erased, merged):
            grant(gone, email, datetime(2026, 1, 1))
        grant(wang, partners, datetime(2026, 1, 1))
        consent.set_active(partners, False)

        complaint(anna, datetime(2026, 6, 10), status="new", due_at=datetime(2026, 6, 12))
        complaint(boris, datetime(2026, 5, 15), status="closed", satisfaction=4)
        complaint(erased, datetime(2026, 5, 20), status="closed", satisfaction=2)
        complaint(old_lead, datetime(2025, 1, 5), status="in_progress", due_at=datetime(2027, 1, 1))

        Customer.update(erased_at=datetime(2026, 6, 1)).where(Customer.id == erased.id).execute()
        Customer.update(merged_into=anna.id).where(Customer.id == merged.id).execute()
    return {"old_town": old_town, "beijing_road": beijing_road, "email": email}


def summary_figures(app, **kwargs):
    with app.test_request_context():
        return base_summary.figures(now=NOW, **kwargs)


def test_months_are_the_last_twelve_in_order(app, base):
    figures = summary_figures(app)
    assert figures["months"][0] == "2025-07"
    assert figures["months"][-1] == "2026-06"
    assert len(figures["months"]) == 12
    assert json.loads(json.dumps(figures)) == figures  # stored as the job's result data


def test_customers_and_leads_per_month_leave_out_erased_and_merged(app, base):
    customers = summary_figures(app)["customers"]
    assert customers["customers"] == 2  # Anna and Boris
    assert customers["leads"] == 2  # Olek (before the period) and 王小明
    assert customers["new_customers"] == [1] + [0] * 10 + [1]  # Anna in July, Boris in June
    assert customers["new_leads"] == [0] * 11 + [1]  # 王小明; not the merged duplicate in May
    assert customers["customers_total"] == [1] * 11 + [2]
    assert customers["leads_total"] == [1] * 11 + [2]  # Olek counts from the start


def test_sales_per_month_and_location_keep_the_erased_customers_sale(app, base):
    figures = summary_figures(app)
    sales = figures["sales"]
    # May: Anna's 100 and the erased customer's 200 (sales stay for accounting); June: Anna's
    # 50 and Boris's 30, bought at 00:30 on 1 June Warsaw time.
    assert sales["purchases"] == [0] * 10 + [2, 2]
    assert sales["revenue"][-2:] == ["300.00", "80.00"]
    assert sales["revenue_in_period"] == "380.00"
    assert figures["locations"] == [
        {
            "location_id": base["old_town"].id,
            "name": "Old Town shop",
            "purchases": 2,
            "revenue": "300.00",
        },
        {"location_id": None, "name": None, "purchases": 1, "revenue": "50.00"},
        {
            "location_id": base["beijing_road"].id,
            "name": "北京路店",
            "purchases": 1,
            "revenue": "30.00",
        },
    ]


def test_months_follow_the_business_time_zone(app, base):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    figures = summary_figures(app)
    # In UTC, Boris and his purchase belong to May.
    assert figures["customers"]["new_customers"][-2:] == [1, 0]
    assert figures["sales"]["revenue"][-2:] == ["330.00", "50.00"]


def test_tiers_are_the_stored_ones_of_active_customers(app, base):
    assert summary_figures(app)["tiers"] == {"A": 1, "B": 0, "C": 1, "unscored": 0, "leads": 2}


def test_consent_coverage_is_over_active_records_and_active_purposes(app, base):
    rows = summary_figures(app)["consent"]
    assert len(rows) == 1  # "partners" is no longer asked for
    row = rows[0]
    assert row["titles"]["en"] == "E-mail offers"
    assert row["titles"]["zh"] == "E-mail offers"  # no Chinese wording: the English one
    assert (row["granted"], row["withdrawn"], row["never_asked"]) == (1, 1, 2)
    assert row["coverage"] == 0.25


def test_complaints_open_overdue_per_month_and_rating(app, base):
    complaints = summary_figures(app)["complaints"]
    assert (complaints["open"], complaints["overdue"]) == (2, 1)
    assert complaints["opened"] == [0] * 10 + [2, 1]
    assert complaints["rated"] == [0] * 10 + [2, 0]
    assert complaints["average_rating"][-2:] == [3.0, None]
    assert complaints["opened_in_period"] == 3
    assert complaints["average_rating_in_period"] == 3.0


def test_progress_is_reported_step_by_step(app, base):
    steps = []
    summary_figures(app, progress=lambda percent, step: steps.append((percent, step)))
    percents = [percent for percent, _ in steps]
    assert percents == sorted(percents) and len(percents) >= 4
    assert all(step for _, step in steps)


def test_an_empty_base_gives_zeros(app):
    figures = summary_figures(app)
    assert figures["customers"]["customers_total"] == [0] * 12
    assert figures["sales"]["revenue_in_period"] == "0.00"
    assert figures["locations"] == [] and figures["consent"] == []
    assert figures["tiers"] == {"A": 0, "B": 0, "C": 0, "unscored": 0, "leads": 0}


# --- Campaigns and automations ---------------------------------------------------------------


def message(customer, occasion, *, campaign=None, automation=None, status="sent", **moments):
    """An OutgoingMessage as the outbox leaves it; `moments`: created, sent, unsubscribed."""
    created = moments.get("created") or moments.get("sent")
    return OutgoingMessage.create(
        customer=customer,
        campaign=campaign,
        automation=automation,
        purpose=campaign.purpose_id if campaign else None,
        occasion=occasion,
        status=status,
        reason="550 no such mailbox" if status == "failed" else "",
        created_at=created,
        sent_at=moments.get("sent") if status == "sent" else None,
        unsubscribed_at=moments.get("unsubscribed"),
    )


@pytest.fixture
def messages(app, base):
    """Two campaigns finished in the period (one cancelled part-way), one before it, a draft,
    and three automations, with sends around month ends in Warsaw time."""
    people = {c.family_name: c for c in Customer.select()}
    anna, boris, wang, olek, ewa = (people[n] for n in ("Nowak", "Petrov", "王", "Stary", "Gone"))

    def campaign(name, status, finished_at):
        return Campaign.create(
            name=name, purpose=base["email"], status=status, finished_at=finished_at
        )

    # Finished 22:30 UTC on 30 April: 00:30 on 1 May in Warsaw.
    spring = campaign("Spring offers", "sent", datetime(2026, 4, 30, 22, 30))
    on = f"campaign:{spring.id}"
    # 21:30 UTC on 30 April is still April in Warsaw; 22:10 UTC is 1 May.
    message(
        anna,
        on,
        campaign=spring,
        sent=datetime(2026, 4, 30, 21, 30),
        unsubscribed=datetime(2026, 5, 2, 8),
    )
    message(boris, on, campaign=spring, sent=datetime(2026, 4, 30, 22, 10))
    # A failure counts in the month it was queued: 23:00 on 30 April in Warsaw.
    message(wang, on, campaign=spring, status="failed", created=datetime(2026, 4, 30, 21))
    message(olek, on, campaign=spring, status="skipped", created=datetime(2026, 4, 30, 21))

    sale = campaign("Wyprzedaż 夏季", "cancelled", datetime(2026, 6, 5, 9))
    message(anna, f"campaign:{sale.id}", campaign=sale, sent=datetime(2026, 6, 5, 8))
    message(
        boris,
        f"campaign:{sale.id}",
        campaign=sale,
        status="skipped",
        created=datetime(2026, 6, 5, 8),
    )

    # Before the period; someone unsubscribed through it in July, which counts in July.
    old = campaign("Old news", "sent", datetime(2025, 6, 20, 12))
    message(
        anna,
        f"campaign:{old.id}",
        campaign=old,
        sent=datetime(2025, 6, 20, 11),
        unsubscribed=datetime(2025, 7, 2, 9),
    )
    draft = campaign("Draft", "draft", None)
    message(
        boris,
        f"campaign:{draft.id}",
        campaign=draft,
        status="queued",
        created=datetime(2026, 6, 14),
    )

    birthday = Automation.create(name="Birthday wishes", kind="birthday")
    reminder = Automation.create(name="Event reminder", kind="event_reminder", active=False)
    Automation.create(name="Win back", kind="win_back", active=False)  # nothing: left out
    Automation.create(name="Thank you", kind="after_purchase")  # active: shown with zeros
    message(anna, "birthday:anna", automation=birthday, sent=datetime(2025, 7, 1, 10))
    message(
        boris,
        "birthday:boris",
        automation=birthday,
        sent=datetime(2026, 6, 10, 7),
        unsubscribed=datetime(2026, 6, 11, 7),
    )
    message(
        wang,
        "birthday:wang",
        automation=birthday,
        status="failed",
        created=datetime(2026, 1, 15, 7),
    )
    # An erased customer's message still counts: the row stays, without personal data.
    message(ewa, "birthday:ewa", automation=birthday, sent=datetime(2026, 5, 20, 7))
    message(olek, "reminder:olek", automation=reminder, sent=datetime(2026, 3, 3, 7))
    return {"spring": spring, "sale": sale, "birthday": birthday, "reminder": reminder}


def test_messages_per_month_count_sends_failures_and_unsubscribes(app, messages):
    figures = summary_figures(app)
    sent = figures["messages"]
    # July: a birthday; March: a reminder; April: Anna's spring offer (23:30 in Warsaw);
    # May: Boris's spring offer (00:10 on 1 May) and the erased customer's birthday; June: the
    # cancelled sale's one message and Boris's birthday. Not the draft's queued message.
    assert sent["sent"] == [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2]
    assert sent["failed"] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]
    # By the month of the click: the June 2025 newsletter's in July, Anna's in May, Boris's June.
    assert sent["unsubscribed"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert (sent["sent_in_period"], sent["failed_in_period"], sent["unsubscribed_in_period"]) == (
        7,
        2,
        3,
    )
    assert json.loads(json.dumps(figures)) == figures


def test_campaigns_finished_in_the_period_with_their_results(app, messages):
    campaigns = summary_figures(app)["messages"]["campaigns"]
    assert campaigns == [
        {
            "campaign_id": messages["spring"].id,
            "name": "Spring offers",
            "cancelled": False,
            "finished_at": "2026-04-30T22:30:00",
            "recipients": 4,  # the skipped one included, as on the campaign's own page
            "sent": 2,
            "failed": 1,
            "unsubscribed": 1,
            "unsubscribe_rate": 0.5,
        },
        {
            "campaign_id": messages["sale"].id,
            "name": "Wyprzedaż 夏季",
            "cancelled": True,
            "finished_at": "2026-06-05T09:00:00",
            "recipients": 2,
            "sent": 1,
            "failed": 0,
            "unsubscribed": 0,
            "unsubscribe_rate": 0.0,
        },
    ]


def test_automations_totals_over_the_period(app, messages):
    automations = summary_figures(app)["messages"]["automations"]
    assert [
        (row["name"], row["sent"], row["failed"], row["unsubscribed"]) for row in automations
    ] == [
        ("Birthday wishes", 3, 1, 1),
        ("Event reminder", 1, 0, 0),  # no longer active, but it sent in the period
        ("Thank you", 0, 0, 0),  # active, nothing yet
    ]
    assert automations[0]["automation_id"] == messages["birthday"].id


def test_message_months_follow_the_business_time_zone(app, messages):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    figures = summary_figures(app)["messages"]
    # In UTC both spring offers and the spring failure belong to April.
    assert figures["sent"][-3:] == [2, 1, 2]
    assert figures["failed"][-3:] == [1, 0, 0]


def test_summary_without_messages_says_so(app, base):
    figures = summary_figures(app)["messages"]
    assert figures["sent"] == figures["failed"] == figures["unsubscribed"] == [0] * 12
    assert figures["campaigns"] == [] and figures["automations"] == []
    with app.test_request_context():
        html = render_template(
            "reports/_summary_charts.html", **base_summary.page_context(summary_figures(app))
        )
    assert "Campaigns and automations" in html
    assert "No campaign or automation messages in this period." in html
    assert html.count('<figure class="chart">') == 8


def test_campaign_section_shows_chart_and_tables(app, messages):
    with app.test_request_context():
        html = render_template(
            "reports/_summary_charts.html", **base_summary.page_context(summary_figures(app))
        )
    assert html.count('<figure class="chart">') == 9
    section = html[html.index('id="summary-messages-heading"') :]
    assert "Messages sent and failed, and unsubscribes, per month" in section
    assert "Spring offers" in section and "Wyprzedaż 夏季" in section
    assert "Old news" not in section and "Draft" not in section
    assert "May 1, 2026" in section  # finished 00:30 on 1 May in Warsaw, not on 30 April
    assert "Apr 30, 2026" not in section
    assert "50.0%" in section and "(cancelled)" in section
    assert "Birthday wishes" in section and "Win back" not in section


def test_an_older_summary_without_messages_still_renders(app, base):
    figures = summary_figures(app)
    del figures["messages"]  # stored by a job before issue 10
    with app.test_request_context():
        html = render_template("reports/_summary_charts.html", **base_summary.page_context(figures))
    assert "No campaign or automation messages in this period." in html


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pdf_prints_the_campaigns_of_the_period(app, recent_base, language):
    with app.test_request_context():
        purpose_id = ConsentPurpose.get(ConsentPurpose.code == "email_offers").id
        autumn = Campaign.create(
            name="Jesienna herbata 秋茶", purpose=purpose_id, status="sent", finished_at=utcnow()
        )
        for customer in Customer.select():
            message(customer, f"campaign:{autumn.id}", campaign=autumn, sent=utcnow())
    job = build_summary(app, language)
    assert job.status == "done", job.error
    with open(job.file_path, "rb") as handle:
        text = plain("\n".join(page.extract_text() for page in PdfReader(handle).pages))
    with app.test_request_context(), force_locale(language):
        heading = gettext("Campaigns finished in the period")
    assert plain(heading) in text
    assert "Jesiennaherbata秋茶" in re.sub(r"\s+", "", text)  # pypdf spaces out Chinese
    assert jobs.result_data(job)["messages"]["sent_in_period"] == 3


# --- The PDF ---------------------------------------------------------------------------------


@pytest.fixture
def recent_base(app):
    """A base whose sales fall in the current month, so the job (which counts up to now) sees
    them: two customers, a lead, a Chinese shop name."""
    settings.put("business_name", "Sklep Ćma")
    now = utcnow()
    with app.test_request_context():
        shop = Location.create(name="北京路店")
        wei = make_customer("伟", "张", order="family_first")
        buy(wei, "1234.50", now - timedelta(minutes=5), shop)
        lucja = make_customer("Łucja", "Żółkiewska")
        buy(lucja, "10.00", now - timedelta(minutes=5))
        make_customer("Lead", "Only")
        grant(wei, purpose("email_offers", "E-mail offers"), now - timedelta(days=1))
    return {"revenue": Decimal("1244.50")}


def translated(app, language: str, english: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(english)


def plain(text: str) -> str:
    """Text as pypdf reads it, with no-break spaces and line breaks as plain spaces."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def build_summary(app, language: str) -> ExportJob:
    with app.test_request_context():
        job = jobs.start("base_summary", language=language)
    return ExportJob.get_by_id(job.id)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_has_the_headings_and_totals_in_its_language(app, recent_base, language):
    job = build_summary(app, language)
    assert job.status == "done", job.error
    assert re.fullmatch(r"customer-base-summary-\d{4}-\d{2}-\d{2}\.pdf", job.filename)
    with open(job.file_path, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = plain("\n".join(page.extract_text() for page in reader.pages))
    with app.test_request_context(), force_locale(language):
        title = gettext("Customer-base summary")
        headings = [gettext(heading) for heading in HEADINGS]
        formats = base_summary.Formats("EUR")
        revenue = plain(formats.money(recent_base["revenue"]))
    for heading in [title, *headings]:
        assert plain(heading) in text, heading
    assert revenue in text
    assert "北京路店" in text
    assert reader.metadata.title == title
    assert reader.metadata.author == "Sklep Ćma"
    assert reader.trailer["/Root"]["/Lang"] == language
    assert jobs.result_data(job)["customers"]["customers"] == 2


# --- The web page ----------------------------------------------------------------------------


def test_page_without_a_summary_offers_to_make_one(app, owner_client):
    html = owner_client.get("/owner/reports/summary").get_data(as_text=True)
    assert translated(app, "en", "No summary has been made yet.")[:20] in html
    assert 'action="/owner/reports/summary"' in html
    assert "<svg" not in html


def test_requesting_a_summary_builds_it_and_the_page_shows_its_charts(owner_client, recent_base):
    token = re.search(
        r'name="csrf_token" value="([^"]+)"',
        owner_client.get("/owner/reports/summary").get_data(as_text=True),
    ).group(1)
    response = owner_client.post("/owner/reports/summary", data={"csrf_token": token})
    assert response.status_code == 303
    job = ExportJob.select().where(ExportJob.kind == "base_summary").get()
    assert response.headers["Location"].endswith(f"/owner/jobs/{job.id}")
    assert job.status == "done"  # jobs run inline in tests

    html = owner_client.get("/owner/reports/summary").get_data(as_text=True)
    assert html.count("<svg") == html.count('<figure class="chart">') == 8
    assert "€1,244.50" in html  # revenue in the period, in the page's locale
    assert "北京路店" in html
    assert f'href="/owner/jobs/{job.id}/download"' in html
    as_of = jobs.result_data(job)["as_of"]
    assert as_of.startswith(str(utcnow().year))
    assert "Figures as of" in html


def test_page_shows_the_latest_finished_summary(owner_client, app, recent_base):
    first = build_summary(app, "en")
    with app.test_request_context():
        make_customer("Another", "Customer")
        buy(Customer.get(Customer.given_name == "Another"), "5.00", utcnow())
    latest = build_summary(app, "en")
    html = owner_client.get("/owner/reports/summary").get_data(as_text=True)
    assert f"/owner/jobs/{latest.id}/download" in html
    assert f"/owner/jobs/{first.id}/download" not in html
    assert "€1,249.50" in html


def test_staff_cannot_open_or_request_the_summary(staff_client):
    assert staff_client.get("/owner/reports/summary").status_code == 403
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post("/owner/reports/summary", data={"csrf_token": token})
    assert response.status_code == 403
    assert ExportJob.select().count() == 0


def test_reports_page_links_to_the_summary(app, owner_client):
    html = owner_client.get("/owner/reports").get_data(as_text=True)
    assert 'href="/owner/reports/summary"' in html
    assert translated(app, "en", "Customer-base summary") in html
