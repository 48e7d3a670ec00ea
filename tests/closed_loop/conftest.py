"""Sandbox data extracted through the REAL connectors (simple-salesforce, hubspot-api-client) into a warehouse,
once per module and engine, plus definitions aligned with what the generator planted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.api.retry import RetryPolicy
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.pacing import PacingPolicy, PortalPacer
from connectors.hubspot.sync import ObjectSyncConfig as HubSpotSyncConfig
from connectors.salesforce.catalog import OBJECTS as SALESFORCE_OBJECTS
from connectors.salesforce.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import DEFAULT_PATH
from sandbox.data.funnel import Rates
from sandbox.data.generator import GeneratorConfig, generate
from sandbox.server.app import Sandbox
from tests.conftest import PG_URL, postgres_reachable
from tests.hubspot.conftest import sync_everything
from tests.salesforce.conftest import connect as salesforce_connect

ANCHOR = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SIZE = 300


def extract(box: Sandbox, wh: Warehouse, workdir: Path) -> None:
    """Both CRMs, every raw table, through the production sync functions."""
    sf = salesforce_connect(box)
    try:
        for name in SALESFORCE_OBJECTS:
            sync_object(sf, wh, name, ObjectSyncConfig(), sync_id="test")
    finally:
        sf.close()
    info = box.info()["hubspot"]
    pacer = PortalPacer(workdir / "pacer.sqlite3", str(info["portal_id"]), PacingPolicy(ten_second_limit=190))
    retry = RetryPolicy(max_attempts=12, base_delay_s=0.01, max_delay_s=5.0)
    hs = HubSpotConnection(info["access_token"], base_url=info["base_url"], pacer=pacer, retry=retry)
    try:
        # No lag: the sandbox clock stands at the anchor, and nothing after it exists.
        sync_everything(hs, wh, "test", config=HubSpotSyncConfig(lookback=timedelta(seconds=2), lag=timedelta(0)))
    finally:
        hs.close()


@dataclass
class Extracted:
    wh: Warehouse
    manifest: dict[str, Any]
    engine: str
    workdir: Path


def open_warehouse(engine: str, workdir: Path) -> tuple[Warehouse, str | None]:
    if engine == "duckdb":
        return Warehouse.from_url(f"duckdb:///{workdir}/wh.duckdb"), None
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    return Warehouse.from_url(PG_URL, schema=schema), schema


def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@contextmanager
def extracted_sandbox(
    engine: str, workdir: Path, rates: Rates | None = None, *, seed: int = 11, size: int = SIZE
) -> Iterator[Extracted]:
    """A sandbox seeded with (seed, size) and the generator's default rates, or ``rates``, extracted into a
    fresh warehouse on ``engine``; the warehouse (its schema, on PostgreSQL) is gone afterwards."""
    wh, schema = open_warehouse(engine, workdir)
    try:
        if rates is None:
            with Sandbox(seed=seed, size=size, anchor=ANCHOR, workdir=workdir / "sandbox") as box:
                extract(box, wh, workdir)
                manifest = box.manifest
        else:
            chunks, planted = generate(GeneratorConfig(seed=seed, size=size, anchor=ANCHOR, rates=rates))
            with Sandbox(data=chunks, anchor=ANCHOR, workdir=workdir / "sandbox") as box:
                extract(box, wh, workdir)
            manifest = planted.to_dict()
        yield Extracted(wh, manifest, engine, workdir)
    finally:
        wh.close()
        drop_schema(schema)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def extracted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Extracted]:
    with extracted_sandbox(request.param, tmp_path_factory.mktemp(f"closed_loop_{request.param}")) as data:
        yield data


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """A DuckDB warehouse extracted from a sandbox with nothing planted: (url, workdir, manifest)."""
    workdir = tmp_path_factory.mktemp("clean")
    with extracted_sandbox("duckdb", workdir, Rates.none(), seed=3, size=150) as data:
        url = f"duckdb:///{workdir}/wh.duckdb"
        data.wh.close()  # the Dagster runs open it through WarehouseResource
        yield url, workdir, data.manifest


def aligned_definitions(tmp: Path, *, outside_hours: int = 1) -> Path:
    """The repository definitions with the generator's SLA: one business hour to first touch from the MQL
    whenever it arrived, 24 business hours to accept or reject (the generator's stories decide within them),
    and the minimum contact attempts for every disqualification reason (the shipped default)."""
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for old, new in (
        ("outside_hours: {calendar_hours: 24}", f"outside_hours: {{business_hours: {outside_hours}}}"),
        ("    clock: assignment ", "    clock: mql        "),
        ("deadline: {calendar_hours: 24}", "deadline: {business_hours: 24}"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    assert "exempt_reasons: []" in text
    path = tmp / f"definitions_outside_{outside_hours}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
