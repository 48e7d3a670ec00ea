"""A Salesforce session that expires in the middle of an extraction: one re-login, the same request repeated, the
query locator or Bulk 2.0 job carried on under the new session, and the table exactly as an uninterrupted sync
leaves it. The sandbox expires every session when a chosen request arrives."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from connectors.salesforce.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.salesforce.conftest import connect
from tests.salesforce.test_sync import CONFIG, table_rows

REST = replace(CONFIG, rest_batch_size=200)
BULK = replace(CONFIG, bulk_threshold=10, bulk_page_size=150)


@pytest.mark.parametrize(
    ("config", "route", "nth"),
    [
        (REST, "query_more", 1),  # the second page of a REST query, by its nextRecordsUrl
        (BULK, "bulk_get", 1),  # polling the Bulk 2.0 job it created
        (BULK, "bulk_results", 2),  # the job's second page of results, by its locator
    ],
    ids=["rest-paging", "bulk-poll", "bulk-results"],
)
def test_a_session_expiring_mid_extraction_costs_one_login_and_changes_nothing(
    sandbox: Sandbox,
    control: Control,
    tmp_path: Path,
    config: ObjectSyncConfig,
    route: str,
    nth: int,
) -> None:
    # Sessions are the connector's business, whatever the engine: DuckDB alone keeps this quick.
    clean_wh = Warehouse.from_url(f"duckdb:///{tmp_path}/clean.duckdb")
    expired_wh = Warehouse.from_url(f"duckdb:///{tmp_path}/expired.duckdb")
    clean = sync_object(connect(sandbox), clean_wh, "Task", config, sync_id="clean")

    control.reset_requests()
    control.action("salesforce", "expire_sessions", on_route=route, nth=nth)
    conn = connect(sandbox, run_id="expiring")
    result = sync_object(conn, expired_wh, "Task", config, sync_id="expiring")

    served = [(r["route"], r["status"], r["target"]) for r in control.requests_served("salesforce")]
    refused = [i for i, (_, status, _) in enumerate(served) if status == 401]
    assert len(refused) == 1, served
    at = refused[0]
    assert served[at][0] == route
    assert served[at + 1][:2] == ("oauth_token", 200)
    # The refused request is repeated as it was (same page URL or locator) under the new session.
    assert (served[at + 2][0], served[at + 2][1], served[at + 2][2]) == (route, 200, served[at][2])
    assert [r for r, _, _ in served].count("oauth_token") == 2
    if config is BULK:
        assert [r for r, _, _ in served].count("bulk_create") == 1, "the job carried on; no second job"
    assert conn.stats.reauths == 1
    assert (result.mode, result.extracted, result.loaded) == (clean.mode, clean.extracted, clean.loaded)
    assert table_rows(expired_wh, "Task") == table_rows(clean_wh, "Task")
    clean_wh.close()
    expired_wh.close()
