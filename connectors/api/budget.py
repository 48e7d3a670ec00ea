"""API allowance shared by every concurrent extraction of one CRM org or portal.

A run may use at most ``run_share`` of the org's daily allowance and must stop before the org's total use
passes ``org_ceiling``: the same org also serves sales reps and other integrations, so a sync that drains it
breaks their day. Concurrent Dagster steps run in separate processes, so the run's tally lives in a small
SQLite file every process of the run opens (one row per org and run).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path


class ApiBudgetExceeded(RuntimeError):
    """Stop cleanly: the sync state stays at the last committed batch, so the next run resumes there."""


@dataclass(frozen=True)
class BudgetPolicy:
    run_share: float = 0.25
    org_ceiling: float = 0.80

    def __post_init__(self) -> None:
        if not (0 < self.run_share <= 1 and 0 < self.org_ceiling <= 1):
            raise ValueError("run_share and org_ceiling are fractions in (0, 1]")


class SharedTally:
    """A per-(org, run) request counter that several processes can increment atomically."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS api_tally (org TEXT, run TEXT, used INTEGER NOT NULL, "
                "org_used INTEGER, org_max INTEGER, PRIMARY KEY (org, run))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self._path), timeout=30, isolation_level=None)

    def add(
        self, org: str, run: str, n: int, org_used: int | None, org_max: int | None
    ) -> tuple[int, int | None, int | None]:
        """Add ``n`` requests; record the org's usage if the response reported it. Returns the new totals."""
        with self._lock, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO api_tally (org, run, used, org_used, org_max) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (org, run) DO UPDATE SET used = used + excluded.used, "
                "org_used = COALESCE(excluded.org_used, org_used), org_max = COALESCE(excluded.org_max, org_max)",
                (org, run, n, org_used, org_max),
            )
            row = conn.execute(
                "SELECT used, org_used, org_max FROM api_tally WHERE org = ? AND run = ?", (org, run)
            ).fetchone()
            conn.execute("COMMIT")
        return int(row[0]), row[1], row[2]

    def read(self, org: str, run: str) -> tuple[int, int | None, int | None]:
        with self._lock, self._connect() as conn:
            row = conn.execute(
                "SELECT used, org_used, org_max FROM api_tally WHERE org = ? AND run = ?", (org, run)
            ).fetchone()
        return (0, None, None) if row is None else (int(row[0]), row[1], row[2])


class ApiBudget:
    def __init__(self, tally: SharedTally, org: str, run: str, policy: BudgetPolicy | None = None) -> None:
        self._tally = tally
        self.org = org
        self.run = run
        self.policy = policy or BudgetPolicy()

    def check(self) -> None:
        """Raise before a request that the budget no longer allows."""
        used, org_used, org_max = self._tally.read(self.org, self.run)
        self._enforce(used, org_used, org_max)

    def record(self, org_used: int | None = None, org_max: int | None = None) -> None:
        self._tally.add(self.org, self.run, 1, org_used, org_max)

    def _enforce(self, used: int, org_used: int | None, org_max: int | None) -> None:
        if not org_max:
            return  # the org has not told us its allowance yet: the first response will
        run_cap = int(self.policy.run_share * org_max)
        if used >= run_cap:
            raise ApiBudgetExceeded(
                f"this run used {used} API requests, its cap is {run_cap} "
                f"({self.policy.run_share:.0%} of the org's daily {org_max}); stopping at the last committed batch"
            )
        if org_used is not None and org_used >= self.policy.org_ceiling * org_max:
            raise ApiBudgetExceeded(
                f"the org has used {org_used} of {org_max} daily API requests, past the "
                f"{self.policy.org_ceiling:.0%} ceiling; stopping at the last committed batch"
            )
