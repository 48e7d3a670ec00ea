"""Fixtures shared across the suite: warehouses on DuckDB and PostgreSQL, Dagster homes configured as production's."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.warehouse.warehouse import Warehouse

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml"


def dagster_home(path: Path) -> Path:
    """A fresh DAGSTER_HOME at ``path`` with the project's dagster.yaml: runs in tests store their events through
    the same instance configuration production uses."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DAGSTER_YAML, path / "dagster.yaml")
    return path


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Warehouse]]:
    """Makes fresh, isolated warehouses: DuckDB files in tmp_path, or private schemas on the PostgreSQL server."""
    if request.param == "postgres" and not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    made: list[Warehouse] = []
    schemas: list[str] = []

    def make() -> Warehouse:
        if request.param == "duckdb":
            wh = Warehouse.from_url(f"duckdb:///{tmp_path}/wh_{len(made)}.duckdb")
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            schemas.append(schema)
            wh = Warehouse.from_url(PG_URL, schema=schema)
        made.append(wh)
        return wh

    yield make
    for wh in made:
        wh.close()
    if schemas:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
