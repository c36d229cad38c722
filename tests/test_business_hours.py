"""Complaint clocks count business hours: opening hours per weekday, holidays, the business
time zone and its summer-time changes. All dates are fixed; times in and out are naive UTC."""

from datetime import datetime, timedelta

import pytest

from portal import settings
from portal.business_hours import business_hours_between, due_after, response_hours

WEEKDAYS_9_TO_18 = {str(day): ["09:00", "18:00"] for day in range(5)}


@pytest.fixture
def business(app):
    """Run in the app with a time zone and opening hours the test chooses."""

    def configure(zone="UTC", hours=None, holidays=()):
        app.config["BABEL_DEFAULT_TIMEZONE"] = zone
        schedule = {str(day): None for day in range(7)}
        schedule.update(WEEKDAYS_9_TO_18 if hours is None else hours)
        settings.put("opening_hours", schedule)
        settings.put("holidays", list(holidays))

    with app.app_context():
        yield configure


def test_the_clock_stops_overnight(business):
    business()
    monday_17 = datetime(2026, 3, 2, 17, 0)  # one hour before closing
    assert due_after(monday_17, 3) == datetime(2026, 3, 3, 11, 0)
    assert business_hours_between(monday_17, datetime(2026, 3, 3, 11, 0)) == 3


def test_a_complaint_opened_before_opening_starts_counting_at_opening(business):
    business()
    assert due_after(datetime(2026, 3, 2, 6, 15), 1) == datetime(2026, 3, 2, 10, 0)
    assert business_hours_between(datetime(2026, 3, 2, 6, 15), datetime(2026, 3, 2, 8, 59)) == 0


def test_weekends_follow_their_own_hours(business):
    business(hours={**WEEKDAYS_9_TO_18, "5": ["10:00", "14:00"]})  # Saturday short, Sunday shut
    friday_16 = datetime(2026, 3, 6, 16, 0)
    # Friday 2 h, Saturday 4 h, Sunday closed, Monday from 9:00 the last 2 h.
    assert due_after(friday_16, 8) == datetime(2026, 3, 9, 11, 0)
    assert business_hours_between(friday_16, datetime(2026, 3, 9, 0, 0)) == 6


def test_holidays_are_closed_days(business):
    business(holidays=["2026-12-24", "2026-12-25"])
    wednesday_17 = datetime(2026, 12, 23, 17, 0)
    # Wednesday 1 h; Thursday and Friday are holidays; the weekend is closed; Monday 9:00 +1 h.
    assert due_after(wednesday_17, 2) == datetime(2026, 12, 28, 10, 0)
    assert business_hours_between(wednesday_17, datetime(2026, 12, 28, 0, 0)) == 1


def test_hours_are_read_in_the_business_time_zone(business):
    business(zone="Europe/Warsaw")
    # Winter, UTC+1: 07:30 UTC is 08:30 in Warsaw, half an hour before opening.
    assert due_after(datetime(2026, 1, 12, 7, 30), 1) == datetime(2026, 1, 12, 9, 0)
    # Summer, UTC+2: opening at 09:00 in Warsaw is 07:00 UTC.
    assert due_after(datetime(2026, 7, 13, 5, 0), 1) == datetime(2026, 7, 13, 8, 0)
    # 17:30 UTC on a winter Monday is 18:30 in Warsaw: already closed.
    assert business_hours_between(datetime(2026, 1, 12, 17, 30), datetime(2026, 1, 12, 23, 0)) == 0


def test_a_weekend_with_the_spring_clock_change(business):
    business(zone="Europe/Warsaw")
    friday_17_local = datetime(2026, 3, 27, 16, 0)  # UTC+1 until Sunday 29 March, 02:00
    # Friday 1 h; on Monday Warsaw is UTC+2, so 10:00 there is 08:00 UTC.
    assert due_after(friday_17_local, 2) == datetime(2026, 3, 30, 8, 0)


def test_a_day_with_a_clock_change_counts_the_hours_that_really_pass(business):
    # Open on Sundays from midnight to noon: on 29 March 2026 that is 11 hours, on 25 October 13.
    business(zone="Europe/Warsaw", hours={"6": ["00:00", "12:00"]})
    spring_opens, spring_closes = datetime(2026, 3, 28, 23, 0), datetime(2026, 3, 29, 10, 0)
    assert business_hours_between(spring_opens, spring_closes) == 11
    assert due_after(spring_opens, 11) == spring_closes
    autumn_opens, autumn_closes = datetime(2026, 10, 24, 22, 0), datetime(2026, 10, 25, 11, 0)
    assert business_hours_between(autumn_opens, autumn_closes) == 13
    assert due_after(autumn_opens, 13) == autumn_closes


@pytest.mark.parametrize(
    "start", [datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 6, 17, 45), datetime(2026, 3, 28, 3, 7)]
)
@pytest.mark.parametrize("hours", [0.25, 1, 4, 8.5, 40, 80])
def test_hours_between_a_start_and_its_due_date_are_the_hours_given(business, start, hours):
    business(zone="Europe/Warsaw", hours={**WEEKDAYS_9_TO_18, "5": ["10:00", "14:00"]})
    due = due_after(start, hours)
    assert business_hours_between(start, due) == pytest.approx(hours, abs=1e-6)
    # A pause splits the clock without losing or adding time (how waiting time is handed back).
    middle = start + (due - start) / 3
    split = business_hours_between(start, middle) + business_hours_between(middle, due)
    assert split == pytest.approx(hours, abs=1e-6)


def test_nothing_passes_backwards_and_zero_hours_are_due_at_once(business):
    business()
    start = datetime(2026, 3, 2, 12, 0)
    assert business_hours_between(start, start - timedelta(hours=5)) == 0
    assert due_after(start, 0) == start


def test_response_hours_come_from_the_owner_settings(business):
    business()
    assert response_hours("critical") == (1.0, 8.0)  # the defaults
    assert response_hours("low") == (24.0, 80.0)
    settings.put(
        "complaint_response_hours",
        {"low": [48, 120], "medium": [8, 40], "high": [2.5, 10], "critical": [1, 4]},
    )
    assert response_hours("high") == (2.5, 10.0)
    assert response_hours("low") == (48.0, 120.0)
