"""Replacing a catalog table with a query's rows in one transaction, inside the warehouse.

The query's columns are cast to the spec's types (identical on both engines), built into a temp table, then
the target is emptied and refilled, so readers see the old rows or the new ones. A table whose columns no
longer match its spec is dropped and recreated (on PostgreSQL with CASCADE: the analyst views are recreated
right after the closed loop). Definitions hash carry-forward: a row whose other values are unchanged keeps
the hash it already had, so a definitions edit marks exactly the rows it changed.
"""

from __future__ import annotations

import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import DEFINITIONS_HASH
from connectors.warehouse.schema import live_columns, table_for
from connectors.warehouse.spec import TableSpec
from pipelines.closed_loop.sql.context import SQL_TYPES, SqlContext


def replace_from(ctx: SqlContext, spec: TableSpec, select: str, *, where: str | None = None) -> int:
    """Replace ``spec``'s rows (those matching ``where`` only, when given: one partition) with ``select``'s;
    returns the number of rows written. The caller holds the transaction (and the DuckDB write lock)."""
    target = ctx.table(spec.name)
    existing = live_columns(ctx.conn, ctx.schema, spec.name)
    if existing and existing != spec.column_names and where is None:
        cascade = " CASCADE" if ctx.dialect == "postgresql" else ""
        ctx.execute(f"DROP TABLE {target}{cascade}")
        existing = []
    if not existing:
        table_for(spec, sa.MetaData(schema=ctx.schema)).create(ctx.conn)
    casts = ", ".join(f"CAST(q.{c.name} AS {SQL_TYPES[c.type]}) AS {c.name}" for c in spec.columns)
    staged = ctx.temp(f"_new_{spec.name}", f"SELECT {casts} FROM ({select}) q")
    if existing and DEFINITIONS_HASH.name in spec.column_names:
        _carry_hashes(ctx, spec, staged, target)
    ctx.execute(f"DELETE FROM {target}" + (f" WHERE {where}" if where else ""))
    names = ", ".join(spec.column_names)
    ctx.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {staged}")
    count = int(ctx.scalar(f"SELECT COUNT(*) FROM {staged}"))
    ctx.execute(f"DROP TABLE {staged}")
    return count


def _carry_hashes(ctx: SqlContext, spec: TableSpec, staged: str, target: str) -> None:
    hashed = DEFINITIONS_HASH.name
    keys = " AND ".join(f"n.{k} = o.{k}" for k in spec.primary_key)
    same = " AND ".join(f"n.{c} IS NOT DISTINCT FROM o.{c}" for c in spec.column_names if c != hashed)
    ctx.execute(f"UPDATE {staged} AS n SET {hashed} = o.{hashed} FROM {target} AS o WHERE {keys} AND {same}")


def empty_select(spec: TableSpec) -> str:
    """A SELECT of no rows with ``spec``'s columns (a build with nothing to judge)."""
    nulls = ", ".join(f"CAST(NULL AS {SQL_TYPES[c.type]}) AS {c.name}" for c in spec.columns)
    return f"SELECT {nulls} WHERE 1 = 0"
