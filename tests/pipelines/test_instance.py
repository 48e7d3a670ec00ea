"""The shipped Dagster instance files load, and the PostgreSQL variant stores runs in PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, asset, materialize

from tests.conftest import PG_URL, postgres_reachable

DAGSTER_HOME = Path(__file__).resolve().parents[2] / "dagster_home"


@asset
def probe() -> int:
    return 1


def test_default_instance_uses_sqlite_under_dagster_home(tmp_path: Path) -> None:
    shutil.copy(DAGSTER_HOME / "dagster.yaml", tmp_path / "dagster.yaml")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        result = materialize([probe], instance=instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id) is not None
    assert any(tmp_path.rglob("*.db")), "SQLite storage files live under DAGSTER_HOME"


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield name
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_postgres_instance_stores_runs_in_postgres(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(DAGSTER_HOME / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", PG_URL.rsplit("/", 1)[0] + f"/{pg_database}")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        result = materialize([probe], instance=instance)
        assert result.success
    engine = sa.create_engine(PG_URL.rsplit("/", 1)[0] + f"/{pg_database}")
    with engine.connect() as conn:
        run_ids = conn.execute(sa.text("SELECT run_id FROM runs")).scalars().all()
    engine.dispose()
    assert result.run_id in run_ids
