"""The leaders' report (the HTML page and its Markdown summary) as an asset after closed_loop_leads and its views:
each run that rebuilds the closed loop writes the page, and its path and headline are on the materialization."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import VIEWS
from pipelines.defs.closed_loop.assets import GROUP, parse_as_of
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

LEADERS_REPORT = "leaders_report"


def _closed_loop_as_of(context: AssetExecutionContext) -> str:
    """The instant closed_loop_leads was judged at, from its latest materialization (empty when it has none)."""
    event = context.instance.get_latest_materialization_event(AssetKey(CLOSED_LOOP_LEADS.name))
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get("as_of") if materialization else None
    return str(value.value) if value is not None else ""


@asset(
    name=LEADERS_REPORT,
    group_name=GROUP,
    kinds={"html"},
    deps=[AssetKey(CLOSED_LOOP_LEADS.name), *(AssetKey(v.name) for v in VIEWS)],
    description="The funnel and SLA report for marketing and sales leaders: a self-contained HTML page (charts "
    "as inline SVG, every chart's numbers as a table) and a Markdown summary, beside a DuckDB warehouse file "
    "(var/ for a server warehouse). The data-quality section shows the checks this run had recorded by then.",
)
def leaders_report(
    context: AssetExecutionContext, warehouse: WarehouseResource, funnel_definitions: FunnelDefinitionsResource
) -> MaterializeResult:
    # altair, the SVG renderer and SQLAlchemy load with the step, not the code location
    from pipelines.report import publish
    from pipelines.warehouse_url import parse, report_path

    wh = shared_warehouse(warehouse)
    with wh.engine.connect() as conn:
        published = publish(
            conn,
            wh.schema,
            report_path(parse(warehouse.url)).resolve(),
            run_id=context.run.run_id,
            as_of=parse_as_of(_closed_loop_as_of(context)),
            defs=funnel_definitions.load(),
        )
    context.log.info(f"leaders' report: {published.page}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(published.page)),
            "markdown_path": MetadataValue.path(str(published.markdown)),
            "headline": MetadataValue.text(published.headline),
            "as_of": published.as_of.isoformat(),
            "page_bytes": published.page.stat().st_size,
        }
    )
