"""Land small hand-made raw tables through the real Warehouse, as the extractors would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timezone
from typing import Any

from connectors.warehouse.records import SyncAudit
from connectors.warehouse.spec import Column, TableSpec
from connectors.warehouse.warehouse import Warehouse

AS_OF = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def land(
    wh: Warehouse,
    table: str,
    rows: list[Mapping[str, Any]],
    types: Mapping[str, str] | None = None,
    *,
    source: str = "salesforce",
    object_name: str | None = None,
    audit: bool = True,
) -> None:
    """Land ``rows`` (string columns unless ``types`` says otherwise) and, with ``audit``, a balanced sync_runs row."""
    names = list(dict.fromkeys(k for r in rows for k in r)) or ["id"]
    spec = TableSpec(table, tuple(Column(n, (types or {}).get(n, "string")) for n in names), "id")  # type: ignore[arg-type]
    wh.ensure_table(spec)
    keyed = [r for r in rows if r.get("id") is not None]
    with wh.batch() as b:
        b.upsert(spec, keyed, sync_id="s1", extracted_at=AS_OF)
    if audit:
        wh.record_sync(
            SyncAudit(
                sync_id="s1",
                source=source,
                object=object_name or table,
                mode="rest",
                started_at=AS_OF,
                status="success",
                extracted=len(keyed),
                loaded=len(keyed),
            )
        )


def mark_deleted(wh: Warehouse, table: str, ids: Iterable[str]) -> None:
    spec = TableSpec(table, (Column("id", "string"),), "id")
    with wh.batch() as b:
        b.mark_deleted(spec, ids, deleted_at=AS_OF, sync_id="s1")
