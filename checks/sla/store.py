"""``sla_compliance``: per run, each rule's counts per owner, team and month (trendable)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from connectors.warehouse.catalog.quality import SLA_COMPLIANCE
from connectors.warehouse.coerce import to_utc_naive
from connectors.warehouse.locking import write_lock
from connectors.warehouse.schema import create_if_absent, table_for
from connectors.warehouse.upsert import upsert_on_conflict

IGNORED = "ignored"  # the pseudo-rule under which each owner's count of ignored leads is kept


class SlaStore:
    def __init__(self, engine: sa.Engine, schema: str | None = None) -> None:
        self.engine = engine
        self.table = table_for(SLA_COMPLIANCE, sa.MetaData(schema=schema))

    def record(self, run_id: str, checked_at: datetime, definitions_hash: str, rollups: pd.DataFrame) -> int:
        rows = [{**{str(k): _plain(v) for k, v in r.items()}, "run_id": run_id, "checked_at": to_utc_naive(checked_at),
                 "definitions_hash": definitions_hash} for r in rollups.to_dict("records")]  # fmt: skip
        with write_lock(self.engine), self.engine.begin() as conn:
            create_if_absent(conn, self.table)
            if rows:
                upsert_on_conflict(conn, self.table, ("run_id", "dimension", "rule", "member"), rows)
        return len(rows)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value
