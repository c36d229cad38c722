"""The complaint report: figures for a period computed from complaints made with the complaint
services, the page with its charts and period form, and the PDF made as a background job, read
back in all four languages, whose download is audited with the customers it names."""

import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
from flask_babel import force_locale, format_percent, gettext

from portal import business_hours, complaints, settings
from portal.models import AuditEvent, Complaint, ExportJob
from portal.reports import complaint_report
from portal.reports.complaint_report import BusinessClock
from tests.conftest import csrf_token_from
from tests.factories import make_customer

WEEKDAYS_9_TO_5 = {str(day): ["09:00", "17:00"] for day in range(5)} | {"5": None, "6": None}
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
NOW = datetime(2026, 10, 9, 12, 0)  # Friday noon (UTC, the test business's zone)
LANGUAGES = ("en", "ru", "pl", "zh")


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute)


@pytest.fixture
def hours(app):
    """A business open Monday to Friday 9–17 in UTC, no holidays."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    settings.put("opening_hours", WEEKDAYS_9_TO_5)
    settings.put("holidays", [])


@pytest.fixture
def context(app, hours):
    """A request context, for code that reads the app's time zone and language outside a view.

    Only for tests that make no requests: the test client would share it (and `g`).
    """
    with app.test_request_context("/"):
        yield app


def open_one(customer, opened_at, *, severity="medium", category="other", subject=None):
    return complaints.open_complaint(
        customer,
        subject=subject or f"{category} {severity} {opened_at:%d %H:%M}",
        description="",
        channel="in_store",
        category=category,
        severity=severity,
        now=opened_at,
    )


def reply(complaint, when):
    """A staff reply, dated `when`: the reply service stamps the present moment."""
    complaints.add_reply(complaint, "We are looking into it.", staff_id=None)
    Complaint.update(first_responded_at=when).where(Complaint.id == complaint.id).execute()
    complaint.first_responded_at = when


def move(complaint, *steps):
    for status, when in steps:
        complaints.change_status(complaint, status, staff_id=None, now=when)


@pytest.fixture
def october(app, hours):
    """Seven complaints opened in October 2026 (and two just outside), on a Mon–Fri 9–17 clock.

    Expected business hours are written beside each; NOW is Friday 9 October, noon.
    """
    with app.app_context():  # closing signs the rating link with the app's secret
        return _october()


def _october():
    anna = make_customer("Anna", "Nowak")
    ivan = make_customer("Ivan", "Petrov")
    wang = make_customer("小明", "王", order="family_first")

    # A: answered in 2 h, resolved in 8 h, both in time; rated 5.
    a = open_one(anna, at(5, 10), category="product_quality")
    reply(a, at(5, 12))
    move(a, ("in_progress", at(5, 12)), ("resolved", at(6, 10)), ("closed", at(6, 11)))
    complaints.rate(a, 5)
    # B: answered in 3 h (4 h allowed); waited 8 business hours for the customer, which the
    # clock does not count: resolved in 15 − 8 = 7 h of 16; rated 3.
    b = open_one(ivan, at(5, 16), severity="high", category="delivery")
    reply(b, at(6, 11))
    move(
        b,
        ("in_progress", at(6, 11)),
        ("waiting_for_customer", at(6, 11)),
        ("in_progress", at(7, 11)),
        ("resolved", at(7, 15)),
        ("closed", at(7, 16)),
    )
    complaints.rate(b, 3)
    # D: answered 1 h late; resolution was due Tuesday 6 at 17:00 → 19 h late at NOW.
    d = open_one(anna, at(6, 9), severity="critical", category="billing", subject="Double charge")
    reply(d, at(6, 11))
    move(d, ("in_progress", at(6, 11)))
    # C (opened before D, recorded after it): never answered; the first response was due
    # Monday 5 at 17:00 → 27 h late at NOW.
    open_one(wang, at(1, 9), severity="low", category="service", subject="账单错误")
    # E: waiting for the customer: its clock stands still, so it is never overdue.
    e = open_one(ivan, at(7, 9), category="delivery")
    move(e, ("waiting_for_customer", at(7, 10)))
    # G: new, due next week.
    open_one(anna, at(9, 9))
    # H: answered in 6 h (4 allowed), resolved in 17 h (16 allowed); rated 1.
    h = open_one(wang, at(1, 10), severity="high", category="product_quality")
    reply(h, at(1, 16))
    move(h, ("in_progress", at(1, 16)), ("resolved", at(5, 11)), ("closed", at(5, 12)))
    complaints.rate(h, 1)

    # Outside the period: September 30th 23:30 and November 1st 00:00.
    early = open_one(wang, at(30, 23, 30, month=9), severity="critical")
    move(early, ("resolved", at(1, 10)), ("closed", at(1, 11)))
    complaints.rate(early, 2)
    open_one(anna, datetime(2026, 11, 1, 0, 0), severity="critical")
    return {"anna": anna, "ivan": ivan, "wang": wang}


# --- Figures ---------------------------------------------------------------------------


def test_counts_by_status_category_and_severity(october, context):
    report = complaint_report.figures(*OCTOBER, now=NOW)
    assert report["total"] == 7
    assert report["by_status"] == [
        ("new", 2),
        ("in_progress", 1),
        ("waiting_for_customer", 1),
        ("resolved", 0),
        ("closed", 3),
    ]
    assert report["by_category"] == [
        ("product_quality", 2),
        ("delivery", 2),
        ("service", 1),
        ("billing", 1),
        ("other", 1),
    ]
    assert report["by_severity"] == [("low", 1), ("medium", 3), ("high", 2), ("critical", 1)]


def test_times_are_business_hours_without_the_wait_for_the_customer(october, context):
    report = complaint_report.figures(*OCTOBER, now=NOW)
    first = report["first_response"]
    assert (first["count"], first["within_target"]) == (4, 2)  # A, B, D, H; A and B in time
    assert first["average_hours"] == pytest.approx((2 + 3 + 2 + 6) / 4)
    assert first["share_within_target"] == pytest.approx(0.5)
    resolution = report["resolution"]
    assert (resolution["count"], resolution["within_target"]) == (3, 2)  # A, B, H; H late
    assert resolution["average_hours"] == pytest.approx((8 + 7 + 17) / 3)
    assert resolution["share_within_target"] == pytest.approx(2 / 3)


def test_overdue_list_names_subject_customer_severity_due_and_lateness(october, context):
    report = complaint_report.figures(*OCTOBER, now=NOW)
    listed = [
        (e["subject"], e["customer_name"], e["severity"], e["missed"], e["due"])
        for e in report["overdue"]
    ]
    assert listed == [
        ("账单错误", "王小明", "low", "first_response", at(5, 17)),
        ("Double charge", "Anna Nowak", "critical", "resolution", at(6, 17)),
    ]
    assert [e["late_hours"] for e in report["overdue"]] == pytest.approx([27, 19])
    assert report["customer_ids"] == sorted([october["wang"].id, october["anna"].id])
    # The same rule as the complaint board's.
    overdue = {c.subject for c in Complaint.select() if complaints.is_overdue(c, NOW)}
    assert overdue == {"账单错误", "Double charge"}


def test_satisfaction_counts_ratings_of_the_period_only(october, context):
    satisfaction = complaint_report.figures(*OCTOBER, now=NOW)["satisfaction"]
    assert satisfaction["count"] == 3
    assert satisfaction["average"] == pytest.approx(3.0)
    assert satisfaction["distribution"] == [(1, 1), (2, 0), (3, 1), (4, 0), (5, 1)]


def test_an_empty_period_has_zeros_and_no_averages(october, context):
    report = complaint_report.figures(date(2025, 1, 1), date(2025, 1, 31), now=NOW)
    assert report["total"] == 0
    assert report["first_response"]["average_hours"] is None
    assert report["satisfaction"] == {
        "count": 0,
        "average": None,
        "distribution": [(score, 0) for score in range(1, 6)],
    }
    assert report["overdue"] == [] and report["customer_ids"] == []


def test_the_period_is_whole_days_in_the_business_time_zone(context):
    context.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Warsaw"
    customer = make_customer()
    # Warsaw is UTC+2 until 25 October 2026, then UTC+1.
    for opened_at in (
        datetime(2026, 9, 30, 21, 30),  # 30 Sep 23:30 in Warsaw: before
        datetime(2026, 9, 30, 22, 30),  # 1 Oct 00:30: in
        datetime(2026, 10, 31, 22, 30),  # 31 Oct 23:30: in
        datetime(2026, 10, 31, 23, 30),  # 1 Nov 00:30: after
    ):
        open_one(customer, opened_at)
    assert complaint_report.figures(*OCTOBER, now=NOW)["total"] == 2


def test_the_report_clock_counts_as_the_complaint_clock_does(context):
    """Across a change to winter time and a holiday, pair by pair."""
    context.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Warsaw"
    settings.put("holidays", ["2026-10-28"])
    clock = BusinessClock(datetime(2026, 10, 20), datetime(2026, 11, 10))
    moments = [datetime(2026, 10, 20) + timedelta(hours=7 * n + 3) for n in range(60)]
    for start, end in zip(moments, moments[7:], strict=False):
        assert clock.between(start, end) == pytest.approx(
            business_hours.business_hours_between(start, end)
        )


def test_figures_take_a_constant_number_of_queries(october, context, monkeypatch):
    from portal.extensions import db

    statements = []
    real = db.obj.execute_sql
    monkeypatch.setattr(
        db.obj, "execute_sql", lambda sql, *a, **k: statements.append(sql) or real(sql, *a, **k)
    )
    complaint_report.figures(*OCTOBER, now=NOW)
    before = len(statements)
    for _ in range(5):
        opened = open_one(october["ivan"], at(8, 10), severity="critical")
        reply(opened, at(8, 11))
        move(opened, ("waiting_for_customer", at(8, 11)), ("resolved", at(8, 12)))
    statements.clear()
    complaint_report.figures(*OCTOBER, now=NOW)
    assert len(statements) == before


# --- The page --------------------------------------------------------------------------


def test_page_shows_figures_with_svg_charts_and_tables(owner_client, october):
    html = owner_client.get("/owner/reports/complaints?start=2026-10-01&end=2026-10-31").get_data(
        as_text=True
    )
    for title in ("Complaints by status", "Complaints by category", "Satisfaction scores (1 to 5)"):
        assert re.search(r"<svg[^>]*>\s*<title>" + re.escape(gettext(title)), html), title
    assert "账单错误" in html and "王小明" in html
    assert "Double charge" in html
    assert 'name="start" value="2026-10-01"' in html  # the download form carries the period
    assert "<table" in html


def test_page_defaults_to_the_last_full_month(owner_client, hours):
    html = owner_client.get("/owner/reports/complaints").get_data(as_text=True)
    first_of_this_month = datetime.now(UTC).date().replace(day=1)  # the business zone is UTC
    end = first_of_this_month - timedelta(days=1)
    assert f'value="{end.replace(day=1).isoformat()}"' in html
    assert f'value="{end.isoformat()}"' in html
    assert "<svg" in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-10-31&end=2026-10-01", "end", "The end date is before the start date."),
        ("start=31.10.2026&end=2026-10-31", "start", "Enter a date, like 2026-03-14."),
        ("start=2026-10-01&end=", "end", "Enter a date, like 2026-03-14."),
    ],
)
def test_invalid_period_gets_a_message_beside_the_field(owner_client, query, field, message):
    response = owner_client.get(f"/owner/reports/complaints?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">{re.escape(gettext(message))}<', html)
    assert "<svg" not in html


def test_invalid_period_in_russian_is_answered_in_russian(app, owner_client):
    token = csrf_token_from(owner_client, "/owner/reports")
    owner_client.post("/language", data={"language": "ru", "csrf_token": token, "next": "/"})
    response = owner_client.get("/owner/reports/complaints?start=2026-10-31&end=2026-10-01")
    assert response.status_code == 422
    with app.test_request_context("/"), force_locale("ru"):
        message = gettext("The end date is before the start date.")
    assert message != "The end date is before the start date."
    assert message in response.get_data(as_text=True)


def test_pdf_with_an_invalid_period_is_refused_and_no_job_is_made(owner_client):
    token = csrf_token_from(owner_client, "/owner/reports/complaints")
    response = owner_client.post(
        "/owner/reports/complaints/pdf",
        data={"start": "2026-10-31", "end": "2026-10-01", "csrf_token": token},
    )
    assert response.status_code == 422
    assert gettext("The end date is before the start date.") in response.get_data(as_text=True)
    assert ExportJob.select().count() == 0


def test_staff_cannot_open_the_report_nor_start_its_pdf(staff_client):
    assert staff_client.get("/owner/reports/complaints").status_code == 403
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        "/owner/reports/complaints/pdf",
        data={"start": "2026-10-01", "end": "2026-10-31", "csrf_token": token},
    )
    assert response.status_code == 403
    assert ExportJob.select().count() == 0


def test_reports_page_has_the_complaint_report_card(owner_client):
    html = owner_client.get("/owner/reports").get_data(as_text=True)
    assert 'href="/owner/reports/complaints"' in html


# --- The PDF ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> tuple[str, pypdf.PdfReader]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_pdf_download_is_audited_with_the_customers_it_names(owner_client, owner, october):
    token = csrf_token_from(owner_client, "/owner/reports/complaints")
    response = owner_client.post(
        "/owner/reports/complaints/pdf",
        data={"start": "2026-10-01", "end": "2026-10-31", "csrf_token": token},
    )
    assert response.status_code == 303
    job = ExportJob.get()
    assert response.headers["Location"].endswith(f"/owner/jobs/{job.id}")
    assert (job.kind, job.status, job.filename) == (
        "complaint_report",
        "done",
        "complaints-2026-10-01-2026-10-31.pdf",
    )
    assert json.loads(job.params) == {"start": "2026-10-01", "end": "2026-10-31"}

    download = owner_client.get(f"/owner/jobs/{job.id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    text, _reader = pdf_text(download.data)
    download.close()  # send_file's open file
    assert "王小明" in text and "Anna Nowak" in text
    event = AuditEvent.select().where(AuditEvent.action == "report_exported").get()
    assert event.actor_id == owner.id
    details = json.loads(event.details)
    # The overdue list names 王小明 and Anna (now, not at October's end: C and D are still open).
    assert sorted(details["customer_ids"]) == sorted([october["wang"].id, october["anna"].id])


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_in_each_language_has_headings_totals_and_the_overdue_names(october, context, language):
    job = ExportJob.create(
        kind="complaint_report",
        params=json.dumps({"start": "2026-10-01", "end": "2026-10-31"}),
        language=language,
    )
    with force_locale(language):
        result = complaint_report.run(job, lambda percent, step="": None)
        headings = [
            gettext(text)
            for text in (
                "Complaint report",
                "Key figures",
                "Response and resolution times",
                "Overdue now",
                "Satisfaction",
            )
        ]
        share = format_percent(0.5)
    text, reader = pdf_text(result.content)
    flat = " ".join(text.split())
    for heading in headings:
        assert " ".join(heading.split()) in flat, heading
    assert "王小明" in text and "账单错误" in text
    assert " ".join(share.split()) in flat.replace("\xa0", " ")  # first responses in time
    assert re.search(r"\b7\b", text)  # complaints opened
    assert result.data["customer_ids"] == sorted([october["wang"].id, october["anna"].id])
    assert result.filename == "complaints-2026-10-01-2026-10-31.pdf"
    assert reader.metadata.title == headings[0]
    assert reader.trailer["/Root"]["/Lang"] == language


def test_viewing_the_overdue_list_is_audited_with_the_customers_it_shows(
    owner_client, owner, october
):
    owner_client.get("/owner/reports/complaints?start=2026-10-01&end=2026-10-31")
    event = AuditEvent.get(AuditEvent.action == "complaint_report_viewed")
    assert event.actor_id == owner.id
    named = json.loads(event.details)["customer_ids"]
    overdue = complaint_report.figures(date(2026, 10, 1), date(2026, 10, 31))["overdue"]
    assert named and named == sorted({entry["customer_id"] for entry in overdue})
