"""Daily SLA snapshots: the closed-loop rows of one day's MQLs, judged as of the end of that day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from connectors.warehouse.catalog.harmonised import SLA_DAILY_SNAPSHOTS


def end_of_day(day: date, zone: str) -> datetime:
    """The instant the day ends in ``zone`` (midnight after it), as an aware datetime: DST-correct."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))


def snapshot(closed_loop: pd.DataFrame, day: date, as_of: datetime) -> pd.DataFrame:
    """Rows of people who were MQLs before ``as_of``, with the snapshot's columns only.

    ``closed_loop`` must have been built with the same ``as_of``: its SLA statuses then already treat later
    touches and decisions as not done yet.
    """
    cutoff = pd.Timestamp(as_of).tz_convert("UTC")
    mql = pd.to_datetime(closed_loop["mql_at"], utc=True)
    rows = closed_loop.loc[mql.notna() & (mql < cutoff)].copy()
    rows["snapshot_date"] = day
    return rows[SLA_DAILY_SNAPSHOTS.column_names].reset_index(drop=True)
