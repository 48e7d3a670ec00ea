"""A dataset with nothing planted gives no findings; the Dagster assets build the tables and views from a
warehouse and carry column metadata; the data dictionary is up to date."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, materialize

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACTIVITIES,
    CLOSED_LOOP_LEADS,
    HARMONISED_TABLES,
    IDENTITY_CONFLICTS,
    SLA_DAILY_SNAPSHOTS,
)
from connectors.warehouse.catalog.views import VIEWS
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.dictionary import DICTIONARY_PATH, render
from pipelines.closed_loop.write import read_table
from pipelines.defs.closed_loop.assets import closed_loop
from pipelines.defs.closed_loop.canonical import CANONICAL_SPECS, canonical_tables
from pipelines.defs.closed_loop.snapshots import sla_snapshot_asset
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.settings import ScheduleSettings
from tests.closed_loop.conftest import ANCHOR, aligned_definitions

sla_daily_snapshots = sla_snapshot_asset(ScheduleSettings())


def test_dagster_assets_build_a_clean_dataset_without_findings(clean: tuple[str, Path, dict]) -> None:
    url, workdir, manifest = clean
    assert set(manifest["planted_counts"].values()) == {0}
    result = materialize(
        [canonical_tables, closed_loop],
        resources={
            "warehouse": WarehouseResource(url=url),
            "funnel_definitions": FunnelDefinitionsResource(path=str(aligned_definitions(workdir))),
        },
        run_config={"ops": {"closed_loop": {"config": {"as_of": ANCHOR.isoformat()}}}},
    )
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    # The daily snapshots are a partitioned asset of their own (tests/closed_loop/test_sla_snapshots.py).
    assert materialized == (
        {AssetKey(s.name) for s in HARMONISED_TABLES if s is not SLA_DAILY_SNAPSHOTS}
        | {AssetKey(v.name) for v in VIEWS}
    )
    wh = Warehouse.from_url(url)
    try:
        leads = read_table(wh, CLOSED_LOOP_LEADS)
        assert len(read_table(wh, IDENTITY_CONFLICTS)) == 0
        assert not read_table(wh, CANONICAL_ACTIVITIES)["is_orphan"].any()
    finally:
        wh.close()
    assert len(leads) == manifest["counts"]["hubspot"]["contacts"]
    assert leads["mql_at"].notna().sum() > 20
    for column in (
        "first_touch_sla_status",
        "accept_reject_sla_status",
        "rejection_reason_sla_status",
        "contact_attempts_sla_status",
    ):
        assert "breached" not in set(leads[column]), column
    assert not leads["has_stage_regression"].any()
    assert set(leads.loc[leads["mql_at"].notna(), "owner_status"]) == {"assigned"}
    assert leads["email_is_valid"].all()


def test_assets_carry_column_schemas() -> None:
    specs = {s.key: s for s in CANONICAL_SPECS}
    for assets in (closed_loop, sla_daily_snapshots):
        specs.update(assets.specs_by_key)
    for table in HARMONISED_TABLES:
        schema = specs[AssetKey(table.name)].metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == table.column_names
        assert all(c.description for c in schema.columns)
    for view in VIEWS:
        assert [
            c.name for c in specs[AssetKey(view.name)].metadata["dagster/column_schema"].columns
        ] == view.column_names


def test_data_dictionary_is_up_to_date() -> None:
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render(), (
        "docs/data_dictionary.md is stale: run python -m pipelines.closed_loop.dictionary"
    )
    for table in HARMONISED_TABLES:
        assert "Grain:" in table.doc and all(c.doc for c in table.columns)
