"""Sandbox warehouses shared by the SQL-model tests, extracted once per test session through the real connectors.

- ``raw_duckdb_path``: a DuckDB file with the raw tables of sandbox (seed 11, 200 people), closed after the
  extraction and never opened again: tests open private copies (``duckdb_copy``, ``shutil.copy`` to their
  tmp_path), so their writes reach nobody else.
- ``canonical_duckdb_path``: a copy of it plus the canonical tables ``write_canonical`` builds with the repository
  definitions (equal to the reference's: test_equivalence proves it); ``canonical_duckdb``: a private copy of
  that, per test.
- ``raw_postgres``: one PostgreSQL schema with the raw tables of sandbox (seed 11, 120 people), dropped at the
  end of the session; ``canonical_postgres``: a copy of that schema plus the canonical tables, as above.

The PostgreSQL schemas are shared, so they are read-only by rule: after its fixture built it, nothing writes a
table in a shared schema. A test that writes (canonical tables under other definitions, closed_loop_leads at
another instant, scratch tables) takes ``postgres_copy(shared)``: a schema of its own holding a
``CREATE TABLE AS`` copy of every table, dropped afterwards. A copy costs well under a second at this size and
makes a test's outcome independent of which other tests ran before it, which idempotent writes into the shared
schema would only give while every writer wrote identical content. Temporary tables (all that
``SqlContext.temp``/``values``/``load_arrow`` make) live in the test's own connection and are no writes in this
sense. Under pytest-xdist each worker process has its own session, hence its own extractions.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
    IDENTITY_CONFLICTS,
)
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_canonical
from pipelines.closed_loop.canonical import CanonicalFrames
from pipelines.closed_loop.write import read_table
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from sandbox.data.funnel import Rates
from tests.closed_loop.conftest import drop_schema, extracted_sandbox
from tests.conftest import PG_URL, postgres_reachable

DUCKDB_SEED, DUCKDB_SIZE = 11, 200
POSTGRES_SEED, POSTGRES_SIZE = 11, 120
# The canonical tables by CanonicalFrames field.
CANONICAL_SPECS: dict[str, TableSpec] = {
    "owners": CANONICAL_OWNERS,
    "accounts": CANONICAL_ACCOUNTS,
    "people": CANONICAL_PEOPLE,
    "identity_conflicts": IDENTITY_CONFLICTS,
    "opportunities": CANONICAL_OPPORTUNITIES,
    "activities": CANONICAL_ACTIVITIES,
}


def extract_duckdb(workdir: Path, *, seed: int, size: int, rates: Rates | None = None) -> Path:
    """A DuckDB file with the raw tables of sandbox (seed, size, rates), closed."""
    with extracted_sandbox("duckdb", workdir, rates, seed=seed, size=size):
        pass
    return workdir / "wh.duckdb"


def copy_duckdb(source: Path, directory: Path) -> Path:
    """A copy of a closed DuckDB warehouse file under a fresh name in ``directory``."""
    target = directory / f"copy_{uuid.uuid4().hex[:8]}.duckdb"
    shutil.copy(source, target)
    return target


@contextmanager
def duckdb_copy(source: Path, directory: Path) -> Iterator[Warehouse]:
    """A private read-write copy of a DuckDB warehouse file."""
    wh = Warehouse.from_url(f"duckdb:///{copy_duckdb(source, directory)}")
    try:
        yield wh
    finally:
        wh.close()


def read_canonical(wh: Warehouse) -> CanonicalFrames:
    """The canonical tables as written, as the frames the reference closed loop takes."""
    return CanonicalFrames(**{f.name: read_table(wh, CANONICAL_SPECS[f.name]) for f in fields(CanonicalFrames)})


@contextmanager
def postgres_copy(source: Warehouse) -> Iterator[Warehouse]:
    """A fresh schema holding a copy of every table of ``source``'s schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name"
                ),
                {"schema": source.schema},
            ).scalars()
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for table in list(tables):
                conn.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM "{source.schema}"."{table}"')
        wh = Warehouse.from_url(PG_URL, schema=schema)
        try:
            yield wh
        finally:
            wh.close()
    finally:
        engine.dispose()
        drop_schema(schema)


@pytest.fixture(scope="session")
def raw_duckdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_duckdb(tmp_path_factory.mktemp("sql_raw_duckdb"), seed=DUCKDB_SEED, size=DUCKDB_SIZE)


@pytest.fixture(scope="session")
def canonical_duckdb_path(raw_duckdb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = copy_duckdb(raw_duckdb_path, tmp_path_factory.mktemp("sql_canonical_duckdb"))
    wh = Warehouse.from_url(f"duckdb:///{path}")
    try:
        write_canonical(wh, load_definitions(DEFAULT_PATH))
    finally:
        wh.close()
    return path


@pytest.fixture
def canonical_duckdb(canonical_duckdb_path: Path, tmp_path: Path) -> Iterator[Warehouse]:
    with duckdb_copy(canonical_duckdb_path, tmp_path) as wh:
        yield wh


@pytest.fixture(scope="session")
def raw_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    workdir = tmp_path_factory.mktemp("sql_raw_postgres")
    with extracted_sandbox("postgres", workdir, seed=POSTGRES_SEED, size=POSTGRES_SIZE) as data:
        yield data.wh


@pytest.fixture(scope="session")
def canonical_postgres(raw_postgres: Warehouse) -> Iterator[Warehouse]:
    with postgres_copy(raw_postgres) as wh:
        write_canonical(wh, load_definitions(DEFAULT_PATH))
        yield wh


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse on each engine (its own schema on PostgreSQL, dropped afterwards): for hand-made
    tables."""
    if request.param == "duckdb":
        wh, schema = Warehouse.from_url(f"duckdb:///{tmp_path}/wh.duckdb"), None
    else:
        if not postgres_reachable():
            pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        wh = Warehouse.from_url(PG_URL, schema=schema)
    try:
        yield wh
    finally:
        wh.close()
        drop_schema(schema)
