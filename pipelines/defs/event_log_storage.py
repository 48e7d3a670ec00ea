"""Dagster's SQLite event log with one pooled engine per database file (``dagster_home/dagster.yaml`` selects it).

Dagster's own SQLite event log creates a SQLAlchemy engine, opens a connection and closes it again for every
event it stores, and a nightly run stores a few hundred (step starts, outputs, materializations, check
evaluations, logs): that bookkeeping took about a quarter of a small run's wall time. Here each file (one per
run, plus the asset index) keeps its engine and pooled connections for the life of the instance. Every event is
still its own committed transaction, so other processes (the webserver, the daemon, a second run) see the same
files change exactly as before; the layout under ``$DAGSTER_HOME/history/runs`` is Dagster's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` whose engines outlive a single event. ``base_dir`` defaults to Dagster's own
    default location under ``$DAGSTER_HOME``."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: dict[str, sa.Engine] = {}
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls) -> Any:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> PooledSqliteEventLogStorage:
        base_dir = config_value.get("base_dir") or _default_base_dir()
        return cls(base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = sa.create_engine(
                    self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
                self._engines[shard] = engine
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def wipe(self) -> None:
        # Wiping unlinks the run files: no pooled connection may keep one open.
        for shard in list(self._engines):
            self._dispose_engine(shard)
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        for shard in list(self._engines):
            self._dispose_engine(shard)

    def _dispose_engine(self, shard: str) -> None:
        engine = self._engines.pop(shard, None)
        if engine is not None:
            engine.dispose()


def _default_base_dir() -> str:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("DAGSTER_HOME is not set: point it at crm-loop's dagster_home folder (README, Dagster UI)")
    return os.path.join(home, "history", "runs", "")
