"""The warehouse the extractors land into: raw tables plus the control tables, on DuckDB or PostgreSQL.

Concurrency: on PostgreSQL any number of threads/processes may write (object creation is serialised by
`locking.ddl_lock`). On DuckDB only ONE process may open the database file for writing (a run claims it with
`locking.claim_duckdb_writer`); inside it, write transactions are serialised by `locking.write_lock`, so threads
may share a Warehouse (or hold several on one file). Dagster must therefore run every step that writes a DuckDB
warehouse serially (e.g. the in-process executor, or a concurrency limit of 1 on those ops), never in parallel
subprocesses. Reads take no lock.

All timestamps are written as naive UTC (TIMESTAMP WITHOUT TIME ZONE on both engines); aware datetimes given to
any method are converted to UTC first, naive ones are taken to be UTC already.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from connectors.warehouse.catalog.control import CONTROL_TABLES, QUARANTINE, SYNC_RUNS, SYNC_STATE
from connectors.warehouse.coerce import to_utc_naive
from connectors.warehouse.loaded import LoadedRows
from connectors.warehouse.locking import ddl_lock, write_lock
from connectors.warehouse.logical_types import LogicalType
from connectors.warehouse.records import QuarantineRow, SchemaDrift, SyncAudit
from connectors.warehouse.schema import SchemaError, create_if_absent, ensure, live_columns, raw_table, table_for
from connectors.warehouse.spec import DELETED_AT, EXTRACTED_AT, IS_DELETED, SYNC_ID, TableSpec
from connectors.warehouse.upsert import (
    last_per_key,
    last_per_key_table,
    stage_rows,
    upsert_duckdb_arrow,
    upsert_on_conflict,
    upsert_postgres_copy,
)

SUPPORTED_DIALECTS = ("duckdb", "postgresql")
QUARANTINED_AT = "quarantined_at"
# Bound parameters per IN list: far below PostgreSQL's 65,535 limit, and keeps DuckDB's planner quick.
_ID_CHUNK = 1000

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclasses.dataclass(frozen=True)
class ControlTables:
    sync_state: sa.Table
    quarantine: sa.Table
    sync_runs: sa.Table

    @classmethod
    def bound(cls, metadata: sa.MetaData) -> ControlTables:
        return cls(*(table_for(spec, metadata) for spec in (SYNC_STATE, QUARANTINE, SYNC_RUNS)))


class Warehouse:
    """Raw tables (one per `TableSpec`) and the control tables `sync_state`, `quarantine`, `sync_runs`, all
    in `schema` (created if absent; None = the connection's default schema)."""

    def __init__(self, engine: sa.Engine, schema: str | None = None, clock: Clock = _utc_now) -> None:
        if engine.dialect.name not in SUPPORTED_DIALECTS:
            raise ValueError(f"unsupported engine {engine.dialect.name!r}; expected one of {SUPPORTED_DIALECTS}")
        self.engine = engine
        self.schema = schema
        self._clock = clock
        self._owns_engine = False
        # Raw tables' columns as last read: they only ever grow, and only through `ensure_table`, so a batch
        # need not ask the catalog again for every page it writes.
        self._columns: dict[str, list[str]] = {}
        self.control = ControlTables.bound(sa.MetaData(schema=schema))
        with self._write() as conn:
            # Another run may be creating the same schema and tables right now (IF NOT EXISTS is no guard then).
            ddl_lock(conn, schema)
            if schema is not None:
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            for table in (self.control.sync_state, self.control.quarantine, self.control.sync_runs):
                create_if_absent(conn, table)

    @classmethod
    def from_url(cls, url: str, schema: str | None = None, clock: Clock = _utc_now) -> Warehouse:
        """e.g. `duckdb:///path/file.duckdb` or `postgresql+psycopg2://user@host:5432/db`."""
        warehouse = cls(sa.create_engine(url), schema=schema, clock=clock)
        warehouse._owns_engine = True
        return warehouse

    def close(self) -> None:
        """Dispose the engine if `from_url` created it (releases the DuckDB file for other processes)."""
        if self._owns_engine:
            self.engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with write_lock(self.engine), self.engine.begin() as conn:
            yield conn

    def table(self, spec: TableSpec) -> sa.Table:
        """The raw table for `spec` as SQLAlchemy sees it, for readers (columns of the spec + load metadata)."""
        return raw_table(spec, sa.MetaData(schema=self.schema))

    def ensure_table(self, spec: TableSpec) -> SchemaDrift:
        """Create the raw table, or add the spec's new columns to it; see `schema.ensure`."""
        if spec.name in {c.name for c in CONTROL_TABLES}:
            raise ValueError(f"{spec.name!r} is a control table name")
        self._columns.pop(spec.name, None)
        with self._write() as conn:
            return ensure(conn, spec, self.table(spec))

    def _live_columns(self, conn: sa.Connection, table: sa.Table) -> list[str]:
        """``schema.live_columns``, remembered once the table exists."""
        known = self._columns.get(table.name)
        if known is None:
            known = live_columns(conn, table.schema, table.name)
            if known:
                self._columns[table.name] = known
        return known

    @contextlib.contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction: rows, quarantine rows, deletions and the advanced cursor commit together or, if the
        block raises, not at all (so a crash never leaves a cursor ahead of the data it covers)."""
        with self._write() as conn:
            yield Batch(self, conn)

    def get_state(self, source: str, object: str) -> dict[str, Any] | None:
        t = self.control.sync_state
        with self.engine.connect() as conn:
            state = conn.execute(
                sa.select(t.c.state).where(t.c.source == source, t.c.object == object)
            ).scalar_one_or_none()
        return None if state is None else json.loads(state)

    def record_sync(self, audit: SyncAudit) -> None:
        """Insert or overwrite the audit row of (sync_id, source, object): record "running" at start and the
        final figures at the end under the same key."""
        row = dataclasses.asdict(audit)
        row["started_at"] = to_utc_naive(audit.started_at)
        row["finished_at"] = None if audit.finished_at is None else to_utc_naive(audit.finished_at)
        with self._write() as conn:
            upsert_on_conflict(conn, self.control.sync_runs, ("sync_id", "source", "object"), [row])

    def live_ids(self, spec: TableSpec) -> set[str]:
        """Primary keys not marked deleted, as text: compared with the CRM's id list to find hard deletes."""
        key = _single_key(spec)
        table = self.table(spec)
        with self.engine.connect() as conn:
            return {str(v) for v in conn.execute(sa.select(table.c[key]).where(~table.c[IS_DELETED])).scalars()}

    def row_count(self, table: TableSpec | str, deleted: bool | None = None) -> int:
        """Rows in a raw table; `deleted` True/False counts only deleted/live rows, None counts all."""
        name = table.name if isinstance(table, TableSpec) else table
        target = sa.table(name, sa.column(IS_DELETED), schema=self.schema)
        query = sa.select(sa.func.count()).select_from(target)
        if deleted is not None:
            query = query.where(target.c[IS_DELETED] == sa.literal(deleted))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


def _single_key(spec: TableSpec) -> str:
    if len(spec.primary_key) != 1:
        raise ValueError(f"{spec.name!r} has a composite key; id-based operations need a one-column key")
    return spec.primary_key[0]


class Batch:
    """Writes inside one `Warehouse.batch()` transaction. Every method returns how many rows it wrote."""

    def __init__(self, warehouse: Warehouse, conn: sa.Connection) -> None:
        self._wh = warehouse
        self._conn = conn

    def upsert(
        self, spec: TableSpec, rows: Iterable[Mapping[str, Any]], *, sync_id: str, extracted_at: datetime
    ) -> int:
        """Insert or replace rows by primary key, last write wins (also within `rows`). Rows hold typed values
        (see `validate.split_records`) keyed by spec column names; absent keys are NULL. The whole row is
        replaced: `_is_deleted` becomes false (a record seen again is live), and columns that left the spec are
        NULL. Returns the number of distinct keys written."""
        table = self._wh.table(spec)
        existing = self._wh._live_columns(self._conn, table)
        if not existing:
            raise SchemaError(f"table {spec.name!r} does not exist: call ensure_table first")
        lacking = [name for name in spec.column_names if name not in existing]
        if lacking:
            raise SchemaError(f"table {spec.name!r} lacks spec columns {lacking}: call ensure_table first")
        columns = {c.name: c.type for c in spec.columns}
        staged = last_per_key_table(_staged(spec, columns, rows), spec.primary_key)
        if not staged.num_rows:
            return 0
        constants: dict[str, Any] = {
            SYNC_ID: sync_id,
            EXTRACTED_AT: to_utc_naive(extracted_at),
            IS_DELETED: False,
            DELETED_AT: None,
        }
        if self._conn.dialect.name == "duckdb":
            upsert_duckdb_arrow(self._conn, table, spec.primary_key, columns, staged, constants)
        else:
            dropped = [name for name in existing if name not in table.c]
            for name in dropped:
                # Only ever assigned NULL, so the declared type does not matter.
                table.append_column(sa.Column(name, sa.Text()))
            upsert_postgres_copy(self._conn, table, spec.primary_key, columns, staged, constants, dropped)
        return staged.num_rows

    def quarantine(self, rows: Iterable[QuarantineRow]) -> int:
        """Through the bulk paths, like raw rows: a page with many bad values must not cost a statement each
        (DuckDB runs executemany once per row)."""
        key = QUARANTINE.primary_key
        records = last_per_key((dataclasses.asdict(r) for r in rows), key)
        if not records:
            return 0
        table = self._wh.control.quarantine
        columns = {c.name: c.type for c in QUARANTINE.columns if c.name != QUARANTINED_AT}
        constants = {QUARANTINED_AT: to_utc_naive(self._wh._clock())}
        if self._conn.dialect.name == "duckdb":
            upsert_duckdb_arrow(self._conn, table, key, columns, records, constants)
        else:
            upsert_postgres_copy(self._conn, table, key, columns, records, constants)
        return len(records)

    def save_state(self, source: str, object: str, state: Mapping[str, Any], *, sync_id: str | None = None) -> None:
        """Store the cursor for (source, object); it must be JSON-serialisable (raises TypeError otherwise)."""
        row = {
            "source": source,
            "object": object,
            "state": json.dumps(dict(state), sort_keys=True),
            "updated_at": self._wh._clock(),
            "sync_id": sync_id,
        }
        upsert_on_conflict(self._conn, self._wh.control.sync_state, ("source", "object"), [row])

    def mark_deleted(self, spec: TableSpec, ids: Iterable[str], *, deleted_at: datetime, sync_id: str) -> int:
        """Flag live rows deleted at the source (rows are kept). Ids not in the table or already flagged are
        skipped, so the first reported `_deleted_at` is the one kept. Returns the number newly flagged."""
        key = _single_key(spec)
        table = self._wh.table(spec)
        unique_ids = list(dict.fromkeys(ids))
        values = {IS_DELETED: True, DELETED_AT: to_utc_naive(deleted_at), SYNC_ID: sync_id}
        flagged = 0
        for start in range(0, len(unique_ids), _ID_CHUNK):
            chunk = unique_ids[start : start + _ID_CHUNK]
            update = (
                table.update()
                .where(table.c[key].in_(chunk), ~table.c[IS_DELETED])
                .values(values)
                .returning(table.c[key])
            )
            flagged += len(self._conn.execute(update).fetchall())
        return flagged


def _staged(spec: TableSpec, columns: Mapping[str, LogicalType], rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """The rows as an Arrow table over the spec's columns. Rows from `split_records` already are one (typed,
    keyed, naive UTC), so they are used as they are; any other rows are checked and converted here."""
    if isinstance(rows, LoadedRows) and rows.table.schema.equals(stage_rows([], columns).schema):
        if any(rows.table[k].null_count for k in spec.primary_key):
            raise ValueError(f"{spec.name!r}: row without a primary key value (quarantine it instead)")
        return rows.table
    return stage_rows(list(_prepare_rows(spec, rows)), columns)


def _prepare_rows(spec: TableSpec, rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows over exactly the spec's columns, with timestamps in naive UTC: PostgreSQL would otherwise shift an
    aware value into its session time zone on the way into TIMESTAMP, while DuckDB/Arrow converts to UTC."""
    names = spec.column_names
    known = set(names)
    timestamps = [c.name for c in spec.columns if c.type == "timestamp"]
    for row in rows:
        unknown = row.keys() - known
        if unknown:
            raise ValueError(f"{spec.name!r}: row has columns outside the spec: {sorted(unknown)}")
        prepared = {name: row.get(name) for name in names}
        if any(prepared[k] is None for k in spec.primary_key):
            raise ValueError(f"{spec.name!r}: row without a primary key value (quarantine it instead)")
        for name in timestamps:
            value = prepared[name]
            if isinstance(value, datetime):
                prepared[name] = to_utc_naive(value)
        yield prepared
