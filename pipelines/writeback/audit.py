"""The warehouse side of write-back: closed_loop_leads in, the audit table out, the last writes back (SQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from connectors.errors import UserError
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.writeback import WRITEBACK_AUDIT
from connectors.warehouse.locking import write_lock
from connectors.warehouse.schema import create_if_absent, table_for
from connectors.warehouse.upsert import upsert_on_conflict
from connectors.warehouse.warehouse import Warehouse
from pipelines.writeback.diff import LastWrite
from pipelines.writeback.values import ID_COLUMNS, SOURCE_COLUMNS

_CHUNK = 1_000


def audit_table(wh: Warehouse) -> sa.Table:
    """The audit table, created on first use."""
    table = table_for(WRITEBACK_AUDIT, sa.MetaData(schema=wh.schema))
    with write_lock(wh.engine), wh.engine.begin() as conn:
        create_if_absent(conn, table)
    return table


def read_leads(wh: Warehouse) -> list[dict[str, Any]]:
    """The closed_loop_leads columns write-back needs, for people with a record in either CRM."""
    with wh.engine.connect() as conn:
        if not sa.inspect(conn).has_table(CLOSED_LOOP_LEADS.name, schema=wh.schema):
            raise UserError(
                f"{CLOSED_LOOP_LEADS.name} is not in the warehouse: build it first with crm-loop sync (or crm-loop demo)"
            )
    leads = table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=wh.schema), keyed=False)
    columns = [leads.c[name] for name in (*ID_COLUMNS, *SOURCE_COLUMNS)]
    reachable = sa.or_(*(leads.c[name].is_not(None) for name in ID_COLUMNS))
    with wh.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(*columns).where(reachable))]


def last_writes(wh: Warehouse, table: sa.Table) -> dict[tuple[str, str, str, str], LastWrite]:
    """Per (system, object, record, field): crm-loop's latest successful write (the latest 'written' row)."""
    key = (table.c.system, table.c.object, table.c.record_id, table.c.field)
    latest = (
        sa.select(*key, sa.func.max(table.c.recorded_at).label("at"))
        .where(table.c.result == "written")
        .group_by(*key)
        .subquery()
    )
    query = sa.select(*key, table.c.new_value, table.c.recorded_at).join(
        latest,
        sa.and_(
            *(c == latest.c[c.name] for c in key),
            table.c.recorded_at == latest.c.at,
            table.c.result == "written",
        ),
    )
    with wh.engine.connect() as conn:
        return {
            (r.system, r.object, r.record_id, r.field): LastWrite(r.new_value, r.recorded_at)
            for r in conn.execute(query)
        }


def record(wh: Warehouse, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    with write_lock(wh.engine), wh.engine.begin() as conn:
        for start in range(0, len(rows), _CHUNK):
            upsert_on_conflict(conn, table, WRITEBACK_AUDIT.primary_key, rows[start : start + _CHUNK])
