"""The customer-base summary (SPEC 4): customers and leads over time, sales by month and by
location, RFM tiers, consent coverage, complaints, and campaign and automation messages, as a
PDF with charts and as a web page.

`figures()` gathers everything in a handful of aggregate queries and returns plain JSON, which
the job stores beside the PDF so the web page can show the latest summary without counting
again. The charts partial (templates/reports/_summary_charts.html) draws the same figures on
the page and in the PDF; `page_context()` gives it what it needs.

Customer figures leave out erased and merged records. Sales and complaints count them all:
erasure keeps sales (anonymised, for accounting) and complaints (without text, as statistics),
and merging moves them to the surviving record. Messages count them all too: the rows stay
through erasure (without the server's refusal text) and merging, so the results of a campaign
do not change afterwards.
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from babel.dates import format_interval, format_skeleton
from babel.numbers import format_compact_currency, format_compact_decimal
from flask_babel import format_currency, format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import SQL, Case, fn

from .. import business_hours, charts, complaints, consent, jobs, pdf, settings
from ..models import (
    Automation,
    Campaign,
    Complaint,
    Customer,
    ExportJob,
    Location,
    OutgoingMessage,
    Purchase,
    utcnow,
)

MONTHS = 12  # the last twelve months, this one included
TITLE = _l("Customer-base summary")
TIERS = ("A", "B", "C")
MESSAGE_FIGURES = ("sent", "failed", "unsubscribed")


# --- Months in the business's time zone ----------------------------------------------------


def month_starts(now: datetime, months: int = MONTHS) -> list[date]:
    """The first day of each of the last `months` months (this one last), plus next month's."""
    today = now.replace(tzinfo=UTC).astimezone(business_hours.business_zone())
    index = today.year * 12 + today.month - 1 - (months - 1)
    return [date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(months + 1)]


def _utc_boundaries(starts: list[date]) -> list[datetime]:
    """Local midnight on each first of the month, as the naive UTC the database stores."""
    zone = business_hours.business_zone()
    return [
        datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None) for day in starts
    ]


def month_index(column, boundaries: list[datetime]):
    """SQL for the month of the period a UTC timestamp falls in: 0 for the first month, -1
    before the period, len(boundaries) - 1 after it.

    Months begin at local midnight in the business's time zone. SQLite's date functions know
    no time zones (strftime on the stored UTC would put the first hours of a month, summer
    time and all, in the month before), so the boundaries are computed here and compared,
    which reads the same on SQLite and PostgreSQL.
    """
    return Case(
        None,
        [(column < boundary, index - 1) for index, boundary in enumerate(boundaries)],
        len(boundaries) - 1,
    )


def _by_month(query, column, boundaries):
    """Add the month index as the last column, alias month_index, and group by it.

    Grouping by the alias, not the expression: PostgreSQL would not see the CASE repeated
    with fresh parameters in GROUP BY as the same expression as the one selected.
    """
    return query.select_extend(month_index(column, boundaries).alias("month_index")).group_by(
        SQL("month_index")
    )


# --- The figures ------------------------------------------------------------------------------


def _customers(boundaries: list[datetime]) -> dict:
    """New customers and leads per month (by their current kind), and the running totals."""
    query = (
        Customer.active()
        .select((Customer.purchase_count > 0).alias("bought"), fn.COUNT(Customer.id))
        .where(Customer.created_at < boundaries[-1])
    )
    rows = _by_month(query, Customer.created_at, boundaries).group_by_extend(SQL("bought"))
    months = len(boundaries) - 1
    new = {True: [0] * months, False: [0] * months}
    before = {True: 0, False: 0}
    for bought, count, index in rows.tuples():
        if index < 0:
            before[bool(bought)] += count
        else:
            new[bool(bought)][index] += count
    totals = {}
    for kind in (True, False):
        running, totals[kind] = before[kind], []
        for count in new[kind]:
            running += count
            totals[kind].append(running)
    return {
        "new_customers": new[True],
        "new_leads": new[False],
        "customers_total": totals[True],
        "leads_total": totals[False],
    }


def _sales(boundaries: list[datetime]) -> tuple[dict, list[dict]]:
    """Purchases and revenue per month, and per location over the whole period."""
    query = Purchase.select(
        Purchase.location, fn.COUNT(Purchase.id), fn.COALESCE(fn.SUM(Purchase.total), 0)
    ).where((Purchase.purchased_at >= boundaries[0]) & (Purchase.purchased_at < boundaries[-1]))
    rows = _by_month(query, Purchase.purchased_at, boundaries).group_by_extend(Purchase.location)
    months = len(boundaries) - 1
    count_by_month, revenue_by_month = [0] * months, [Decimal("0.00")] * months
    by_location: dict[int | None, list] = {}
    for location_id, count, revenue, index in rows.tuples():
        revenue = Decimal(revenue).quantize(Decimal("0.01"))
        count_by_month[index] += count
        revenue_by_month[index] += revenue
        place = by_location.setdefault(location_id, [0, Decimal("0.00")])
        place[0] += count
        place[1] += revenue
    names = dict(Location.select(Location.id, Location.name).tuples())
    locations = [
        {
            "location_id": location_id,
            "name": names.get(location_id) if location_id else None,  # None: no location
            "purchases": count,
            "revenue": str(revenue),
        }
        for location_id, (count, revenue) in by_location.items()
    ]
    locations.sort(key=lambda row: (-Decimal(row["revenue"]), row["name"] is None, row["name"]))
    return {
        "purchases": count_by_month,
        "revenue": [str(amount) for amount in revenue_by_month],
    }, locations


def _tiers() -> dict:
    """Active customers per stored RFM tier (not recomputed), those not scored yet, and leads."""
    counts = dict.fromkeys((*TIERS, "unscored", "leads"), 0)
    rows = (
        Customer.active()
        .select(Customer.tier, (Customer.purchase_count > 0).alias("bought"), fn.COUNT(Customer.id))
        .group_by(Customer.tier, SQL("bought"))
        .tuples()
    )
    for tier, bought, count in rows:
        if not bought:
            counts["leads"] += count  # leads have no RFM tier, even one set by hand
        elif tier in TIERS:
            counts[tier] += count
        else:
            counts["unscored"] += count
    return counts


def _consent() -> list[dict]:
    """Per active purpose: current consent over active customers, and titles in every language."""
    titles = {language: consent.titles(language) for language in consent.LANGUAGES}
    rows = []
    for row in consent.statistics("en"):
        population = row["granted"] + row["withdrawn"] + row["never_asked"]
        rows.append(
            {
                "purpose_id": row["purpose_id"],
                "titles": {language: titles[language][row["purpose_id"]] for language in titles},
                "granted": row["granted"],
                "withdrawn": row["withdrawn"],
                "never_asked": row["never_asked"],
                "coverage": round(row["granted"] / population, 4) if population else 0.0,
            }
        )
    return rows


def _complaints(boundaries: list[datetime], now: datetime) -> dict:
    """Open and overdue now; opened and rated per month; the average rating over the period."""
    query = Complaint.select(
        fn.COUNT(Complaint.id), fn.COUNT(Complaint.satisfaction), fn.SUM(Complaint.satisfaction)
    ).where((Complaint.opened_at >= boundaries[0]) & (Complaint.opened_at < boundaries[-1]))
    months = len(boundaries) - 1
    opened, rated, score_sum = [0] * months, [0] * months, [0] * months
    for count, rated_count, scores, index in _by_month(
        query, Complaint.opened_at, boundaries
    ).tuples():
        opened[index], rated[index], score_sum[index] = count, rated_count, int(scores or 0)
    ratings = sum(rated)
    return {
        **complaints.open_counts(now),
        "opened": opened,
        "rated": rated,
        "average_rating": [
            round(score / count, 2) if count else None
            for score, count in zip(score_sum, rated, strict=True)
        ],
        "opened_in_period": sum(opened),
        "rated_in_period": ratings,
        "average_rating_in_period": round(sum(score_sum) / ratings, 2) if ratings else None,
    }


def _messages(boundaries: list[datetime]) -> dict:
    """Campaign and automation e-mails: sent, failed and unsubscribes per month; the campaigns
    finished in the period with their results; each automation's totals over the period.

    A message counts in the month it was sent; a failure, which keeps no time of its own, in
    the month it was queued; an unsubscribe in the month the customer clicked.
    """
    months = len(boundaries) - 1
    start, end = boundaries[0], boundaries[-1]
    per_month = {key: [0] * months for key in MESSAGE_FIGURES}
    by_automation: dict[int, dict[str, int]] = {}

    def add(automation_id, key, index, count):
        per_month[key][index] += count
        if automation_id is not None:
            by_automation.setdefault(automation_id, dict.fromkeys(MESSAGE_FIGURES, 0))[key] += count

    moment = fn.COALESCE(OutgoingMessage.sent_at, OutgoingMessage.created_at)
    outcomes = OutgoingMessage.select(
        OutgoingMessage.automation, OutgoingMessage.status, fn.COUNT(OutgoingMessage.id)
    ).where(OutgoingMessage.status.in_(("sent", "failed")) & (moment >= start) & (moment < end))
    for automation_id, status, count, index in (
        _by_month(outcomes, moment, boundaries)
        .group_by_extend(OutgoingMessage.automation, OutgoingMessage.status)
        .tuples()
    ):
        add(automation_id, status, index, count)

    unsubscribes = OutgoingMessage.select(
        OutgoingMessage.automation, fn.COUNT(OutgoingMessage.id)
    ).where((OutgoingMessage.unsubscribed_at >= start) & (OutgoingMessage.unsubscribed_at < end))
    for automation_id, count, index in (
        _by_month(unsubscribes, OutgoingMessage.unsubscribed_at, boundaries)
        .group_by_extend(OutgoingMessage.automation)
        .tuples()
    ):
        add(automation_id, "unsubscribed", index, count)

    return {
        **per_month,
        **{f"{key}_in_period": sum(values) for key, values in per_month.items()},
        "campaigns": _finished_campaigns(start, end),
        "automations": _automation_totals(by_automation),
    }


def _finished_campaigns(start: datetime, end: datetime) -> list[dict]:
    """Campaigns that finished (sent, or cancelled part-way) in the period, with their whole
    results counted as the campaign page counts them (campaigns.figures_of), oldest first."""
    finished = (
        Campaign.select(Campaign.id, Campaign.name, Campaign.status, Campaign.finished_at)
        .where((Campaign.finished_at >= start) & (Campaign.finished_at < end))
        .order_by(Campaign.finished_at, Campaign.id)
    )
    rows = {
        campaign.id: {
            "campaign_id": campaign.id,
            "name": campaign.name,
            "cancelled": campaign.status == "cancelled",
            "finished_at": campaign.finished_at.isoformat(timespec="seconds"),
            **dict.fromkeys(("recipients", "sent", "failed", "unsubscribed"), 0),
        }
        for campaign in finished
    }
    if not rows:
        return []
    # COUNT(unsubscribed_at) counts the messages someone unsubscribed through.
    counts = (
        OutgoingMessage.select(
            OutgoingMessage.campaign,
            OutgoingMessage.status,
            fn.COUNT(OutgoingMessage.id),
            fn.COUNT(OutgoingMessage.unsubscribed_at),
        )
        .where(OutgoingMessage.campaign.in_(list(rows)))
        .group_by(OutgoingMessage.campaign, OutgoingMessage.status)
        .tuples()
    )
    for campaign_id, status, count, unsubscribed in counts:
        row = rows[campaign_id]
        row["recipients"] += count
        row["unsubscribed"] += unsubscribed
        if status in ("sent", "failed"):
            row[status] += count
    for row in rows.values():
        row["unsubscribe_rate"] = (
            round(row["unsubscribed"] / row["sent"], 4) if row["sent"] else None
        )
    return list(rows.values())


def _automation_totals(by_automation: dict[int, dict[str, int]]) -> list[dict]:
    """Every automation active now or with messages in the period, busiest first."""
    automations = Automation.select(Automation.id, Automation.name, Automation.kind).where(
        Automation.active | Automation.id.in_(list(by_automation) or [0])
    )
    rows = [
        {
            "automation_id": automation.id,
            "name": automation.name,
            "kind": automation.kind,
            **by_automation.get(automation.id, dict.fromkeys(MESSAGE_FIGURES, 0)),
        }
        for automation in automations
    ]
    rows.sort(key=lambda row: (-row["sent"], row["name"], row["automation_id"]))
    return rows


def figures(progress=None, now: datetime | None = None, months: int = MONTHS) -> dict:
    """Everything the summary shows, as JSON-ready values (money as decimal strings)."""
    progress = progress or (lambda percent, step: None)
    now = now or utcnow()
    starts = month_starts(now, months)
    boundaries = _utc_boundaries(starts)
    progress(5, _("Counting customers and leads"))
    customers = _customers(boundaries)
    progress(20, _("Adding up purchases"))
    sales, locations = _sales(boundaries)
    progress(35, _("Counting tiers and consent"))
    tiers = _tiers()
    consent_rows = _consent()
    progress(50, _("Counting complaints"))
    complaint_figures = _complaints(boundaries, now)
    progress(55, _("Counting campaign and automation messages"))
    message_figures = _messages(boundaries)
    return {
        "as_of": now.isoformat(timespec="seconds"),
        "currency": settings.get("currency"),
        "months": [day.isoformat()[:7] for day in starts[:-1]],
        "customers": {
            **customers,
            "customers": customers["customers_total"][-1],
            "leads": customers["leads_total"][-1],
        },
        "sales": {
            **sales,
            "purchases_in_period": sum(sales["purchases"]),
            "revenue_in_period": str(sum((Decimal(v) for v in sales["revenue"]), Decimal("0.00"))),
        },
        "locations": locations,
        "tiers": tiers,
        "consent": consent_rows,
        "complaints": complaint_figures,
        "messages": message_figures,
    }


# --- The PDF and the page --------------------------------------------------------------------


def filename(now: datetime) -> str:
    local = now.replace(tzinfo=UTC).astimezone(business_hours.business_zone())
    return f"customer-base-summary-{local.date().isoformat()}.pdf"


def run(job: ExportJob, progress) -> jobs.Result:
    """The background job: the figures, then the PDF; the figures are kept for the web page."""
    data = figures(progress)
    progress(60, _("Drawing the charts and printing the PDF"))
    content = pdf.render("base_summary.html", title=TITLE, **page_context(data, for_print=True))
    return jobs.Result(
        content=content, filename=filename(datetime.fromisoformat(data["as_of"])), data=data
    )


def pending_job() -> ExportJob | None:
    """The newest summary still queued or being made, if any."""
    return (
        ExportJob.select()
        .where((ExportJob.kind == "base_summary") & ExportJob.status.in_(("queued", "running")))
        .order_by(ExportJob.id.desc())
        .first()
    )


class Formats:
    """Numbers, money, shares and months written for the current locale, for the charts partial.

    Axis labels are compact (€12K, 1,2 тыс. €) so they fit beside the chart; tables give the
    exact figures.
    """

    def __init__(self, currency: str):
        self.currency = currency

    def number(self, value) -> str:
        return format_decimal(value)

    def money(self, value) -> str:
        return format_currency(Decimal(value or 0), self.currency)

    def money_compact(self, value) -> str:
        return format_compact_currency(value, self.currency, locale=get_locale(), fraction_digits=1)

    def number_compact(self, value) -> str:
        return format_compact_decimal(value, locale=get_locale(), fraction_digits=1)

    def percent(self, value) -> str:
        """A share with one decimal (37.5 %), in the locale's own percent pattern."""
        head, tail = get_locale().percent_formats[None].pattern.rsplit("0", 1)
        return format_percent(value or 0, f"{head}0.0{tail}")

    def rating(self, value) -> str:
        return "–" if value is None else format_decimal(value, "0.0")

    def month(self, iso_month: str, skeleton: str = "yMMMM") -> str:
        """'2026-03' as "March 2026" (yMMMM) or "3/2026" (yMM), in the current locale."""
        year, month = iso_month.split("-")
        return format_skeleton(skeleton, date(int(year), int(month), 1), locale=get_locale())

    def period(self, iso_months: list[str]) -> str:
        """The months from first to last as the locale writes a range ("December 2025 –
        November 2026", "2025年12月至2026年11月")."""
        first, last = (
            date.fromisoformat(f"{month}-01") for month in (iso_months[0], iso_months[-1])
        )
        return format_interval(first, last, "yMMMM", locale=get_locale())

    def months(self, iso_months: list[str], skeleton: str = "yMMMM") -> list[str]:
        return [self.month(iso_month, skeleton) for iso_month in iso_months]

    def axis_months(self, iso_months: list[str]) -> list[str]:
        """Short month names (Dec, дек., 12月) under a chart: a year has each one once, and
        the page says which year; a longer period needs the year in each label."""
        if len(iso_months) > 12:
            return self.months(iso_months, "yMM")
        return [
            format_date(date.fromisoformat(f"{iso_month}-01"), "LLL") for iso_month in iso_months
        ]

    def day(self, iso_moment: str) -> str:
        """A stored UTC moment ('2026-05-04T18:30:00') as its date in the business's zone."""
        moment = datetime.fromisoformat(iso_moment).replace(tzinfo=UTC)
        return format_date(moment.astimezone(business_hours.business_zone()).date(), "medium")

    def share(self, value) -> str:
        """A share as percent, or a dash where there is nothing to divide by."""
        return "–" if value is None else self.percent(value)

    def title(self, titles: dict[str, str]) -> str:
        """A consent purpose's title in the current language, else in English."""
        return titles.get(get_locale().language) or titles.get("en", "")


def page_context(data: dict | None, *, for_print: bool = False) -> dict:
    """What templates/reports/_summary_charts.html needs beside the figures."""
    if data is None:
        return {"summary": None}
    return {
        "summary": data,
        "for_print": for_print,
        "as_of": datetime.fromisoformat(data["as_of"]),
        "charts": charts,
        "formats": Formats(data["currency"]),
    }
