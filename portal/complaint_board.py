"""The complaints board: open complaints in columns by status or by assignee, overdue first.

Two queries whatever the number of complaints: one counts each column (and its overdue
complaints), one reads the first COLUMN_CAP cards of every column with their customer and
assignee. The cap is applied in SQL with ROW_NUMBER() so a column of thousands of closed
complaints costs no more than a column of ten.
"""

from dataclasses import dataclass, field
from datetime import datetime

from peewee import JOIN, Case, fn

from . import complaints
from .models import Complaint, Customer, StaffAccount, utcnow

COLUMN_CAP = 50
GROUPINGS = ("status", "assignee")
# Closed complaints are history, not work: shown only when asked for.
WORKING_STATUSES = ("new", "in_progress", "waiting_for_customer", "resolved")
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class BoardFilters:
    category: str = ""
    severity: str = ""
    location_id: int | None = None
    show_closed: bool = False

    @property
    def statuses(self) -> tuple[str, ...]:
        return Complaint.STATUSES if self.show_closed else WORKING_STATUSES


@dataclass
class Column:
    """One column: key is a status code, a staff account id, or UNASSIGNED."""

    key: str
    title: str = ""  # the assignee's name; status columns are named by the template
    count: int = 0
    overdue: int = 0
    cards: list[Complaint] = field(default_factory=list)

    @property
    def more(self) -> int:
        """How many complaints of this column are not shown as cards."""
        return self.count - len(self.cards)


def _next_deadline_sql():
    """The first response deadline while it is pending, else the resolution deadline."""
    return Case(
        None,
        [
            (
                Complaint.first_responded_at.is_null()
                & Complaint.first_response_due_at.is_null(False),
                Complaint.first_response_due_at,
            )
        ],
        Complaint.due_at,
    )


def _column_key_sql(group_by: str):
    return Complaint.status if group_by == "status" else Complaint.assignee


def _conditions(filters: BoardFilters) -> list:
    conditions = [Complaint.status.in_(filters.statuses)]
    if filters.category:
        conditions.append(Complaint.category == filters.category)
    if filters.severity:
        conditions.append(Complaint.severity == filters.severity)
    if filters.location_id is not None:
        conditions.append(Complaint.location == filters.location_id)
    return conditions


def _key(value) -> str:
    return UNASSIGNED if value is None else str(value)


def board(
    filters: BoardFilters,
    *,
    group_by: str = "status",
    now: datetime | None = None,
    cap: int = COLUMN_CAP,
) -> list[Column]:
    """The board's columns, each with its count and its first `cap` cards, overdue first."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown board grouping {group_by!r}")
    now = now or utcnow()
    conditions = _conditions(filters)
    key_sql = _column_key_sql(group_by)
    overdue = complaints.overdue_condition(now)
    deadline = _next_deadline_sql()

    columns = _empty_columns(filters, group_by)
    counted = (
        Complaint.select(
            key_sql.alias("key"),
            fn.COUNT(Complaint.id).alias("count"),
            fn.SUM(Case(None, [(overdue, 1)], 0)).alias("overdue"),
        )
        .where(*conditions)
        .group_by(key_sql)
        .tuples()
    )
    for key, count, overdue_count in counted:
        column = columns.setdefault(_key(key), Column(_key(key)))
        column.count, column.overdue = count, int(overdue_count or 0)

    ranked = (
        Complaint.select(
            Complaint.id,
            fn.ROW_NUMBER()
            .over(
                partition_by=[key_sql],
                order_by=[
                    Case(None, [(overdue, 0)], 1),
                    Case(None, [(deadline.is_null(), 1)], 0),
                    deadline,
                    Complaint.id,
                ],
            )
            .alias("position"),
        )
        .where(*conditions)
        .alias("ranked")
    )
    cards = (
        Complaint.select(
            Complaint, Customer.id, Customer.display_name, StaffAccount.id, StaffAccount.name
        )
        .join(ranked, on=(Complaint.id == ranked.c.id))
        .switch(Complaint)
        .join(Customer)
        .switch(Complaint)
        .join(StaffAccount, JOIN.LEFT_OUTER)
        .where(ranked.c.position <= cap)
    )
    for complaint in cards:
        key = _key(complaint.status if group_by == "status" else complaint.assignee_id)
        column = columns.setdefault(key, Column(key))
        column.cards.append(complaint)
        if group_by == "assignee" and complaint.assignee_id and not column.title:
            column.title = complaint.assignee.name

    for column in columns.values():
        column.cards.sort(key=lambda c: _card_order(c, now))
    return _ordered(columns, group_by)


def _card_order(complaint: Complaint, now: datetime) -> tuple:
    pending_first = complaint.first_responded_at is None and complaint.first_response_due_at
    deadline = complaint.first_response_due_at if pending_first else complaint.due_at
    return (
        not complaints.is_overdue(complaint, now),
        deadline is None,
        deadline or now,
        complaint.id,
    )


def _empty_columns(filters: BoardFilters, group_by: str) -> dict[str, Column]:
    """Columns shown even when empty: every status on view, or unassigned and active staff."""
    if group_by == "status":
        return {status: Column(status) for status in filters.statuses}
    columns = {UNASSIGNED: Column(UNASSIGNED)}
    staff = StaffAccount.select(StaffAccount.id, StaffAccount.name).where(StaffAccount.active)
    for account in staff.order_by(StaffAccount.name, StaffAccount.id):
        columns[str(account.id)] = Column(str(account.id), title=account.name)
    return columns


def _ordered(columns: dict[str, Column], group_by: str) -> list[Column]:
    if group_by == "status":
        return [columns[s] for s in Complaint.STATUSES if s in columns]
    # Unassigned first, active staff by name, then former staff who still hold complaints.
    return list(columns.values())
