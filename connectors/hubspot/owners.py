"""HubSpot owners (``/crm/v3/owners/``): a small list, read whole every run (no search, no cursor)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from connectors.api.results import ListingSyncResult
from connectors.hubspot.catalog import OWNERS, SOURCE
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.rows import owner_row
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Warehouse

OWNERS_LIMIT = 100
STREAM = "owners"


def owner_pages(conn: HubSpotConnection, *, archived: bool) -> list[list[dict[str, Any]]]:
    out = []
    after: str | None = None
    while True:
        current = after
        body = conn.call(
            lambda: conn.owners.get_page(
                limit=OWNERS_LIMIT,
                after=current,
                archived=archived,
                _preload_content=False,
                _request_timeout=conn.timeout_s,
            ),
            what="owners",
        )
        out.append(list(body.get("results") or []))
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out


def sync_owners(conn: HubSpotConnection, wh: Warehouse, *, sync_id: str) -> ListingSyncResult:
    started = time.monotonic()
    requests_before = conn.stats.requests
    result = ListingSyncResult(OWNERS.name, columns=tuple(OWNERS.columns))
    wh.ensure_table(OWNERS)
    extracted_at = datetime.now(UTC)
    seen: set[str] = set()
    for page in owner_pages(conn, archived=False):
        split = split_records(OWNERS, [owner_row(o) for o in page], sync_id=sync_id, source=SOURCE, object=STREAM)
        with wh.batch() as b:
            b.upsert(OWNERS, split.rows, sync_id=sync_id, extracted_at=extracted_at)
            b.quarantine(split.quarantine)
        seen.update(str(o.get("id")) for o in page)
        result.extracted += len(page)
        result.loaded += len(split.rows)
        result.quarantined += split.quarantined_records
    archived = {str(o.get("id")) for page in owner_pages(conn, archived=True) for o in page}
    # The listing is complete, so a live owner here that HubSpot no longer lists is gone too.
    gone = sorted((wh.live_ids(OWNERS) - seen) | archived)
    with wh.batch() as b:
        result.deleted = b.mark_deleted(OWNERS, gone, deleted_at=extracted_at, sync_id=sync_id)
    result.requests = conn.stats.requests - requests_before
    result.elapsed_s = round(time.monotonic() - started, 3)
    wh.record_sync(result.audit(sync_id=sync_id, source=SOURCE, object=STREAM, started_at=extracted_at))
    return result
