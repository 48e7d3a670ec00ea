"""Which records a dependent stream (associations, property history) must refresh: those (re)loaded since it
last ran, read back from the object's raw table, so the streams stay separate assets without sharing memory."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from connectors.warehouse.spec import DELETED_AT, EXTRACTED_AT, IS_DELETED, Column, TableSpec
from connectors.warehouse.warehouse import Warehouse


def id_table(name: str) -> TableSpec:
    """Just enough of a raw object table's spec to read its ids (``Warehouse.live_ids`` and friends)."""
    return TableSpec(name=name, columns=(Column("id", "string"),), primary_key="id")


def table_exists(wh: Warehouse, name: str) -> bool:
    return sa.inspect(wh.engine).has_table(name, schema=wh.schema)


def loaded_since(wh: Warehouse, name: str, since: datetime | None) -> tuple[list[str], datetime | None]:
    """Live ids whose row was written after ``since`` (all live ids when None), and the latest write seen."""
    t = sa.table(name, sa.column("id"), sa.column(EXTRACTED_AT), sa.column(IS_DELETED), schema=wh.schema)
    query = sa.select(t.c.id, t.c[EXTRACTED_AT]).where(~t.c[IS_DELETED])
    if since is not None:
        query = query.where(t.c[EXTRACTED_AT] > since)
    with wh.engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.id)).all()
    through = max((r[1] for r in rows), default=since)
    return [str(r[0]) for r in rows], through


def orphaned_by_deletion(wh: Warehouse, name: str, parent: str, parent_key: str) -> dict[datetime, list[str]]:
    """Live rows of ``name`` whose ``parent_key`` names a row of ``parent`` flagged deleted, by that parent's
    ``_deleted_at``: one join in the warehouse, so only the rows to flag come back."""
    child = sa.table(name, sa.column("id"), sa.column(parent_key), sa.column(IS_DELETED), schema=wh.schema)
    up = sa.table(parent, sa.column("id"), sa.column(IS_DELETED), sa.column(DELETED_AT), schema=wh.schema)
    query = (
        sa.select(child.c.id, up.c[DELETED_AT])
        .join_from(child, up, up.c.id == child.c[parent_key])
        .where(up.c[IS_DELETED], ~child.c[IS_DELETED])
        .order_by(child.c.id)
    )
    grouped: dict[datetime, list[str]] = {}
    with wh.engine.connect() as conn:
        for row_id, deleted_at in conn.execute(query):
            grouped.setdefault(deleted_at, []).append(str(row_id))
    return grouped
