"""Two syncs started at once, as real ``crm-loop sync`` processes against one sandbox and one warehouse.

DuckDB admits one writing process per file: the second run is refused up front, in one line naming the first, which
goes on alone. PostgreSQL takes both: they succeed, and the warehouse equals a lone sync's (that DuckDB run's: the
engines hold the same values in the same types), table by table, with no primary key held twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from connectors.errors import UserError
from connectors.warehouse.catalog import TABLES
from connectors.warehouse.locking import claim_duckdb_writer, lock_path, release_duckdb_writer
from connectors.warehouse.schema import qualified
from pipelines.demo import sandbox_environment
from sandbox.server.app import Sandbox
from tests.conftest import PG_URL, dagster_home, postgres_reachable

CRM_LOOP = str(Path(sys.executable).parent / "crm-loop")
# Whose values name the run that wrote them, or the moment it ran: they differ between any two syncs.
RUN_COLUMNS = {"_sync_id", "_extracted_at", "sync_id", "quarantined_at", "run_id", "checked_at"}
# One row per run or per cursor position: two runs leave two runs' worth of history (or a later cursor).
RUN_TABLES = {"sync_runs", "sync_state", "check_results", "sla_compliance"}
# Keyed by run: a value quarantined by both runs is one finding, as in a lone sync.
DISTINCT_TABLES = {"quarantine"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=13, size=120, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


@pytest.fixture
def pg_schema() -> Iterator[str | None]:
    """A fresh schema name on the PostgreSQL server (not created: the runs create it), None without a server."""
    if not postgres_reachable():
        yield None
        return
    schema = f"two_{uuid.uuid4().hex[:10]}"
    yield schema
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Runs started by a test; any still running when it ends (a failed assertion) are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _environment(sandbox: Sandbox, url: str, schema: str, home: Path) -> dict[str, str]:
    """The runs' variables, with a Dagster home (production's configuration) whose storage exists already: two
    processes initialising a fresh SQLite run storage at once race in Dagster itself (``table run_tags already
    exists``), as no deployment does."""
    dagster_home(home)
    with mock.patch.dict(os.environ, {"DAGSTER_HOME": str(home)}), DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    return {
        **os.environ,
        **sandbox_environment(sandbox.info(), url),
        "CRM_LOOP_WAREHOUSE_SCHEMA": schema,
        "DAGSTER_HOME": str(home),
    }


def _start(env: dict[str, str], started: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [CRM_LOOP, "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=env["DAGSTER_HOME"]
    )
    started.append(process)
    return process


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=900)
    return process.returncode, out, err


def _tables(conn: sa.Connection, schema: str) -> list[str]:
    where = "table_schema = :schema" if schema else "table_schema = current_schema()"
    query = sa.text(f"SELECT table_name FROM information_schema.tables WHERE {where} ORDER BY table_name")
    return list(conn.execute(query, {"schema": schema}).scalars())


def _columns(conn: sa.Connection, schema: str, table: str) -> list[str]:
    where = "table_schema = :schema" if schema else "table_schema = current_schema()"
    query = sa.text(
        f"SELECT column_name FROM information_schema.columns WHERE {where} AND table_name = :table "
        "ORDER BY ordinal_position"
    )
    return list(conn.execute(query, {"schema": schema, "table": table}).scalars())


def warehouse_contents(url: str, schema: str) -> dict[str, Counter[tuple[str, ...]]]:
    """Every table and view but the run history, as a multiset of rows without the run-specific columns."""
    engine = sa.create_engine(url)
    contents: dict[str, Counter[tuple[str, ...]]] = {}
    try:
        with engine.connect() as conn:
            for table in _tables(conn, schema):
                if table in RUN_TABLES:
                    continue
                columns = [c for c in _columns(conn, schema, table) if c not in RUN_COLUMNS]
                distinct = "DISTINCT " if table in DISTINCT_TABLES else ""
                select = f"SELECT {distinct}{', '.join(columns)} FROM {qualified(conn.dialect, schema or None, table)}"
                contents[table] = Counter(tuple(_text(v) for v in row) for row in conn.exec_driver_sql(select))
    finally:
        engine.dispose()
    return contents


def _text(value: Any) -> str:
    if value is None:
        return "\x00null"
    # A sum of floats depends on the order the engine adds them in: equal to 12 digits is equal here.
    return f"{value:.12g}" if isinstance(value, float) else str(value)


def duplicate_keys(url: str, schema: str) -> dict[str, int]:
    """Per catalog table present, how many key values occur more than once (derived tables declare no key index)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            present = set(_tables(conn, schema))
            found = {}
            for spec in TABLES:
                if spec.name not in present:
                    continue
                keys = ", ".join(spec.primary_key)
                table = qualified(conn.dialect, schema or None, spec.name)
                found[spec.name] = int(
                    conn.exec_driver_sql(
                        f"SELECT COUNT(*) FROM (SELECT {keys} FROM {table} GROUP BY {keys} HAVING COUNT(*) > 1) d"
                    ).scalar_one()
                )
    finally:
        engine.dispose()
    return found


def assert_same_warehouse(url: str, schema: str, reference_url: str, reference_schema: str) -> None:
    expected, got = warehouse_contents(reference_url, reference_schema), warehouse_contents(url, schema)
    assert sorted(got) == sorted(expected)
    for table, rows in expected.items():
        assert got[table] == rows, f"{table}: {sum((got[table] - rows).values())} rows more, " + (
            f"{sum((rows - got[table]).values())} rows fewer than a lone sync"
        )
    assert {t: n for t, n in duplicate_keys(url, schema).items() if n} == {}


def test_two_syncs_at_once_on_duckdb_and_on_postgresql(
    sandbox: Sandbox, tmp_path: Path, pg_schema: str | None, processes: list[subprocess.Popen[str]]
) -> None:
    """Both engines at the same time (the suite waits once): on DuckDB the second run is refused while the first
    goes on alone; on PostgreSQL both runs go through and must equal that lone run, table by table."""
    database = tmp_path / "wh.duckdb"
    duckdb_env = _environment(sandbox, f"duckdb:///{database}", "", tmp_path / "home_duckdb")
    pg_runs = []
    if pg_schema is not None:
        pg_env = _environment(sandbox, PG_URL, pg_schema, tmp_path / "home_pg")
        # On a schema that does not exist yet: both runs create it, and every table in it.
        pg_runs = [_start(pg_env, processes), _start(pg_env, processes)]

    first = _start(duckdb_env, processes)
    lock = Path(lock_path(str(database)))
    deadline = time.monotonic() + 300
    while not (lock.exists() and f"pid={first.pid} " in lock.read_text()):
        assert first.poll() is None, _finish(first)
        assert time.monotonic() < deadline, "the first run never claimed the warehouse"
        time.sleep(0.1)
    code, out, err = _finish(_start(duckdb_env, processes))
    assert first.poll() is None, "the first run ended before the second was refused: nothing was tested"
    assert (code, out) == (1, ""), err
    assert err.count("\n") == 1, err
    assert err.startswith(f"crm-loop: a run is already writing to {database}, started at "), err
    assert f", pid {first.pid}:" in err

    code, out, err = _finish(first)
    assert code == 0, out + err
    assert {t: n for t, n in duplicate_keys(f"duckdb:///{database}", "").items() if n} == {}
    if pg_schema is None:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432: the DuckDB half passed")
    for run in pg_runs:
        code, out, err = _finish(run)
        assert code == 0, out + err
    assert_same_warehouse(PG_URL, pg_schema, f"duckdb:///{database}", "")


def test_a_killed_writer_leaves_a_stale_lock_file_that_blocks_nothing(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from connectors.warehouse.locking import claim_duckdb_writer as c; c({url!r}); "
         "print('held', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(UserError, match=rf"started at .+, pid {holder.pid}:"):
            claim_duckdb_writer(url)
    finally:
        holder.kill()
        holder.wait()
    assert f"pid={holder.pid} " in Path(lock_path(f"{tmp_path}/wh.duckdb")).read_text(), "the file outlives its run"
    assert claim_duckdb_writer(url) and claim_duckdb_writer(url), "the kernel let go with the process; claims nest"
    release_duckdb_writer(url)
    release_duckdb_writer(url)
