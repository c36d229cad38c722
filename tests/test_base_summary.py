"""The customer-base summary (issue 7): right figures for a small hand-made base, erased and
merged records left out, months counted in the business's time zone; the PDF in every
language with its headings, totals and metadata; the web page showing the latest summary."""

import io
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from portal import consent, history, jobs, settings
from portal.models import Complaint, Customer, ExportJob, Location, utcnow
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
