"""Query cursors: the Ids matching a SOQL query, snapshotted in order when the query (or Bulk job) starts.

Later pages read current field values of exactly those records, so paging never skips or repeats a record
while the data changes underneath — the guarantee a query locator gives. Snapshots live in SQLite, not in
Python, so a cursor over a million-row table costs disk rather than memory.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.server.clock import SandboxClock
from sandbox.server.db import SandboxDB
from sandbox.server.salesforce.soql import CompiledQuery
from sandbox.server.salesforce.store import table

CURSOR_TABLE = "sf__cursors"
# REST query locators expire after 15 minutes without use.
LOCATOR_IDLE = timedelta(minutes=15)
DEFAULT_BATCH = 2_000  # REST query page size


@dataclass
class Cursor:
    locator: str
    query: CompiledQuery
    total: int
    include_deleted: bool
    touched: datetime
    expires: bool  # REST locators expire when idle; Bulk job results live as long as the job
    batch_size: int = DEFAULT_BATCH


class CursorStore:
    def __init__(self, db: SandboxDB, clock: SandboxClock) -> None:
        self.db = db
        self.clock = clock
        self._cursors: dict[str, Cursor] = {}
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {CURSOR_TABLE} "
            "(locator TEXT NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (locator, pos)) WITHOUT ROWID"
        )

    def open(self, locator: str, query: CompiledQuery, include_deleted: bool, *, expires: bool = True) -> Cursor:
        self._expire_idle()
        window, params = query.window_sql(include_deleted)
        with self.db.transaction() as conn:
            total = conn.execute(
                f"INSERT INTO {CURSOR_TABLE} (locator, pos, id) SELECT ?, pos, id FROM ({window})", (locator, *params)
            ).rowcount
        cursor = Cursor(locator, query, total, include_deleted, self.clock.now(), expires)
        with self._lock:
            self._cursors[locator] = cursor
        return cursor

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None:
                cursor.touched = self.clock.now()
            return cursor

    def page(self, cursor: Cursor, offset: int, size: int) -> list[sqlite3.Row]:
        """Records at positions [offset, offset + size) of the snapshot; purged records drop out."""
        q = cursor.query
        sql = (
            f"SELECT {q.select_sql()} FROM (SELECT id, pos FROM {CURSOR_TABLE} WHERE locator = ? "
            f'ORDER BY pos LIMIT ? OFFSET ?) c JOIN "{table(q.obj)}" t0 ON t0."Id" = c.id {q.joins_sql()} ORDER BY c.pos'
        )
        return self.db.query(sql, (cursor.locator, size, offset))

    def count_page(self, cursor: Cursor, offset: int, size: int) -> int:
        """How many records of positions [offset, offset + size) still exist (purges drop out)."""
        sql = (
            f"SELECT COUNT(*) FROM (SELECT id FROM {CURSOR_TABLE} WHERE locator = ? ORDER BY pos LIMIT ? OFFSET ?) c "
            f'JOIN "{table(cursor.query.obj)}" t0 ON t0."Id" = c.id'
        )
        return int(self.db.scalar(sql, (cursor.locator, size, offset)))

    def iter_rows(self, cursor: Cursor, offset: int, size: int, batch: int = 2_000) -> Iterator[list[sqlite3.Row]]:
        """A page in batches, re-taking the database lock per batch (streamed Bulk results)."""
        end = min(offset + size, cursor.total)
        while offset < end:
            yield self.page(cursor, offset, min(batch, end - offset))
            offset += batch

    def close(self, locator: str) -> None:
        with self._lock:
            self._cursors.pop(locator, None)
        self.db.execute(f"DELETE FROM {CURSOR_TABLE} WHERE locator = ?", (locator,))

    def _expire_idle(self) -> None:
        cutoff = self.clock.now() - LOCATOR_IDLE
        with self._lock:
            stale = [c.locator for c in self._cursors.values() if c.expires and c.touched < cutoff]
        for locator in stale:
            self.close(locator)
