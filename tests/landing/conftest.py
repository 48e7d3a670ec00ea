"""Every warehouse test runs on both engines: an embedded DuckDB file and the local PostgreSQL server.

PostgreSQL tests each get their own schema (dropped afterwards), so they can run concurrently (pytest -n).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.warehouse import Warehouse

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_URL = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/test"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of an empty warehouse; the schema is None on DuckDB (the file is already private)."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}", None
        return
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}")
    schema = f"landing_test_{uuid.uuid4().hex[:12]}"
    yield PG_URL, schema
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    engine.dispose()


@pytest.fixture
def warehouse(warehouse_url: tuple[str, str | None]) -> Iterator[Warehouse]:
    url, schema = warehouse_url
    wh = Warehouse.from_url(url, schema=schema)
    yield wh
    wh.close()
