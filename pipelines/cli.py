"""The ``crm-loop`` command line: the demo, production syncs, backfills and reports."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from connectors.errors import UserError
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.sql_output import FORMATS, Format
from pipelines.warehouse_settings import DEFAULT_URL, SCHEMA_VARIABLE, URL_VARIABLE, configured


class _OneLineErrors(click.Group):
    """Prints a ``UserError`` as one line on stderr and exits 1; ``--debug`` lets the traceback through instead."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UserError as error:
            if ctx.params.get("debug"):
                raise
            click.echo(f"crm-loop: {error}", err=True)
            sys.exit(1)


@click.group(cls=_OneLineErrors)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error instead of one line.")
def main(debug: bool) -> None:
    """crm-loop: close the loop between HubSpot (marketing) and Salesforce (sales)."""


@main.command()
@click.option("--seed", default=7, show_default=True)
@click.option("--size", default=2_000, show_default=True, help="People in the generated funnel.")
@click.option("--workdir", default="var/demo", show_default=True, type=click.Path(file_okay=False, path_type=Path))
def demo(seed: int, size: int, workdir: Path) -> None:
    """Run the whole pipeline on the local sandbox into an embedded DuckDB warehouse, then summarise."""
    from pipelines.demo import run_demo
    from pipelines.runner import print_outcome, write_report

    started = time.monotonic()
    outcome = run_demo(seed=seed, size=size, workdir=workdir.resolve())
    print_outcome(outcome)
    if CLOSED_LOOP_LEADS.name in outcome.table_rows:
        report_path = workdir.resolve() / "report.md"
        click.echo("")
        click.echo(write_report(outcome.warehouse_url, "", report_path, run_id=outcome.run_id))
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    click.echo(
        f"\ndemo: {size:,} people in {minutes} min {seconds:02d} s (sandbox start-up, sync, build, checks, report)"
    )
    click.echo(f"warehouse: {outcome.warehouse_url}")
    click.echo(
        f"try:  ./run crm-loop sql --warehouse {outcome.warehouse_url} "
        '"SELECT current_stage, COUNT(*) FROM closed_loop_leads GROUP BY 1 ORDER BY 2 DESC"'
    )
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


@main.command()
@click.option("--full-resync", is_flag=True, help="Ignore cursors and re-extract every object.")
def sync(full_resync: bool) -> None:
    """Run the nightly job against the CRMs configured in the environment (see README, "Configuration").

    Exits 0 when the run succeeded, 1 when it failed or the configuration is wrong, 3 when it stopped at the API
    budget (what landed is built on; the next run resumes)."""
    from pipelines.defs.jobs import FULL_RESYNC, NIGHTLY
    from pipelines.runner import execute, print_outcome

    outcome = execute(FULL_RESYNC if full_resync else NIGHTLY)
    print_outcome(outcome)
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


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


def _warehouse_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--warehouse`` and ``--schema``; left out, they are the settings ``sync`` and ``backfill`` use."""
    command = click.option(
        "--schema", default=None, help=f"Warehouse schema  [default: ${SCHEMA_VARIABLE}, else the default]"
    )(command)
    return click.option(
        "--warehouse",
        default=None,
        help="SQLAlchemy URL, e.g. duckdb:///var/demo/warehouse.duckdb or postgresql://user@host/db  "
        f"[default: ${URL_VARIABLE}, else {DEFAULT_URL}]",
    )(command)


def _warehouse_settings(warehouse: str | None, schema: str | None) -> tuple[str, str]:
    """The warehouse URL and schema the options name, else those the settings name (as for sync and backfill)."""
    url, db_schema = configured()
    return url if warehouse is None else warehouse, db_schema if schema is None else schema


@main.command()
@_warehouse_options
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown summary; the HTML page goes beside it (report.html)  "
    "[default: report.md beside a DuckDB warehouse file, else var/report.md]",
)
def report(warehouse: str | None, schema: str | None, output: Path | None) -> None:
    """Write the funnel and SLA report (an HTML page and a Markdown summary) from the warehouse's closed-loop
    views (read-only)."""
    import sqlalchemy as sa

    from pipelines.report import write
    from pipelines.warehouse_reader import query_error, read_only
    from pipelines.warehouse_url import parse, report_path

    url, db_schema = _warehouse_settings(warehouse, schema)
    with read_only(url, db_schema) as conn:
        try:
            click.echo(write(conn, db_schema or None, output or report_path(parse(url))))
        except sa.exc.DBAPIError as error:
            hint = "build it first with crm-loop sync (or crm-loop demo)"
            raise query_error(error, conn, missing_table_hint=hint) from error


@main.command()
@click.argument("query")
@_warehouse_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table: aligned, rounded, for reading; csv and json: every value in full, for other programs",
)
def sql(query: str, warehouse: str | None, schema: str | None, output_format: Format) -> None:
    """Run one SQL query against the warehouse (read-only) and print the rows."""
    import sqlalchemy as sa

    from pipelines.sql_output import render
    from pipelines.warehouse_reader import query_error, read_only

    url, db_schema = _warehouse_settings(warehouse, schema)
    with read_only(url, db_schema) as conn:
        try:
            # Colons escaped: the query is the analyst's SQL as written, with no bind parameters (':30', '::date').
            result = conn.execute(sa.text(query.replace(":", "\\:")))
        except sa.exc.DBAPIError as error:
            raise query_error(error, conn) from error
        if result.returns_rows:
            for line in render(list(result.keys()), result, output_format):
                click.echo(line)


@main.command()
@click.option(
    "--dry-run/--apply",
    "dry_run",
    default=True,
    show_default=True,
    help="--dry-run prints and stores the diff only; --apply writes the changed values",
)
def writeback(dry_run: bool) -> None:
    """Write crm-loop's outcomes into the CRM fields the definitions file's writeback section lists (warehouse and
    CRMs from the environment, as for sync). Every planned or written field is recorded in writeback_audit; a field a
    person changed after crm-loop's last write is reported as a conflict, never overwritten.

    Exits 0 when done, 1 on an error, 3 when it stopped at the API budget (what was not written is recorded as
    skipped; the next run writes it)."""
    import os
    import uuid

    from pipelines.defs.funnel import FunnelDefinitionsResource
    from pipelines.defs.resources import HubSpotResource, SalesforceResource
    from pipelines.defs.settings import (
        DEFINITIONS_VARIABLES,
        HUBSPOT_VARIABLES,
        SALESFORCE_VARIABLES,
        resolved,
        warehouse_from_env,
    )
    from pipelines.defs.writeback.targets import check_configured, open_targets
    from pipelines.funnel.yaml_source import DefinitionsError
    from pipelines.writeback.run import run_writeback, summary_lines

    try:
        defs = resolved(FunnelDefinitionsResource, DEFINITIONS_VARIABLES, os.environ).load().writeback
    except DefinitionsError as error:
        first = str(error).strip().splitlines()[0]
        raise UserError(f"the definitions file is invalid: {first} (fix it and run again)") from error
    if defs is None or not defs.fields:
        raise UserError(
            "the definitions file lists no fields under writeback: add a writeback section naming the CRM fields "
            "crm-loop may write (see README, 'Write-back for RevOps')"
        )
    check_configured(defs, os.environ)
    run_id = uuid.uuid4().hex
    hubspot = resolved(HubSpotResource, HUBSPOT_VARIABLES, os.environ)
    salesforce = resolved(SalesforceResource, SALESFORCE_VARIABLES, os.environ)
    wh = warehouse_from_env().open()
    try:
        with open_targets(defs, hubspot, salesforce, run_id) as targets:
            outcome = run_writeback(wh, defs, targets, apply=not dry_run, run_id=run_id)
    finally:
        wh.close()
    for line in summary_lines(outcome):
        click.echo(line)
    if outcome.budget_stopped:
        raise SystemExit(3)


if __name__ == "__main__":
    main()
