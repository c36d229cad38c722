"""Retention (SPEC 6.4): find people kept past their retention period, report why, erase them.

Three kinds of finding:

* lead: never bought, no current consent for any purpose, no activity for
  `retention_lead_months` (last activity, else when the record was made);
* customer: last purchase, and any activity since, older than `retention_customer_years`.
  They are *erased* like anyone else: erase() already anonymises what the business must keep
  (sales, for accounting), so "anonymise" and "erase" are the same operation here;
* requested: an erasure the customer asked for and confirmed, whose grace period is over.

People with an erasure request on hold (the owner recorded a lawful reason) are reported as
kept and never swept. The sweep reads customers in id order a chunk at a time (keyset), so a
million customers never sit in memory; applying erases each through erasure.erase_records()
in its own transaction, which skips anyone a concurrent run already erased, and clears the
freed bytes once at the end. Safe to run from cron: a second run finds nothing new.
"""

import calendar
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from peewee import fn

from . import audit, erasure, settings
from .models import ConsentEvent, Customer, ErasureRequest, utcnow

CHUNK = 1000
ROWS_KEPT = 200  # findings a report lists; the counts cover all of them
CATEGORIES = ("lead", "customer", "requested")


@dataclass(frozen=True)
class Finding:
    customer_id: int
    category: str  # lead, customer, requested
    since: datetime  # last activity, last purchase, or the end of the grace period
    action: str  # erase, keep (an erasure hold), erased (applied), skipped (erased meanwhile)


@dataclass
class Report:
    now: datetime
    lead_months: int
    customer_years: int
    lead_cutoff: datetime
    customer_cutoff: datetime
    counts: Counter = field(default_factory=Counter)  # per category, to erase
    kept: int = 0  # on hold for a lawful reason
    erased: int = 0  # applied
    rows: list[Finding] = field(default_factory=list)  # the first ROWS_KEPT findings
    applied: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def more_rows(self) -> int:
        return self.total + self.kept - len(self.rows)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the month's last)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _no_current_grant():
    """A condition on Customer: no purpose's latest consent event is a grant."""
    event, later = ConsentEvent.alias("event"), ConsentEvent.alias("later")
    newer = later.select(later.id).where(
        (later.customer == event.customer)
        & (later.purpose == event.purpose)
        & (
            (later.occurred_at > event.occurred_at)
            | ((later.occurred_at == event.occurred_at) & (later.id > event.id))
        )
    )
    grant = event.select(event.id).where(
        (event.customer == Customer.id) & event.granted & ~fn.EXISTS(newer)
    )
    return ~fn.EXISTS(grant)


def _stale_leads(cutoff: datetime):
    last = fn.COALESCE(Customer.last_activity_at, Customer.created_at)
    return (
        Customer.active()
        .select(Customer.id, last.alias("since"))
        .where((Customer.purchase_count == 0) & (last < cutoff) & _no_current_grant())
    )


def _lapsed_customers(cutoff: datetime):
    return (
        Customer.active()
        .select(Customer.id, Customer.last_purchase_at.alias("since"))
        .where(
            (Customer.purchase_count > 0)
            & (Customer.last_purchase_at < cutoff)
            & (fn.COALESCE(Customer.last_activity_at, Customer.last_purchase_at) < cutoff)
        )
    )


def _due_requests(now: datetime):
    """Self-service requests the customer confirmed, past their grace period. Requests staff
    recorded wait for the owner's decision on the erasure page."""
    return (
        Customer.select(Customer.id, ErasureRequest.execute_after.alias("since"))
        .join(ErasureRequest, on=ErasureRequest.customer_id == Customer.id)
        .where(
            Customer.erased_at.is_null()
            & (ErasureRequest.status == "pending")
            & (ErasureRequest.requested_by_type == "customer")
            & (ErasureRequest.execute_after <= now)
        )
    )


def _held_ids() -> set[int]:
    """Customers whose erasure request is on hold for a lawful reason (a handful)."""
    return {
        r.customer_id
        for r in ErasureRequest.select(ErasureRequest.customer_id).where(
            ErasureRequest.status == "on_hold"
        )
    }


def _keyset(query) -> Iterator[list[tuple[int, datetime]]]:
    """The query's (id, since) rows in id order, CHUNK at a time."""
    after = 0
    while True:
        chunk = list(query.where(Customer.id > after).order_by(Customer.id).limit(CHUNK).tuples())
        if not chunk:
            return
        yield chunk
        after = chunk[-1][0]


def _as_datetime(value) -> datetime:
    # COALESCE loses the column type on SQLite: it comes back as text.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def sweep(
    now: datetime | None = None, apply: bool = False, *, staff_id: int | None = None
) -> Report:
    """Find (and with apply=True erase) everyone past their retention period."""
    now = now or utcnow()
    lead_months = int(settings.get("retention_lead_months"))
    customer_years = int(settings.get("retention_customer_years"))
    report = Report(
        now=now,
        lead_months=lead_months,
        customer_years=customer_years,
        lead_cutoff=months_before(now, lead_months),
        customer_cutoff=months_before(now, 12 * customer_years),
        applied=apply,
    )
    held = _held_ids()
    seen: set[int] = set()  # a person is one finding, under the first category found
    queries = {
        "requested": _due_requests(now),
        "lead": _stale_leads(report.lead_cutoff),
        "customer": _lapsed_customers(report.customer_cutoff),
    }
    ledger = erasure.Ledger.current() if apply else None
    for category, query in queries.items():
        for chunk in _keyset(query):
            findings = []
            for customer_id, since in chunk:
                if customer_id in seen:
                    continue
                seen.add(customer_id)
                action = "keep" if customer_id in held else "erase"
                findings.append(Finding(customer_id, category, _as_datetime(since), action))
            if apply:
                findings = _apply(findings, category, staff_id, ledger)
            for finding in findings:
                if finding.action == "keep":
                    report.kept += 1
                elif finding.action != "skipped":
                    report.counts[category] += 1
                report.erased += finding.action == "erased"
                if len(report.rows) < ROWS_KEPT:
                    report.rows.append(finding)
    if apply and report.erased:
        erasure.clear_freed_bytes()
    return report


def _apply(findings: list[Finding], category: str, staff_id, ledger) -> list[Finding]:
    """Erase a chunk's findings, each in its own transaction; one audit event per chunk."""
    done, erased_ids = [], []
    for finding in findings:
        if finding.action != "erase":
            done.append(finding)
            continue
        receipt = erasure.erase_records(
            finding.customer_id,
            staff_id=staff_id,
            trigger="retention" if category != "requested" else "request",
            ledger=ledger,
            audit_extra={"retention_category": category},
        )
        action = "erased" if receipt else "skipped"  # erased by a concurrent run meanwhile
        done.append(Finding(finding.customer_id, category, finding.since, action))
        if receipt:
            erased_ids.append(finding.customer_id)
    if erased_ids:
        audit.record(
            "retention_swept",
            actor_type="staff" if staff_id else "system",
            actor_id=staff_id,
            customer_ids=erased_ids,
            category=category,
        )
    return done
