"""The business calendar as a warehouse table, so business minutes and deadlines are joins, not loops.

``calendar_segments`` cuts the timeline into pieces that each lie within one UTC date and one local day and
are either wholly working or wholly closed, with the business minutes elapsed before each piece (``cum_from``).
The business clock of an instant t is then ``cum_from + (open ? minutes since seg_from : 0)``, found by an
equality join on t's UTC date; minutes between two instants are the difference of their clocks. The inverse,
a deadline, looks the target clock value up in ``calendar_open_buckets``: the working pieces cut again at
every multiple of ``BUCKET_MINUTES`` of the clock, joined on the bucket number.

The windows themselves come from ``BusinessCalendar.windows`` (the reference rules: zone, DST, holidays), so
the table cannot disagree with them.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from pipelines.closed_loop.sql.context import SqlContext
from pipelines.funnel.business_time import BusinessCalendar

SEGMENTS = "calendar_segments"
OPEN_BUCKETS = "calendar_open_buckets"
BUCKET_MINUTES = 480.0


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def create_calendar(ctx: SqlContext, calendar: BusinessCalendar, first: datetime, last: datetime) -> None:
    """Both tables for instants in [first, last] (naive UTC); deadlines may reach past ``last`` by the
    caller's margin, which it adds to ``last``."""
    first_day = first.date() - timedelta(days=2)
    last_day = last.date() + timedelta(days=2)
    cuts: set[datetime] = set()
    windows: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        cuts.add(datetime.combine(day, time(0)))
        local_midnight = datetime.combine(day, time(0), calendar.tz)
        cuts.add(_naive(local_midnight))
        for opens, closes in calendar.windows(day):
            windows.append((_naive(opens), _naive(closes)))
            cuts.update((_naive(opens), _naive(closes)))
        day += timedelta(days=1)
    cuts.add(datetime.combine(last_day + timedelta(days=1), time(0)))
    ordered = sorted(cuts)
    segments: list[tuple[date, datetime, datetime, bool, float, date]] = []
    buckets: list[tuple[int, float, float, datetime]] = []
    cum = 0.0
    w = 0
    for start, end in zip(ordered, ordered[1:]):
        while w < len(windows) and windows[w][1] <= start:
            w += 1
        is_open = w < len(windows) and windows[w][0] <= start < windows[w][1]
        local_day = start.replace(tzinfo=UTC).astimezone(calendar.tz).date()
        segments.append((start.date(), start, end, is_open, cum, local_day))
        if is_open:
            length = (end - start).total_seconds() / 60
            lo = cum
            while lo < cum + length:
                bucket = math.floor(lo / BUCKET_MINUTES)
                hi = min(cum + length, (bucket + 1) * BUCKET_MINUTES)
                buckets.append((bucket, lo, hi, start + timedelta(minutes=lo - cum)))
                lo = hi
            cum += length
    ctx.values(
        SEGMENTS,
        {
            "utc_date": "date",
            "seg_from": "timestamp",
            "seg_to": "timestamp",
            "is_open": "boolean",
            "cum_from": "float",
            "local_date": "date",
        },
        segments,
    )
    ctx.values(
        OPEN_BUCKETS, {"bucket": "integer", "cum_from": "float", "cum_to": "float", "seg_from": "timestamp"}, buckets
    )


def clock_join(alias: str, instant: str) -> str:
    """A LEFT JOIN clause giving segment ``alias`` for the (naive UTC) ``instant`` expression."""
    return (
        f"LEFT JOIN {SEGMENTS} {alias} ON {alias}.utc_date = CAST({instant} AS DATE) "
        f"AND {instant} >= {alias}.seg_from AND {instant} < {alias}.seg_to"
    )


def clock(ctx: SqlContext, alias: str, instant: str) -> str:
    """The business clock (minutes) of ``instant`` through the segment joined as ``alias``."""
    since = ctx.seconds_between(f"{alias}.seg_from", instant)
    return f"({alias}.cum_from + CASE WHEN {alias}.is_open THEN {since} / 60.0 ELSE 0.0 END)"


def deadline_join(alias: str, target: str) -> str:
    """A LEFT JOIN clause finding the working piece where the business clock reaches ``target`` minutes."""
    return (
        f"LEFT JOIN {OPEN_BUCKETS} {alias} ON {alias}.bucket = CAST(CEIL(({target}) / {BUCKET_MINUTES}) AS BIGINT) - 1 "
        f"AND ({target}) > {alias}.cum_from AND ({target}) <= {alias}.cum_to"
    )


def deadline_at(ctx: SqlContext, alias: str, target: str) -> str:
    return ctx.plus_seconds(f"{alias}.seg_from", f"(({target}) - {alias}.cum_from) * 60.0")
