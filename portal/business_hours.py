"""Business-hours arithmetic: complaint clocks run only while the business is open.

Opening hours per weekday and holidays come from settings and are read in the business time
zone (config TIMEZONE, the same zone pages show times in). Callers pass and receive naive UTC,
as the database stores it. Each day's window is converted to UTC on its own, so a day that
changes to or from summer time counts the hours that really pass.
"""

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from . import settings

SEVERITIES = ("low", "medium", "high", "critical")
# A schedule with no open day (or a year of holidays) would never end a clock: after this
# many days without an opening window, the hours count on the calendar instead.
SEARCH_DAYS = 366 * 2


def business_zone() -> ZoneInfo:
    """The business time zone: the app's configured zone, or TIMEZONE outside an app."""
    if has_app_context():
        name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"
    else:
        name = os.environ.get("TIMEZONE", "UTC")
    return ZoneInfo(name)


def due_after(start_utc: datetime, hours: float) -> datetime:
    """The moment `hours` business hours after start_utc (naive UTC in and out)."""
    remaining = timedelta(hours=hours)
    if remaining <= timedelta(0):
        return start_utc
    for opens, closes in windows_from(start_utc):
        begin = max(opens, start_utc)
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    # No opening window at all: count calendar hours rather than never falling due.
    return start_utc + timedelta(hours=hours)


def business_hours_between(start_utc: datetime, end_utc: datetime) -> float:
    """Business hours that pass from start_utc to end_utc (0 when end is not after start)."""
    if end_utc <= start_utc:
        return 0.0
    total = timedelta(0)
    seen_a_window = False
    for opens, closes in windows_from(start_utc):
        seen_a_window = True
        if opens >= end_utc:
            break
        total += min(closes, end_utc) - max(opens, start_utc)
    if not seen_a_window:
        # The same fallback as due_after: without opening windows, calendar hours count.
        total = end_utc - start_utc
    return total / timedelta(hours=1)


def response_hours(severity: str) -> tuple[float, float]:
    """(first response, resolution) in business hours for a complaint of this severity."""
    defaults = settings.DEFAULTS["complaint_response_hours"]
    configured = settings.get("complaint_response_hours") or {}
    first, resolution = configured.get(severity) or defaults.get(severity) or defaults["medium"]
    return float(first), float(resolution)


# --- Schedule ---------------------------------------------------------------------------


def parse_time(text: str) -> time:
    """ "09:30" (or "9:30") → time(9, 30); raises ValueError for anything else."""
    hours, minutes = text.split(":")
    if not (hours.isdigit() and minutes.isdigit() and len(hours) in (1, 2) and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


def opening_hours() -> dict[int, tuple[time, time] | None]:
    """Weekday (Monday=0) → (opens, closes) local times, or None when closed."""
    stored = settings.get("opening_hours") or {}
    schedule = {}
    for weekday in range(7):
        hours = stored.get(str(weekday))
        schedule[weekday] = (parse_time(hours[0]), parse_time(hours[1])) if hours else None
    return schedule


def holidays() -> set[date]:
    return {date.fromisoformat(day) for day in settings.get("holidays") or []}


def windows_from(start_utc: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Opening windows as naive UTC (opens, closes), in order, from the one holding start_utc."""
    zone = business_zone()
    schedule = opening_hours()
    closed_days = holidays()
    if not any(schedule.values()):
        return
    day = start_utc.replace(tzinfo=UTC).astimezone(zone).date()
    for _ in range(SEARCH_DAYS):
        hours = schedule[day.weekday()]
        if hours and day not in closed_days:
            opens, closes = (_to_utc(day, moment, zone) for moment in hours)
            if closes > start_utc:
                yield opens, closes
        day += timedelta(days=1)


def _to_utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, moment, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)
