"""DDL: the SQLAlchemy table for a spec, raw tables' load metadata, creation and evolution on schema drift.

Live columns are read from information_schema rather than SQLAlchemy reflection: duckdb-engine's reflection
queries pg_catalog tables DuckDB does not have (fails under SQLAlchemy 2.1), while information_schema answers
identically on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectors.warehouse.locking import ddl_lock
from connectors.warehouse.logical_types import sql_type
from connectors.warehouse.records import SchemaDrift
from connectors.warehouse.spec import DELETED_AT, EXTRACTED_AT, IS_DELETED, METADATA_COLUMNS, SYNC_ID, TableSpec


class SchemaError(RuntimeError):
    """The live table cannot be reconciled with its spec without a manual migration."""


def table_for(spec: TableSpec, metadata: sa.MetaData, *extra: sa.Column[Any], keyed: bool = True) -> sa.Table:
    """The one translation of a spec into SQLAlchemy: types per `sql_type`, the key, NOT NULL and the docs as
    column and table comments. ``keyed=False`` leaves the primary key undeclared (still NOT NULL): for tables
    rebuilt whole from a query, whose uniqueness holds by construction and is audited by the key checks, where
    maintaining the index would cost as much as writing the rows."""
    columns = [
        sa.Column(
            c.name,
            sql_type(c.type),
            primary_key=keyed and c.name in spec.primary_key,
            nullable=c.nullable and c.name not in spec.primary_key,
            comment=c.doc or None,
        )
        for c in spec.columns
    ]
    return sa.Table(spec.name, metadata, *columns, *extra, comment=spec.doc or None)


def qualified(dialect: sa.Dialect, schema: str | None, name: str) -> str:
    """A table or view name quoted for SQL text, schema-qualified when crm-loop writes to a named schema."""
    preparer = dialect.identifier_preparer
    return f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)


def raw_table(spec: TableSpec, metadata: sa.MetaData) -> sa.Table:
    """The raw table for `spec`. Grain: one row per primary-key value, whatever its state in the CRM; a record
    deleted at the source keeps its row with `_is_deleted` true, so history and reconciliation survive.

    `_sync_id`/`_extracted_at` identify the sync that last wrote the row; `_deleted_at` is when the source
    reports the deletion (null while live).
    """
    return table_for(
        spec,
        metadata,
        sa.Column(SYNC_ID, sa.Text(), nullable=False),
        sa.Column(EXTRACTED_AT, sa.DateTime(timezone=False), nullable=False),
        sa.Column(IS_DELETED, sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(DELETED_AT, sa.DateTime(timezone=False), nullable=True),
    )


def live_columns(conn: sa.Connection, schema: str | None, table: str) -> list[str]:
    """Column names of an existing table in ordinal order; empty when the table does not exist.

    Filtered on the current catalog too: DuckDB lists temp objects (e.g. registered Arrow views) under
    another catalog with the same schema name.
    """
    schema_name = schema if schema is not None else conn.execute(sa.select(sa.func.current_schema())).scalar_one()
    query = sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = :schema AND table_name = :table "
        "ORDER BY ordinal_position"
    )
    return [row[0] for row in conn.execute(query, {"schema": schema_name, "table": table})]


def create_if_absent(conn: sa.Connection, table: sa.Table) -> None:
    """Create ``table`` unless it exists, safely against another run creating it at the same moment (which a
    bare ``checkfirst`` is not on PostgreSQL: both see no table, the second create fails)."""
    ddl_lock(conn, table.schema)
    table.create(conn, checkfirst=True)


def ensure(conn: sa.Connection, spec: TableSpec, table: sa.Table) -> SchemaDrift:
    """Create `table` or ALTER it to hold every spec column. Columns that left the spec are never dropped:
    their history stays queryable and a field that comes back resumes in the same column."""
    ddl_lock(conn, table.schema)
    existing = live_columns(conn, table.schema, table.name)
    if not existing:
        table.create(conn)
        return SchemaDrift(created=True)
    present = set(existing)
    absent_key = [k for k in spec.primary_key if k not in present]
    if absent_key:
        raise SchemaError(
            f"table {spec.name!r} lacks primary-key columns {absent_key}: changing a raw table's key needs a "
            "manual migration (a new table), since existing rows cannot be re-keyed"
        )
    absent_metadata = [m for m in METADATA_COLUMNS if m not in present]
    if absent_metadata:
        raise SchemaError(f"table {spec.name!r} exists without load metadata columns {absent_metadata}")
    preparer = conn.dialect.identifier_preparer
    added = [name for name in spec.column_names if name not in present]
    for name in added:
        column_type = table.c[name].type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(
            f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(name)} {column_type}"
        )
    spec_names = set(spec.column_names) | set(METADATA_COLUMNS)
    missing = [name for name in existing if name not in spec_names]
    return SchemaDrift(added=added, missing=missing)
