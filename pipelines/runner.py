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
from dagster import DagsterEvent, DagsterEventType, DagsterInstance

from checks.model import Tally
from connectors.warehouse.schema import qualified
from pipelines.defs.alerts.sensors import DIGEST_TAG, check_tally, digest_for_run
from pipelines.defs.budget_stop import BUDGET_STOP, BUDGET_STOP_REQUESTS
from pipelines.defs.warehouse_cache import claim_for_run, close_shared_warehouses

REPO_ROOT = Path(__file__).resolve().parent.parent
# Exit codes of a run (README, "Exit status"): a stop at the API budget is neither a success nor a failure.
EXIT_OK, EXIT_FAILED, EXIT_BUDGET_STOP = 0, 1, 3
BUDGET_STOP_STATUS = "stopped at the API budget, resumes at the next run"


@dataclass(frozen=True)
class BudgetStop:
    """An extraction step that ended at the run's API budget: after ``requests`` requests, or before any (0)."""

    step: str
    reason: str
    requests: int

    @property
    def line(self) -> str:
        if self.requests:
            return f"stopped {self.step} after {self.requests} requests (what it committed stays; resumes there)"
        return f"skipped {self.step} (budget already spent)"


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    warehouse_url: str
    table_rows: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    check_tally: Tally | None = None  # the run's check results by outcome (``checks.model.outcome``)
    alert_title: str | None = None  # the digest sent for this run, if any
    alert_deliveries: list[str] = field(default_factory=list)  # "channel: ok" / "channel: error"
    budget_stops: list[BudgetStop] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.success:
            return "FAILED"
        return BUDGET_STOP_STATUS if self.budget_stops else "succeeded"

    @property
    def exit_code(self) -> int:
        if not self.success:
            return EXIT_FAILED
        return EXIT_BUDGET_STOP if self.budget_stops else EXIT_OK


STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    # Only those of a step stopped at the API budget are kept: they change how the step's success reads.
    DagsterEventType.ASSET_MATERIALIZATION,
}
_OUTCOMES = {
    DagsterEventType.STEP_SUCCESS: "ok",
    DagsterEventType.STEP_FAILURE: "FAILED",
    DagsterEventType.STEP_SKIPPED: "skipped",
}
_STEP_ONLY = STEP_EVENTS - {DagsterEventType.ASSET_MATERIALIZATION}
# Records read per query: a long backlog (a slow first tick) is read in pages, not in one deserialisation.
_PAGE = 500


@dataclass
class StepProgress:
    """What a run is doing, from its step events: the steps running now and how many of ``total`` finished."""

    total: int
    running: dict[str, float] = field(default_factory=dict)  # step key -> when it started (epoch seconds)
    finished: set[str] = field(default_factory=set)
    budget_stopped: set[str] = field(default_factory=set)

    def apply(self, step_key: str, event_type: DagsterEventType, timestamp: float) -> str | None:
        """Take one step event; a step that finished gives its log line, e.g. ``[3/40] ok raw_x 1.2s``."""
        if event_type is DagsterEventType.STEP_START:
            self.running[step_key] = timestamp
            return None
        if event_type is DagsterEventType.ASSET_MATERIALIZATION:
            self.budget_stopped.add(step_key)
            return None
        if event_type not in _OUTCOMES or step_key in self.finished:
            return None
        self.finished.add(step_key)
        started = self.running.pop(step_key, None)
        took = "" if started is None else f" {timestamp - started:.1f}s"
        outcome = _OUTCOMES[event_type]
        if event_type is DagsterEventType.STEP_SUCCESS and step_key in self.budget_stopped:
            outcome = "stopped at the API budget:"
        return f"[{len(self.finished)}/{self.total}] {outcome} {step_key}{took}"

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
            if event is not None and event.step_key and (_budget_stop(event) or event.event_type in _STEP_ONLY):
                events.append((event.step_key, event.event_type, entry.timestamp))
        cursor = page.cursor
        if not page.has_more:
            return events, cursor


def _budget_stop(event: DagsterEvent) -> BudgetStop | None:
    """The budget stop a step's materialization reports (see ``pipelines.defs.budget_stop``), if it is one."""
    if event.event_type is not DagsterEventType.ASSET_MATERIALIZATION:
        return None
    metadata = event.step_materialization_data.materialization.metadata
    reason = metadata.get(BUDGET_STOP)
    if reason is None:
        return None
    requests = metadata.get(BUDGET_STOP_REQUESTS)
    spent = requests.value if requests is not None else 0
    return BudgetStop(event.step_key or "?", str(reason.value), spent if isinstance(spent, int) else 0)


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
    from pipelines.defs.settings import warehouse_from_env
    from pipelines.preflight import check_configuration, check_crm_access

    # Settings, the definitions file and the warehouse URL, before the definitions (which parse that file) load.
    check_configuration(job_name)
    run_id = str(uuid.uuid4())
    # A second run writing the same DuckDB file stops here, in one line, before any step starts.
    claim_for_run(warehouse_from_env())
    try:
        # After the claim: a run that may not write spends no CRM request. The token fetched here is the run's.
        check_crm_access(job_name, run_id)
        from pipelines.definitions import build_definitions

        job = build_definitions().resolve_job_def(job_name)
        instance = DagsterInstance.get()
    except BaseException:
        close_shared_warehouses()
        raise
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
        check_tally=report.digest.tally if report.digest else check_tally(run_id, warehouse),
        alert_title=report.digest.title if report.digest else None,
        alert_deliveries=[f"{d.channel}: {'delivered' if d.ok else d.error}" for d in report.deliveries],
        budget_stops=[stop for e in events if (stop := _budget_stop(e)) is not None],
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
    click.echo(f"run {outcome.run_id}: {outcome.status}")
    if outcome.failed_steps:
        click.echo(f"failed steps: {', '.join(outcome.failed_steps)}")
    if outcome.budget_stops:
        click.echo(f"API budget: {outcome.budget_stops[0].reason}")
        for stop in outcome.budget_stops:
            click.echo(f"  {stop.line}")
    click.echo("\nrows per table:")
    width = max((len(t) for t in outcome.table_rows), default=10)
    for table, rows in outcome.table_rows.items():
        click.echo(f"  {table:<{width}}  {rows:>9,}")
    if outcome.check_tally is not None and outcome.check_tally.total:
        # Counted as the digest and the report count them (one per check result), so one screen agrees.
        click.echo(f"\nchecks: {outcome.check_tally.summary()}")
        for name, ok in outcome.checks:
            if not ok:
                click.echo(f"  did not pass: {name}")
    if outcome.alert_title:
        click.echo(f"\nalert digest: {outcome.alert_title}")
        for delivery in outcome.alert_deliveries or ["no alert channel configured (see README, Alerts)"]:
            click.echo(f"  {delivery}")


def write_report(url: str, schema: str, path: Path, *, run_id: str | None = None) -> str:
    """Render the leaders' report to ``path``; returns a few headline lines for the terminal."""
    from pipelines.report import write

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return write(conn, schema or None, path, run_id=run_id)
    finally:
        engine.dispose()
