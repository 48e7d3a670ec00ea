"""One asset per Salesforce object: its raw warehouse table, synced incrementally."""

from dagster import AssetExecutionContext, AssetsDefinition, Config, MaterializeResult, MetadataValue, asset

from connectors.api.budget import ApiBudgetExceeded
from connectors.salesforce.catalog import OBJECTS, raw_table_name
from connectors.warehouse.spec import Column
from pipelines.defs.budget_stop import stopped_at_budget
from pipelines.defs.metadata import COLUMN_SCHEMA, column_schema, raw_column_schema
from pipelines.defs.resources import SalesforceResource, WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

# Before the first sync the UI shows what every raw object table has; the sync reports every field it landed.
RECORD_ID = Column("id", "string", doc="the record's Salesforce Id")


class SalesforceSyncConfig(Config):
    full_refresh: bool = False


def _salesforce_asset(object_name: str) -> AssetsDefinition:
    @asset(
        name=raw_table_name(object_name),
        group_name="salesforce_raw",
        kinds={"salesforce", "sql"},
        description=f"Raw Salesforce {object_name}: one row per {object_name} Id (deleted rows kept, flagged _is_deleted).",
        tags={"crm_loop/source": "salesforce"},
        metadata={COLUMN_SCHEMA: raw_column_schema((RECORD_ID,))},
    )
    def _sync(
        context: AssetExecutionContext,
        config: SalesforceSyncConfig,
        salesforce: SalesforceResource,
        warehouse: WarehouseResource,
    ) -> MaterializeResult:
        # simple-salesforce, SQLAlchemy and pyarrow load with the first sync step, not with the code location.
        from connectors.salesforce.sync import sync_object

        conn = salesforce.connect(context.run.run_id)
        try:
            result = sync_object(
                conn,
                shared_warehouse(warehouse),
                object_name,
                salesforce.sync_config(object_name, full_refresh=config.full_refresh),
                sync_id=context.run.run_id,
            )
        except ApiBudgetExceeded as stop:
            return stopped_at_budget(context, stop, conn.stats.requests)
        finally:
            conn.close()
        context.log.info(
            f"{object_name}: {result.extracted} extracted, {result.loaded} loaded, {result.quarantined} quarantined "
            f"via {result.mode} in {result.requests} requests"
        )
        meta = result.as_metadata()
        return MaterializeResult(
            metadata={
                **{k: v for k, v in meta.items() if not isinstance(v, list)},
                "schema_added": MetadataValue.json(result.schema_added),
                "schema_missing": MetadataValue.json(result.schema_missing),
                "api": MetadataValue.json(conn.stats.as_metadata()),
                "table": MetadataValue.text(result.table),
                "dagster/column_schema": column_schema(result.columns),
            }
        )

    return _sync


salesforce_raw_assets: list[AssetsDefinition] = [_salesforce_asset(o) for o in OBJECTS]
