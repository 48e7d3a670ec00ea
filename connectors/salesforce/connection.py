"""One authenticated Salesforce connection: retries, re-authentication, request metering and the API budget.

Every call goes through :meth:`SalesforceConnection.call`, so a page fetch that meets an expired session is
re-authenticated and repeated in place (the query locator survives a new session), and a 5xx or dropped
connection is retried with backoff. A 400 is never retried: the same request would fail the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from simple_salesforce.util import exception_handler

from connectors.api.budget import ApiBudget, ApiBudgetExceeded
from connectors.api.retry import RetryPolicy
from connectors.salesforce.auth import (
    SHARED_GRANTS,
    AccessGrant,
    GrantCache,
    SalesforceAuthError,
    SalesforceCredentials,
    authenticate,
    grant_key,
)
from connectors.salesforce.run_memory import SHARED_RUN_MEMORY, RunMemory

T = TypeVar("T")
log = logging.getLogger(__name__)
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


@dataclass
class RequestStats:
    """What this connection cost: requests by HTTP status, re-authentications and retries."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    reauths: int = 0
    retries: int = 0
    org_used: int | None = None
    org_max: int | None = None
    server_time: datetime | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "reauths": self.reauths,
            "retries": self.retries,
            "org_api_usage": f"{self.org_used}/{self.org_max}" if self.org_max else None,
        }


@dataclass(frozen=True)
class Describe:
    """An sObject describe, or ``body=None`` when Salesforce answered 304 (unchanged since the date we sent)."""

    body: dict[str, Any] | None
    last_modified: str | None  # HTTP date to send back as If-Modified-Since next time


def _http_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


class _TimeoutSession(requests.Session):
    """simple-salesforce passes no timeout, and a request without one can hang a nightly run forever."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(method, url, *args, **kwargs)


def _limit_errors(exc: BaseException) -> list[dict[str, Any]]:
    if not isinstance(exc, SalesforceRefusedRequest) or not isinstance(exc.content, list):
        return []
    return [e for e in exc.content if isinstance(e, dict) and e.get("errorCode") == "REQUEST_LIMIT_EXCEEDED"]


def is_concurrency_throttle(exc: BaseException) -> bool:
    """403 REQUEST_LIMIT_EXCEEDED for too many long-running requests at once: it clears in seconds."""
    return any("Concurrent" in str(e.get("message", "")) for e in _limit_errors(exc))


def is_daily_limit_refusal(exc: BaseException) -> bool:
    """403 REQUEST_LIMIT_EXCEEDED for the org's daily allowance: only tomorrow helps."""
    return bool(_limit_errors(exc)) and not is_concurrency_throttle(exc)


def _is_transient(exc: BaseException) -> bool:
    if is_concurrency_throttle(exc):
        return True
    if isinstance(exc, SalesforceGeneralError):
        return exc.status >= 500
    if isinstance(exc, SalesforceAuthError):
        return exc.status >= 500
    # A body cut mid-transfer surfaces as ChunkedEncodingError, a dropped socket as ConnectionError.
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


class SalesforceConnection:
    def __init__(
        self,
        credentials: SalesforceCredentials,
        *,
        api_version: str = "59.0",
        ca_bundle: str | None = None,
        retry: RetryPolicy | None = None,
        budget: ApiBudget | None = None,
        timeout_s: float = 120.0,
        run_id: str | None = None,
        grants: GrantCache = SHARED_GRANTS,
        memory: RunMemory = SHARED_RUN_MEMORY,
    ) -> None:
        """``run_id`` shares one access token, and what the org said about its schema and clock, with every
        connection of the same run in this process."""
        self.credentials = credentials
        self._grant_key = grant_key(credentials, run_id) if run_id else None
        self._grants = grants
        self._memory = memory if run_id else RunMemory()
        self._memory_key = self._grant_key or ()
        self.api_version = api_version
        self.retry = retry or RetryPolicy()
        self.budget = budget
        self.stats = RequestStats()
        self.session = _TimeoutSession(timeout_s)
        if ca_bundle:
            self.session.verify = ca_bundle
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override Session.verify (psf/requests#3829), and
            # simple-salesforce never passes verify per request: ignore the environment so this CA is used.
            self.session.trust_env = False
        self.session.hooks["response"].append(self._meter)
        self._grant: AccessGrant | None = None
        self._sf: Salesforce | None = None

    # -- metering --------------------------------------------------------------------------------------------
    def _meter(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.stats.org_used, self.stats.org_max = int(match.group(1)), int(match.group(2))
        date = response.headers.get("Date")
        if date:
            try:
                self.stats.server_time = parsedate_to_datetime(date).astimezone(UTC)
                self._memory.saw_clock(self._memory_key, self.stats.server_time)
            except (TypeError, ValueError):
                pass
        if self.budget is not None:
            self.budget.record(self.stats.org_used if match else None, self.stats.org_max if match else None)

    # -- client ----------------------------------------------------------------------------------------------
    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self._login()
        assert self._sf is not None
        return self._sf

    @property
    def instance_url(self) -> str:
        self.sf  # noqa: B018 - authenticates on first use
        assert self._grant is not None
        return self._grant.instance_url

    def _login(self, expired: AccessGrant | None = None) -> None:
        def fetch() -> AccessGrant:
            return self.retry.call(
                lambda: authenticate(self.credentials, self.session, self.api_version),
                is_transient=_is_transient,
                what="Salesforce authentication",
                on_retry=self._count_retry,
            )

        if self._grant_key is None:
            self._grant = fetch()
        else:
            self._grant = self._grants.get_or_fetch(self._grant_key, fetch, expired=expired)
        self._sf = Salesforce(
            instance_url=self._grant.instance_url,
            session_id=self._grant.access_token,
            session=self.session,
            version=self.api_version,
        )

    def _count_retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        self.stats.retries += 1

    def server_now(self) -> datetime:
        """The org's clock (HTTP Date header of the latest response): window bounds must not trust ours."""
        if self.stats.server_time is None:
            shared = self._memory.clock(self._memory_key)
            if shared is not None:
                return shared  # another step of this run heard from the org moments ago
            self.call(lambda sf: sf.limits(), what="limits")
        return self.stats.server_time or datetime.now(UTC)

    def call(self, fn: Callable[[Salesforce], T], *, what: str = "Salesforce call") -> T:
        """Run ``fn(sf)`` with budget checks, retries for transient failures and one re-login per expiry."""

        def attempt() -> T:
            if self.budget is not None:
                self.budget.check()
            try:
                return fn(self.sf)
            except SalesforceExpiredSession:
                # Re-login once and repeat the same request: a page URL or Bulk locator stays valid.
                self.stats.reauths += 1
                log.info("Salesforce session expired during %s; re-authenticating", what)
                self._login(expired=self._grant)
                if self.budget is not None:
                    self.budget.check()
                return fn(self.sf)

        try:
            return self.retry.call(attempt, is_transient=_is_transient, what=what, on_retry=self._count_retry)
        except SalesforceRefusedRequest as exc:
            if is_daily_limit_refusal(exc):
                raise ApiBudgetExceeded(
                    "the org's daily API allowance is exhausted (403 REQUEST_LIMIT_EXCEEDED); "
                    "the sync stopped at its last committed batch and resumes from there"
                ) from exc
            raise

    def schema_unchanged_since(self, since: str) -> bool:
        """Whether no object's metadata changed since ``since`` (an HTTP date): the global describe answers 304
        to If-Modified-Since when so. Asked once per run for the dates the run's steps bring, not per object.
        """
        at = _http_date(since)
        if at is None:
            return False
        known = self._memory.schema_unchanged(self._memory_key, at)
        if known is not None:
            return known

        def get(sf: Salesforce) -> bool:
            response = sf.session.get(f"{sf.base_url}sobjects", headers={**sf.headers, "If-Modified-Since": since})
            if response.status_code == 304:
                return True
            if response.status_code >= 300:
                exception_handler(response, name="describe global")
            return False

        unchanged = self.call(get, what="describe global")
        self._memory.record_schema(self._memory_key, at, unchanged)
        return unchanged

    def describe(self, object_name: str, *, if_modified_since: str | None = None) -> Describe:
        """GET the sObject describe, conditionally: Salesforce answers 304 when the object's metadata has not
        changed since ``if_modified_since``. simple-salesforce raises on any status >= 300 and drops the reply's
        headers, so the request goes through its session and headers here, with its exception mapping.
        """

        def get(sf: Salesforce) -> Describe:
            headers = dict(sf.headers)
            if if_modified_since:
                headers["If-Modified-Since"] = if_modified_since
            response = sf.session.get(f"{sf.base_url}sobjects/{object_name}/describe", headers=headers)
            if response.status_code == 304:
                return Describe(None, if_modified_since)
            if response.status_code >= 300:
                exception_handler(response, name=object_name)
            # A reply without Last-Modified [?] is still the schema as of its Date: ask from then on.
            return Describe(response.json(), response.headers.get("Last-Modified") or response.headers.get("Date"))

        return self.call(get, what=f"describe {object_name}")

    def close(self) -> None:
        self.session.close()
