"""Run one of crm-loop's jobs in this process through Dagster, with progress, and collect what happened."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from connectors.warehouse.schema import qualified
from pipelines.defs.alerts.sensors import DIGEST_TAG, digest_for_run
from pipelines.defs.warehouse_cache import close_shared_warehouses

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    warehouse_url: str
    table_rows: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    alert_title: str | None = None  # the digest sent for this run, if any
    alert_deliveries: list[str] = field(default_factory=list)  # "channel: ok" / "channel: error"


STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
}
_OUTCOMES = {
    DagsterEventType.STEP_SUCCESS: "ok",
    DagsterEventType.STEP_FAILURE: "FAILED",
    DagsterEventType.STEP_SKIPPED: "skipped",
}
# Records read per query: a long backlog (a slow first tick) is read in pages, not in one deserialisation.
_PAGE = 500


@dataclass
class StepProgress:
    """What a run is doing, from its step events: the steps running now and how many of ``total`` finished."""

    total: int
    running: dict[str, float] = field(default_factory=dict)  # step key -> when it started (epoch seconds)
    finished: set[str] = field(default_factory=set)

    def apply(self, step_key: str, event_type: DagsterEventType, timestamp: float) -> str | None:
        """Take one step event; a step that finished gives its log line, e.g. ``[3/40] ok raw_x 1.2s``."""
        if event_type is DagsterEventType.STEP_START:
            self.running[step_key] = timestamp
            return None
        if event_type not in _OUTCOMES or step_key in self.finished:
            return None
        self.finished.add(step_key)
        started = self.running.pop(step_key, None)
        took = "" if started is None else f" {timestamp - started:.1f}s"
        return f"[{len(self.finished)}/{self.total}] {_OUTCOMES[event_type]} {step_key}{took}"

    @property
    def label(self) -> str:
        if not self.running:
            return "running"
        first, more = next(iter(self.running)), len(self.running) - 1
        return f"running {first}" + (f" (+{more})" if more else "")


def read_step_events(
    instance: DagsterInstance, run_id: str, cursor: str | None
) -> tuple[list[tuple[str, DagsterEventType, float]], str | None]:
    """The run's step events after ``cursor`` as (step key, type, timestamp), and the cursor to read on from:
    each tick reads only what is new, not the whole event log."""
    events: list[tuple[str, DagsterEventType, float]] = []
    while True:
        page = instance.get_records_for_run(run_id, cursor=cursor, of_type=STEP_EVENTS, limit=_PAGE)
        for record in page.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is not None and event.step_key:
                events.append((event.step_key, event.event_type, entry.timestamp))
        cursor = page.cursor
        if not page.has_more:
            return events, cursor


def _follow(
    instance: DagsterInstance, run_id: str, total: int, done: threading.Event, *, interactive: bool | None = None
) -> None:
    """Follow the run's step events so a long sync shows movement instead of silence: a progress bar naming the
    running step on a terminal, else (a log, CI) one line per finished step."""
    interactive = sys.stdout.isatty() if interactive is None else interactive
    progress = StepProgress(total)
    cursor: str | None = None
    with contextlib.ExitStack() as stack:
        bar = (
            stack.enter_context(click.progressbar(length=total, label="running", show_pos=True, show_eta=False))
            if interactive
            else None
        )
        while True:
            stop = done.wait(0.5)
            events, cursor = read_step_events(instance, run_id, cursor)
            for step_key, event_type, timestamp in events:
                line = progress.apply(step_key, event_type, timestamp)
                if line is None:
                    continue
                if bar is None:
                    click.echo(line)
                else:
                    bar.update(1)
            if bar is not None:
                bar.label = progress.label
                bar.render_progress()
            if stop:
                return


def execute(job_name: str, *, run_config: dict[str, Any] | None = None, partition_key: str | None = None) -> RunOutcome:
    """Execute ``job_name`` from the project's Definitions against the Dagster instance in $DAGSTER_HOME."""
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / "dagster_home"))
    from pipelines.definitions import build_definitions
    from pipelines.defs.settings import warehouse_from_env

    job = build_definitions().resolve_job_def(job_name)
    instance = DagsterInstance.get()
    run_id = str(uuid.uuid4())
    done = threading.Event()
    watcher = threading.Thread(target=_follow, args=(instance, run_id, len(job.nodes), done), daemon=True)
    watcher.start()
    config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, **(run_config or {})}
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config=config,
            tags={DIGEST_TAG: "cli"},
            partition_key=partition_key,
        )
    finally:
        done.set()
        watcher.join(timeout=10)
        # The run's steps shared one engine per warehouse; release it (and the DuckDB file) now the run is over.
        close_shared_warehouses()
    events = result.all_events
    warehouse = warehouse_from_env()
    failed_steps = [e.step_key or "?" for e in events if e.event_type == DagsterEventType.STEP_FAILURE]
    # Sensors only run under the Dagster daemon; a run started here sends its own digest (and sensors skip it).
    report = digest_for_run(run_id, warehouse, f"failed steps: {', '.join(failed_steps)}" if failed_steps else None)
    return RunOutcome(
        success=result.success,
        run_id=run_id,
        warehouse_url=warehouse.url,
        failed_steps=failed_steps,
        checks=[
            (e.asset_check_evaluation_data.check_name, e.asset_check_evaluation_data.passed)
            for e in events
            if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
        ],
        table_rows=table_row_counts(warehouse.url, warehouse.db_schema),
        alert_title=report.digest.title if report.digest else None,
        alert_deliveries=[f"{d.channel}: {'delivered' if d.ok else d.error}" for d in report.deliveries],
    )


def table_row_counts(url: str, schema: str = "") -> dict[str, int]:
    """Rows per table and view of crm-loop's schema, read from information_schema (duckdb-engine's
    reflection is unreliable under SQLAlchemy 2.1)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if schema:
                where, params = "table_schema = :schema", {"schema": schema}
            elif engine.dialect.name == "postgresql":
                where, params = "table_schema = current_schema()", {}
            else:
                where, params = "table_schema NOT IN ('information_schema', 'pg_catalog')", {}
            names = (
                conn.execute(
                    sa.text(f"SELECT table_name FROM information_schema.tables WHERE {where} ORDER BY table_name"),
                    params,
                )
                .scalars()
                .all()
            )
            return {
                n: int(
                    conn.execute(
                        sa.text(f"SELECT COUNT(*) FROM {qualified(conn.dialect, schema or None, n)}")
                    ).scalar_one()
                )
                for n in names
            }
    finally:
        engine.dispose()


def print_outcome(outcome: RunOutcome) -> None:
    click.echo("")
    click.echo(f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'}")
    if outcome.failed_steps:
        click.echo(f"failed steps: {', '.join(outcome.failed_steps)}")
    click.echo("\nrows per table:")
    width = max((len(t) for t in outcome.table_rows), default=10)
    for table, rows in outcome.table_rows.items():
        click.echo(f"  {table:<{width}}  {rows:>9,}")
    if outcome.checks:
        passed = sum(1 for _, ok in outcome.checks if ok)
        click.echo(f"\nasset checks: {passed} passed, {len(outcome.checks) - passed} failed")
        for name, ok in outcome.checks:
            if not ok:
                click.echo(f"  failed: {name}")
    if outcome.alert_title:
        click.echo(f"\nalert digest: {outcome.alert_title}")
        for delivery in outcome.alert_deliveries or ["no alert channel configured (see README, Alerts)"]:
            click.echo(f"  {delivery}")


def write_report(url: str, schema: str, path: Path, *, run_id: str | None = None) -> str:
    """Render the leaders' report to ``path``; returns a few headline lines for the terminal."""
    from pipelines.funnel.definitions import load_definitions
    from pipelines.report import headline, render

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(conn, load_definitions(), schema or None, run_id=run_id))
            h = headline(conn, schema or None)
    finally:
        engine.dispose()
    compliance = "n/a" if h.first_touch_compliance is None else f"{h.first_touch_compliance:.0%}"
    return "\n".join(
        [
            f"funnel: {h.leads} leads -> {h.mqls} MQL -> {h.sals} SAL -> {h.sqls} SQL -> {h.opportunities} opportunities -> "
            f"{h.won} won ({h.revenue:,.0f}), {h.lost} lost",
            f"SLA: first touch in time {compliance} ({h.first_touch_met} met, {h.first_touch_breached} breached, "
            f"{h.first_touch_pending} pending); {h.ignored_mqls} MQLs never touched; "
            f"{h.rejections_without_reason} rejections without a reason; {h.too_few_attempts} disqualified too early",
            f"report for sales and marketing leaders: {path}",
        ]
    )
