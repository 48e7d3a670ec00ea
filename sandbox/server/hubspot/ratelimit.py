"""HubSpot's request limits for one portal: a rolling 10-second window, a daily budget, and search's own
per-second limit, with the ``X-HubSpot-RateLimit-*`` headers every response carries.

Windows run on the sandbox clock, so a test that advances the clock also moves past a limit.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.server.clock import SandboxClock
from sandbox.server.faults import Faults

TEN_SECONDS = 10.0
ONE_SECOND = 1.0


@dataclass(frozen=True)
class Verdict:
    """``policy`` is None when the request may proceed; otherwise the limit it hit and when to retry."""

    headers: dict[str, str]
    policy: str | None = None
    message: str = ""
    retry_after: int = 0


class RateLimiter:
    def __init__(self, clock: SandboxClock, faults: Faults) -> None:
        self._clock = clock
        self._faults = faults
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._search_window: deque[float] = deque()
        self._day: str = ""
        self._day_count = 0

    def admit(self, search: bool) -> Verdict:
        """Count the request if a slot is free; a refused request does not use up a slot."""
        settings = self._faults.settings
        now_dt = self._clock.now()
        now = now_dt.timestamp()
        with self._lock:
            _expire(self._window, now - TEN_SECONDS)
            _expire(self._search_window, now - ONE_SECOND)
            day = now_dt.date().isoformat()
            if day != self._day:
                self._day, self._day_count = day, 0
            if self._day_count >= settings.daily_limit:
                midnight = datetime.combine(
                    now_dt.date() + timedelta(days=1), datetime.min.time(), tzinfo=now_dt.tzinfo
                )
                return Verdict(
                    self._headers(settings.ten_second_limit, settings.daily_limit),
                    "DAILY",
                    "You have reached your daily limit.",
                    max(1, math.ceil((midnight - now_dt).total_seconds())),
                )
            if len(self._window) >= settings.ten_second_limit:
                wait = self._window[0] + TEN_SECONDS - now
                return Verdict(
                    self._headers(settings.ten_second_limit, settings.daily_limit),
                    "TEN_SECONDLY_ROLLING",
                    "You have reached your ten_secondly_rolling limit.",
                    max(1, math.ceil(wait)),
                )
            if search and len(self._search_window) >= settings.search_per_second:
                wait = self._search_window[0] + ONE_SECOND - now
                return Verdict(
                    self._headers(settings.ten_second_limit, settings.daily_limit),
                    "SECONDLY",
                    "You have reached your secondly limit.",
                    max(1, math.ceil(wait)),
                )
            self._window.append(now)
            if search:
                self._search_window.append(now)
            self._day_count += 1
            return Verdict(self._headers(settings.ten_second_limit, settings.daily_limit))

    def headers(self) -> dict[str, str]:
        """Current limit headers without counting a request (for injected faults)."""
        settings = self._faults.settings
        with self._lock:
            _expire(self._window, self._clock.now().timestamp() - TEN_SECONDS)
            return self._headers(settings.ten_second_limit, settings.daily_limit)

    def _headers(self, ten_second_limit: int, daily_limit: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, daily_limit - self._day_count)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(ten_second_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, ten_second_limit - len(self._window))),
        }


def _expire(window: deque[float], cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()
