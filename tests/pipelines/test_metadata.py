"""What the Dagster UI shows, read from the one Definitions: owners, engine kinds, groups, descriptions, column
schemas before any sync, freshness policies, and resources that resolve to the CLI's settings."""

from __future__ import annotations

from typing import Any

import pytest
from dagster import AssetSpec, Definitions, TableSchema

from connectors.hubspot.catalog import MERGED_RECORDS
from connectors.salesforce.catalog import raw_table_name
from pipelines.definitions import build_definitions
from pipelines.defs.metadata import COLUMN_SCHEMA, NIGHTLY_FRESHNESS, OWNERS
from pipelines.defs.resources import HubSpotResource, SalesforceResource
from pipelines.defs.settings import HUBSPOT_VARIABLES, SALESFORCE_VARIABLES, resolved, warehouse_from_env

LOCAL = {"CRM_LOOP_DEPLOYMENT": "local"}
POSTGRES = {**LOCAL, "CRM_LOOP_WAREHOUSE_URL": "postgresql+psycopg2://postgres@127.0.0.1:5432/test"}


@pytest.fixture(scope="module")
def local() -> Definitions:
    return build_definitions(LOCAL)


@pytest.fixture(scope="module")
def specs(local: Definitions) -> dict[str, AssetSpec]:
    return {s.key.to_user_string(): s for s in local.resolve_all_asset_specs()}


def test_every_asset_has_an_owner(specs: dict[str, AssetSpec]) -> None:
    assert {k for k, s in specs.items() if list(s.owners) != list(OWNERS)} == set()


def test_kinds_name_the_configured_engine_and_the_source(specs: dict[str, AssetSpec]) -> None:
    assert all("sql" not in s.kinds for s in specs.values())
    assert specs[raw_table_name("Lead")].kinds == {"salesforce", "duckdb"}
    assert specs["raw_hubspot__contacts"].kinds == {"hubspot", "duckdb"}
    assert specs["closed_loop_leads"].kinds == {"duckdb"}
    on_postgres = {s.key.to_user_string(): s.kinds for s in build_definitions(POSTGRES).resolve_all_asset_specs()}
    assert on_postgres["closed_loop_leads"] == {"postgres"}
    assert on_postgres[raw_table_name("Lead")] == {"salesforce", "postgres"}


def test_no_asset_is_left_in_the_default_group(specs: dict[str, AssetSpec]) -> None:
    assert {k for k, s in specs.items() if s.group_name in (None, "default")} == set()
    assert specs["sla_daily_snapshots"].group_name == "closed_loop"
    assert specs[MERGED_RECORDS.name].group_name == "hubspot_raw"


def test_every_asset_sensor_and_schedule_is_described(local: Definitions, specs: dict[str, AssetSpec]) -> None:
    repo = local.get_repository_def()
    assert {k for k, s in specs.items() if not s.description} == set()
    assert {s.name for s in repo.sensor_defs if not s.description} == set()
    assert {s.name for s in repo.schedule_defs if not s.description} == set()


def test_raw_tables_show_their_columns_before_the_first_sync(specs: dict[str, AssetSpec]) -> None:
    def columns(key: str) -> list[str]:
        schema = specs[key].metadata[COLUMN_SCHEMA]
        assert isinstance(schema, TableSchema)
        return [c.name for c in schema.columns]

    assert columns(raw_table_name("Lead")) == ["id", "_sync_id", "_extracted_at", "_is_deleted", "_deleted_at"]
    assert columns("raw_hubspot__contacts")[:2] == ["id", "created_at"]
    assert columns(MERGED_RECORDS.name) == [
        *MERGED_RECORDS.column_names,
        "_sync_id",
        "_extracted_at",
        "_is_deleted",
        "_deleted_at",
    ]
    raw = [k for k, s in specs.items() if s.group_name in ("salesforce_raw", "hubspot_raw")]
    assert len(raw) == 24 and all(COLUMN_SCHEMA in specs[k].metadata for k in raw)


def test_nightly_assets_have_a_freshness_policy(local: Definitions, specs: dict[str, AssetSpec]) -> None:
    nightly = {k.to_user_string() for k in local.resolve_job_def("crm_loop_nightly").asset_layer.executable_asset_keys}
    assert nightly and {k for k in nightly if specs[k].freshness_policy != NIGHTLY_FRESHNESS} == set()
    assert specs["sla_daily_snapshots"].freshness_policy is None  # its own morning schedule, one partition a day


def _resolved(defs: Definitions, name: str) -> dict[str, Any]:
    resource = defs.resources[name]
    return dict(resource.process_config_and_initialize().model_dump())  # type: ignore[attr-defined]


def test_the_ui_resolves_the_settings_the_cli_runs_with(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {
        **POSTGRES,
        "CRM_LOOP_WAREHOUSE_SCHEMA": "crm",
        "SALESFORCE_TOKEN_URL": "https://sf.example/services/oauth2/token",
        "SALESFORCE_CLIENT_ID": "id-1",
        "SALESFORCE_CLIENT_SECRET": "secret-sf",
        "HUBSPOT_ACCESS_TOKEN": "secret-hs",
        "HUBSPOT_BASE_URL": "http://127.0.0.1:9",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(environ)
    # The code location keeps only the variables' names; a run (launched from the UI) reads their values.
    assert "secret-sf" not in repr(defs.resources["salesforce"]) and "secret-hs" not in repr(defs.resources["hubspot"])
    assert _resolved(defs, "warehouse") == warehouse_from_env(environ).model_dump()
    assert _resolved(defs, "salesforce") == resolved(SalesforceResource, SALESFORCE_VARIABLES, environ).model_dump()
    assert _resolved(defs, "hubspot") == resolved(HubSpotResource, HUBSPOT_VARIABLES, environ).model_dump()
    assert _resolved(defs, "warehouse")["db_schema"] == "crm"
    assert _resolved(defs, "hubspot")["access_token"] == "secret-hs"
