"""Reading back what a sync landed, and what the sandbox holds, for assertions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectors.warehouse.warehouse import Warehouse
from sandbox.server.app import Sandbox


def rows(wh: Warehouse, table: str, where: str = "") -> list[dict[str, Any]]:
    # Reflection (autoload) does not work on duckdb-engine: plain SQL instead.
    name = f'"{wh.schema}"."{table}"' if wh.schema else f'"{table}"'
    with wh.engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.text(f"SELECT * FROM {name}" + (f" WHERE {where}" if where else "")))
        ]


def by_id(wh: Warehouse, table: str) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in rows(wh, table)}


def live_edges_in_sandbox(sb: Sandbox, from_type: str, to_type: str) -> set[str]:
    found = sb.ctx.db.query(
        f"SELECT a.from_id, a.to_id, a.type_id FROM hs_associations a "
        f"JOIN hs_{from_type} f ON f.id = a.from_id AND f.archived = 0 AND f.merged_into IS NULL "
        f"JOIN hs_{to_type} t ON t.id = a.to_id AND t.archived = 0 AND t.merged_into IS NULL "
        f"WHERE a.from_type = ? AND a.to_type = ?",
        (from_type, to_type),
    )
    return {f"{from_type}:{r[0]}>{to_type}:{r[1]}#{r[2]}" for r in found}


def hubspot_requests(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["server"] == "hubspot"]
