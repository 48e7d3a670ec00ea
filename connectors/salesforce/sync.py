"""Incremental sync of one Salesforce object into its raw warehouse table.

The window is fixed when it opens (upper bound from the org's own clock, lower bound = last cursor minus a
lookback for rows committed late) and written to ``sync_state`` before the first page, so a run that dies
mid-window resumes the same window — from the last committed row (REST) or the same Bulk job and locator.
Every page commits its rows, its quarantine rows and its resume point in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.api.prefetch import prefetched
from connectors.api.results import WindowSyncResult
from connectors.salesforce import soql
from connectors.salesforce.catalog import SOURCE
from connectors.salesforce.connection import SalesforceConnection
from connectors.salesforce.fields import FieldSelection, column_name, compact_describe, select_fields
from connectors.salesforce.pages import Page, bulk_pages, rest_pages, start_bulk_job, wait_for_bulk_job
from connectors.warehouse.coerce import coerce_value
from connectors.warehouse.columns import coerce_column
from connectors.warehouse.grouped import GroupedBatches
from connectors.warehouse.records import SyncAudit
from connectors.warehouse.validate import Split, split_records
from connectors.warehouse.warehouse import Batch, Warehouse

log = logging.getLogger(__name__)

# getDeleted only reaches 15 days back; stay a little inside so a slow run does not cross the edge.
DELETED_HORIZON = timedelta(days=15) - timedelta(minutes=10)
# A nightly schedule's windows open minutes earlier or later from one night to the next; without this slack a
# 24 h cadence would fall due only every other night.
CADENCE_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class ObjectSyncConfig:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    lookback: timedelta = timedelta(minutes=10)
    # A Bulk 2.0 job queues and processes before its first row (seconds to minutes on Salesforce) and costs a
    # create and polls; REST pages of 2,000 stream at once. Up to 25 pages REST is both quicker and no dearer in
    # API calls; above that Bulk's large CSV pages and lower call count win.
    bulk_threshold: int = 50_000
    rest_batch_size: int = 2_000
    bulk_page_size: int = 10_000
    bulk_poll_s: float = 1.0
    reconcile_every: timedelta = timedelta(days=7)
    # Purged rows are rare and getDeleted reaches 15 days back from where the last call ended: once a day is
    # enough, and a re-sync in between costs no request for it. Capped by the horizon so nothing falls out.
    deleted_every: timedelta = timedelta(hours=24)
    full_refresh: bool = False
    # Pages are committed together until a transaction holds this many records or is this old (see
    # `GroupedBatches`): one commit per small REST page costs more than landing it. 1 commits every page.
    commit_rows: int = 10_000
    commit_s: float = 5.0
    # Pages requested ahead of the one being written (see `prefetched`); each holds a page in memory.
    prefetch_pages: int = 1


@dataclass
class ObjectSyncResult(WindowSyncResult):
    mode: str = "rest"
    deleted: int = 0  # soft deletes seen through queryAll
    hard_deleted: int = 0  # purged rows reported by getDeleted
    reconciled_deleted: int = 0  # ids gone from the source, found by the Id-set reconciliation


def _utc(ts: datetime) -> datetime:
    """The warehouse hands back naive UTC; make it explicit before any comparison or arithmetic."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _iso(ts: datetime) -> str:
    return _utc(ts).isoformat()


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts).astimezone(UTC)


def _page_cursor(records: Sequence[dict[str, Any]], cursor_field: str) -> tuple[datetime, str] | None:
    """The page's largest (cursor, Id), skipping records without an Id or a valid cursor value: what comparing
    the records one by one would find, with the cursor column coerced as a whole."""
    stamps = coerce_column([r.get(cursor_field) for r in records], "timestamp").array
    usable = pc.and_(pc.is_valid(stamps), pa.array(["Id" in r for r in records], type=pa.bool_()))
    if not pc.any(usable).as_py():
        return None
    top = pc.max(pc.filter(stamps, usable)).as_py()
    at_top = pc.and_(usable, pc.equal(stamps, pa.scalar(top, type=stamps.type)))
    ids = [str(records[int(i)]["Id"]) for i in np.flatnonzero(at_top.to_numpy(zero_copy_only=False))]
    return _utc(top), max(ids)


def sync_object(
    conn: SalesforceConnection,
    wh: Warehouse,
    object_name: str,
    config: ObjectSyncConfig,
    *,
    sync_id: str,
) -> ObjectSyncResult:
    started_at = datetime.now(UTC)
    started = time.monotonic()
    requests_before = conn.stats.requests
    state = _load_state(wh, object_name, config)
    describe = _describe(conn, object_name, state, refresh=config.full_refresh)
    selection = select_fields(describe, config.include, config.exclude)
    spec = selection.spec()
    drift = wh.ensure_table(spec)
    had_rows = not drift.created and wh.row_count(spec) > 0  # a first sync has nothing to reconcile
    result = ObjectSyncResult(
        object_name,
        selection.table,
        schema_added=list(drift.added),
        schema_missing=list(drift.missing),
        columns=tuple(spec.columns),
    )

    def audit(status: str, error: str | None = None) -> SyncAudit:
        return SyncAudit(
            sync_id=sync_id,
            source=SOURCE,
            object=object_name,
            mode=result.mode,  # type: ignore[arg-type]
            extracted=result.extracted,
            loaded=result.loaded,
            quarantined=result.quarantined,
            deleted=result.deleted + result.hard_deleted + result.reconciled_deleted,
            requests=conn.stats.requests - requests_before,
            cursor_before=result.cursor_before,
            cursor_after=result.cursor_after,
            source_count=result.source_count,
            status=status,  # type: ignore[arg-type]
            started_at=started_at,
            finished_at=None if status == "running" else datetime.now(UTC),
            error=error,
        )

    try:
        cursor = state.get("cursor")
        result.cursor_before = f"{cursor['ts']}|{cursor['id']}" if cursor else None
        pending = state.get("pending")
        if pending:
            result.resumed = True
            log.info("%s: resuming an interrupted window (mode %s)", object_name, pending["mode"])
        else:
            # Written before the first page so that a crash resumes this window, not a new one.
            state["pending"] = pending = _open_window(conn, cursor, config)
            with wh.batch() as b:
                b.save_state(SOURCE, object_name, state, sync_id=sync_id)
        result.mode, result.source_count = pending["mode"], pending["source_count"]
        wh.record_sync(audit("running"))
        window = soql.Window(
            selection.cursor_field,
            upper=_parse(pending["upper"]),
            after_ts=_parse(pending["after_ts"]) if pending.get("after_ts") else None,
            after_id=pending.get("after_id", ""),
        )
        _land_pages(conn, wh, selection, window, state, config, result, sync_id)
        # An incremental window may have moved to Bulk, and learnt its size, on its first page.
        result.mode, result.source_count = pending["mode"], pending["source_count"]

        if selection.replicateable and cursor is not None:
            every = min(config.deleted_every, DELETED_HORIZON)
            if _is_due(state.get("deleted_checked"), window.upper, every):
                result.hard_deleted = _apply_hard_deletes(conn, wh, spec, object_name, state, window.upper, sync_id)
                state["deleted_checked"] = _iso(window.upper)
        elif selection.replicateable:
            state["deleted_until"] = _iso(window.upper)  # a full window already saw every soft delete
            state["deleted_checked"] = _iso(window.upper)
        last_reconciled = state.get("last_reconciled")
        due = last_reconciled is None or window.upper - _parse(last_reconciled) >= config.reconcile_every
        # A full window over a table that held rows before it (a full refresh) reconciles at once; a resumed one
        # leaves it to the next sync, whose first run is due; a first sync into an empty table has nothing to do.
        if (cursor is None and had_rows and not result.resumed) or (cursor is not None and due):
            result.reconciled_deleted = _reconcile_ids(conn, wh, spec, object_name, config, sync_id, window.upper)
            state["last_reconciled"] = _iso(window.upper)
        elif cursor is None and not had_rows:
            state["last_reconciled"] = _iso(window.upper)

        new_cursor = _later_cursor(cursor, pending.get("max_seen"))
        state["cursor"] = new_cursor
        state.pop("pending", None)
        result.cursor_after = f"{new_cursor['ts']}|{new_cursor['id']}" if new_cursor else None
        with wh.batch() as b:
            b.save_state(SOURCE, object_name, state, sync_id=sync_id)
    except Exception as exc:
        wh.record_sync(audit("failed", f"{type(exc).__name__}: {exc}"[:2000]))
        raise
    result.requests = conn.stats.requests - requests_before
    result.elapsed_s = round(time.monotonic() - started, 3)
    wh.record_sync(audit("success"))
    return result


def _is_due(last: str | None, now: datetime, every: timedelta) -> bool:
    """Whether a periodic step last done at ``last`` (ISO, or never) should run again at ``now``."""
    return last is None or now - _parse(last) >= every - CADENCE_SLACK


def _describe(conn: SalesforceConnection, object_name: str, state: dict[str, Any], *, refresh: bool) -> dict[str, Any]:
    """The object's describe, re-downloaded only when Salesforce says it changed since the copy in ``state``:
    first asked of the whole org (one global describe per run answers for every object), then of the object.

    The copy keeps just what field selection reads, so sync_state stays small however wide the object is.
    """
    cached = None if refresh else state.get("describe")
    if cached and conn.schema_unchanged_since(cached["last_modified"]):
        return dict(cached["object"])
    reply = conn.describe(object_name, if_modified_since=cached["last_modified"] if cached else None)
    if reply.body is None:
        if cached is None:
            raise RuntimeError(f"describe {object_name}: Salesforce answered 304 to an unconditional request")
        return dict(cached["object"])
    described = compact_describe(reply.body)
    if reply.last_modified:
        state["describe"] = {"last_modified": reply.last_modified, "object": described}
    else:
        state.pop("describe", None)
    return described


def _load_state(wh: Warehouse, object_name: str, config: ObjectSyncConfig) -> dict[str, Any]:
    state: dict[str, Any] = dict(wh.get_state(SOURCE, object_name) or {})
    if config.full_refresh:
        state.pop("cursor", None)
        state.pop("pending", None)
    return state


def _land_pages(
    conn: SalesforceConnection,
    wh: Warehouse,
    selection: FieldSelection,
    window: soql.Window,
    state: dict[str, Any],
    config: ObjectSyncConfig,
    result: ObjectSyncResult,
    sync_id: str,
) -> None:
    """Each page writes its rows, deletions, quarantine rows and resume point into the transaction that commits
    it (shared with neighbouring pages, see `ObjectSyncConfig.commit_rows`); results count committed pages."""
    spec = selection.spec()
    pending = state["pending"]
    extracted_at = datetime.now(UTC)
    # The pages are closed on the way out, so a failed write also stops the page being fetched ahead of it.
    with (
        GroupedBatches(wh.batch, max_rows=config.commit_rows, max_seconds=config.commit_s) as groups,
        contextlib.closing(_pages(conn, selection, window, pending, config)) as pages,
    ):
        for page in pages:
            split, deleted = _split_page(page.records, selection, result.object_name, sync_id)
            _advance(pending, page, selection.cursor_field)
            by_deletion_time: dict[datetime | None, list[str]] = {}
            for row, deleted_at in deleted:
                by_deletion_time.setdefault(deleted_at, []).append(row["id"])
            with groups.page(len(page.records)) as b:
                # Live and soft-deleted rows alike, still column-wise: the deleted ones are then flagged.
                b.upsert(spec, split.rows, sync_id=sync_id, extracted_at=extracted_at)
                for deleted_at, ids in by_deletion_time.items():
                    b.mark_deleted(spec, ids, deleted_at=deleted_at or extracted_at, sync_id=sync_id)
                b.quarantine(split.quarantine)
                # The state as it stands when the group commits: this page's resume point, or a later page's.
                groups.save_at_commit(partial(_save_state, result.object_name, state, sync_id))
                groups.on_commit(
                    partial(_count, result, len(page.records), len(split.rows), len(deleted), split.quarantined_records)
                )
    result.window_extracted = pending["extracted"]


def _count(result: ObjectSyncResult, extracted: int, loaded: int, deleted: int, quarantined: int) -> None:
    """Add a page to the result, once its transaction has committed."""
    result.extracted += extracted
    result.loaded += loaded
    result.deleted += deleted
    result.quarantined += quarantined


def _open_window(conn: SalesforceConnection, cursor: dict[str, str] | None, config: ObjectSyncConfig) -> dict[str, Any]:
    """Fix the window's bounds; REST or Bulk is chosen by the window's own size.

    Every window, the first (full) one included, starts on REST ``queryAll`` uncounted: its first page's
    ``totalSize`` both fills the audit's source count and moves it to Bulk when it proves large (see
    :func:`_pages`). A separate COUNT() would cost the same request and tell nothing more.
    """
    upper = conn.server_now()
    after_ts = _parse(cursor["ts"]) - config.lookback if cursor else None
    # Without a lookback the window continues strictly after the cursor row; with one, it re-reads from
    # ``cursor - lookback`` inclusive and the upsert absorbs what was already landed.
    after_id = cursor["id"] if cursor and not config.lookback else ""
    return {
        "upper": _iso(upper),
        "after_ts": _iso(after_ts) if after_ts else None,
        "after_id": after_id,
        "mode": "rest",
        "source_count": None,
        "extracted": 0,
        "job_id": None,
        "locator": "",
        "max_seen": None,
    }


def _pages(
    conn: SalesforceConnection,
    selection: FieldSelection,
    window: soql.Window,
    pending: dict[str, Any],
    config: ObjectSyncConfig,
) -> Generator[Page, None, None]:
    query = soql.select(selection.fields, selection.object_name, window)
    if pending["mode"] == "rest":
        # A resumed REST window restarts the query after the last committed (cursor, Id): keyset, not offset.
        pages = rest_pages(conn, query, include_deleted=True, batch_size=config.rest_batch_size)
        first = next(pages)
        uncounted = pending["source_count"] is None
        if uncounted:
            pending["source_count"] = first.total
        if not (uncounted and first.total is not None and first.total > config.bulk_threshold):
            # The next page is requested while this one is written; the window's state is only ever changed
            # here, before the producer starts, and by the caller, so it stays on one thread.
            with prefetched(pages, ahead=config.prefetch_pages, name=f"prefetch {selection.object_name}") as ahead:
                yield first
                yield from ahead
            return
        # Too large for REST after all: the Bulk job re-reads the whole window, this first page included (its
        # query locator is simply left to expire, as Salesforce lets an unread one do).
        pending["mode"] = "bulk"
    if not pending.get("job_id"):
        pending["job_id"] = start_bulk_job(conn, selection.object_name, query, include_deleted=True)
    wait_for_bulk_job(conn, selection.object_name, pending["job_id"], poll_s=config.bulk_poll_s)
    results = bulk_pages(
        conn,
        selection.object_name,
        pending["job_id"],
        locator=pending.get("locator", ""),
        max_records=config.bulk_page_size,
    )
    with prefetched(results, ahead=config.prefetch_pages, name=f"prefetch {selection.object_name}") as ahead:
        yield from ahead


def _advance(pending: dict[str, Any], page: Page, cursor_field: str) -> None:
    """Move the resume point past ``page``; the caller commits it together with the page's rows."""
    pending["extracted"] += len(page.records)
    last = _page_cursor(page.records, cursor_field)
    if pending["mode"] == "bulk":
        pending["locator"] = page.resume.get("locator", "")
    elif last is not None:
        pending["after_ts"], pending["after_id"] = _iso(last[0]), last[1]
    if last is not None:
        pending["max_seen"] = list(max(tuple(pending["max_seen"] or ("", "")), (_iso(last[0]), last[1])))


def _later_cursor(cursor: dict[str, str] | None, max_seen: Sequence[str] | None) -> dict[str, str] | None:
    if not max_seen:
        return cursor
    if (
        cursor is None
        or _parse(max_seen[0]) > _parse(cursor["ts"])
        or (_parse(max_seen[0]) == _parse(cursor["ts"]) and max_seen[1] > cursor["id"])
    ):
        return {"ts": max_seen[0], "id": max_seen[1]}
    return cursor


def _split_page(
    records: list[dict[str, Any]], selection: FieldSelection, object_name: str, sync_id: str
) -> tuple[Split, list[tuple[dict[str, Any], datetime | None]]]:
    """The split (typed rows, live and soft-deleted, and quarantine) and the soft-deleted rows with their
    deletion time."""
    split = split_records(
        selection.spec(), records, sync_id=sync_id, source=SOURCE, object=object_name, keys=selection.fields
    )
    cursor_column = column_name(selection.cursor_field)
    return split, [(row, row.get(cursor_column)) for row in split.rows.flagged("isdeleted")]


def _apply_hard_deletes(
    conn: SalesforceConnection,
    wh: Warehouse,
    spec: Any,
    object_name: str,
    state: dict[str, Any],
    end: datetime,
    sync_id: str,
) -> int:
    """Rows purged from the recycle bin never reach queryAll; getDeleted still lists them for 15 days.

    getDeleted never covers the current minute, so the next call starts where this one's ``latestDateCovered``
    ended rather than at our window's bound.
    """
    horizon = end - DELETED_HORIZON
    start = max(_parse(state["deleted_until"]) if state.get("deleted_until") else horizon, horizon)
    if end - start < timedelta(minutes=1):
        return 0
    reply = conn.call(lambda sf: getattr(sf, object_name).deleted(start, end), what=f"getDeleted {object_name}")
    by_deletion_time: dict[datetime, list[str]] = {}
    for entry in reply.get("deletedRecords", []):
        by_deletion_time.setdefault(_utc(coerce_value(entry["deletedDate"], "timestamp")), []).append(entry["id"])
    count = 0
    with wh.batch() as b:
        for deleted_at, ids in by_deletion_time.items():
            count += b.mark_deleted(spec, ids, deleted_at=deleted_at, sync_id=sync_id)
    if reply.get("latestDateCovered"):
        state["deleted_until"] = _iso(_utc(coerce_value(reply["latestDateCovered"], "timestamp")))
    return count


def _reconcile_ids(
    conn: SalesforceConnection,
    wh: Warehouse,
    spec: Any,
    object_name: str,
    config: ObjectSyncConfig,
    sync_id: str,
    now: datetime,
) -> int:
    """Compare the source's live Id set with the warehouse's: anything missing upstream is marked deleted.

    Large objects list their Ids through one Bulk 2.0 job rather than thousands of 2,000-row REST pages.
    """
    landed = wh.live_ids(spec)
    query = f"SELECT Id FROM {object_name}"
    if len(landed) > config.bulk_threshold:
        job_id = start_bulk_job(conn, object_name, query, include_deleted=False)
        wait_for_bulk_job(conn, object_name, job_id, poll_s=config.bulk_poll_s)
        pages = bulk_pages(conn, object_name, job_id, max_records=config.bulk_page_size)
    else:
        pages = rest_pages(conn, query, include_deleted=False, batch_size=config.rest_batch_size)
    source_ids = {str(r["Id"]) for page in pages for r in page.records}
    gone = sorted(landed - source_ids)
    if not gone:
        return 0
    with wh.batch() as b:
        return b.mark_deleted(spec, gone, deleted_at=now, sync_id=sync_id)


def _save_state(object_name: str, state: dict[str, Any], sync_id: str, batch: Batch) -> None:
    batch.save_state(SOURCE, object_name, state, sync_id=sync_id)
