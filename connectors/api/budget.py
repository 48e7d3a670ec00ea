"""API allowance shared by every concurrent extraction of one CRM org or portal.

A run may use at most ``run_share`` of the org's daily allowance and must stop before the org's total use
passes ``org_ceiling``: the same org also serves sales reps and other integrations, so a sync that drains it
breaks their day. Concurrent Dagster steps run in separate processes, so the run's tally lives in a small
SQLite file every process of the run opens (one row per org and run).

Requests are counted in memory and the tally is written once per block, not once per request: a budget
*reserves* a block of requests in the tally (never more than the run's cap minus what the run already used or
reserved, decided atomically), spends it in memory, and hands back what it did not spend when closed. However
many processes share the run, the reservations they hold never add up past the cap, so the run still stops
before exceeding its share; a killed process leaves at most one block counted as used, which errs on the
side of stopping early.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
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


@dataclass(frozen=True)
class Reservation:
    """What the tally granted, and the run's totals after granting it (org figures as last reported)."""

    granted: int
    used: int
    org_used: int | None
    org_max: int | None


def grant(want: int, used: int, cap: int | None) -> int:
    """How many of ``want`` requests a reservation may take: up to the cap; one at a time while the org has not
    told its allowance (its first response will, and nothing is known to enforce before it)."""
    if cap is None:
        return min(want, 1)
    return max(0, min(want, cap - used))


class SharedTally:
    """A per-(org, run) request counter that several processes can reserve from atomically."""

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

    def reserve(
        self,
        org: str,
        run: str,
        *,
        owed: int,
        want: int,
        run_share: float,
        org_used: int | None = None,
        org_max: int | None = None,
    ) -> Reservation:
        """Count ``owed`` requests already made beyond earlier reservations, record the org's usage if known,
        and reserve up to ``want`` more within ``run_share`` of the org's allowance."""
        with self._lock, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO api_tally (org, run, used, org_used, org_max) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (org, run) DO UPDATE SET used = used + excluded.used, "
                "org_used = COALESCE(excluded.org_used, org_used), org_max = COALESCE(excluded.org_max, org_max)",
                (org, run, owed, org_used, org_max),
            )
            used, known_used, known_max = conn.execute(
                "SELECT used, org_used, org_max FROM api_tally WHERE org = ? AND run = ?", (org, run)
            ).fetchone()
            granted = grant(want, int(used), int(run_share * known_max) if known_max else None)
            conn.execute("UPDATE api_tally SET used = used + ? WHERE org = ? AND run = ?", (granted, org, run))
            conn.execute("COMMIT")
        return Reservation(granted, int(used) + granted, known_used, known_max)

    def release(self, org: str, run: str, n: int) -> None:
        """Hand back ``n`` reserved requests that were not made."""
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE api_tally SET used = used - ? WHERE org = ? AND run = ?", (n, org, run))

    def read(self, org: str, run: str) -> tuple[int, int | None, int | None]:
        with self._lock, self._connect() as conn:
            row = conn.execute(
                "SELECT used, org_used, org_max FROM api_tally WHERE org = ? AND run = ?", (org, run)
            ).fetchone()
        return (0, None, None) if row is None else (int(row[0]), row[1], row[2])


class _Held:
    """Reserved-but-unspent requests (negative: spent beyond the reservation), shared with the finaliser."""

    def __init__(self) -> None:
        self.count = 0


def _settle(tally: SharedTally, org: str, run: str, held: _Held, run_share: float) -> None:
    """Return unspent requests to the tally, or count the ones made beyond the reservation."""
    if held.count > 0:
        tally.release(org, run, held.count)
    elif held.count < 0:
        tally.reserve(org, run, owed=-held.count, want=0, run_share=run_share)
    held.count = 0


class ApiBudget:
    """One process's view of a run's budget: `check` before each request, `record` after each response, and
    `close` (or garbage collection, or interpreter exit) to settle the unspent reservation.

    Safe to share between threads (a page fetched ahead is requested from a background thread, see
    `connectors.api.prefetch`): the in-memory count is read, reserved against and written back under one lock."""

    def __init__(
        self, tally: SharedTally, org: str, run: str, policy: BudgetPolicy | None = None, block: int = 50
    ) -> None:
        if block < 1:
            raise ValueError(f"block must be at least 1 request, got {block}")
        self._tally = tally
        self.org = org
        self.run = run
        self.policy = policy or BudgetPolicy()
        self._block = block
        self._held = _Held()
        self._org_used: int | None = None
        self._org_max: int | None = None
        # Re-entrant: `check` settles through `close` when the org ceiling is reached.
        self._lock = threading.RLock()
        self._settler = weakref.finalize(self, _settle, tally, org, run, self._held, self.policy.run_share)

    def check(self) -> None:
        """Raise before a request that the budget no longer allows."""
        with self._lock:
            self._check()

    def _check(self) -> None:
        self._enforce_org_ceiling()
        if self._held.count > 0:
            return
        reservation = self._tally.reserve(
            self.org,
            self.run,
            owed=-self._held.count,
            want=self._block,
            run_share=self.policy.run_share,
            org_used=self._org_used,
            org_max=self._org_max,
        )
        self._held.count = reservation.granted
        self._org_used, self._org_max = reservation.org_used, reservation.org_max
        if not reservation.granted:
            assert reservation.org_max is not None  # only a known allowance refuses a grant
            raise ApiBudgetExceeded(
                f"this run used {reservation.used} API requests, its cap is "
                f"{int(self.policy.run_share * reservation.org_max)} ({self.policy.run_share:.0%} of the org's daily "
                f"{reservation.org_max}); stopping at the last committed batch"
            )
        self._enforce_org_ceiling()

    def record(self, org_used: int | None = None, org_max: int | None = None) -> None:
        """Count one request made (in memory) and keep the org's usage if the response reported it."""
        with self._lock:
            self._held.count -= 1
            if org_max is not None:
                self._org_used, self._org_max = org_used, org_max

    def close(self) -> None:
        """Settle the tally now: unspent reservations go back to the run's share."""
        with self._lock:
            _settle(self._tally, self.org, self.run, self._held, self.policy.run_share)

    def _enforce_org_ceiling(self) -> None:
        org_used, org_max = self._org_used, self._org_max
        if org_max and org_used is not None and org_used >= self.policy.org_ceiling * org_max:
            self.close()
            raise ApiBudgetExceeded(
                f"the org has used {org_used} of {org_max} daily API requests, past the "
                f"{self.policy.org_ceiling:.0%} ceiling; stopping at the last committed batch"
            )
