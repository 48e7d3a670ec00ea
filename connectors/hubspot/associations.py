"""Associations as an edge table, read with the v4 batch endpoint (1,000 record ids per call, never one per record).

Adding or removing an association does not move either record's last-modified date (Airbyte 27199), so the
records (re)loaded since the last run are not enough: every ``full_every`` the edges of every live record are
re-read. That cadence is measured on HubSpot's clock (the ``Date`` header of its replies, which the sandbox sets
from its own clock too), never on this machine's, and each pair's last full re-read is kept in ``sync_state`` as
``full_reread_at``. The trade-off: an association-only change lands at the first full re-read after it, up to
``full_every`` late. For each record read, the edges HubSpot no longer reports are flagged deleted; edges from
or to records that are no longer live (archived, merged away) are flagged too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.api.prefetch import prefetched
from connectors.api.results import TableSyncCounts
from connectors.hubspot.catalog import ASSOCIATION_PAIRS, ASSOCIATIONS, SOURCE, raw_table_name
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.rows import edge_id
from connectors.hubspot.scope import id_table, loaded_since, table_exists
from connectors.warehouse.records import SyncAudit
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Warehouse

# HubSpot's cap on a v4 batch read's inputs since 2025-02-10 (developer changelog, "Batch Read Limit for
# HubSpot Associations API"); a larger body is refused.
BATCH_LIMIT = 1_000
STREAM = "associations"


# A pair's sync_state key for the portal time its last full re-read started (ISO 8601, UTC).
FULL_REREAD_AT = "full_reread_at"
# How far apart the Date headers of HubSpot's servers may plausibly be (they carry whole seconds).
CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class AssociationSyncConfig:
    # How late an association-only change may land, on HubSpot's clock; zero: re-read every live record's edges
    # on every run. Each full re-read costs one batch read per 1,000 live records of each pair.
    full_every: timedelta = timedelta(hours=24)


@dataclass
class AssociationSyncResult(TableSyncCounts):
    """``extracted`` counts edges."""

    full_refresh: list[str] = field(default_factory=list)  # pairs whose every live record was re-read
    records_read: int = 0
    removed: int = 0  # edges newly flagged deleted
    source_clock: str = ""  # HubSpot's time the full re-reads were judged due against (ISO 8601)


def sync_associations(
    conn: HubSpotConnection,
    wh: Warehouse,
    config: AssociationSyncConfig,
    *,
    sync_id: str,
    pairs: Sequence[tuple[str, str]] = ASSOCIATION_PAIRS,
) -> AssociationSyncResult:
    started = time.monotonic()
    requests_before = conn.stats.requests
    result = AssociationSyncResult(ASSOCIATIONS.name, columns=tuple(ASSOCIATIONS.columns))
    wh.ensure_table(ASSOCIATIONS)
    state = dict(wh.get_state(SOURCE, STREAM) or {})
    pair_state: dict[str, dict[str, str]] = dict(state.get("pairs") or {})
    extracted_at = datetime.now(UTC)
    source_now = conn.server_now()
    result.source_clock = source_now.isoformat()
    live_edges = _live_edges_by_source(wh)
    oldest_before = _oldest_full_reread(pair_state, pairs)
    for from_type, to_type in pairs:
        from_table, to_table = raw_table_name(from_type), raw_table_name(to_type)
        if not (table_exists(wh, from_table) and table_exists(wh, to_table)):
            continue  # that object type is not synced (yet): nothing to hang edges on
        key = f"{from_type}>{to_type}"
        ps = dict(pair_state.get(key) or {})
        # Written by earlier versions on this machine's clock: one full re-read replaces it with the portal's.
        ps.pop("full_at", None)
        full = full_reread_due(_full_reread_at(ps), source_now, config.full_every)
        since = None if full else datetime.fromisoformat(ps["through"]) if ps.get("through") else None
        ids, through = loaded_since(wh, from_table, since)
        if full:
            result.full_refresh.append(key)
            # Saved with the pair's state once every edge is read: a run that dies mid-pair re-reads it all.
            ps[FULL_REREAD_AT] = source_now.isoformat()
        # The next batch of edges is read while this one is written (see `prefetched`).
        with prefetched(_edge_batches(conn, from_type, to_type, ids), name=f"prefetch {key}") as batches:
            for chunk, edges in batches:
                rows = [_edge_row(from_type, to_type, *e) for e in edges]
                split = split_records(ASSOCIATIONS, rows, sync_id=sync_id, source=SOURCE, object=STREAM)
                returned = {r["id"] for r in rows}
                stale = [e for fid in chunk for e in live_edges.get((from_type, fid, to_type), ()) if e not in returned]
                with wh.batch() as b:
                    b.upsert(ASSOCIATIONS, split.rows, sync_id=sync_id, extracted_at=extracted_at)
                    b.quarantine(split.quarantine)
                    result.removed += b.mark_deleted(ASSOCIATIONS, stale, deleted_at=extracted_at, sync_id=sync_id)
                result.records_read += len(chunk)
                result.extracted += len(rows)
                result.loaded += len(split.rows)
                result.quarantined += split.quarantined_records
        result.removed += _drop_dangling(wh, live_edges, from_type, to_type, sync_id, extracted_at)
        if through is not None:
            ps["through"] = through.isoformat()
        pair_state[key] = ps
        state["pairs"] = pair_state
        with wh.batch() as b:
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
            deleted=result.removed,
            requests=result.requests,
            cursor_before=oldest_before,
            cursor_after=_oldest_full_reread(pair_state, pairs),
            status="success",
            started_at=extracted_at,
            finished_at=datetime.now(UTC),
        )
    )
    return result


def full_reread_due(last: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether every edge must be re-read, all on HubSpot's clock. A last re-read clearly later than ``now``
    means the portal's clock went back (or the state came from another portal): waiting for the clock to catch
    up could take any time, so that re-reads; a few seconds' difference between HubSpot's servers does not."""
    return last is None or now - last >= every or last - now > CLOCK_SKEW


def _full_reread_at(pair: dict[str, str]) -> datetime | None:
    return datetime.fromisoformat(pair[FULL_REREAD_AT]) if pair.get(FULL_REREAD_AT) else None


def _oldest_full_reread(pair_state: dict[str, dict[str, str]], pairs: Sequence[tuple[str, str]]) -> str | None:
    """The audit's cursor: the stalest full re-read among ``pairs``, i.e. how late an association-only change
    can be at most now."""
    times = [at for f, t in pairs if (at := (pair_state.get(f"{f}>{t}") or {}).get(FULL_REREAD_AT))]
    return min(times, key=datetime.fromisoformat) if times else None


def _edge_batches(
    conn: HubSpotConnection, from_type: str, to_type: str, ids: Sequence[str]
) -> Iterator[tuple[Sequence[str], list[tuple[str, str, dict[str, Any]]]]]:
    """(ids, their edges), ``BATCH_LIMIT`` ids at a time."""
    for start in range(0, len(ids), BATCH_LIMIT):
        chunk = ids[start : start + BATCH_LIMIT]
        yield chunk, _read_edges(conn, from_type, to_type, chunk)


def _read_edges(
    conn: HubSpotConnection, from_type: str, to_type: str, ids: Sequence[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(from id, to id, association type) for ``ids``; a record with more edges than one answer holds is
    asked again with its own ``after``. Ids without edges come back as 207 errors: that means none."""
    edges: list[tuple[str, str, dict[str, Any]]] = []
    inputs: list[dict[str, str]] = [{"id": i} for i in ids]
    while inputs:
        current = inputs
        reply = conn.call(
            lambda: conn.associations.get_page(
                from_type, to_type, {"inputs": current}, _preload_content=False, _request_timeout=conn.timeout_s
            ),
            what=f"associations {from_type}>{to_type}",
        )
        inputs = []
        for result in reply.get("results") or []:
            from_id = str(result["from"]["id"])
            for target in result.get("to") or []:
                for kind in target.get("associationTypes") or []:
                    edges.append((from_id, str(target["toObjectId"]), kind))
            after = ((result.get("paging") or {}).get("next") or {}).get("after")
            if after:
                inputs.append({"id": from_id, "after": str(after)})
        for error in reply.get("errors") or []:
            if (
                "NO_ASSOCIATIONS_FOUND" not in str(error.get("subCategory", ""))
                and error.get("category") != "OBJECT_NOT_FOUND"
            ):
                raise RuntimeError(f"associations {from_type}>{to_type}: {error.get('message')}")
    return edges


def _edge_row(from_type: str, to_type: str, from_id: str, to_id: str, kind: dict[str, Any]) -> dict[str, Any]:
    type_id = kind.get("typeId")
    return {
        "id": edge_id(from_type, from_id, to_type, to_id, int(type_id) if type_id is not None else -1),
        "from_type": from_type,
        "from_id": from_id,
        "to_type": to_type,
        "to_id": to_id,
        "type_id": type_id,
        "category": kind.get("category"),
        "label": kind.get("label"),
    }


def _live_edges_by_source(wh: Warehouse) -> dict[tuple[str, str, str], list[str]]:
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for eid in wh.live_ids(ASSOCIATIONS):
        source, _, rest = eid.partition(">")
        from_type, _, from_id = source.partition(":")
        to_type = rest.partition(":")[0]
        grouped.setdefault((from_type, from_id, to_type), []).append(eid)
    return grouped


def _drop_dangling(
    wh: Warehouse,
    live_edges: dict[tuple[str, str, str], list[str]],
    from_type: str,
    to_type: str,
    sync_id: str,
    at: datetime,
) -> int:
    """Edges whose either end is no longer a live record here (archived or merged away)."""
    live_from = wh.live_ids(id_table(raw_table_name(from_type)))
    live_to = wh.live_ids(id_table(raw_table_name(to_type)))
    dangling = []
    for (f_type, from_id, t_type), eids in live_edges.items():
        if f_type != from_type or t_type != to_type:
            continue
        for eid in eids:
            to_id = eid.rpartition(":")[2].partition("#")[0]
            if from_id not in live_from or to_id not in live_to:
                dangling.append(eid)
    if not dangling:
        return 0
    with wh.batch() as b:
        return b.mark_deleted(ASSOCIATIONS, dangling, deleted_at=at, sync_id=sync_id)
