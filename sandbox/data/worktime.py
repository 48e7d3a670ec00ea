"""The sales team's business calendar: Mon–Fri 9:00–17:00 America/New_York, optionally minus US holidays.

The generator plants SLA breaches measured in business minutes. Whether an auditor's calendar skips public
holidays is a configuration choice of the pipeline, so the generator places touches such that a touch is
"within SLA" or "late" under both calendars: on-time delays are measured without skipping holidays (the
larger count), late delays with skipping them (the smaller count).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TIMEZONE = ZoneInfo("America/New_York")
OPENS = time(9, 0)
CLOSES = time(17, 0)
DAY_MINUTES = 8 * 60


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year))


def is_workday(day: date, *, skip_holidays: bool) -> bool:
    return day.weekday() < 5 and not (skip_holidays and day in _holidays(day.year))


def _window(day: date) -> tuple[datetime, datetime]:
    return datetime.combine(day, OPENS, TIMEZONE), datetime.combine(day, CLOSES, TIMEZONE)


def add_business_minutes(start: datetime, minutes: float, *, skip_holidays: bool) -> datetime:
    """The instant ``minutes`` business minutes after ``start`` (outside hours counts from the next opening)."""
    local = start.astimezone(TIMEZONE)
    day = local.date()
    remaining = max(0.0, minutes)
    while True:
        if is_workday(day, skip_holidays=skip_holidays):
            opens, closes = _window(day)
            cursor = max(local, opens)
            if cursor < closes:
                available = (closes - cursor).total_seconds() / 60
                if remaining <= available:
                    # Whole seconds: Salesforce stores no fractions, so generated facts match what APIs return.
                    return (cursor + timedelta(minutes=remaining)).astimezone(UTC).replace(microsecond=0)
                remaining -= available
        day += timedelta(days=1)
        local = datetime.combine(day, time(0), TIMEZONE)


def business_minutes_between(start: datetime, end: datetime, *, skip_holidays: bool) -> float:
    if end <= start:
        return 0.0
    local_start, local_end = start.astimezone(TIMEZONE), end.astimezone(TIMEZONE)
    day, total = local_start.date(), 0.0
    while day <= local_end.date():
        if is_workday(day, skip_holidays=skip_holidays):
            opens, closes = _window(day)
            lo, hi = max(opens, local_start), min(closes, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return total


def local_date(instant: datetime) -> date:
    """The calendar date in the team's time zone (Salesforce date fields follow the org's time zone)."""
    return instant.astimezone(TIMEZONE).date()
