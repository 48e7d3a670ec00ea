"""One asset per HubSpot raw table: the object types, owners, association edges and contact lifecycle history.

Edges and history depend on the object assets: they refresh the records those assets (re)loaded, read back from
the warehouse, so they must run after them in the same run.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from connectors.api.budget import ApiBudgetExceeded
from connectors.hubspot.catalog import (
    ASSOCIATIONS,
    DEAL_PIPELINE_STAGES,
    MERGED_RECORDS,
    OBJECT_TYPES,
    OWNERS,
    PROPERTY_HISTORY,
    RECORD_COLUMNS,
    raw_table_name,
)
from pipelines.defs.budget_stop import stopped_at_budget
from pipelines.defs.metadata import COLUMN_SCHEMA, column_schema, raw_column_schema
from pipelines.defs.resources import HubSpotResource, WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

# The sync functions (hubspot-api-client, SQLAlchemy, pyarrow) are imported by the steps that run them, so the
# code location loads without them.
if TYPE_CHECKING:
    from connectors.hubspot.connection import HubSpotConnection
    from connectors.warehouse.warehouse import Warehouse

GROUP = "hubspot_raw"
TAGS = {"crm_loop/source": "hubspot"}


class HubSpotSyncConfig(Config):
    full_refresh: bool = False


def _run(
    context: AssetExecutionContext,
    hubspot: HubSpotResource,
    warehouse: WarehouseResource,
    sync: Callable[["HubSpotConnection", "Warehouse"], Any],
) -> MaterializeResult:
    conn = hubspot.connect(context.run.run_id)
    try:
        result = sync(conn, shared_warehouse(warehouse))
    except ApiBudgetExceeded as stop:
        return stopped_at_budget(context, stop, conn.stats.requests)
    finally:
        conn.close()
    meta = result.as_metadata()
    context.log.info(
        f"{meta.get('table')}: {meta.get('extracted')} extracted, {meta.get('loaded')} loaded, "
        f"{meta.get('quarantined')} quarantined in {meta.get('requests')} requests"
    )
    return MaterializeResult(
        metadata={
            **{k: v for k, v in meta.items() if not isinstance(v, list)},
            **{k: MetadataValue.json(v) for k, v in meta.items() if isinstance(v, list)},
            "api": MetadataValue.json(conn.stats.as_metadata()),
            "dagster/column_schema": column_schema(result.columns),
        }
    )


def _object_asset(object_type: str) -> AssetsDefinition:
    @asset(
        name=raw_table_name(object_type),
        group_name=GROUP,
        kinds={"hubspot", "sql"},
        tags=TAGS,
        description=f"Raw HubSpot {object_type}: one row per record id, every property (archived and merged-away "
        f"rows kept, flagged _is_deleted; merges also in {MERGED_RECORDS.name}).",
        metadata={COLUMN_SCHEMA: raw_column_schema(RECORD_COLUMNS)},
    )
    def _sync(
        context: AssetExecutionContext,
        config: HubSpotSyncConfig,
        hubspot: HubSpotResource,
        warehouse: WarehouseResource,
    ) -> MaterializeResult:
        from connectors.hubspot.sync import sync_object

        settings = hubspot.sync_config(object_type, full_refresh=config.full_refresh)
        return _run(
            context,
            hubspot,
            warehouse,
            lambda conn, wh: sync_object(conn, wh, object_type, settings, sync_id=context.run.run_id),
        )

    return _sync


@asset(
    name=OWNERS.name,
    group_name=GROUP,
    kinds={"hubspot", "sql"},
    tags=TAGS,
    description=OWNERS.doc,
    metadata={COLUMN_SCHEMA: raw_column_schema(OWNERS.columns)},
)
def hubspot_owners(
    context: AssetExecutionContext, hubspot: HubSpotResource, warehouse: WarehouseResource
) -> MaterializeResult:
    from connectors.hubspot.owners import sync_owners

    return _run(context, hubspot, warehouse, lambda conn, wh: sync_owners(conn, wh, sync_id=context.run.run_id))


@asset(
    name=DEAL_PIPELINE_STAGES.name,
    group_name=GROUP,
    kinds={"hubspot", "sql"},
    tags=TAGS,
    description=DEAL_PIPELINE_STAGES.doc,
    metadata={COLUMN_SCHEMA: raw_column_schema(DEAL_PIPELINE_STAGES.columns)},
)
def hubspot_deal_pipeline_stages(
    context: AssetExecutionContext, hubspot: HubSpotResource, warehouse: WarehouseResource
) -> MaterializeResult:
    from connectors.hubspot.pipelines import sync_deal_pipelines

    return _run(context, hubspot, warehouse, lambda conn, wh: sync_deal_pipelines(conn, wh, sync_id=context.run.run_id))


@asset(
    name=ASSOCIATIONS.name,
    group_name=GROUP,
    kinds={"hubspot", "sql"},
    tags=TAGS,
    description=ASSOCIATIONS.doc,
    metadata={COLUMN_SCHEMA: raw_column_schema(ASSOCIATIONS.columns)},
    deps=[AssetKey(raw_table_name(t)) for t in OBJECT_TYPES],
)
def hubspot_associations(
    context: AssetExecutionContext, hubspot: HubSpotResource, warehouse: WarehouseResource
) -> MaterializeResult:
    from connectors.hubspot.associations import sync_associations

    return _run(
        context,
        hubspot,
        warehouse,
        lambda conn, wh: sync_associations(conn, wh, hubspot.association_config(), sync_id=context.run.run_id),
    )


@asset(
    name=PROPERTY_HISTORY.name,
    group_name=GROUP,
    kinds={"hubspot", "sql"},
    tags=TAGS,
    description=PROPERTY_HISTORY.doc,
    metadata={COLUMN_SCHEMA: raw_column_schema(PROPERTY_HISTORY.columns)},
    deps=[AssetKey(raw_table_name("contacts"))],
)
def hubspot_contact_property_history(
    context: AssetExecutionContext, hubspot: HubSpotResource, warehouse: WarehouseResource
) -> MaterializeResult:
    from connectors.hubspot.history import sync_contact_history

    return _run(
        context, hubspot, warehouse, lambda conn, wh: sync_contact_history(conn, wh, sync_id=context.run.run_id)
    )


hubspot_object_assets: list[AssetsDefinition] = [_object_asset(t) for t in OBJECT_TYPES]

# Written by the object syncs as they meet merges, so no step of its own: declared for its place in the graph (in
# this group, not Dagster's ``default``), its description and its columns.
hubspot_merged_records = AssetSpec(
    MERGED_RECORDS.name,
    group_name=GROUP,
    kinds={"hubspot", "sql"},
    tags=TAGS,
    description=f"{MERGED_RECORDS.doc} Written by the object syncs.",
    deps=[AssetKey(raw_table_name(t)) for t in OBJECT_TYPES],
    metadata={COLUMN_SCHEMA: raw_column_schema(MERGED_RECORDS.columns)},
)

hubspot_raw_assets: list[AssetsDefinition] = [
    *hubspot_object_assets,
    hubspot_owners,
    hubspot_deal_pipeline_stages,
    hubspot_associations,
    hubspot_contact_property_history,
]
