"""The ``crm-loop`` command line: the demo, production syncs, backfills and reports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS


@click.group()
def main() -> None:
    """crm-loop: close the loop between HubSpot (marketing) and Salesforce (sales)."""


@main.command()
@click.option("--seed", default=7, show_default=True)
@click.option("--size", default=2_000, show_default=True, help="People in the generated funnel.")
@click.option("--workdir", default="var/demo", show_default=True, type=click.Path(file_okay=False, path_type=Path))
def demo(seed: int, size: int, workdir: Path) -> None:
    """Run the whole pipeline on the local sandbox into an embedded DuckDB warehouse, then summarise."""
    from pipelines.demo import run_demo
    from pipelines.runner import print_outcome, write_report

    outcome = run_demo(seed=seed, size=size, workdir=workdir.resolve())
    print_outcome(outcome)
    if CLOSED_LOOP_LEADS.name in outcome.table_rows:
        report_path = workdir.resolve() / "report.md"
        click.echo("")
        click.echo(write_report(outcome.warehouse_url, "", report_path, run_id=outcome.run_id))
    click.echo(f"\nwarehouse: {outcome.warehouse_url}")
    click.echo(
        'try:  ./run crm-loop sql "SELECT current_stage, COUNT(*) FROM closed_loop_leads GROUP BY 1 ORDER BY 2 DESC"'
    )
    if not outcome.success:
        raise SystemExit(1)


@main.command()
@click.option("--full-resync", is_flag=True, help="Ignore cursors and re-extract every object.")
def sync(full_resync: bool) -> None:
    """Run the nightly job against the CRMs configured in the environment (see README, "Configuration")."""
    from pipelines.defs.jobs import FULL_RESYNC, NIGHTLY
    from pipelines.runner import execute, print_outcome

    outcome = execute(FULL_RESYNC if full_resync else NIGHTLY)
    print_outcome(outcome)
    if not outcome.success:
        raise SystemExit(1)


@main.command()
@click.option(
    "--start", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (inclusive)"
)
@click.option("--end", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (inclusive)")
def backfill(start: datetime, end: datetime) -> None:
    """Rebuild the daily SLA snapshots for a date range, one Dagster run per day (warehouse from the environment)."""
    from datetime import timedelta

    from pipelines.defs.jobs import SLA_SNAPSHOT
    from pipelines.runner import execute

    if end < start:
        raise click.BadParameter("--end is before --start")
    day, failed = start.date(), []
    while day <= end.date():
        outcome = execute(SLA_SNAPSHOT, partition_key=day.isoformat())
        click.echo(f"{day}: {'ok' if outcome.success else 'FAILED'} (run {outcome.run_id})")
        if not outcome.success:
            failed.append(day.isoformat())
        day += timedelta(days=1)
    if failed:
        raise SystemExit(f"failed days: {', '.join(failed)}")


@main.command()
@click.option("--warehouse", default="duckdb:///var/demo/warehouse.duckdb", show_default=True, help="SQLAlchemy URL")
@click.option("--schema", default="", help="Warehouse schema, if not the default")
@click.option("--output", default="var/report.md", show_default=True, type=click.Path(dir_okay=False, path_type=Path))
def report(warehouse: str, schema: str, output: Path) -> None:
    """Write the funnel and SLA report (Markdown) from the warehouse's closed-loop table."""
    from pipelines.runner import write_report

    click.echo(write_report(warehouse, schema, output))


@main.command()
@click.argument("query")
@click.option("--warehouse", default="duckdb:///var/demo/warehouse.duckdb", show_default=True, help="SQLAlchemy URL")
def sql(query: str, warehouse: str) -> None:
    """Run one SQL query against the warehouse and print the rows."""
    import sqlalchemy as sa

    engine = sa.create_engine(warehouse)
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text(query))
            click.echo("\t".join(result.keys()))
            for row in result:
                click.echo("\t".join("" if v is None else str(v) for v in row))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
