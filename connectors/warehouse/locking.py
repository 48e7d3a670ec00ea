"""Who may write a warehouse, and when: one run per DuckDB file, serialised DDL and rebuilds on PostgreSQL.

DuckDB admits one writing *process* per database file, and inside that process concurrent write transactions on
the same rows abort with a conflict error instead of waiting. So every write transaction on a DuckDB file takes
the in-process lock for that file (`write_lock`), and a run claims the file for its whole length
(`claim_duckdb_writer`): a second run is refused up front, in one line naming the holder, instead of losing
steps to the file lock one by one. The claim is an ``fcntl.flock`` on a lock file beside the database: the kernel
releases it when the holder dies, so a stale file left by a killed run never blocks the next one.

PostgreSQL takes any number of writers (row-level locking, upserts ON CONFLICT), but two runs on one schema race
where they create objects (``CREATE ... IF NOT EXISTS`` is not atomic against a concurrent create) and where they
replace a derived table. Both are serialised by transaction-scoped advisory locks (`ddl_lock`, `rebuild_lock`),
released by the commit or rollback that ends the transaction.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import sqlalchemy as sa

from connectors.errors import UserError

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


# -- one run per DuckDB file -----------------------------------------------------------------------------------


@dataclass
class _Claim:
    file: IO[str]
    holders: int


_claims: dict[str, _Claim] = {}
_claims_pid = os.getpid()
# A run that has just taken the lock may not have written its pid yet: read again for this long before saying so.
_HOLDER_WAIT_S = 1.0


def duckdb_database(url: str | sa.URL) -> str | None:
    """The DuckDB database file a SQLAlchemy URL names, as written; None for another engine or in memory."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


def duckdb_file(url: str) -> str | None:
    """The DuckDB database file a SQLAlchemy URL writes to, resolved (one file, one lock, however it is
    spelled); None for PostgreSQL or an in-memory database."""
    database = duckdb_database(url)
    return None if database is None else os.path.realpath(database)


def lock_path(database: str) -> str:
    return f"{database}.lock"


def claim_duckdb_writer(url: str) -> bool:
    """Claim the DuckDB file ``url`` names for this process's run; True when this call took a claim, which
    `release_duckdb_writer` gives back (claims nest within a process). Raises ``UserError`` when another
    process holds the file; does nothing (False) for PostgreSQL and in-memory databases."""
    database = duckdb_file(url)
    if database is None:
        return False
    global _claims_pid
    with _registry_guard:
        if _claims_pid != os.getpid():
            # A forked child shares the parent's lock (same open file), but the bookkeeping is the parent's.
            _claims.clear()
            _claims_pid = os.getpid()
        claim = _claims.get(database)
        if claim is not None:
            claim.holders += 1
            return True
        os.makedirs(os.path.dirname(database), exist_ok=True)
        # "a+": opening must not truncate the holder's pid line before we know we hold the lock.
        file = open(lock_path(database), "a+", encoding="utf-8")  # noqa: SIM115 - held until released
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(file)
            file.close()
            raise UserError(
                f"a run is already writing to {database}, {holder}: wait for it to finish "
                "(DuckDB admits one writing process per file)"
            ) from None
        except BaseException:
            file.close()
            raise
        file.seek(0)
        file.truncate()
        file.write(f"pid={os.getpid()} started={datetime.now(UTC).isoformat(timespec='seconds')}\n")
        file.flush()
        _claims[database] = _Claim(file, 1)
        return True


def release_duckdb_writer(url: str) -> None:
    """Give back one claim taken by `claim_duckdb_writer`; the last one unlocks the file (which stays)."""
    database = duckdb_file(url)
    if database is None:
        return
    with _registry_guard:
        claim = _claims.get(database)
        if claim is None or _claims_pid != os.getpid():
            return
        claim.holders -= 1
        if claim.holders == 0:
            del _claims[database]
            fcntl.flock(claim.file.fileno(), fcntl.LOCK_UN)
            claim.file.close()


def _holder(file: IO[str]) -> str:
    """ "started at <time>, pid <pid>" from the holder's lock file line."""
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        file.seek(0)
        fields = dict(part.partition("=")[::2] for part in file.read().split())
        if "pid" in fields and "started" in fields:
            return f"started at {fields['started']}, pid {fields['pid']}"
        if time.monotonic() > deadline:
            return "started at an unknown time, pid unknown"
        time.sleep(0.05)


# -- PostgreSQL: serialised DDL and rebuilds -----------------------------------------------------------------


def _advisory_xact_lock(conn: sa.Connection, key: str) -> None:
    if conn.dialect.name != "postgresql":
        return
    # Advisory locks are database-wide: the key names the schema so unrelated schemas never wait for each other.
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _schema_name(conn: sa.Connection, schema: str | None) -> str:
    if schema is not None:
        return schema
    return str(conn.execute(sa.select(sa.func.current_schema())).scalar_one())


def ddl_lock(conn: sa.Connection, schema: str | None) -> None:
    """On PostgreSQL, wait until no other transaction creates or alters crm-loop objects in ``schema``, and hold
    that until this transaction ends: take it before checking whether an object exists and creating it."""
    _advisory_xact_lock(conn, f"crm_loop:ddl:{_schema_name(conn, schema)}")


def rebuild_lock(conn: sa.Connection, schema: str | None, table: str) -> None:
    """On PostgreSQL, wait until no other transaction is replacing ``table``, and hold that until this transaction
    ends: two runs replacing one derived table then take turns instead of interleaving their statements."""
    _advisory_xact_lock(conn, f"crm_loop:rebuild:{_schema_name(conn, schema)}.{table}")
