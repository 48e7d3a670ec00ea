"""Exact business-time arithmetic over a team's calendar: weekly working hours, public holidays, time zone.

Every day's working windows are built as wall-clock times in the calendar's zone and turned into UTC instants
before any arithmetic, so:
  - DST changes are exact (a 00:00-24:00 day is 23 h in March and 25 h in November; a 9-17 day stays 8 h);
  - timestamps in any other zone (a lead stamped in Europe/Berlin) are simply other spellings of an instant;
  - the cost is O(days spanned), never O(minutes).
Naive datetimes are refused: a timestamp without a zone is ambiguous by up to a day.

Rules at the edges: windows are half-open [open, close), so a lead arriving at exactly 17:00 arrived outside
hours; adding minutes to an instant outside hours starts counting at the next opening; a deadline that uses
up a window exactly falls on that window's close (16:00 + 60 min = 17:00 the same day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from pipelines.funnel.model import CalendarSpec

_UTC = UTC
_MAX_SEARCH_DAYS = 3660  # ten years without a single working minute means the calendar is unusable


class BusinessCalendar:
    def __init__(
        self,
        tz: str | ZoneInfo,
        weekly: Sequence[Sequence[tuple[time, time]]],
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
    ) -> None:
        """``weekly[0]`` is Monday; a window closing at ``time(0)`` runs to the end of the day (24:00)."""
        if len(weekly) != 7:
            raise ValueError("weekly hours need one entry per weekday, Monday first")
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.weekly = tuple(tuple(day) for day in weekly)
        if not any(self.weekly):
            raise ValueError("a business calendar needs at least one working window per week")
        self.holiday_country = holiday_country
        self.holiday_subdivision = holiday_subdivision
        self.extra_holidays = frozenset(extra_holidays)
        self._closed_by_year: dict[int, frozenset[date]] = {}

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        return cls(spec.timezone, spec.weekly, spec.holiday_country, spec.holiday_subdivision, spec.extra_holidays)

    # --- days and windows --------------------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        closed = self._closed_by_year.get(day.year)
        if closed is None:
            public = (
                frozenset(
                    holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision, years=day.year)
                )
                if self.holiday_country
                else frozenset()
            )
            closed = self._closed_by_year[day.year] = public | {d for d in self.extra_holidays if d.year == day.year}
        return day in closed

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of a local calendar day as UTC instants (empty on holidays and days off)."""
        if self.is_holiday(day):
            return []
        out = []
        for start, end in self.weekly[day.weekday()]:
            opens = datetime.combine(day, start, self.tz)
            closes = (
                datetime.combine(day + timedelta(days=1), time(0), self.tz)
                if end == time(0)
                else datetime.combine(day, end, self.tz)
            )
            out.append((opens.astimezone(_UTC), closes.astimezone(_UTC)))
        return out

    def _local_day(self, instant: datetime) -> date:
        return _aware(instant).astimezone(self.tz).date()

    def is_open(self, instant: datetime) -> bool:
        at = _aware(instant).astimezone(_UTC)
        return any(opens <= at < closes for opens, closes in self.windows(self._local_day(at)))

    def next_opening(self, instant: datetime) -> datetime:
        """``instant`` itself when the team is working then, else the start of the next working window."""
        return self.add_business_minutes(instant, 0)

    # --- arithmetic --------------------------------------------------------------------------------------
    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes in [start, end); negative when ``end`` is before ``start``."""
        a, b = _aware(start).astimezone(_UTC), _aware(end).astimezone(_UTC)
        if b < a:
            return -self.business_minutes_between(b, a)
        total = timedelta()
        day, last = self._local_day(a), self._local_day(b)
        while day <= last:
            for opens, closes in self.windows(day):
                lo, hi = max(opens, a), min(closes, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 60

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes after ``start``, in the calendar's zone."""
        if minutes < 0:
            raise ValueError(f"cannot add a negative number of business minutes ({minutes})")
        at = _aware(start).astimezone(_UTC)
        remaining = timedelta(minutes=minutes)
        day = self._local_day(at)
        for _ in range(_MAX_SEARCH_DAYS):
            for opens, closes in self.windows(day):
                lo = max(opens, at)
                if lo < closes:
                    if remaining <= closes - lo:
                        return (lo + remaining).astimezone(self.tz)
                    remaining -= closes - lo
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_MAX_SEARCH_DAYS} days after {start.isoformat()}")


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.tzinfo.utcoffset(instant) is None:
        raise ValueError(f"timestamp {instant.isoformat()} has no time zone; business time needs an instant")
    return instant
