"""Salesforce extraction end to end: sandbox over HTTPS, the real client, DuckDB and PostgreSQL warehouses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.salesforce.catalog import OBJECTS as SALESFORCE_OBJECTS
from connectors.salesforce.catalog import raw_table_name
from connectors.salesforce.connection import SalesforceConnection
from connectors.salesforce.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.salesforce.conftest import connect

CONFIG = ObjectSyncConfig(bulk_poll_s=0.05)
META = ("_sync_id", "_extracted_at")


def table_rows(wh: Warehouse, object_name: str) -> dict[str, dict[str, Any]]:
    table = sa.table(raw_table_name(object_name), schema=wh.schema)
    with wh.engine.connect() as c:
        result = c.execute(sa.select(sa.text("*")).select_from(table))
        return {row["id"]: {k: v for k, v in row.items() if k not in META} for row in result.mappings()}


def sync_runs(wh: Warehouse) -> list[dict[str, Any]]:
    with wh.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(wh.control.sync_runs)).mappings()]


def source_ids(conn: SalesforceConnection, object_name: str, deleted: bool) -> set[str]:
    soql = f"SELECT Id FROM {object_name} WHERE IsDeleted = {'true' if deleted else 'false'}"
    return {r["Id"] for r in conn.sf.query_all(soql, include_deleted=True)["records"]}


def test_full_sync_lands_every_object(sandbox: Sandbox, warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox)
    for object_name in SALESFORCE_OBJECTS:
        result = sync_object(conn, wh, object_name, CONFIG, sync_id="full-1")
        rows = table_rows(wh, object_name)
        live = {i for i, r in rows.items() if not r["_is_deleted"]}
        assert live == source_ids(conn, object_name, deleted=False), object_name
        assert {i for i, r in rows.items() if r["_is_deleted"]} == source_ids(conn, object_name, deleted=True)
        assert result.extracted == result.loaded + result.quarantined == result.source_count
        assert result.audit_difference == 0
    counts = sandbox.salesforce.record_counts()
    for object_name in SALESFORCE_OBJECTS:
        assert wh.row_count(raw_table_name(object_name), deleted=False) == counts[object_name], object_name
    runs = sync_runs(wh)
    assert len(runs) == len(SALESFORCE_OBJECTS)
    assert all(r["status"] == "success" and r["extracted"] == r["loaded"] + r["quarantined"] for r in runs)
    # Custom fields land like standard ones.
    lead = next(iter(table_rows(wh, "Lead").values()))
    assert "disqualification_reason__c" in lead and "hubspot_contact_id__c" in lead


def test_incremental_sync_requests_only_changed_rows(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    config = replace(CONFIG, lookback=ObjectSyncConfig().lookback * 0)
    sync_object(connect(sandbox), wh, "Lead", config, sync_id="s1")
    before = table_rows(wh, "Lead")
    modified = control.action("salesforce", "modify_random", object="Lead", n=6)
    deleted = control.action("salesforce", "delete_random", object="Lead", n=2)
    changed_ids = set(_ids(modified)) | set(_ids(deleted))
    assert len(changed_ids) == 8

    # The window's upper bound is the org's Date header, whole seconds: step past the changes' second.
    control.advance_clock(2)
    control.reset_requests()
    conn = connect(sandbox)
    result = sync_object(conn, wh, "Lead", config, sync_id="s2")
    assert result.extracted == 8 and result.deleted == 2
    routes = [r["route"] for r in control.requests_served("salesforce")]
    # One page of exactly the changed rows, uncounted (its totalSize is the count); no further pages, no Bulk job.
    assert routes.count("query_all") == 1 and "query_more" not in routes and "bulk_create" not in routes, routes
    assert result.source_count == 8
    after = table_rows(wh, "Lead")
    assert set(after) == set(before), "nothing new, nothing duplicated"
    assert {i for i in after if after[i]["_is_deleted"]} - {i for i in before if before[i]["_is_deleted"]} == set(
        _ids(deleted)
    )
    current = {r["Id"]: r for r in conn.sf.query_all("SELECT Id, Status, SystemModstamp FROM Lead")["records"]}
    for lead_id in _ids(modified):
        assert after[lead_id]["status"] == current[lead_id]["Status"]
    unchanged = set(before) - changed_ids
    assert all(after[i] == before[i] for i in unchanged)


def _ids(reply: dict[str, Any]) -> list[str]:
    return [str(i) for i in reply["ids"]]


def test_bulk_gives_the_same_rows_as_rest(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    rest_wh, bulk_wh = warehouse_factory(), warehouse_factory()
    rest = sync_object(connect(sandbox), rest_wh, "Task", CONFIG, sync_id="rest")
    control.reset_requests()
    bulk = sync_object(
        connect(sandbox), bulk_wh, "Task", replace(CONFIG, bulk_threshold=10, bulk_page_size=97), sync_id="bulk"
    )
    assert (rest.mode, bulk.mode) == ("rest", "bulk")
    routes = [r["route"] for r in control.requests_served("salesforce")]
    assert routes.count("bulk_create") == 1 and routes.count("bulk_results") >= 2, routes
    assert table_rows(rest_wh, "Task") == table_rows(bulk_wh, "Task")
    assert bulk.extracted == rest.extracted > 97


def test_late_commits_and_purged_rows_are_found(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    config = replace(CONFIG, deleted_every=timedelta(0))  # getDeleted on every run, not once a day
    sync_object(connect(sandbox), wh, "Lead", config, sync_id="s1")
    # Move the cursor to "now" so the late rows land behind it, as a lagging commit does.
    control.action("salesforce", "modify_random", object="Lead", n=1)
    sync_object(connect(sandbox), wh, "Lead", config, sync_id="s2")
    late = _ids(control.action("salesforce", "late_commit", object="Lead", n=3, minutes=5))
    purged = _ids(control.action("salesforce", "purge_random", object="Lead", n=2))
    control.advance_clock(120)  # getDeleted, like Salesforce, never reports the current minute
    conn = connect(sandbox)
    result = sync_object(conn, wh, "Lead", config, sync_id="s3")
    rows = table_rows(wh, "Lead")
    current = {r["Id"]: r for r in conn.sf.query_all("SELECT Id, Status, Title FROM Lead")["records"]}
    for lead_id in late:
        if lead_id in current:
            assert (rows[lead_id]["status"], rows[lead_id]["title"]) == (
                current[lead_id]["Status"],
                current[lead_id]["Title"],
            )
    assert result.hard_deleted == 2
    assert all(rows[i]["_is_deleted"] for i in purged)


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
def test_faults_give_the_same_result_as_a_clean_run(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse], bulk: bool
) -> None:
    config = replace(CONFIG, bulk_threshold=10 if bulk else 10_000, rest_batch_size=200, bulk_page_size=150)
    control.action("salesforce", "insert", object="Task", records=[{"Subject": "x" * 300, "Status": "Completed"}])
    control.advance_clock(2)  # past the insert's second: window bounds come from whole-second Date headers
    clean_wh, faulty_wh = warehouse_factory(), warehouse_factory()
    clean = sync_object(connect(sandbox), clean_wh, "Task", config, sync_id="clean")
    control.faults(rate_5xx=0.25, truncate_rate=0.1, session_expiry_after=4)
    conn = connect(sandbox)
    faulty = sync_object(conn, faulty_wh, "Task", config, sync_id="faulty")
    control.reset_faults()
    assert conn.stats.reauths >= 1 and conn.stats.retries >= 1
    assert table_rows(clean_wh, "Task") == table_rows(faulty_wh, "Task")
    assert (faulty.extracted, faulty.loaded, faulty.quarantined) == (clean.extracted, clean.loaded, clean.quarantined)
    assert faulty.quarantined == 1
    for wh in (clean_wh, faulty_wh):
        with wh.engine.connect() as c:
            rows = c.execute(sa.select(wh.control.quarantine)).mappings().all()
        assert [(r["object"], r["field"]) for r in rows] == [("Task", "subject")]
        assert "255" in rows[0]["reason"] or "long" in rows[0]["reason"]


def test_schema_drift_adds_columns_and_keeps_vanished_ones(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse]
) -> None:
    """Fields appearing in or vanishing from the selection (as describe changes upstream) never break a sync."""
    wh = warehouse_factory()
    first = sync_object(connect(sandbox), wh, "Lead", replace(CONFIG, exclude=("Title",)), sync_id="s1")
    assert "title" not in next(iter(table_rows(wh, "Lead").values()))
    assert first.schema_added == [] and first.schema_missing == []

    control.action("salesforce", "modify_random", object="Lead", n=3)
    control.advance_clock(2)
    second = sync_object(connect(sandbox), wh, "Lead", CONFIG, sync_id="s2")
    assert second.schema_added == ["title"]
    rows = table_rows(wh, "Lead")
    assert all("title" in r for r in rows.values())

    third = sync_object(connect(sandbox), wh, "Lead", replace(CONFIG, exclude=("Rating",)), sync_id="s3")
    assert third.schema_missing == ["rating"]
    assert all("rating" in r for r in table_rows(wh, "Lead").values()), "the column stays for analysts"


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
def test_reconciliation_finds_purges_older_than_get_deleted_reaches(
    sandbox: Sandbox, control: Control, warehouse_factory: Callable[[], Warehouse], bulk: bool
) -> None:
    wh = warehouse_factory()
    config = replace(CONFIG, bulk_threshold=10 if bulk else 10_000)
    sync_object(connect(sandbox), wh, "Lead", config, sync_id="s1")
    purged = _ids(control.action("salesforce", "purge_random", object="Lead", n=2))
    control.advance_clock(20 * 86_400)  # past getDeleted's 15 days, and past the weekly reconciliation
    control.reset_requests()
    result = sync_object(connect(sandbox), wh, "Lead", config, sync_id="s2")
    assert (result.hard_deleted, result.reconciled_deleted) == (0, 2)
    rows = table_rows(wh, "Lead")
    assert all(rows[i]["_is_deleted"] for i in purged)
    assert sum(1 for r in rows.values() if not r["_is_deleted"]) == sandbox.salesforce.record_counts()["Lead"]
    routes = [r["route"] for r in control.requests_served("salesforce")]
    assert ("bulk_create" in routes) == bulk, routes
