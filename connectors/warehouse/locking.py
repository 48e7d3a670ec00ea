"""Serialise DuckDB write transactions within this process.

DuckDB admits one writing *process* per database file (a second process cannot even open it read-write), and
inside that process concurrent write transactions on the same rows abort with a conflict error instead of
waiting. So every write transaction on a DuckDB file takes the lock for that file. Across processes there is
nothing to lock: only one process may open the file for writing at all, which is why Dagster must run the
steps that write a DuckDB warehouse serially (one run at a time, or a run-queue concurrency limit of 1 on them).
PostgreSQL needs no lock: it has row-level locking and the upserts there are ON CONFLICT.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import sqlalchemy as sa

_registry_guard = threading.Lock()
_locks: dict[str, threading.RLock] = {}


def _lock_key(engine: sa.Engine) -> str | None:
    if engine.dialect.name != "duckdb":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        # An in-memory database belongs to its engine alone.
        return f"memory:{id(engine)}"
    # Two engines on one file share the DuckDB instance, so they must share the lock too.
    return os.path.realpath(database)


@contextlib.contextmanager
def write_lock(engine: sa.Engine) -> Iterator[None]:
    key = _lock_key(engine)
    if key is None:
        yield
        return
    with _registry_guard:
        lock = _locks.setdefault(key, threading.RLock())
    with lock:
        yield
