"""What an unchanged re-sync costs, counted by the sandbox: one queryAll page per object, and per run one access
token and one global describe answered 304; getDeleted at its cadence; a large incremental window still moves to
Bulk 2.0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from connectors.salesforce.catalog import OBJECTS, SOURCE
from connectors.salesforce.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.salesforce.conftest import connect

CONFIG = ObjectSyncConfig(bulk_poll_s=0.05)


def _run(sandbox: Sandbox, wh: Warehouse, run_id: str, config: ObjectSyncConfig = CONFIG) -> None:
    # A connection per object, as each Dagster step opens its own; the run id lets them share one token.
    for object_name in OBJECTS:
        conn = connect(sandbox, run_id=run_id)
        sync_object(conn, wh, object_name, config, sync_id=run_id)
        conn.close()


def test_unchanged_resync_costs_one_request_per_object_plus_a_token_and_a_schema_check_per_run(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    control.reset_requests()
    _run(sandbox, wh, "run-1")
    assert Counter(r["route"] for r in control.requests_served("salesforce"))["oauth_token"] == 1

    control.reset_requests()
    _run(sandbox, wh, "run-2")
    served = control.requests_served("salesforce")
    routes = Counter(r["route"] for r in served)
    assert routes == {"oauth_token": 1, "describe_global": 1, "query_all": len(OBJECTS)}, routes
    assert [r["status"] for r in served if r["route"] == "describe_global"] == [304]
    with wh.engine.connect() as c:
        audits = c.execute(sa.select(wh.control.sync_runs).where(wh.control.sync_runs.c.sync_id == "run-2")).all()
    assert len(audits) == len(OBJECTS)
    # The window's first page told its size: the audit keeps the source's count without a COUNT() query.
    assert all(a.source_count is not None and a.source_count == a.extracted for a in audits), audits


def test_a_describe_older_than_the_schema_is_downloaded_again(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s1")
    state = dict(wh.get_state(SOURCE, "Lead") or {})
    assert state["describe"]["last_modified"]
    state["describe"] = {**state["describe"], "last_modified": "Mon, 01 Jan 2001 00:00:00 GMT"}
    with wh.batch() as b:
        b.save_state(SOURCE, "Lead", state, sync_id="s1")

    control.reset_requests()
    sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s2")
    served = control.requests_served("salesforce")
    assert [(r["route"], r["status"]) for r in served if r["route"].startswith("describe")] == [
        ("describe_global", 200),
        ("describe", 200),
    ]
    assert (wh.get_state(SOURCE, "Lead") or {})["describe"]["last_modified"] != "Mon, 01 Jan 2001 00:00:00 GMT"


def test_an_expired_shared_session_is_renewed_once_for_the_whole_run(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    first = connect(sandbox, run_id="run")
    sync_object(first, wh, "Lead", CONFIG, sync_id="run")
    control.action("salesforce", "expire_sessions")
    control.reset_requests()
    second, third = connect(sandbox, run_id="run"), connect(sandbox, run_id="run")
    sync_object(second, wh, "Account", CONFIG, sync_id="run")
    sync_object(third, wh, "Contact", CONFIG, sync_id="run")
    assert second.stats.reauths == 1 and third.stats.reauths == 0
    assert Counter(r["route"] for r in control.requests_served("salesforce"))["oauth_token"] == 1


def test_get_deleted_runs_at_its_cadence(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s1")
    purged = control.action("salesforce", "purge_random", object="Lead", n=1)["ids"]
    control.advance_clock(120)
    control.reset_requests()
    soon = sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s2")
    assert soon.hard_deleted == 0
    assert "get_deleted" not in {r["route"] for r in control.requests_served("salesforce")}

    control.advance_clock(CONFIG.deleted_every.total_seconds())
    control.reset_requests()
    due = sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s3")
    assert due.hard_deleted == 1 and len(purged) == 1
    assert Counter(r["route"] for r in control.requests_served("salesforce"))["get_deleted"] == 1


def test_a_large_incremental_window_moves_to_bulk_on_its_first_page(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    config = replace(CONFIG, lookback=timedelta(0))
    sync_object(connect(sandbox), wh, "Task", config, sync_id="s1")
    changed = control.action("salesforce", "modify_random", object="Task", n=15)["ids"]
    control.advance_clock(2)  # past the changes' second: window bounds come from whole-second Date headers
    control.reset_requests()
    result = sync_object(connect(sandbox), wh, "Task", replace(config, bulk_threshold=10), sync_id="s2")
    assert (result.mode, result.source_count, result.extracted) == ("bulk", len(set(changed)), len(set(changed)))
    routes = Counter(r["route"] for r in control.requests_served("salesforce"))
    assert routes["query_all"] == 1 and routes["bulk_create"] == 1 and routes["query"] == 0, routes
    with wh.engine.connect() as c:
        audit = c.execute(sa.select(wh.control.sync_runs).where(wh.control.sync_runs.c.sync_id == "s2")).one()
    assert (audit.mode, audit.source_count) == ("bulk", len(set(changed)))
