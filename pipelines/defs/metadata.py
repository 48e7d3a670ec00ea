"""What the Dagster UI shows about crm-loop's assets beyond their code: column schemas from the catalog (the way
the data dictionary documents every table), who owns them, which engine they run on, how fresh they must be."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Definitions,
    FreshnessPolicy,
    PreviewWarning,
    TableColumn,
    TableSchema,
)

from connectors.warehouse.spec import DELETED_AT, EXTRACTED_AT, IS_DELETED, SYNC_ID, Column
from pipelines.closed_loop.dictionary import SQL_TYPES

COLUMN_SCHEMA = "dagster/column_schema"
# RevOps defines the funnel and answers the alerts; one owner for the whole graph until a second team shares it.
OWNERS = ("team:revops",)
# Assets declare the generic kind ``sql`` (their work runs in the warehouse); the Definitions name the engine.
GENERIC_KIND = "sql"
ENGINE_KINDS = {"duckdb": "duckdb", "postgresql": "postgres"}
# A nightly asset is stale when a whole night was missed: a day, plus a run's length of slack.
NIGHTLY_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=30), warn_window=timedelta(hours=26))

LOAD_COLUMNS = (
    TableColumn(SYNC_ID, "text", description="the sync (Dagster run) that last wrote the row"),
    TableColumn(EXTRACTED_AT, "timestamp (UTC)", description="when that sync read the row"),
    TableColumn(IS_DELETED, "boolean", description="deleted, archived or merged away at the source"),
    TableColumn(DELETED_AT, "timestamp (UTC)", description="when the source reports the deletion (null while live)"),
)


def column_schema(columns: Sequence[Column]) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, SQL_TYPES[c.type], description=c.doc) for c in columns])


def raw_column_schema(columns: Sequence[Column]) -> TableSchema:
    """A raw table's columns as the catalog knows them before any sync, load metadata included. An object table
    also lands one column per field the CRM describes; its first sync reports the full list."""
    return TableSchema(columns=[*column_schema(columns).columns, *LOAD_COLUMNS])


def engine_kind(url: str) -> str:
    """``duckdb`` or ``postgres`` for a SQLAlchemy URL (any driver); another engine keeps the generic kind."""
    backend = url.split(":", 1)[0].split("+", 1)[0]
    return ENGINE_KINDS.get(backend, GENERIC_KIND)


def _annotated(spec: AssetSpec, kind: str, steps: set[AssetKey]) -> AssetSpec:
    kinds = {kind if k == GENERIC_KIND else k for k in spec.kinds}
    # Every asset a step writes is rebuilt nightly, except the day-partitioned snapshots (their own morning
    # schedule); a table written as a side effect (no step of its own) records no materialization to judge.
    nightly = spec.key in steps and spec.partitions_def is None and spec.freshness_policy is None
    return spec.replace_attributes(
        owners=list(spec.owners or OWNERS),
        kinds=kinds,
        freshness_policy=NIGHTLY_FRESHNESS if nightly else spec.freshness_policy,
    )


def annotate(defs: Definitions, warehouse_url: str) -> Definitions:
    """Every asset with an owner, the nightly ones with a freshness policy, and the warehouse's work with the
    engine configured when the code loads (so the UI says where a table lives)."""
    kind = engine_kind(warehouse_url)
    steps = {key for a in defs.assets or () if isinstance(a, AssetsDefinition) and a.is_executable for key in a.keys}
    with warnings.catch_warnings():
        # Marked preview in Dagster 1.13, the documented way to edit specs in a Definitions; a test covers it.
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_asset_specs(func=lambda spec: _annotated(spec, kind, steps))
