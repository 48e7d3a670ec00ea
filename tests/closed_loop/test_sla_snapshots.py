"""Daily SLA snapshots: each day's MQLs judged as they stood at the end of that day, one partition per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timezone

import pandas as pd
from dagster import materialize

from connectors.warehouse.catalog.harmonised import SLA_DAILY_SNAPSHOTS
from pipelines.closed_loop.build import write_canonical
from pipelines.closed_loop.snapshots import end_of_day
from pipelines.closed_loop.write import read_table
from pipelines.defs.closed_loop.snapshots import sla_snapshot_asset
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.settings import ScheduleSettings
from pipelines.funnel.definitions import load_definitions
from tests.closed_loop.conftest import Extracted, aligned_definitions

sla_daily_snapshots = sla_snapshot_asset(ScheduleSettings())


def test_end_of_day_follows_daylight_saving_time() -> None:
    assert end_of_day(date(2026, 10, 31), "America/New_York").astimezone(UTC) == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert end_of_day(date(2026, 11, 1), "America/New_York").astimezone(UTC) == datetime(2026, 11, 2, 5, tzinfo=UTC)


def _materialize(extracted: Extracted, definitions_path: str, day: str) -> None:
    wh = extracted.wh
    resources = {
        "warehouse": WarehouseResource(
            url=wh.engine.url.render_as_string(hide_password=False), db_schema=wh.schema or ""
        ),
        "funnel_definitions": FunnelDefinitionsResource(path=definitions_path),
    }
    assert materialize([sla_daily_snapshots], resources=resources, partition_key=day).success


def test_snapshots_judge_each_day_as_it_stood_and_backfill_by_partition(extracted: Extracted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(aligned_definitions(tmp_path))
    defs = load_definitions(path)
    write_canonical(extracted.wh, defs)
    days = ["2026-10-20", "2026-10-27"]
    for day in days:
        _materialize(extracted, path, day)
    rows = read_table(extracted.wh, SLA_DAILY_SNAPSHOTS)
    assert sorted(str(d) for d in rows["snapshot_date"].unique()) == days

    zone = defs.sla.calendar.timezone
    for day in days:
        cutoff = pd.Timestamp(end_of_day(date.fromisoformat(day), zone)).tz_convert("UTC").tz_localize(None)
        part = rows[rows["snapshot_date"].astype(str) == day]
        assert len(part) > 0 and (pd.to_datetime(part["mql_at"]) < cutoff).all()
        assert part["person_key"].is_unique
        # Nothing that happened after the day counts: later touches are not in the snapshot.
        touched = pd.to_datetime(part["first_touch_at"]).dropna()
        assert (touched < cutoff).all()

    # The later day has every earlier MQL, and some of them changed status in between (pending -> met/breached).
    early = rows[rows["snapshot_date"].astype(str) == days[0]].set_index("person_key")
    late = rows[rows["snapshot_date"].astype(str) == days[1]].set_index("person_key")
    assert set(early.index) <= set(late.index)
    assert (early["first_touch_sla_status"] != late.loc[early.index, "first_touch_sla_status"]).any() or (
        early["accept_reject_sla_status"] != late.loc[early.index, "accept_reject_sla_status"]
    ).any()

    # Re-running one day replaces exactly that day's rows.
    _materialize(extracted, path, days[0])
    again = read_table(extracted.wh, SLA_DAILY_SNAPSHOTS)
    assert len(again) == len(rows)
