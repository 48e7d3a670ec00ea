"""The Salesforce raw assets run through Dagster against the sandbox; secrets never reach logs or metadata."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest
from dagster import DagsterInstance, EnvVar, materialize

from connectors.salesforce.catalog import OBJECTS as SALESFORCE_OBJECTS
from connectors.salesforce.catalog import raw_table_name
from connectors.warehouse.warehouse import Warehouse
from pipelines.defs.resources import SalesforceResource, WarehouseResource
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from sandbox.server.app import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=5, size=80, anchor=datetime(2026, 11, 2, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


def test_assets_materialize_and_keep_secrets_out_of_event_storage(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = sandbox.info()["salesforce"]
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", info["client_secret"])
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    resources = {
        "salesforce": SalesforceResource(
            auth_mode="client_credentials",
            token_url=info["token_url"],
            client_id=info["client_id"],
            client_secret=EnvVar("SALESFORCE_CLIENT_SECRET"),
            ca_bundle=info["ca_bundle"],
            bulk_poll_seconds=0.05,
        ),
        "warehouse": WarehouseResource(url=url),
    }
    instance = DagsterInstance.ephemeral()
    result = materialize(salesforce_raw_assets, resources=resources, instance=instance)
    assert result.success
    materializations: dict[str, dict[str, object]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
        materializations[materialization.asset_key.to_user_string()] = materialization.metadata
    assert set(materializations) == {raw_table_name(o) for o in SALESFORCE_OBJECTS}
    lead = materializations[raw_table_name("Lead")]
    assert lead["extracted"].value == lead["loaded"].value + lead["quarantined"].value > 0
    assert lead["mode"].value == "rest"
    columns = {c.name: c for c in lead["dagster/column_schema"].value.columns}
    assert columns["disqualification_reason__c"].description.startswith("Salesforce Lead.Disqualification_Reason__c")

    wh = Warehouse.from_url(url)
    counts = sandbox.salesforce.record_counts()
    for object_name in SALESFORCE_OBJECTS:
        assert wh.row_count(raw_table_name(object_name), deleted=False) == counts[object_name]
    wh.close()

    stored = "\n".join(str(entry) for entry in instance.all_logs(result.run_id))
    assert "raw_salesforce__lead" in stored, "the event log was read"
    assert info["client_secret"] not in stored
