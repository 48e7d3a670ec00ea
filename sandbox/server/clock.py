"""The sandbox's notion of time: an anchor that moves with real time, plus an offset tests can advance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Simulated UTC time starting at ``anchor``.

    Generated data is laid out relative to the anchor, so a fixed anchor makes a dataset reproducible; real
    time keeps flowing so session expiry and Bulk job progress behave as they would against a live org.
    """

    def __init__(self, anchor: datetime) -> None:
        if anchor.tzinfo is None:
            raise ValueError("clock anchor must be timezone-aware")
        self._anchor = anchor.astimezone(UTC)
        self._started = time.monotonic()
        self._offset = timedelta()
        self._lock = threading.Lock()

    @property
    def anchor(self) -> datetime:
        return self._anchor

    def now(self) -> datetime:
        with self._lock:
            return self._anchor + timedelta(seconds=time.monotonic() - self._started) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


def default_anchor() -> datetime:
    """The current hour: recent enough for freshness checks, stable enough within a test run."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
