"""``crm-loop demo``: the whole nightly job on the local sandbox, into an embedded DuckDB warehouse.

Starts the sandbox and points the resources at it through the same environment variables a production
deployment sets, so the demo exercises exactly the code ``crm-loop sync`` runs against real CRMs.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sandbox.server.app import Sandbox
from pipelines.runner import RunOutcome, execute


def sandbox_environment(box: Sandbox, warehouse_url: str, alert_file: Path | None = None) -> dict[str, str]:
    """The variables a production deployment would set, pointing at the sandbox (and a local alert sink) instead."""
    info = box.info()
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


def run_demo(*, seed: int, size: int, workdir: Path) -> RunOutcome:
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("warehouse.duckdb*"):
        stale.unlink()
    shutil.rmtree(workdir / "sandbox", ignore_errors=True)
    click.echo(f"starting the CRM sandbox (seed {seed}, {size} people)…")
    with Sandbox(seed=seed, size=size, workdir=workdir / "sandbox") as box:
        env = sandbox_environment(box, f"duckdb:///{workdir / 'warehouse.duckdb'}", workdir / "alerts.jsonl")
        with environment(env):
            return execute("crm_loop_nightly")
