"""The complaint report for a period (issue 7): how many complaints came in and of what kind,
how fast they were answered and resolved, which are overdue now, and how customers rated them.

The period is whole days in the business time zone; times are measured in business hours, the
unit the complaint clocks count in (portal/business_hours.py), with the time spent waiting for
the customer left out as the clock leaves it out. Counts are aggregated in SQL; the few figures
that need business hours are worked out in Python against opening windows read once.
"""

from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from .. import business_hours, charts, jobs, pdf
from ..complaints import CATEGORIES, SCORES, overdue_condition
from ..models import Complaint, ComplaintStatusChange, Customer, utcnow

# The words for the codes, as the complaint pages show them (their own dictionaries).
from ..staff.complaint_views import LABELS

WAITING = "waiting_for_customer"
TITLE = _l("Complaint report")


# --- Figures --------------------------------------------------------------------------


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] as whole days in the business time zone → naive UTC [from, until)."""
    zone = business_hours.business_zone()

    def midnight(day: date) -> datetime:
        local = datetime.combine(day, time.min, tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    return midnight(start), midnight(end + timedelta(days=1))


def figures(start: date, end: date, now: datetime | None = None) -> dict:
    """The report's figures for complaints opened from `start` to `end` (both included).

    Overdue means overdue at `now` (naive UTC, default the present), whatever the period.
    """
    now = now or utcnow()
    opened_from, opened_until = period_bounds(start, end)
    in_period = (Complaint.opened_at >= opened_from) & (Complaint.opened_at < opened_until)

    by_status, by_category, by_severity = _counts(in_period)
    timings = list(
        Complaint.select(
            Complaint.id,
            Complaint.opened_at,
            Complaint.first_response_due_at,
            Complaint.first_responded_at,
            Complaint.due_at,
            Complaint.resolved_at,
        )
        .where(
            in_period
            & (Complaint.first_responded_at.is_null(False) | Complaint.resolved_at.is_null(False))
        )
        .tuples()
    )
    overdue_rows = list(
        Complaint.select(
            Complaint.id,
            Complaint.subject,
            Complaint.severity,
            Complaint.first_response_due_at,
            Complaint.first_responded_at,
            Complaint.due_at,
            Customer.id,
            Customer.display_name,
        )
        .join(Customer)
        .where(in_period & overdue_condition(now))
        .tuples()
    )
    latest = max([now, *(moment for row in timings for moment in row[1:] if moment)])
    clock = BusinessClock(opened_from, latest)
    waits = _waiting_periods(in_period, now)
    overdue = _overdue(overdue_rows, clock, now)
    return {
        "start": start,
        "end": end,
        "now": now,
        "total": sum(by_status.values()),
        "by_status": _in_order(by_status, Complaint.STATUSES),
        "by_category": _in_order(by_category, CATEGORIES),
        "by_severity": _in_order(by_severity, Complaint.SEVERITIES),
        # timings rows: (id, opened, first response due, first responded, due, resolved)
        "first_response": _timing(
            [(r[0], r[1], r[3], r[2]) for r in timings if r[3]], waits, clock
        ),
        "resolution": _timing([(r[0], r[1], r[5], r[4]) for r in timings if r[5]], waits, clock),
        "overdue": overdue,
        "customer_ids": sorted({entry["customer_id"] for entry in overdue}),
        "satisfaction": _satisfaction(in_period),
    }


def _counts(in_period) -> tuple[dict, dict, dict]:
    """Counts by status, category and severity, from one grouped query."""
    by_status, by_category, by_severity = defaultdict(int), defaultdict(int), defaultdict(int)
    rows = (
        Complaint.select(
            Complaint.status, Complaint.category, Complaint.severity, fn.COUNT(Complaint.id)
        )
        .where(in_period)
        .group_by(Complaint.status, Complaint.category, Complaint.severity)
        .tuples()
    )
    for status, category, severity, count in rows:
        by_status[status] += count
        by_category[category] += count
        by_severity[severity] += count
    return by_status, by_category, by_severity


def _in_order(counts: dict, codes) -> list[tuple[str, int]]:
    """Every known code in its usual order (zeros included), then any unknown ones."""
    known = [(code, counts.get(code, 0)) for code in codes]
    return known + sorted((code, n) for code, n in counts.items() if code not in codes)


def _waiting_periods(in_period, now: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Complaint id → the spans it waited for the customer (the clock stood still)."""
    rows = (
        ComplaintStatusChange.select(
            ComplaintStatusChange.complaint,
            ComplaintStatusChange.from_status,
            ComplaintStatusChange.to_status,
            ComplaintStatusChange.changed_at,
        )
        .join(Complaint)
        .where(
            in_period
            & (
                (ComplaintStatusChange.to_status == WAITING)
                | (ComplaintStatusChange.from_status == WAITING)
            )
        )
        .order_by(
            ComplaintStatusChange.complaint,
            ComplaintStatusChange.changed_at,
            ComplaintStatusChange.id,
        )
        .tuples()
    )
    spans, began = defaultdict(list), {}
    for complaint_id, from_status, to_status, changed_at in rows:
        if from_status == WAITING and complaint_id in began:
            spans[complaint_id].append((began.pop(complaint_id), changed_at))
        if to_status == WAITING:
            began[complaint_id] = changed_at
    for complaint_id, since in began.items():  # still waiting
        spans[complaint_id].append((since, now))
    return spans


def _timing(rows, waits: dict, clock: "BusinessClock") -> dict:
    """Average business hours on the clock until `done`, and how many were done by their due date.

    rows: (complaint id, opened_at, done_at, due_at); waiting for the customer is not counted.
    """
    hours, within = [], 0
    for complaint_id, opened, done, due in rows:
        spent = clock.between(opened, done)
        for paused, resumed in waits.get(complaint_id, ()):
            spent -= clock.between(max(paused, opened), min(resumed, done))
        hours.append(max(spent, 0.0))
        if due is None or done <= due:
            within += 1
    count = len(hours)
    return {
        "count": count,
        "average_hours": sum(hours) / count if count else None,
        "within_target": within,
        "share_within_target": within / count if count else None,
    }


def _overdue(rows, clock: "BusinessClock", now: datetime) -> list[dict]:
    """The overdue complaints, longest overdue first, with the due date they missed."""
    entries = []
    for row in rows:
        complaint_id, subject, severity, first_due, first_done, due_at, customer_id, name = row
        missed_first = first_done is None and first_due is not None and first_due < now
        missed = "first_response" if missed_first else "resolution"
        due = first_due if missed_first else due_at
        entries.append(
            {
                "complaint_id": complaint_id,
                "subject": subject,
                "severity": severity,
                "customer_id": customer_id,
                "customer_name": name,
                "missed": missed,
                "due": due,
                "late_hours": clock.between(due, now),
            }
        )
    entries.sort(key=lambda entry: (entry["due"], entry["complaint_id"]))
    return entries


def _satisfaction(in_period) -> dict:
    rows = dict(
        Complaint.select(Complaint.satisfaction, fn.COUNT(Complaint.id))
        .where(in_period & Complaint.satisfaction.is_null(False))
        .group_by(Complaint.satisfaction)
        .tuples()
    )
    count = sum(rows.values())
    return {
        "count": count,
        "average": sum(score * n for score, n in rows.items()) / count if count else None,
        "distribution": [(score, rows.get(score, 0)) for score in SCORES],
    }


class BusinessClock:
    """Business hours between many pairs of moments, with the opening windows read once.

    business_hours.business_hours_between reads the schedule from settings on every call;
    at tens of thousands of complaints that is tens of thousands of queries. Here the windows
    from `origin` to `until` are read once, with the hours before each, and each question is
    a binary search. Naive UTC in, as the database stores it.
    """

    def __init__(self, origin: datetime, until: datetime):
        self.origin = origin
        self.opens: list[datetime] = []
        self.closes: list[datetime] = []
        self.hours_before: list[float] = []
        total, cursor = 0.0, origin
        while cursor is not None and cursor < until:
            last = None
            # Private on purpose: the same windows, DST and holidays the clocks use.
            for opens, closes in business_hours.windows_from(cursor):
                if opens >= until:
                    last = None
                    break
                self.opens.append(opens)
                self.closes.append(closes)
                self.hours_before.append(total)
                total += (closes - opens) / timedelta(hours=1)
                last = closes
            cursor = last  # the search stops after two years of days: go on from there
        # No opening window at all: calendar hours, as business_hours falls back to.
        self.calendar = not self.opens

    def hours_at(self, moment: datetime) -> float:
        if self.calendar:
            return (moment - self.origin) / timedelta(hours=1)
        index = bisect_right(self.opens, moment) - 1
        if index < 0:
            return 0.0
        counted = min(moment, self.closes[index]) - self.opens[index]
        return self.hours_before[index] + counted / timedelta(hours=1)

    def between(self, start: datetime, end: datetime) -> float:
        """Business hours from start to end (0 when end is not after start)."""
        if end <= start:
            return 0.0
        return self.hours_at(end) - self.hours_at(start)


# --- Presentation: the same labels, charts and partial on the web page and in the PDF ----


def chart_set(report: dict) -> dict:
    """SVG charts of the figures, in the current language."""

    def count(value):
        return format_decimal(value)

    def named(rows, names):
        return [(names.get(code, code), n) for code, n in rows]

    return {
        "status": charts.bars(
            named(report["by_status"], LABELS["statuses"]),
            title=_("Complaints by status"),
            value_format=count,
        ),
        "category": charts.bars(
            named(report["by_category"], LABELS["categories"]),
            title=_("Complaints by category"),
            value_format=count,
        ),
        "severity": charts.bars(
            named(report["by_severity"], LABELS["severities"]),
            title=_("Complaints by severity"),
            value_format=count,
        ),
        "satisfaction": charts.bars(
            [
                (_("%(score)s of 5", score=score), n)
                for score, n in report["satisfaction"]["distribution"]
            ],
            title=_("Satisfaction scores (1 to 5)"),
            value_format=count,
        ),
    }


def context(report: dict) -> dict:
    """What templates/reports/_complaint_figures.html needs besides the figures."""
    return {
        "report": report,
        "time_zone": str(business_hours.business_zone()),
        "labels": LABELS,
        "charts": chart_set(report),
        "percent": lambda share: format_percent(share) if share is not None else "–",
    }


def filename(start: date, end: date) -> str:
    return f"complaints-{start.isoformat()}-{end.isoformat()}.pdf"


def run(job, progress: jobs.Progress) -> jobs.Result:
    """The background job: the figures for params {"start": iso, "end": iso}, printed."""
    asked = jobs.params(job)
    start, end = date.fromisoformat(asked["start"]), date.fromisoformat(asked["end"])
    progress(5, _("Counting complaints"))
    report = figures(start, end)
    progress(50, _("Printing the PDF"))
    content = pdf.render("complaint_report.html", title=TITLE, **context(report))
    return jobs.Result(
        content=content,
        filename=filename(start, end),
        data={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "total": report["total"],
            # The overdue list names these customers: the download's audit event lists them.
            "customer_ids": report["customer_ids"],
        },
    )
