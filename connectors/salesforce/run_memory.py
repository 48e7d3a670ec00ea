"""What the connections of one run learn from the org, shared by the run's steps in this process.

Each Dagster step opens its own connection. Without this, every step would ask the org again what another step of
the same run was told a moment ago: whether any object's schema changed, and what time it is.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RunKey = tuple[str, ...]


@dataclass
class _Run:
    schema_answers: list[tuple[datetime, bool]] = field(default_factory=list)  # (If-Modified-Since, unchanged)
    clock: tuple[datetime, float] | None = None  # the org's Date header, and our monotonic clock when it came


class RunMemory:
    def __init__(self, max_runs: int = 16) -> None:
        self._runs: OrderedDict[RunKey, _Run] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_runs  # finished runs age out; a long-lived daemon must not grow forever

    def _run(self, key: RunKey) -> _Run:
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = _Run()
            while len(self._runs) > self._max:
                self._runs.popitem(last=False)
        self._runs.move_to_end(key)
        return run

    def schema_unchanged(self, key: RunKey, since: datetime) -> bool | None:
        """A known answer for ``since``: "unchanged since X" also holds for every later date, "changed since X"
        for every earlier one. ``None``: the org must be asked."""
        with self._lock:
            for at, unchanged in self._run(key).schema_answers:
                if (unchanged and at <= since) or (not unchanged and at >= since):
                    return unchanged
        return None

    def record_schema(self, key: RunKey, since: datetime, unchanged: bool) -> None:
        with self._lock:
            self._run(key).schema_answers.append((since, unchanged))

    def saw_clock(self, key: RunKey, server_time: datetime) -> None:
        with self._lock:
            self._run(key).clock = (server_time, time.monotonic())

    def clock(self, key: RunKey) -> datetime | None:
        """The org's clock, from the run's latest Date header plus the time elapsed since. A Date header is
        truncated to the second, so this never runs ahead of the org: a window bound from it is safe."""
        with self._lock:
            seen = self._run(key).clock
        if seen is None:
            return None
        return seen[0] + timedelta(seconds=time.monotonic() - seen[1])


SHARED_RUN_MEMORY = RunMemory()
