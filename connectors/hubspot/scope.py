"""Which records a dependent stream (associations, property history) must refresh: those (re)loaded since it
last ran, read back from the object's raw table, so the streams stay separate assets without sharing memory."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from connectors.warehouse.spec import EXTRACTED_AT, IS_DELETED, Column, TableSpec
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
