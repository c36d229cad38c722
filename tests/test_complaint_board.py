"""The complaints board: columns by status or assignee, overdue first, filters and counts; the
dashboard's open and overdue counts; complaints on the customer's timeline."""

from datetime import datetime, timedelta

import pytest

from portal import complaint_board
from portal.complaint_board import BoardFilters
from portal.extensions import db
from portal.models import Complaint, Location, utcnow
from tests.factories import make_customer

NOW = datetime(2026, 3, 10, 12, 0)
HOUR = timedelta(hours=1)


def make_complaint(
    customer, subject, *, status="new", due_in=48, first_due_in=None, at=NOW, **fields
):
    """A complaint opened a day before `at`, its resolution due `due_in` hours after `at`."""
    first_due_in = due_in if first_due_in is None else first_due_in
    return Complaint.create(
        customer=customer,
        subject=subject,
        status=status,
        opened_at=at - 24 * HOUR,
        first_response_due_at=at + first_due_in * HOUR,
        due_at=at + due_in * HOUR,
        **fields,
    )


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak")


def column(columns, key):
    return next(c for c in columns if c.key == key)


def subjects(col):
    return [c.subject for c in col.cards]


def test_status_columns_hide_closed_until_asked(anna):
    for status in Complaint.STATUSES:
        make_complaint(anna, f"one {status}", status=status)
    columns = complaint_board.board(BoardFilters(), now=NOW)
    assert [c.key for c in columns] == ["new", "in_progress", "waiting_for_customer", "resolved"]
    assert all(c.count == 1 for c in columns)
    with_closed = complaint_board.board(BoardFilters(show_closed=True), now=NOW)
    assert subjects(column(with_closed, "closed")) == ["one closed"]


def test_overdue_first_then_by_due_date(anna):
    make_complaint(anna, "due in two days", due_in=48)
    make_complaint(anna, "due tomorrow", due_in=24)
    make_complaint(anna, "late by an hour", due_in=-1)
    make_complaint(anna, "first answer late", due_in=72, first_due_in=-5)
    make_complaint(anna, "late by a day", due_in=-24)
    new = column(complaint_board.board(BoardFilters(), now=NOW), "new")
    assert subjects(new) == [
        "late by a day",
        "first answer late",  # its pending deadline is the first response, 5 hours ago
        "late by an hour",
        "due tomorrow",
        "due in two days",
    ]
    assert new.count == 5 and new.overdue == 3


def test_waiting_for_the_customer_is_never_overdue(anna):
    make_complaint(anna, "paused", status="waiting_for_customer", due_in=-10)
    waiting = column(complaint_board.board(BoardFilters(), now=NOW), "waiting_for_customer")
    assert waiting.count == 1 and waiting.overdue == 0


def test_by_assignee_with_an_unassigned_column(anna, staff_member, owner):
    make_complaint(anna, "nobody's", due_in=5)
    make_complaint(anna, "Sam's", assignee=staff_member)
    make_complaint(anna, "Olga's late", assignee=owner, due_in=-2)
    make_complaint(anna, "Olga's", assignee=owner, due_in=2)
    make_complaint(anna, "Olga's old one", assignee=owner, status="closed")
    columns = complaint_board.board(BoardFilters(), group_by="assignee", now=NOW)
    assert [(c.key, c.title) for c in columns] == [
        ("unassigned", ""),
        (str(owner.id), "Olga Owner"),
        (str(staff_member.id), "Sam Staff"),
    ]
    assert subjects(columns[0]) == ["nobody's"]
    assert subjects(columns[1]) == ["Olga's late", "Olga's"]
    assert columns[1].overdue == 1


def test_filters_by_category_severity_and_location(anna):
    shop = Location.create(name="Harbour Street")
    make_complaint(anna, "match", category="delivery", severity="high", location=shop)
    make_complaint(anna, "other category", category="billing", severity="high", location=shop)
    make_complaint(anna, "other severity", category="delivery", severity="low", location=shop)
    make_complaint(anna, "no location", category="delivery", severity="high")
    filters = BoardFilters(category="delivery", severity="high", location_id=shop.id)
    columns = complaint_board.board(filters, now=NOW)
    assert subjects(column(columns, "new")) == ["match"]
    assert sum(c.count for c in columns) == 1


def test_each_column_is_capped_and_says_how_many_more(anna):
    for hours in range(7):
        make_complaint(anna, f"due in {hours}", due_in=hours + 1)
    make_complaint(anna, "late", due_in=-1)
    new = column(complaint_board.board(BoardFilters(), now=NOW, cap=3), "new")
    assert subjects(new) == ["late", "due in 0", "due in 1"]
    assert new.count == 8 and new.more == 5


# --- The page ---------------------------------------------------------------------------


def test_board_page_shows_columns_counts_and_cards(staff_client, anna):
    make_complaint(anna, "Teapot lid cracked", due_in=-3, severity="high", at=utcnow())
    make_complaint(anna, "Order arrived late", status="in_progress", at=utcnow())
    response = staff_client.get("/complaints")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Teapot lid cracked" in html and "Order arrived late" in html
    assert 'id="column-new-heading"' in html and "1 overdue" in html
    assert "Anna Nowak" in html


def test_owners_see_the_board_too(owner_client, anna):
    make_complaint(anna, "Charged twice", at=utcnow())
    assert "Charged twice" in owner_client.get("/complaints").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/complaints")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_filter_form_narrows_the_board_and_htmx_gets_only_the_board(staff_client, anna):
    make_complaint(anna, "Critical one", severity="critical", at=utcnow())
    make_complaint(anna, "Low one", severity="low", at=utcnow())
    response = staff_client.get("/complaints?severity=critical", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "Critical one" in html and "Low one" not in html
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]


def test_grouping_by_assignee_on_the_page(staff_client, anna, staff_member):
    make_complaint(anna, "Sam's complaint", assignee=staff_member, at=utcnow())
    html = staff_client.get("/complaints?group_by=assignee").get_data(as_text=True)
    assert "Unassigned" in html and 'id="column-unassigned-heading"' in html
    assert f'id="column-{staff_member.id}-heading"' in html


@pytest.mark.parametrize(
    "query",
    ["severity=apocalyptic", "category=%3Cscript%3E", "location=abc", "group_by=mood"],
)
def test_invalid_filters_get_a_message_and_change_nothing(staff_client, anna, query):
    make_complaint(anna, "Still here", at=utcnow())
    response = staff_client.get(f"/complaints?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error"' in html and "Some filters are not valid" in html
    assert "<script>" not in html


def test_board_needs_the_same_queries_for_many_complaints(staff_client, anna, staff_member):
    def statements():
        executed = []
        original = db.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            executed.append(sql)
            return original(sql, params, *args, **kwargs)

        db.obj.execute_sql = counting
        try:
            response = staff_client.get("/complaints?group_by=assignee")
        finally:
            db.obj.execute_sql = original
        assert response.status_code == 200
        return len(executed)

    make_complaint(anna, "first", at=utcnow())
    few = statements()
    for i in range(20):
        customer = make_customer(f"Extra{i}", "Kowalski")
        make_complaint(customer, f"more {i}", assignee=staff_member if i % 2 else None, at=utcnow())
    assert statements() == few


# --- Dashboard and timeline -------------------------------------------------------------


def test_dashboard_shows_open_and_overdue_complaints(staff_client, anna):
    make_complaint(anna, "late", due_in=-2, at=utcnow())
    make_complaint(anna, "in time", status="in_progress", at=utcnow())
    make_complaint(anna, "paused", status="waiting_for_customer", due_in=-2, at=utcnow())
    make_complaint(anna, "done", status="resolved", due_in=-2, at=utcnow())
    html = staff_client.get("/").get_data(as_text=True)
    figures = html[html.index('class="figures"') :]
    assert "Open complaints</dt><dd><a" in figures
    assert '/complaints">3</a>' in figures  # new, in progress and waiting are open
    assert 'class="figure-overdue"><dt>Overdue complaints</dt><dd><a href="/complaints">1</a>' in (
        figures
    )


def test_profile_timeline_shows_complaints_with_status_severity_and_overdue(staff_client, anna):
    late = make_complaint(anna, "Teapot lid cracked", due_in=-3, severity="high", at=utcnow())
    make_complaint(anna, "Order arrived late", status="resolved", severity="low", at=utcnow())
    html = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)
    entry = html[html.index(f'id="entry-c{late.id}"') :]
    entry = entry[: entry.index("</li>")]
    assert f'href="/complaints/{late.id}"' in entry and "Teapot lid cracked" in entry
    assert "Overdue" in entry and "New" in entry and "High severity" in entry
    assert "Order arrived late" in html and "Resolved" in html
    settled = html[html.index("Order arrived late") :]
    assert "Overdue" not in settled[: settled.index("</li>")]
