"""The canonical tables (people, accounts, opportunities, activities, owners) and identity_conflicts: one step,
since they share the raw reads and people's identity feeds the others."""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from connectors.warehouse.catalog.harmonised import CANONICAL_TABLES
from pipelines.closed_loop.inputs import RAW_TABLES
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.metadata import column_schema
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

GROUP = "harmonised"

CANONICAL_SPECS = [
    AssetSpec(
        key=spec.name,
        group_name=GROUP,
        kinds={"sql"},
        description=spec.doc,
        deps=[AssetKey(t) for t in RAW_TABLES],
        metadata={
            "dagster/column_schema": column_schema(spec.columns),
            "grain": spec.doc,
            "primary_key": ", ".join(spec.primary_key),
        },
    )
    for spec in CANONICAL_TABLES
]


@multi_asset(specs=CANONICAL_SPECS, name="canonical_tables")
def canonical_tables(
    context: AssetExecutionContext, warehouse: WarehouseResource, funnel_definitions: FunnelDefinitionsResource
) -> Iterator[MaterializeResult]:
    from pipelines.closed_loop.build import write_canonical  # pandas loads with the step, not the code location

    defs = funnel_definitions.load()
    counts = write_canonical(shared_warehouse(warehouse), defs)
    context.log.info(", ".join(f"{t}: {n} rows" for t, n in counts.items()))
    for name, rows in counts.items():
        yield MaterializeResult(
            asset_key=name,
            metadata={
                "dagster/row_count": rows,
                "definitions_hash": defs.content_hash,
                "definitions_version": defs.version,
            },
        )
