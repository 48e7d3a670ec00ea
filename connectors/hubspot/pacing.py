"""One request pacer per HubSpot portal, shared by every process that talks to it.

HubSpot meters a portal, not a client: every concurrent Dagster step (separate processes) draws from the same
rolling 10-second allowance and the same per-second search allowance. Like ``connectors.api.budget.SharedTally``,
the grants live in a small SQLite file all processes open; a grant is a row stamped with wall-clock time, and a
request waits until the sliding windows have room. A 429 anywhere pauses the whole portal until its Retry-After.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TEN_SECONDS = 10.0
# A grant is stamped when we send; HubSpot counts when it receives. Over one second that latency matters, so
# the search window is padded (over ten seconds the ``share`` headroom absorbs it).
SEARCH_WINDOW = 1.1


@dataclass(frozen=True)
class PacingPolicy:
    # HubSpot's documented floor for private apps is 100 per 10 s; the X-HubSpot-RateLimit-Max header, when
    # lower, wins. ``share`` keeps headroom for the portal's other integrations.
    ten_second_limit: int = 100
    search_per_second: int = 4  # the API allows 5; one spare absorbs clock skew between us and HubSpot
    share: float = 0.9

    def __post_init__(self) -> None:
        if self.ten_second_limit < 1 or self.search_per_second < 1 or not 0 < self.share <= 1:
            raise ValueError("limits must be >= 1 and share in (0, 1]")


class PortalPacer:
    """Blocks before each request until the portal's shared windows allow it; returns the seconds waited."""

    def __init__(
        self,
        path: Path,
        portal: str,
        policy: PacingPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self.portal = portal
        self.policy = policy or PacingPolicy()
        self._server_max: int | None = None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        with contextlib.closing(self._connect()) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS grants (portal TEXT NOT NULL, search INTEGER NOT NULL, at REAL NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS grants_at ON grants (portal, at)")
            conn.execute("CREATE TABLE IF NOT EXISTS pauses (portal TEXT PRIMARY KEY, until REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self._path), timeout=30, isolation_level=None)
        # A lost grant after a crash only makes the next run a little more generous: no fsync per request.
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def learn_limit(self, server_max: int | None) -> None:
        """The portal's real 10-second allowance, from ``X-HubSpot-RateLimit-Max``."""
        if server_max and server_max > 0:
            self._server_max = server_max

    @property
    def ten_second_cap(self) -> int:
        limit = min(self.policy.ten_second_limit, self._server_max or self.policy.ten_second_limit)
        return max(1, int(limit * self.policy.share))

    def pause(self, seconds: float) -> None:
        """Hold every process of this portal back (HubSpot answered 429 with this Retry-After)."""
        until = self._clock() + seconds
        with self._lock, contextlib.closing(self._connect()) as conn:
            conn.execute(
                "INSERT INTO pauses (portal, until) VALUES (?, ?) ON CONFLICT (portal) DO UPDATE SET "
                "until = MAX(until, excluded.until)",
                (self.portal, until),
            )

    def acquire(self, search: bool) -> float:
        waited = 0.0
        while True:
            wait = self._try_grant(search)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def _try_grant(self, search: bool) -> float:
        """0 when granted (and recorded); otherwise how long to wait before asking again."""
        with self._lock, contextlib.closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()
                conn.execute("DELETE FROM grants WHERE portal = ? AND at <= ?", (self.portal, now - TEN_SECONDS))
                paused = conn.execute("SELECT until FROM pauses WHERE portal = ?", (self.portal,)).fetchone()
                if paused and paused[0] > now:
                    return float(paused[0] - now)
                count, oldest = conn.execute(
                    "SELECT COUNT(*), MIN(at) FROM grants WHERE portal = ?", (self.portal,)
                ).fetchone()
                if count >= self.ten_second_cap:
                    return max(0.01, oldest + TEN_SECONDS - now)
                if search:
                    s_count, s_oldest = conn.execute(
                        "SELECT COUNT(*), MIN(at) FROM grants WHERE portal = ? AND search = 1 AND at > ?",
                        (self.portal, now - SEARCH_WINDOW),
                    ).fetchone()
                    if s_count >= self.policy.search_per_second:
                        return max(0.01, s_oldest + SEARCH_WINDOW - now)
                conn.execute(
                    "INSERT INTO grants (portal, search, at) VALUES (?, ?, ?)", (self.portal, int(search), now)
                )
                return 0.0
            finally:
                conn.execute("COMMIT")
