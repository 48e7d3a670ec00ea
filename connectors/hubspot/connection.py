"""One HubSpot portal connection: the official client, paced, metered and retried.

Every request of every client API (objects, properties, owners, associations) passes through a thin wrapper
around the client's urllib3 pool manager (installed through the client's ``api_factory`` hook), so none can
skip the shared pacer, the request count or the ``X-HubSpot-RateLimit-*`` bookkeeping.

Retries are ours, not urllib3's: the client's ``retry=`` hands a ``Retry`` to the pool manager, which would
repeat requests inside one ``urlopen`` call — invisible to the pacer and the request count, and for POST (search,
batch reads) only with ``allowed_methods`` widened. So the client gets ``retry=False`` and every call goes
through :class:`connectors.api.retry.RetryPolicy`: 429 waits what ``Retry-After`` asks (and pauses the portal for
every process), 5xx, timeouts and truncated bodies back off exponentially with jitter, other 4xx fail at once.

Responses are read raw (``_preload_content=False``) and parsed with ``json``: the generated models cost seconds
per 10,000 records and the client only deserialises the statuses it expects (a 207 batch read, for instance,
is a normal answer here).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import hubspot
import urllib3
from hubspot.discovery.discovery_base import DiscoveryBase

from connectors.api.budget import ApiBudget, ApiBudgetExceeded
from connectors.api.retry import RetryPolicy
from connectors.hubspot.pacing import PortalPacer

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotApiError(RuntimeError):
    """A request HubSpot refused for good (4xx other than 429): retrying would fail the same way."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class HubSpotAuthError(HubSpotApiError):
    """HubSpot refused the access token (401): every request would be refused the same way, so none is retried
    and the run's configuration check stops before the first step."""


@dataclass
class RequestStats:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    rate_limited: int = 0  # 429s received
    paced_wait_s: float = 0.0  # time spent waiting for the shared pacer
    daily_limit: int | None = None
    daily_remaining: int | None = None
    server_time: datetime | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "requests_by_kind": dict(sorted(self.by_kind.items())),
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "paced_wait_s": round(self.paced_wait_s, 3),
            "daily_remaining": f"{self.daily_remaining}/{self.daily_limit}" if self.daily_limit else None,
        }


def request_kind(method: str, path: str) -> str:
    """A coarse name for a request, for the per-kind counts (the bench compares them with page minimums)."""
    if path.endswith("/search"):
        return "search"
    if "/associations/" in path:
        return "associations"
    if path.endswith("/batch/read"):
        return "batch_read"
    if path.startswith("/crm/v3/properties"):
        return "properties"
    if path.startswith("/crm/v3/owners"):
        return "owners"
    return "list" if method == "GET" else method.lower()


class _MeteredPool:
    """Stands in for the client's pool manager: pace before, meter after, delegate the rest."""

    def __init__(self, inner: urllib3.PoolManager, conn: HubSpotConnection) -> None:
        self._inner = inner
        self._conn = conn

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        path = urlsplit(url).path
        kind = request_kind(method, path)
        self._conn._before(kind)
        status: int | None = None
        headers: Any = {}
        try:
            response = self._inner.request(method, url, *args, **kwargs)
            status, headers = response.status, response.headers
            return response
        finally:
            self._conn._after(kind, status, headers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RetryableStatus(Exception):
    """A 429 or 5xx (or a body cut short) worth another attempt; carries Retry-After when HubSpot sent one."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.retry_after = retry_after


def _is_transient(exc: BaseException) -> bool:
    return isinstance(
        exc,
        (
            RetryableStatus,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.TimeoutError,
            urllib3.exceptions.NewConnectionError,
            json.JSONDecodeError,
        ),
    )


def _retry_after(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, RetryableStatus) else None


def _header_int(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubSpotConnection:
    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        pacer: PortalPacer | None = None,
        budget: ApiBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer
        self.budget = budget
        self.retry = retry or RetryPolicy(max_attempts=10)
        self.stats = RequestStats()
        self.timeout_s = timeout_s  # passed as ``_request_timeout`` by every call site
        self.client = hubspot.Client.create(
            access_token=access_token, host=self.base_url, retry=False, api_factory=self._api_factory
        )
        # Discovery builds a new ApiClient (and connection pool) on every attribute access: keep one of each.
        crm = self.client.crm
        self.objects = crm.objects.basic_api
        self.search = crm.objects.search_api
        self.batch = crm.objects.batch_api
        self.properties = crm.properties.core_api
        self.owners = crm.owners.owners_api
        self.pipelines = crm.pipelines.pipelines_api
        self.associations = crm.associations.v4.batch_api

    def _api_factory(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        api = DiscoveryBase._default_api_factory(package, api_name, config)
        rest = api.api_client.rest_client
        rest.pool_manager = _MeteredPool(rest.pool_manager, self)
        return api

    # -- metering --------------------------------------------------------------------------------------------
    def _before(self, kind: str) -> None:
        if self.budget is not None:
            self.budget.check()
        if self.pacer is not None:
            self.stats.paced_wait_s += self.pacer.acquire(search=kind == "search")

    def _after(self, kind: str, status: int | None, headers: Any) -> None:
        stats = self.stats
        stats.requests += 1
        stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
        key = status if status is not None else 0  # 0: no answer (connection dropped, timeout)
        stats.by_status[key] = stats.by_status.get(key, 0) + 1
        daily, remaining = (
            _header_int(headers, "X-HubSpot-RateLimit-Daily"),
            _header_int(headers, "X-HubSpot-RateLimit-Daily-Remaining"),
        )
        if daily is not None and remaining is not None:
            stats.daily_limit, stats.daily_remaining = daily, remaining
        if self.pacer is not None:
            self.pacer.learn_limit(_header_int(headers, "X-HubSpot-RateLimit-Max"))
        date = headers.get("Date") if headers else None
        if date:
            try:
                stats.server_time = parsedate_to_datetime(date).astimezone(UTC)
            except (TypeError, ValueError):
                pass
        if self.budget is not None:
            used = daily - remaining if daily is not None and remaining is not None else None
            self.budget.record(used, daily if used is not None else None)

    def server_now(self) -> datetime:
        """The portal's clock (Date header of the latest response): window bounds must not trust ours."""
        if self.stats.server_time is None:
            self.call(
                lambda: self.owners.get_page(limit=1, _preload_content=False, _request_timeout=self.timeout_s),
                what="clock probe",
            )
        return self.stats.server_time or datetime.now(UTC)

    # -- calls -----------------------------------------------------------------------------------------------
    def call(self, fn: Callable[[], Any], *, what: str) -> dict[str, Any]:
        """Run one client call made with ``_preload_content=False``; return its parsed JSON body."""

        def attempt() -> dict[str, Any]:
            try:
                response = fn()
            except Exception as exc:
                # Each generated package (objects, owners, associations…) has its own ApiException class with
                # the same shape: recognise them by it rather than importing every package's.
                if isinstance(getattr(exc, "status", None), int) and hasattr(exc, "body"):
                    raise self._classify(exc) from exc
                raise
            try:
                raw = response.data
            finally:
                response.release_conn()
            return json.loads(raw) if raw else {}

        return self.retry.call(
            attempt, is_transient=_is_transient, retry_after=_retry_after, on_retry=self._on_retry, what=what
        )

    def _classify(self, exc: Any) -> Exception:
        status = int(exc.status or 0)
        body = exc.body if isinstance(exc.body, str) else (exc.body or b"").decode("utf-8", "replace")
        headers = getattr(exc, "headers", None) or {}
        if status == 429:
            self.stats.rate_limited += 1
            policy = _json_field(body, "policyName")
            if policy == "DAILY":
                return ApiBudgetExceeded(f"HubSpot daily request limit reached: {_json_field(body, 'message')}")
            asked = _header_int(headers, "Retry-After")
            if asked is None:
                interval = _header_int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
                asked = max(1, (interval or 1000) // 1000) if policy != "SECONDLY" else 1
            return RetryableStatus(429, _json_field(body, "message") or "rate limited", float(asked))
        if status >= 500 or status == 0:
            return RetryableStatus(status, body[:200])
        error = HubSpotAuthError if status == 401 else HubSpotApiError
        return error(status, _json_field(body, "message") or body[:500])

    def _on_retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        self.stats.retries += 1
        if isinstance(exc, RetryableStatus) and exc.status == 429 and self.pacer is not None:
            self.pacer.pause(delay)

    def close(self) -> None:
        for api in (self.objects, self.search, self.batch, self.properties, self.owners, self.associations):
            api.api_client.rest_client.pool_manager.clear()


def _json_field(body: str, name: str) -> str:
    try:
        value = json.loads(body).get(name)
    except (ValueError, AttributeError):
        return ""
    return str(value) if value is not None else ""
