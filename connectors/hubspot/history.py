"""Contact lifecycle history: every value ``lifecyclestage`` and ``hs_lead_status`` ever had, with when and how.

A stage change moves the contact's last-modified date, so the contacts (re)loaded since the last run are
exactly the ones whose history may have grown; their ``propertiesWithHistory`` come from batch reads (POST, 50
ids each — HubSpot's cap when history is asked for). One row per (contact, property, value, timestamp, source):
stage dates can then be derived even when a stage was skipped or moved backwards.

A history row is live only while its contact is: once the contacts step flags a contact deleted (purged for
GDPR, archived, merged away), its history rows are flagged too, with the contact's ``_deleted_at``. A contact
seen again is re-read here (it was reloaded), which makes its history live again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.api.prefetch import prefetched
from connectors.api.results import TableSyncCounts
from connectors.hubspot import pages
from connectors.hubspot.catalog import PROPERTY_HISTORY, SOURCE, raw_table_name
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.pages import epoch_ms
from connectors.hubspot.scope import loaded_since, orphaned_by_deletion, table_exists
from connectors.warehouse.records import SyncAudit
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Warehouse

# The funnel's signals, plus the owner: when a lead was (re)assigned is the SLA's starting gun.
HISTORY_PROPERTIES: tuple[str, ...] = ("lifecyclestage", "hs_lead_status", "hubspot_owner_id")
STREAM = "contact_property_history"


@dataclass
class HistorySyncResult(TableSyncCounts):
    contacts: int = 0  # contacts whose history was read (extracted counts history entries)
    deleted: int = 0  # history rows newly flagged deleted with their contact


def history_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    contact_id = str(record.get("id"))
    rows = []
    for prop, entries in (record.get("propertiesWithHistory") or {}).items():
        for entry in entries or []:
            value = entry.get("value")
            source = entry.get("sourceType")
            rows.append(
                {
                    "id": f"{contact_id}|{prop}|{epoch_ms(entry.get('timestamp'))}|{source}|{value}",
                    "contact_id": contact_id,
                    "property": prop,
                    "value": value,
                    "changed_at": entry.get("timestamp"),
                    "source_type": source,
                    "source_id": entry.get("sourceId"),
                    "source_label": entry.get("sourceLabel"),
                    "updated_by_user_id": entry.get("updatedByUserId"),
                }
            )
    return rows


def sync_contact_history(
    conn: HubSpotConnection, wh: Warehouse, *, sync_id: str, properties: tuple[str, ...] = HISTORY_PROPERTIES
) -> HistorySyncResult:
    started = time.monotonic()
    requests_before = conn.stats.requests
    result = HistorySyncResult(PROPERTY_HISTORY.name, columns=tuple(PROPERTY_HISTORY.columns))
    wh.ensure_table(PROPERTY_HISTORY)
    contacts_table = raw_table_name("contacts")
    if not table_exists(wh, contacts_table):
        raise RuntimeError(f"{contacts_table} does not exist yet: sync contacts first")
    state = dict(wh.get_state(SOURCE, STREAM) or {})
    since = datetime.fromisoformat(state["through"]) if state.get("through") else None
    ids, through = loaded_since(wh, contacts_table, since)
    extracted_at = datetime.now(UTC)
    # The next batch is read while this one is written (see `prefetched`).
    with prefetched(_read_history(conn, ids, properties), name="prefetch contact history") as batches:
        for records in batches:
            rows = [row for record in records for row in history_rows(record)]
            split = split_records(PROPERTY_HISTORY, rows, sync_id=sync_id, source=SOURCE, object=STREAM)
            with wh.batch() as b:
                b.upsert(PROPERTY_HISTORY, split.rows, sync_id=sync_id, extracted_at=extracted_at)
                b.quarantine(split.quarantine)
            result.contacts += len(records)
            result.extracted += len(rows)
            result.loaded += len(split.rows)
            result.quarantined += split.quarantined_records
    if through is not None:
        state["through"] = through.isoformat()
    orphaned = orphaned_by_deletion(wh, PROPERTY_HISTORY.name, contacts_table, "contact_id")
    with wh.batch() as b:
        for deleted_at, history_ids in orphaned.items():
            result.deleted += b.mark_deleted(PROPERTY_HISTORY, history_ids, deleted_at=deleted_at, sync_id=sync_id)
        b.save_state(SOURCE, STREAM, state, sync_id=sync_id)
    result.requests = conn.stats.requests - requests_before
    result.elapsed_s = round(time.monotonic() - started, 3)
    wh.record_sync(
        SyncAudit(
            sync_id=sync_id,
            source=SOURCE,
            object=STREAM,
            mode="list",
            extracted=result.extracted,
            loaded=result.loaded,
            quarantined=result.quarantined,
            deleted=result.deleted,
            requests=result.requests,
            status="success",
            cursor_before=since.isoformat() if since else None,
            cursor_after=state.get("through"),
            started_at=extracted_at,
            finished_at=datetime.now(UTC),
        )
    )
    return result


def _read_history(conn: HubSpotConnection, ids: Sequence[str], properties: tuple[str, ...]) -> Iterator[list[Any]]:
    """The contacts ``ids`` with their property history, one batch read at a time."""
    for start in range(0, len(ids), pages.HISTORY_BATCH_LIMIT):
        chunk = ids[start : start + pages.HISTORY_BATCH_LIMIT]
        yield pages.batch_read(conn, "contacts", chunk, ["hs_object_id"], with_history=properties)
