"""``crm-loop demo``: the whole nightly job on the local sandbox, into an embedded DuckDB warehouse.

Starts the sandbox, points the resources at it through the same environment variables a production
deployment sets, runs the job through Dagster (so the run shows in ``dagster dev``), and prints a summary.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from connectors.sandbox.app import Sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DemoResult:
    success: bool
    run_id: str
    warehouse_path: Path
    table_rows: dict[str, int] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)


def sandbox_environment(box: Sandbox, warehouse_url: str) -> dict[str, str]:
    """The variables a production deployment would set, pointing at the sandbox instead."""
    info = box.info()
    sf, hs = info["salesforce"], info["hubspot"]
    return {
        "CRM_LOOP_WAREHOUSE_URL": warehouse_url,
        "SALESFORCE_AUTH_MODE": "client_credentials",
        "SALESFORCE_TOKEN_URL": sf["token_url"],
        "SALESFORCE_CLIENT_ID": sf["client_id"],
        "SALESFORCE_CLIENT_SECRET": sf["client_secret"],
        "SALESFORCE_CA_BUNDLE": sf["ca_bundle"],
        "HUBSPOT_BASE_URL": hs["base_url"],
        "HUBSPOT_ACCESS_TOKEN": hs["access_token"],
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _progress(instance: DagsterInstance, run_id: str, total: int, done: threading.Event) -> None:
    """Follow the run's step events so a long sync shows movement instead of silence."""
    seen: set[str] = set()
    with click.progressbar(length=total, label="running the nightly job", show_pos=True) as bar:
        while not done.wait(0.5) or len(seen) < total:
            for entry in instance.all_logs(run_id):
                event = entry.dagster_event
                if event and event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED):
                    if event.step_key and event.step_key not in seen:
                        seen.add(event.step_key)
                        bar.update(1)
            if done.is_set():
                break


def run_demo(*, seed: int, size: int, workdir: Path) -> DemoResult:
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse_path = workdir / "warehouse.duckdb"
    for stale in workdir.glob("warehouse.duckdb*"):
        stale.unlink()
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / "dagster_home"))
    shutil.rmtree(workdir / "sandbox", ignore_errors=True)
    click.echo(f"starting the CRM sandbox (seed {seed}, {size} people)…")
    with Sandbox(seed=seed, size=size, workdir=workdir / "sandbox") as box:
        env = sandbox_environment(box, f"duckdb:///{warehouse_path}")
        with _environment(env):
            from pipelines.definitions import defs  # reads the environment: import only once it is set

            job = defs.resolve_job_def("crm_loop_nightly")
            instance = DagsterInstance.get()
            run_id = str(uuid.uuid4())
            steps = len(job.nodes)
            done = threading.Event()
            watcher = threading.Thread(target=_progress, args=(instance, run_id, steps, done), daemon=True)
            watcher.start()
            try:
                result = job.execute_in_process(
                    instance=instance, run_id=run_id, raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                )
            finally:
                done.set()
                watcher.join(timeout=5)
        failed = [e.step_key or "?" for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
        checks = [
            (e.asset_check_evaluation_data.check_name, e.asset_check_evaluation_data.passed)
            for e in result.all_events
            if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
        ]
        return DemoResult(
            success=result.success, run_id=run_id, warehouse_path=warehouse_path, failed_steps=failed,
            table_rows=table_row_counts(f"duckdb:///{warehouse_path}"), checks=checks,
        )


def table_row_counts(url: str) -> dict[str, int]:
    """Rows per table and view, read from information_schema (duckdb-engine's reflection is unreliable)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY table_name"
            )).scalars().all()
            return {n: int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one()) for n in names}
    finally:
        engine.dispose()
