"""``sla_compliance``: per run, each rule's counts per owner, team and month (trendable, and escalation's input)."""

from __future__ import annotations

from collections.abc import Sequence
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

    def owner_history(self, runs: int) -> dict[str, list[tuple[int, int]]]:
        """Per owner, (breached leads over every rule, ignored leads) in each of the latest ``runs`` runs,
        oldest first; a run where the owner had no row counts as (0, 0)."""
        t = self.table
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(t.name, schema=t.schema):
                return {}
            latest = conn.execute(
                sa.select(t.c.run_id, sa.func.max(t.c.checked_at).label("last_checked"))
                .group_by(t.c.run_id)
                .order_by(sa.desc("last_checked"))
                .limit(runs)
            ).all()
            run_ids = [r.run_id for r in reversed(latest)]
            rows = conn.execute(
                sa.select(t.c.run_id, t.c.member, t.c.rule, t.c.breached).where(
                    t.c.dimension == "owner", t.c.run_id.in_(run_ids)
                )
            ).all()
        cells: dict[str, dict[str, list[int]]] = {}
        for run_id, member, rule, breached in rows:
            cell = cells.setdefault(member, {r: [0, 0] for r in run_ids})[run_id]
            cell[1 if rule == IGNORED else 0] += int(breached)
        return {member: [(by_run[r][0], by_run[r][1]) for r in run_ids] for member, by_run in cells.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def owner_statuses(history: Sequence[tuple[int, int]]) -> list[str]:
    """An owner breaches in a run when leads sit ignored, or more leads are in breach than the run before
    (old breaches stay in the table forever; only new ones or still-ignored leads are the owner's move now)."""
    out = []
    previous = None
    for breached, ignored in history:
        new = previous is not None and breached > previous
        out.append("breached" if ignored > 0 or new else "met")
        previous = breached
    return out
