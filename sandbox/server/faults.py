"""Fault injection settings shared by both sides of the sandbox, toggled through the control API."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, fields


@dataclass
class FaultSettings:
    rate_429: float = 0.0  # share of requests answered with the side's rate-limit error
    rate_5xx: float = 0.0  # share of requests answered 503
    latency_ms: int = 0  # added to every request
    truncate_rate: float = 0.0  # share of responses cut mid-body (connection dropped)
    session_expiry_after: int | None = None  # Salesforce: sessions die after this many API calls
    search_per_second: int = 5  # HubSpot: search requests allowed per second per portal
    ten_second_limit: int = 190  # HubSpot: requests allowed per rolling 10 seconds
    daily_limit: int = 1_000_000  # HubSpot: requests per day
    sf_daily_api_limit: int = 1_000_000  # Salesforce: DailyApiRequests Max
    bulk_job_seconds: float = 0.3  # Salesforce: how long a Bulk 2.0 query job stays InProgress
    bulk_fail_next: int = 0  # Salesforce: the next N Bulk jobs end in state Failed


class Faults:
    """Thread-safe, seeded dice for fault injection: the same seed gives the same fault sequence."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.settings = FaultSettings()

    def update(self, **changes: object) -> FaultSettings:
        known = {f.name for f in fields(FaultSettings)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            for key, value in changes.items():
                setattr(self.settings, key, value)
            return FaultSettings(**asdict(self.settings))

    def reset(self) -> FaultSettings:
        with self._lock:
            self.settings = FaultSettings()
            return FaultSettings()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def delay(self) -> None:
        if self.settings.latency_ms > 0:
            time.sleep(self.settings.latency_ms / 1000)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return asdict(self.settings)
