"""Sync of one HubSpot object type (contacts, companies, deals, engagements) into its raw warehouse table.

The first sync (or a full refresh) walks the list endpoint; later ones search a window of the last-modified
property: lower bound = cursor minus a lookback (search indexing lags writes), upper bound = the portal's clock
at window start minus a small lag, both fixed when the window opens and written to ``sync_state`` before the
first page. Every page commits its rows, quarantine rows, merge marks and resume point in one transaction, so a
run that dies resumes the same window from its last committed page. Archived records come from the
``archived=true`` listing; records merged away are named by the survivor's ``hs_merged_object_ids``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from connectors.api.prefetch import prefetched
from connectors.api.results import WindowSyncResult
from connectors.hubspot import pages
from connectors.hubspot.catalog import MERGED_RECORDS, SOURCE
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.pages import SearchPosition, epoch_ms
from connectors.hubspot.properties import (
    DEFAULT_QUERY_BUDGET,
    PropertySelection,
    cached_properties,
    chunk_for_query,
    fits_search_body,
    select_properties,
)
from connectors.hubspot.rows import merged_row
from connectors.warehouse.grouped import GroupedBatches
from connectors.warehouse.records import SyncAudit
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Batch, Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectSyncConfig:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    lookback: timedelta = timedelta(minutes=10)
    # Search results trail writes by seconds; a window ending this far behind the portal's clock leaves them
    # to the next window instead of racing them.
    lag: timedelta = timedelta(seconds=30)
    query_budget: int = DEFAULT_QUERY_BUDGET
    # Permanently deleted (GDPR) records, and archived ones purged after ~90 days, never show up as archived:
    # a periodic comparison of id sets finds them.
    reconcile_every: timedelta = timedelta(days=7)
    # How long the property list kept in sync_state is trusted (see properties.cached_properties).
    properties_every: timedelta = timedelta(hours=24)
    full_refresh: bool = False
    # Pages (100 records at most) are committed together until a transaction holds this many records or is
    # this old (see `GroupedBatches`): a commit per page costs more than landing it. 1 commits every page.
    commit_rows: int = 10_000
    commit_s: float = 5.0
    # Pages requested ahead of the one being written (see `prefetched`); each holds a page in memory.
    prefetch_pages: int = 1


@dataclass
class ObjectSyncResult(WindowSyncResult):
    mode: str = "list"
    archived: int = 0  # newly flagged deleted from the archived listing
    purged: int = 0  # newly flagged deleted: gone from HubSpot altogether (id reconciliation)
    merged: int = 0  # newly flagged deleted as merged into another record


def _cursor_text(cursor: dict[str, int] | None) -> str | None:
    return f"{cursor['ts']}|{cursor['id']}" if cursor else None


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def sync_object(
    conn: HubSpotConnection, wh: Warehouse, object_type: str, config: ObjectSyncConfig, *, sync_id: str
) -> ObjectSyncResult:
    started = time.monotonic()
    requests_before = conn.stats.requests
    state: dict[str, Any] = dict(wh.get_state(SOURCE, object_type) or {})
    if config.full_refresh:
        state.pop("cursor", None)
        state.pop("pending", None)
    selection = _select(conn, object_type, state, config)
    spec = selection.spec()
    drift = wh.ensure_table(spec)
    had_rows = not drift.created and wh.row_count(spec) > 0  # a first sync has nothing to reconcile
    wh.ensure_table(MERGED_RECORDS)
    result = ObjectSyncResult(
        object_type,
        spec.name,
        schema_added=list(drift.added),
        schema_missing=list(drift.missing),
        columns=tuple(spec.columns),
    )

    # Listed before the window opens: with the property list cached, this reply's Date header is the portal
    # clock the window's upper bound is read from, so no separate clock request is needed.
    result.archived = _flag_archived(conn, wh, selection, sync_id)
    cursor = state.get("cursor")
    result.cursor_before = _cursor_text(cursor)
    pending = state.get("pending")
    if pending:
        result.resumed = True
        log.info("%s: resuming an interrupted %s window", object_type, pending["mode"])
    else:
        pending = _open_window(conn, cursor, config)
        state["pending"] = pending
        with wh.batch() as b:
            b.save_state(SOURCE, object_type, state, sync_id=sync_id)
    result.mode = pending["mode"]
    extracted_at = datetime.now(UTC)

    # Each page's rows and resume point share the transaction that commits them; results count committed pages.
    # The next page is requested while this one is written (see `prefetched`): `_pages` only reads `pending`,
    # and only before its first request, so the window's state stays on this thread.
    with (
        GroupedBatches(wh.batch, max_rows=config.commit_rows, max_seconds=config.commit_s) as groups,
        prefetched(
            _pages(conn, selection, pending, config), ahead=config.prefetch_pages, name=f"prefetch {object_type}"
        ) as ahead,
    ):
        for records, advance in ahead:
            split = split_records(
                spec, [selection.row(r) for r in records], sync_id=sync_id, source=SOURCE, object=object_type
            )
            merges = [(str(r["id"]), m) for r in records for m in _merged_ids(r)]
            advance()
            pending["extracted"] += len(records)
            seen = [
                (ts, int(r["id"]))
                for r in records
                if (ts := epoch_ms((r.get("properties") or {}).get(selection.cursor_property))) is not None
            ]
            if seen:
                pending["max_seen"] = list(max([*seen, tuple(pending["max_seen"] or (0, 0))]))
            with groups.page(len(records)) as b:
                b.upsert(spec, split.rows, sync_id=sync_id, extracted_at=extracted_at)
                b.quarantine(split.quarantine)
                merged = 0
                if merges:
                    b.upsert(
                        MERGED_RECORDS,
                        [merged_row(object_type, m, s, extracted_at) for s, m in merges],
                        sync_id=sync_id,
                        extracted_at=extracted_at,
                    )
                    merged = b.mark_deleted(spec, [m for _, m in merges], deleted_at=extracted_at, sync_id=sync_id)
                # The state as it stands when the group commits: this page's resume point, or a later page's.
                groups.save_at_commit(partial(_save_state, object_type, state, sync_id))
                groups.on_commit(
                    partial(_count, result, len(records), len(split.rows), split.quarantined_records, merged)
                )
    result.window_extracted = pending["extracted"]
    result.source_count = pending.get("source_count")

    now = _from_ms(pending["upper"])
    last = state.get("last_reconciled")
    due = last is None or now - datetime.fromisoformat(last) >= config.reconcile_every
    # As on the Salesforce side: a full listing over a table that held rows (a full refresh) reconciles at once,
    # a resumed one leaves it to the next sync, a first sync into an empty table has nothing to reconcile.
    if (cursor is None and had_rows and not result.resumed) or (cursor is not None and due):
        result.purged = _reconcile_ids(conn, wh, selection, sync_id, now)
        state["last_reconciled"] = now.isoformat()
    elif cursor is None and not had_rows:
        state["last_reconciled"] = now.isoformat()

    if pending["mode"] == "list":
        # Records changed while the listing ran may sit on pages already read: restart from the window's start.
        new_cursor: dict[str, int] | None = {"ts": pending["upper"], "id": 0}
    else:
        new_cursor = _later(cursor, pending.get("max_seen"))
    state["cursor"] = new_cursor
    state.pop("pending", None)
    result.cursor_after = _cursor_text(new_cursor)
    result.requests = conn.stats.requests - requests_before
    result.elapsed_s = round(time.monotonic() - started, 3)
    with wh.batch() as b:
        b.save_state(SOURCE, object_type, state, sync_id=sync_id)
    wh.record_sync(
        SyncAudit(
            sync_id=sync_id,
            source=SOURCE,
            object=object_type,
            mode=result.mode,  # type: ignore[arg-type]
            extracted=result.extracted,
            loaded=result.loaded,
            quarantined=result.quarantined,
            deleted=result.archived + result.merged + result.purged,
            requests=result.requests,
            cursor_before=result.cursor_before,
            cursor_after=result.cursor_after,
            source_count=result.source_count,
            status="success",
            started_at=extracted_at,
            finished_at=datetime.now(UTC),
        )
    )
    return result


def _select(
    conn: HubSpotConnection, object_type: str, state: dict[str, Any], config: ObjectSyncConfig
) -> PropertySelection:
    """The selection from the cached property list; a configured property the copy lacks may have been added
    upstream since it was read, so that re-reads the list once before it is reported as unknown."""

    def select(refresh: bool) -> PropertySelection:
        definitions = cached_properties(
            conn,
            object_type,
            state,
            now=datetime.now(UTC),
            every=config.properties_every,
            refresh=refresh or config.full_refresh,
        )
        return select_properties(object_type, definitions, config.include, config.exclude)

    read_at = (state.get("properties") or {}).get("fetched_at")
    try:
        return select(refresh=False)
    except ValueError:
        if (state.get("properties") or {}).get("fetched_at") != read_at:
            raise  # the list was just read: the property really is unknown
        return select(refresh=True)


def _count(result: ObjectSyncResult, extracted: int, loaded: int, quarantined: int, merged: int) -> None:
    """Add a page to the result, once its transaction has committed."""
    result.extracted += extracted
    result.loaded += loaded
    result.quarantined += quarantined
    result.merged += merged


def _open_window(conn: HubSpotConnection, cursor: dict[str, int] | None, config: ObjectSyncConfig) -> dict[str, Any]:
    upper = _ms(conn.server_now() - config.lag)
    window: dict[str, Any] = {"upper": upper, "extracted": 0, "max_seen": None, "source_count": None}
    if cursor is None:
        return {**window, "mode": "list", "after": None}
    lower = int(cursor["ts"]) - int(config.lookback.total_seconds() * 1000)
    return {**window, "mode": "search", "position": SearchPosition(lower).to_state()}


def _pages(
    conn: HubSpotConnection, selection: PropertySelection, pending: dict[str, Any], config: ObjectSyncConfig
) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """(records, advance): ``advance()`` moves ``pending`` past the page; the caller commits both together."""
    if pending["mode"] == "list":
        chunks = chunk_for_query(selection.names, config.query_budget)
        for page in pages.list_pages(conn, selection.object_type, chunks, after=pending.get("after")):
            yield page.records, lambda page=page: pending.__setitem__("after", page.after)
        return
    inline = fits_search_body(selection.names)
    asked = selection.names if inline else ("hs_object_id", selection.cursor_property)
    for search in pages.search_pages(
        conn,
        selection.object_type,
        selection.cursor_property,
        asked,
        upper_ms=pending["upper"],
        position=SearchPosition.from_state(pending["position"]),
    ):
        records = search.records
        if not inline and records:
            # Too many properties for a search body: search found the ids, a batch read (POST) fetches them.
            records = pages.batch_read(conn, selection.object_type, [str(r["id"]) for r in records], selection.names)
        yield records, partial(_advance_search, pending, search)


def _advance_search(pending: dict[str, Any], search: pages.SearchPage) -> None:
    """Move the search window past ``search``; the window's total comes with its first page."""
    if pending.get("source_count") is None and search.total is not None:
        pending["source_count"] = int(search.total)
    pending["position"] = search.position.to_state()


def _merged_ids(record: dict[str, Any]) -> list[str]:
    raw = (record.get("properties") or {}).get("hs_merged_object_ids") or ""
    return [part for part in str(raw).split(";") if part.strip()]


def _reconcile_ids(
    conn: HubSpotConnection, wh: Warehouse, selection: PropertySelection, sync_id: str, now: datetime
) -> int:
    """List every live id (ids only, 100 a page) and flag what the warehouse still holds live but HubSpot lost."""
    spec = selection.spec()
    landed = wh.live_ids(spec)
    if not landed:
        return 0
    listed = {
        str(r["id"]) for page in pages.list_pages(conn, selection.object_type, [["hs_object_id"]]) for r in page.records
    }
    gone = sorted(landed - listed)
    if not gone:
        return 0
    with wh.batch() as b:
        return b.mark_deleted(spec, gone, deleted_at=now, sync_id=sync_id)


def _flag_archived(conn: HubSpotConnection, wh: Warehouse, selection: PropertySelection, sync_id: str) -> int:
    """Archived records never appear in search: list them (ids only) and flag the ones still live here."""
    spec = selection.spec()
    flagged = 0
    for page in pages.list_pages(conn, selection.object_type, [["hs_object_id"]], archived=True):
        by_time: dict[datetime, list[str]] = {}
        for record in page.records:
            at_ms = epoch_ms(record.get("archivedAt")) or epoch_ms(record.get("updatedAt"))
            by_time.setdefault(_from_ms(at_ms) if at_ms is not None else datetime.now(UTC), []).append(
                str(record["id"])
            )
        with wh.batch() as b:
            for at, ids in by_time.items():
                flagged += b.mark_deleted(spec, ids, deleted_at=at, sync_id=sync_id)
    return flagged


def _later(cursor: dict[str, int] | None, max_seen: list[int] | None) -> dict[str, int] | None:
    """The larger of two (timestamp, id) cursors, compared as numbers."""
    if not max_seen:
        return cursor
    candidate = (int(max_seen[0]), int(max_seen[1]))
    if cursor is None or candidate > (int(cursor["ts"]), int(cursor["id"])):
        return {"ts": candidate[0], "id": candidate[1]}
    return cursor


def _save_state(object_type: str, state: dict[str, Any], sync_id: str, batch: Batch) -> None:
    batch.save_state(SOURCE, object_type, state, sync_id=sync_id)
