"""closed_loop_leads and the analyst views over it (each view an asset of its own, so it is documented and
lineage-tracked like a table)."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, MaterializeResult, multi_asset
from pydantic import Field

from connectors.warehouse.catalog.harmonised import CANONICAL_TABLES, CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import VIEWS
from pipelines.closed_loop.inputs import HISTORY_TABLES
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.metadata import column_schema
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

GROUP = "closed_loop"
AS_OF_ENV = "CRM_LOOP_AS_OF"

CLOSED_LOOP_SPEC = AssetSpec(
    key=CLOSED_LOOP_LEADS.name,
    group_name=GROUP,
    kinds={"sql"},
    description=CLOSED_LOOP_LEADS.doc,
    deps=[AssetKey(s.name) for s in CANONICAL_TABLES] + [AssetKey(t) for t in HISTORY_TABLES],
    metadata={
        "dagster/column_schema": column_schema(CLOSED_LOOP_LEADS.columns),
        "grain": CLOSED_LOOP_LEADS.doc,
        "primary_key": "person_key",
    },
)
VIEW_SPECS = [
    AssetSpec(
        key=v.name,
        group_name=GROUP,
        kinds={"sql"},
        description=v.doc,
        deps=[AssetKey(CLOSED_LOOP_LEADS.name)],
        metadata={"dagster/column_schema": column_schema(v.columns), "grain": v.doc, "view": True},
    )
    for v in VIEWS
]


class ClosedLoopConfig(Config):
    as_of: str = Field(
        default="",
        description="ISO instant to audit SLAs at; empty = $CRM_LOOP_AS_OF, else the "
        "latest instant in the data (so rebuilds are reproducible)",
    )


def parse_as_of(value: str) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@multi_asset(specs=[CLOSED_LOOP_SPEC, *VIEW_SPECS], name="closed_loop")
def closed_loop(
    context: AssetExecutionContext,
    config: ClosedLoopConfig,
    warehouse: WarehouseResource,
    funnel_definitions: FunnelDefinitionsResource,
) -> Iterator[MaterializeResult]:
    from pipelines.closed_loop.build import write_closed_loop  # pandas loads with the step, not the code location

    defs = funnel_definitions.load()
    wh = shared_warehouse(warehouse)
    result = write_closed_loop(wh, defs, parse_as_of(config.as_of or os.environ.get(AS_OF_ENV, "")))
    context.log.info(f"closed_loop_leads: {result.rows} rows as of {result.as_of}")
    common = {
        "definitions_hash": defs.content_hash,
        "definitions_version": defs.version,
        "as_of": result.as_of.isoformat() if result.as_of else "",
    }
    yield MaterializeResult(asset_key=CLOSED_LOOP_LEADS.name, metadata={"dagster/row_count": result.rows, **common})
    for name in result.views:
        yield MaterializeResult(asset_key=name, metadata=common)
