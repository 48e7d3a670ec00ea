"""The ``check_results`` table: one row per (run, check), so analysts can trend quality and compliance.

Written by every check as it runs (a check re-run in the same Dagster run, e.g. a retry, overwrites its row);
read back for the run's digest and for escalation (the same check failing in consecutive runs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from checks.model import SuiteResult
from connectors.warehouse.catalog.quality import CHECK_RESULTS
from connectors.warehouse.coerce import to_utc_naive
from connectors.warehouse.locking import write_lock
from connectors.warehouse.schema import create_if_absent, table_for
from connectors.warehouse.upsert import upsert_on_conflict


@dataclass(frozen=True)
class CheckRecord:
    check_name: str
    asset: str
    kind: str
    status: str
    severity: str
    rows_checked: int
    expectations: int
    failed_expectations: int
    unexpected_count: int
    sample_ids: tuple[str, ...]
    details: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def from_suite(cls, result: SuiteResult) -> CheckRecord:
        return cls(
            check_name=result.suite,
            asset=result.asset,
            kind="quality",
            status=result.status,
            severity=result.severity.value,
            rows_checked=result.rows,
            expectations=len(result.outcomes),
            failed_expectations=len(result.failed),
            unexpected_count=result.unexpected_count,
            sample_ids=result.sample_ids,
            error=result.error,
            details=[
                {
                    "expectation": o.expectation,
                    "column": o.column,
                    "unexpected_count": o.unexpected_count,
                    "sample_ids": list(o.sample_ids),
                    **({"observed": o.observed} if o.observed else {}),
                }
                for o in result.failed
            ],
        )


@dataclass(frozen=True)
class RunStamp:
    """What every row of one run shares."""

    run_id: str
    checked_at: datetime
    as_of: datetime
    definitions_version: str
    definitions_hash: str


class CheckHistory:
    def __init__(self, engine: sa.Engine, schema: str | None = None) -> None:
        self.engine = engine
        self.table = table_for(CHECK_RESULTS, sa.MetaData(schema=schema))

    def ensure(self) -> None:
        with write_lock(self.engine), self.engine.begin() as conn:
            create_if_absent(conn, self.table)

    def record(self, stamp: RunStamp, records: Iterable[CheckRecord]) -> int:
        rows = [_row(stamp, r) for r in records]
        if not rows:
            return 0
        self.ensure()
        with write_lock(self.engine), self.engine.begin() as conn:
            upsert_on_conflict(conn, self.table, ("run_id", "check_name"), rows)
        return len(rows)

    def for_run(self, run_id: str) -> list[dict[str, Any]]:
        self.ensure()
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.run_id == run_id).order_by(t.c.check_name)).mappings().all()
        return [_decoded(r) for r in rows]

    def recent_statuses(self, check_names: Sequence[str], runs: int) -> dict[str, list[str]]:
        """Each check's statuses over its latest ``runs`` runs, oldest first (for escalation)."""
        self.ensure()
        t = self.table
        ranked = (
            sa.select(
                t.c.check_name,
                t.c.status,
                t.c.checked_at,
                sa.func.row_number().over(partition_by=t.c.check_name, order_by=t.c.checked_at.desc()).label("n"),
            )
            .where(t.c.check_name.in_(list(check_names)))
            .subquery()
        )
        query = (
            sa.select(ranked.c.check_name, ranked.c.status)
            .where(ranked.c.n <= runs)
            .order_by(ranked.c.check_name, ranked.c.checked_at)
        )
        out: dict[str, list[str]] = {name: [] for name in check_names}
        with self.engine.connect() as conn:
            for name, status in conn.execute(query):
                out[name].append(status)
        return out


def _row(stamp: RunStamp, r: CheckRecord) -> dict[str, Any]:
    return {
        "run_id": stamp.run_id,
        "check_name": r.check_name,
        "asset": r.asset,
        "kind": r.kind,
        "checked_at": to_utc_naive(stamp.checked_at),
        "as_of": to_utc_naive(stamp.as_of),
        "status": r.status,
        "severity": r.severity,
        "rows_checked": r.rows_checked,
        "expectations": r.expectations,
        "failed_expectations": r.failed_expectations,
        "unexpected_count": r.unexpected_count,
        "sample_ids": json.dumps(list(r.sample_ids)),
        "details": json.dumps(r.details, default=str),
        "error": r.error,
        "definitions_version": stamp.definitions_version,
        "definitions_hash": stamp.definitions_hash,
    }


def _decoded(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["sample_ids"] = json.loads(out["sample_ids"])
    out["details"] = json.loads(out["details"])
    return out
