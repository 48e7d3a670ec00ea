"""A run killed mid-window resumes the same window (same Bulk job); the API budget stops a run cleanly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from simple_salesforce import Salesforce

from connectors.api.budget import ApiBudget, ApiBudgetExceeded, BudgetPolicy, SharedTally
from connectors.salesforce import sync
from connectors.salesforce.catalog import raw_table_name
from connectors.salesforce.connection import SalesforceConnection
from connectors.salesforce.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.salesforce.conftest import connect

T = TypeVar("T")
CONFIG = ObjectSyncConfig(bulk_poll_s=0.05)


class ProcessKilled(BaseException):
    """Stands in for the process dying: not an Exception, so no retry or audit handler can swallow it."""


class DiesAfter(SalesforceConnection):
    """A connection whose process 'dies' when it is about to make its n-th call of one kind."""

    def __init__(self, *args: Any, what: str, calls: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._what, self._left = what, calls

    def call(self, fn: Callable[[Salesforce], T], *, what: str = "Salesforce call") -> T:
        if what == self._what:
            self._left -= 1
            if self._left < 0:
                raise ProcessKilled(what)
        return super().call(fn, what=what)


def _killed_then_resumed(sandbox: Sandbox, wh: Warehouse, config: ObjectSyncConfig, what: str, calls: int) -> Any:
    info = connect(sandbox)
    dying = DiesAfter(info.credentials, ca_bundle=info.session.verify, retry=info.retry, what=what, calls=calls)
    with pytest.raises(ProcessKilled):
        sync_object(dying, wh, "Task", config, sync_id="killed")
    return sync_object(connect(sandbox), wh, "Task", config, sync_id="resumed")


def test_bulk_download_resumes_the_same_job(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    config = replace(CONFIG, bulk_threshold=10, bulk_page_size=60, commit_rows=1)
    reference = sync_object(connect(sandbox), warehouse_factory(), "Task", config, sync_id="reference")
    wh = warehouse_factory()
    control.reset_requests()
    resumed = _killed_then_resumed(sandbox, wh, config, what="bulk results", calls=2)
    assert resumed.resumed and resumed.mode == "bulk"
    job_creations = [
        r for r in control.requests_served("salesforce") if r["method"] == "POST" and r["path"].endswith("/jobs/query")
    ]
    assert len(job_creations) == 1, "the resumed run must reuse the job, not start another"
    assert resumed.extracted == reference.extracted - 120  # two pages of 60 were committed before the kill
    assert wh.row_count(raw_table_name("Task")) == reference.extracted


@pytest.mark.parametrize(("commit_rows", "committed"), [(1, 400), (400, 400), (10_000, 0)])
def test_rest_paging_resumes_after_the_last_committed_row(
    sandbox: Sandbox, warehouse_factory: Callable[[], Warehouse], commit_rows: int, committed: int
) -> None:
    # Pages grouped into one transaction commit together or not at all: the resume point moves with them.
    config = replace(CONFIG, rest_batch_size=200, commit_rows=commit_rows)
    reference = sync_object(connect(sandbox), warehouse_factory(), "Task", config, sync_id="reference")
    assert reference.extracted > 400
    wh = warehouse_factory()
    # The first page comes from `query`, the second from the one `query_more` allowed before the kill.
    resumed = _killed_then_resumed(sandbox, wh, config, what="query_more", calls=1)
    assert resumed.resumed
    assert resumed.extracted == reference.extracted - committed
    assert wh.row_count(raw_table_name("Task")) == reference.extracted


def test_a_run_dying_while_writing_resumes_after_the_last_written_page_not_the_prefetched_one(
    sandbox: Sandbox, warehouse_factory: Callable[[], Warehouse], monkeypatch: pytest.MonkeyPatch
) -> None:
    # While page 3 is written, page 4 is being fetched ahead: it must not move the resume point.
    config = replace(CONFIG, rest_batch_size=200, commit_rows=1)  # Salesforce's smallest batchSize
    reference = sync_object(connect(sandbox), warehouse_factory(), "Task", config, sync_id="reference")
    assert reference.extracted > 600
    split_page = sync._split_page
    written: list[int] = []

    def dies_on_the_third_page(*args: Any, **kwargs: Any) -> Any:
        written.append(1)
        if len(written) == 3:
            raise ProcessKilled("writing page 3")
        return split_page(*args, **kwargs)

    wh = warehouse_factory()
    with monkeypatch.context() as patch:
        patch.setattr(sync, "_split_page", dies_on_the_third_page)
        with pytest.raises(ProcessKilled):
            sync_object(connect(sandbox), wh, "Task", config, sync_id="killed")
    resumed = sync_object(connect(sandbox), wh, "Task", config, sync_id="resumed")
    assert resumed.resumed
    assert resumed.extracted == reference.extracted - 400
    assert wh.row_count(raw_table_name("Task")) == reference.extracted


def test_budget_stops_the_run_and_the_next_run_finishes(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse], tmp_path: Any
) -> None:
    control.faults(sf_daily_api_limit=40)  # a run may use 25%: 10 requests
    wh = warehouse_factory()
    tally = SharedTally(tmp_path / "tally.sqlite3")
    config = replace(CONFIG, rest_batch_size=200)
    tight = connect(sandbox, budget=ApiBudget(tally, org="sandbox", run="run-1", policy=BudgetPolicy(0.25, 1.0)))
    with pytest.raises(ApiBudgetExceeded, match="25%"):
        for object_name in ("User", "Account", "Campaign", "Lead", "Task"):
            sync_object(tight, wh, object_name, config, sync_id="run-1")
    assert tally.read("sandbox", "run-1")[0] <= 10
    control.faults(sf_daily_api_limit=1_000_000)
    roomy = connect(sandbox, budget=ApiBudget(tally, org="sandbox", run="run-2"))
    for object_name in ("User", "Account", "Campaign", "Lead", "Task"):
        result = sync_object(roomy, wh, object_name, config, sync_id="run-2")
        assert (
            wh.row_count(raw_table_name(object_name), deleted=False) == sandbox.salesforce.record_counts()[object_name]
        )
        assert result.extracted == result.loaded + result.quarantined


def test_org_daily_limit_refusal_stops_cleanly_and_throttles_are_retried(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    control.faults(rate_429=0.5)  # Salesforce's short-term throttle: 403 ConcurrentPerOrgLongTxn
    conn = connect(sandbox)
    result = sync_object(conn, wh, "Task", replace(CONFIG, rest_batch_size=200), sync_id="throttled")
    assert conn.stats.retries >= 1 and conn.stats.by_status.get(403, 0) >= 1
    assert wh.row_count(raw_table_name("Task"), deleted=False) == sandbox.salesforce.record_counts()["Task"]
    assert result.extracted == result.loaded
    control.faults(rate_429=0.0, sf_daily_api_limit=1)  # the org's day is over: 403 TotalRequests
    with pytest.raises(ApiBudgetExceeded, match="daily API allowance is exhausted"):
        sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="exhausted")


def test_a_hanging_org_times_out_and_retries_instead_of_blocking_the_run(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    from connectors.api.retry import RetriesExhausted, RetryPolicy

    info = connect(sandbox)
    conn = SalesforceConnection(
        info.credentials,
        ca_bundle=info.session.verify,
        timeout_s=0.3,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.01),
    )
    conn.sf  # noqa: B018 - authenticate before the org starts hanging
    control.faults(latency_ms=1_000)
    with pytest.raises(RetriesExhausted, match="describe Lead failed 2 times"):
        sync_object(conn, warehouse_factory(), "Lead", CONFIG, sync_id="hung")
    assert conn.stats.retries == 1
