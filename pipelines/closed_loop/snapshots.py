"""Daily SLA snapshots judge one day's MQLs as of the end of that day (``build.write_sla_snapshot``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def end_of_day(day: date, zone: str) -> datetime:
    """The instant the day ends in ``zone`` (midnight after it), as an aware datetime: DST-correct."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
