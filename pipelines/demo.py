"""``crm-loop demo``: the whole nightly job on the local sandbox, into an embedded DuckDB warehouse.

Starts the sandbox as its own process (production code never imports it: it ships separately, as
``crm-loop-sandbox``) and points the resources at it through the same environment variables a production
deployment sets, so the demo exercises exactly the code ``crm-loop sync`` runs against real CRMs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from pipelines.defs.jobs import NIGHTLY
from pipelines.runner import RunOutcome, execute

# Seeding takes about a millisecond per person; allow ten times that plus the interpreter's start-up.
STARTUP_SECONDS = 60.0
STARTUP_SECONDS_PER_PERSON = 0.01


def sandbox_environment(info: Mapping[str, Any], warehouse_url: str, alert_file: Path | None = None) -> dict[str, str]:
    """The variables a production deployment would set, pointing at the sandbox (and a local alert sink) instead.

    ``info`` is the sandbox's connection info, as ``crm-loop-sandbox serve`` prints it.
    """
    sf, hs = info["salesforce"], info["hubspot"]
    return {
        **({"CRM_LOOP_ALERT_FILE": str(alert_file)} if alert_file else {}),
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
def environment(values: dict[str, str]) -> Iterator[None]:
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


@contextmanager
def sandbox_process(*, seed: int, size: int, workdir: Path, log_path: Path) -> Iterator[dict[str, Any]]:
    """Serve the sandbox in a child process until the block ends; yields its connection info."""
    info_file = workdir / "info.json"
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--seed",
        str(seed),
        "--size",
        str(size),
        "--workdir",
        str(workdir),
        "--info-file",
        str(info_file),
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield wait_for_info(proc, info_file, log_path, STARTUP_SECONDS + STARTUP_SECONDS_PER_PERSON * size)
    finally:
        stop(proc)


def wait_for_info(proc: subprocess.Popen[bytes], info_file: Path, log_path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not info_file.exists():
        if proc.poll() is not None:
            raise click.ClickException(
                f"the sandbox exited with code {proc.returncode} before it was ready: {last_line(log_path)} "
                f"(full output: {log_path})"
            )
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"the sandbox was not ready after {timeout:.0f} s; try a smaller --size (its output: {log_path})"
            )
        time.sleep(0.1)
    return json.loads(info_file.read_text())


def last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def stop(proc: subprocess.Popen[bytes]) -> None:
    # SIGTERM lets `serve` close its servers and database; a sandbox that does not stop in time is killed.
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_demo(*, seed: int, size: int, workdir: Path) -> RunOutcome:
    if importlib.util.find_spec("sandbox") is None:
        raise click.ClickException(
            "the demo needs the CRM sandbox, which is not installed: pip install 'crm-loop[sandbox]' (or use ./run demo)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("warehouse.duckdb*"):
        stale.unlink()
    shutil.rmtree(workdir / "sandbox", ignore_errors=True)
    click.echo(f"starting the CRM sandbox (seed {seed}, {size} people; log: {workdir / 'sandbox.log'})…")
    with sandbox_process(seed=seed, size=size, workdir=workdir / "sandbox", log_path=workdir / "sandbox.log") as info:
        env = sandbox_environment(info, f"duckdb:///{workdir / 'warehouse.duckdb'}", workdir / "alerts.jsonl")
        with environment(env):
            return execute(NIGHTLY)
