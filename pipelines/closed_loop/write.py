"""The pandas reference's frames as typed rows and tables: what the equivalence tests hold the SQL models to.

``to_rows`` converts every cell to its spec type (the one normal form both sides are compared in);
``replace_table`` writes a reference frame as a catalog table (bulk Arrow/COPY paths of the landing layer), with
the same definitions-hash carry-forward as the SQL models' ``materialize.replace_from``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import DEFINITIONS_HASH
from connectors.warehouse.locking import write_lock
from connectors.warehouse.schema import live_columns, qualified, table_for
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.upsert import upsert_duckdb_arrow, upsert_postgres_copy
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.raw import read_frame
from pipelines.closed_loop.values import day, instant, missing, naive_utc

Row = dict[str, Any]


def _typed(value: Any, logical: str) -> Any:
    if missing(value):
        return None
    if logical == "timestamp":
        return naive_utc(instant(value))
    if logical == "date":
        return day(value)
    if logical == "integer":
        return int(value)
    if logical == "float":
        return float(value)
    if logical == "boolean":
        return bool(value)
    return str(value)


def to_rows(frame: pd.DataFrame, spec: TableSpec) -> list[Row]:
    """Plain Python values per spec type, in primary-key order (stable output whatever the build order)."""
    if frame.empty:
        return []
    types = [(c.name, c.type) for c in spec.columns]
    out = [{name: _typed(r.get(name), logical) for name, logical in types} for r in frame.to_dict("records")]
    out.sort(key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in spec.primary_key))
    return out


def _key(row: Row, spec: TableSpec) -> tuple[Any, ...]:
    return tuple(row[k] for k in spec.primary_key)


def carry_hashes(new: Sequence[Row], old: Sequence[Row], spec: TableSpec) -> list[Row]:
    name = DEFINITIONS_HASH.name
    if name not in spec.column_names:
        return list(new)
    before = {_key(r, spec): r for r in old}
    out = []
    for row in new:
        prior = before.get(_key(row, spec))
        if prior is not None and all(prior[c] == row[c] for c in spec.column_names if c != name):
            row = {**row, name: prior[name]}
        out.append(row)
    return out


def replace_table(wh: Warehouse, spec: TableSpec, frame: pd.DataFrame) -> int:
    rows = to_rows(frame, spec)
    table = table_for(spec, sa.MetaData(schema=wh.schema))
    with write_lock(wh.engine), wh.engine.begin() as conn:
        existing = live_columns(conn, wh.schema, spec.name)
        if existing and existing != spec.column_names:
            cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"DROP TABLE {qualified(conn.dialect, wh.schema, spec.name)}{cascade}")
            existing = []
        if not existing:
            table.create(conn)
        else:
            rows = carry_hashes(rows, to_rows(read_frame(conn, wh.schema, spec.name), spec), spec)
            conn.execute(table.delete())
        _bulk_insert(conn, table, spec, rows)
    return len(rows)


def _bulk_insert(conn: sa.Connection, table: sa.Table, spec: TableSpec, rows: list[Row]) -> None:
    """The landing layer's bulk paths (Arrow on DuckDB, COPY on PostgreSQL) into an emptied key range."""
    columns = {c.name: c.type for c in spec.columns}
    if conn.dialect.name == "duckdb":
        upsert_duckdb_arrow(conn, table, spec.primary_key, columns, rows, {})
    else:
        upsert_postgres_copy(conn, table, spec.primary_key, columns, rows, {})


def read_table(wh: Warehouse, spec: TableSpec) -> pd.DataFrame:
    """An output table as written (empty with the spec's columns when it does not exist yet)."""
    with wh.engine.connect() as conn:
        if not live_columns(conn, wh.schema, spec.name):
            return pd.DataFrame(columns=spec.column_names)
        return read_frame(conn, wh.schema, spec.name)
