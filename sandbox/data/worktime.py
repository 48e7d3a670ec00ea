"""The sales team's business calendar, as the funnel definitions' ``sla.calendar`` states it.

The generator plants SLA breaches measured in business minutes, so it must count them on the very calendar the
SLA rules use: same time zone, working hours, country holidays and company days off. The sandbox imports no
crm-loop code, so the calendar is a plain value here: ``SHIPPED_CALENDAR`` mirrors the shipped
``pipelines/funnel/definitions.yaml`` (a test holds the two equal), and ``WorkCalendar.from_mapping`` reads any
definitions file's ``sla.calendar`` mapping, parsed by the caller.

Windows are half-open [open, close) and built as wall-clock times in the zone, then turned into UTC instants
before any arithmetic, so DST changes are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Window = tuple[time, time]  # a close of time(0) means the end of the day
NINE_TO_FIVE: tuple[Window, ...] = ((time(9, 0), time(17, 0)),)
ORG_TIMEZONE = ZoneInfo("America/New_York")  # the generated Salesforce org's time zone (its date fields)
_MAX_SEARCH_DAYS = 3660


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "America/New_York"
    weekly: tuple[tuple[Window, ...], ...] = (NINE_TO_FIVE,) * 5 + ((), ())  # Monday first
    holiday_country: str | None = "US"
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7 or not any(self.weekly):
            raise ValueError("a calendar needs seven weekdays (Monday first) and at least one working window")

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> WorkCalendar:
        """A definitions file's ``sla.calendar`` mapping (YAML already parsed: dates may be dates or strings)."""
        hours = spec["working_hours"]
        weekly = tuple(_windows(str(hours.get(day, "closed"))) for day in WEEKDAYS)
        days_off = spec.get("holidays") or {}
        extra = frozenset(
            d if isinstance(d, date) else date.fromisoformat(str(d)) for d in days_off.get("extra_dates") or ()
        )
        return cls(str(spec["timezone"]), weekly, days_off.get("country"), days_off.get("subdivision"), extra)

    def to_dict(self) -> dict[str, Any]:
        """The calendar in the definitions file's own shape (for the manifest)."""
        return {
            "timezone": self.timezone,
            "working_hours": {
                day: ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in windows) or "closed"
                for day, windows in zip(WEEKDAYS, self.weekly, strict=True)
            },
            "holidays": {
                "country": self.holiday_country,
                "subdivision": self.holiday_subdivision,
                "extra_dates": sorted(d.isoformat() for d in self.extra_holidays),
            },
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return True
        return bool(self.holiday_country) and day in _public_holidays(
            str(self.holiday_country), self.holiday_subdivision, day.year
        )

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of a local day as UTC instants (none on holidays and days off)."""
        if self.is_holiday(day):
            return []
        zone, out = self.zone, []
        for start, end in self.weekly[day.weekday()]:
            closes = datetime.combine(day + timedelta(days=1) if end == time(0) else day, end, zone)
            out.append((datetime.combine(day, start, zone).astimezone(UTC), closes.astimezone(UTC)))
        return out

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def is_open(self, instant: datetime) -> bool:
        at = instant.astimezone(UTC)
        return any(opens <= at < closes for opens, closes in self.windows(self.local_day(at)))

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` working minutes after ``start`` (outside hours counts from the next opening),
        in whole seconds: Salesforce stores no fractions, so generated facts match what the APIs return."""
        at = start.astimezone(UTC)
        remaining = timedelta(minutes=max(0.0, minutes))
        day = self.local_day(at)
        for _ in range(_MAX_SEARCH_DAYS):
            for opens, closes in self.windows(day):
                lo = max(opens, at)
                if lo < closes:
                    if remaining <= closes - lo:
                        return (lo + remaining).replace(microsecond=0)
                    remaining -= closes - lo
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_MAX_SEARCH_DAYS} days after {start.isoformat()}")

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        a, b = start.astimezone(UTC), end.astimezone(UTC)
        if b <= a:
            return 0.0
        total, day = timedelta(), self.local_day(a)
        while day <= self.local_day(b):
            for opens, closes in self.windows(day):
                lo, hi = max(opens, a), min(closes, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 60


def _windows(text: str) -> tuple[Window, ...]:
    if text.strip().casefold() == "closed":
        return ()
    out = []
    for part in text.split(","):
        opens, closes = (t.strip() for t in part.split("-"))
        out.append((time.fromisoformat(opens), time(0) if closes == "24:00" else time.fromisoformat(closes)))
    return tuple(out)


# The shipped definitions' calendar (pipelines/funnel/definitions.yaml, sla.calendar).
SHIPPED_CALENDAR = WorkCalendar(extra_holidays=frozenset({date(2026, 12, 24), date(2026, 12, 31)}))


def local_date(instant: datetime) -> date:
    """The calendar date in the Salesforce org's time zone (date fields such as CloseDate follow it)."""
    return instant.astimezone(ORG_TIMEZONE).date()
