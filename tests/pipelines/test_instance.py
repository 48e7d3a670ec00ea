"""The shipped Dagster instance files load, and the PostgreSQL variant stores runs in PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance, asset, materialize

from pipelines.defs.event_log_storage import PooledSqliteEventLogStorage
from tests.conftest import PG_URL, postgres_reachable

DAGSTER_HOME = Path(__file__).resolve().parents[2] / "dagster_home"


@asset
def probe() -> int:
    return 1


def test_default_instance_uses_sqlite_under_dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DAGSTER_HOME / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        first = materialize([probe], instance=instance)
        second = materialize([probe], instance=instance)
        assert first.success and second.success
        assert instance.get_run_by_id(first.run_id) is not None
        # Each run's events in its own file, read back through the pooled engines, the asset index across runs.
        for result in (first, second):
            stored = instance.all_logs(result.run_id)
            assert [e.dagster_event_type for e in stored if e.is_dagster_event][-1] == DagsterEventType.RUN_SUCCESS
        latest = instance.get_latest_materialization_event(probe.key)
        assert latest is not None and latest.run_id == second.run_id
    runs = tmp_path / "history" / "runs"
    assert {p.stem for p in runs.glob("*.db")} >= {first.run_id, second.run_id, "index"}


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
