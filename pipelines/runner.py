"""Run one of crm-loop's jobs in this process through Dagster, with progress, and collect what happened."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from dagster import DagsterEvent, DagsterEventType, DagsterInstance, ExecuteInProcessResult

from checks.model import Tally
from connectors.warehouse.schema import qualified
from pipelines.defs.alerts.sensors import DIGEST_TAG, check_tally, digest_for_run
from pipelines.defs.budget_stop import BUDGET_STOP, BUDGET_STOP_REQUESTS
from pipelines.defs.warehouse_cache import claim_for_run, close_shared_warehouses, release_run_claims

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
    # A step's materializations say it wrote an asset, how many rows, and whether it stopped at the API budget.
    DagsterEventType.ASSET_MATERIALIZATION,
}
_OUTCOMES = {
    DagsterEventType.STEP_SUCCESS: "ok",
    DagsterEventType.STEP_FAILURE: "FAILED",
    DagsterEventType.STEP_SKIPPED: "skipped",
}
# Where a materialization states its rows: the derived tables' row count, else what a sync loaded.
_ROW_KEYS = ("dagster/row_count", "loaded")
# Records read per query: a long backlog (a slow first tick) is read in pages, not in one deserialisation.
_PAGE = 500


@dataclass(frozen=True)
class StepEvent:
    step_key: str
    event_type: DagsterEventType
    timestamp: float
    rows: int | None = None  # a materialization's rows, where it states them
    budget_stop: bool = False


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


@dataclass
class StepProgress:
    """What a run is doing, from its step events: the steps running now, how many of ``total`` finished, the
    rows the finished assets wrote. A step that wrote an asset gives one line when it ends (a failure always
    does); check-only steps are counted, and summarised once the run ends."""

    total: int
    asset_steps: frozenset[str] = frozenset()  # the steps that write assets (the others only run checks)
    running: dict[str, float] = field(default_factory=dict)  # step key -> when it started (epoch seconds)
    finished: set[str] = field(default_factory=set)
    rows: dict[str, int] = field(default_factory=dict)  # step key -> rows its materializations stated
    assets: set[str] = field(default_factory=set)  # steps that materialized something
    budget_stopped: set[str] = field(default_factory=set)
    check_steps: int = 0
    failed_check_steps: int = 0
    started: float | None = None

    def apply(self, event: StepEvent) -> str | None:
        """Take one step event; an asset step that finished gives its line, e.g. ``[3/40] ok raw_x 1,200 rows
        1.2s``."""
        step = event.step_key
        if self.started is None:
            self.started = event.timestamp
        if event.event_type is DagsterEventType.STEP_START:
            self.running[step] = event.timestamp
            return None
        if event.event_type is DagsterEventType.ASSET_MATERIALIZATION:
            self.assets.add(step)
            if event.rows is not None:
                self.rows[step] = self.rows.get(step, 0) + event.rows
            if event.budget_stop:
                self.budget_stopped.add(step)
            return None
        if event.event_type not in _OUTCOMES or step in self.finished:
            return None
        self.finished.add(step)
        began = self.running.pop(step, None)
        failed = event.event_type is DagsterEventType.STEP_FAILURE
        if (
            step not in self.asset_steps
            and step not in self.assets
            and event.event_type is not DagsterEventType.STEP_SKIPPED
        ):
            self.check_steps += 1
            self.failed_check_steps += failed
            if not failed:
                return None
        outcome = _OUTCOMES[event.event_type]
        if step in self.budget_stopped and not failed:
            outcome = "stopped at the API budget:"
        rows = f" {self.rows[step]:,} rows" if step in self.rows else ""
        took = "" if began is None else f" {event.timestamp - began:.1f}s"
        return f"[{len(self.finished)}/{self.total}] {outcome} {step}{rows}{took}"

    def status(self, now: float) -> str:
        """One line for a terminal: loading, or the step running, rows so far and their rate."""
        if self.started is None:
            return f"loading the job's code and connecting ({self.total} steps)…"
        parts = [f"[{len(self.finished)}/{self.total}]"]
        if self.running:
            step, began = next(iter(self.running.items()))
            more = len(self.running) - 1
            parts.append(f"running {step}{f' (+{more})' if more else ''} {_duration(now - began)}")
        written = sum(self.rows.values())
        elapsed = max(now - self.started, 1e-9)
        if written:
            parts.append(f"{written:,} rows so far, {written / elapsed:,.0f} rows/s")
        parts.append(f"elapsed {_duration(elapsed)}")
        return " · ".join(parts)

    @property
    def checks_line(self) -> str | None:
        if not self.check_steps:
            return None
        failed = f", {self.failed_check_steps} failed" if self.failed_check_steps else ""
        return f"check steps: {self.check_steps} finished{failed}"


def read_step_events(instance: DagsterInstance, run_id: str, cursor: str | None) -> tuple[list[StepEvent], str | None]:
    """The run's step events after ``cursor``, and the cursor to read on from: each tick reads only what is new,
    not the whole event log."""
    events: list[StepEvent] = []
    while True:
        page = instance.get_records_for_run(run_id, cursor=cursor, of_type=STEP_EVENTS, limit=_PAGE)
        for record in page.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            rows, stop = None, False
            if event.event_type is DagsterEventType.ASSET_MATERIALIZATION:
                rows, stop = _stated_rows(event), _budget_stop(event) is not None
            events.append(StepEvent(event.step_key, event.event_type, entry.timestamp, rows, stop))
        cursor = page.cursor
        if not page.has_more:
            return events, cursor


def _stated_rows(event: DagsterEvent) -> int | None:
    metadata = event.step_materialization_data.materialization.metadata
    for key in _ROW_KEYS:
        value = metadata.get(key)
        if value is not None and isinstance(value.value, int):
            return value.value
    return None


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
    instance: DagsterInstance,
    run_id: str,
    progress: StepProgress,
    done: threading.Event,
    *,
    interactive: bool | None = None,
) -> None:
    """Follow the run's step events so a long sync shows movement instead of silence. On a terminal: a status
    line (loading, the running step, rows so far and their rate) under one line per finished asset step. Else
    (cron, a log): only the finished asset steps' lines and, at the end, the check steps summarised."""
    interactive = sys.stdout.isatty() if interactive is None else interactive
    cursor: str | None = None
    while True:
        stop = done.wait(0.5)
        events, cursor = read_step_events(instance, run_id, cursor)
        lines = [line for event in events if (line := progress.apply(event)) is not None]
        if stop and progress.checks_line:
            lines.append(progress.checks_line)
        if interactive:
            # Rewrite the status line in place; finished steps' lines stay above it.
            status = "" if stop else progress.status(time.time())
            click.echo("\r\x1b[2K", nl=False, color=True)  # an erase, not a colour: click would strip it
            for line in lines:
                click.echo(line)
            if status:
                click.echo(status, nl=False)
        else:
            for line in lines:
                click.echo(line)
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

        defs = build_definitions()
        job = defs.resolve_job_def(job_name)
        asset_steps = frozenset(a.op.name for a in defs.resolve_asset_graph().assets_defs if a.keys and a.is_executable)
        instance = DagsterInstance.get()
    except BaseException:
        close_shared_warehouses()
        raise
    done = threading.Event()
    progress = StepProgress(len(job.nodes), asset_steps)
    watcher = threading.Thread(target=_follow, args=(instance, run_id, progress, done), daemon=True)
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
        # The run's steps shared one engine per warehouse: dispose of it; the DuckDB file stays claimed until
        # the digest and the summary below have written and read it, so no other run slips in between.
        close_shared_warehouses(keep_run_claims=True)
    try:
        return _outcome(run_id, result)
    finally:
        release_run_claims()


def _outcome(run_id: str, result: ExecuteInProcessResult) -> RunOutcome:
    """What happened in the run: its steps and checks, the rows per table, and the digest it sent."""
    from pipelines.defs.settings import warehouse_from_env

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
