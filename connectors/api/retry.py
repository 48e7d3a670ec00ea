"""Bounded retries with exponential backoff and full jitter, shared by both CRM connectors.

Which failures are transient is the caller's call (a predicate); this module only decides when to try again
and how long to wait, honouring a server's ``Retry-After`` when it gives one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class RetriesExhausted(RuntimeError):
    """Raised with the last error chained when every attempt failed transiently."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # Tests pin the jitter source to make the schedule reproducible.
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog): spreads concurrent clients instead of synchronising them."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)

    def call(
        self,
        fn: Callable[[], T],
        *,
        is_transient: Callable[[BaseException], bool],
        retry_after: Callable[[BaseException], float | None] = lambda _: None,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
        what: str = "request",
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if attempt >= self.max_attempts:
                    raise RetriesExhausted(f"{what} failed {attempt} times; last error: {exc}") from exc
                asked = retry_after(exc)
                delay = min(self.max_delay_s, asked) if asked is not None else self.backoff(attempt)
                if on_retry is not None:
                    on_retry(attempt, exc, delay)
                log.warning(
                    "%s failed (attempt %d/%d): %s; retrying in %.2fs",
                    what,
                    attempt,
                    self.max_attempts,
                    type(exc).__name__,
                    delay,
                )
                self.sleep(delay)
