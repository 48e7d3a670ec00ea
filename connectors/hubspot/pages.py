"""Pages of HubSpot records, as generators, each yielded with the point to resume after it.

List endpoint (first/full syncs, archived listings): ``limit`` 100 and the ``after`` token. Search (incremental):
a keyset walk over ``(last-modified, hs_object_id)`` compared as numbers, never an offset. Each search request
starts at offset 0 from the last timestamp seen (``GTE`` it, skipping the ids already taken at it), so no query
ever comes near HubSpot's 10,000-result cap, however large the window. Search sorts on ONE property and says
nothing of the order inside a tie, so a tie is never paged by offset: when a whole page shares one timestamp
(more records at it than a page holds), that timestamp is paged alone — ``EQ`` it, sorted by ``hs_object_id``,
``hs_object_id GT last`` — before moving strictly past it. That walk cannot loop or skip even when more than
10,000 records share one millisecond (the case Airbyte 43317 loops on).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.hubspot.connection import HubSpotConnection
from connectors.warehouse.coerce import CoercionError, to_timestamp

LIST_LIMIT = 100
SEARCH_LIMIT = 200
BATCH_READ_LIMIT = 100
HISTORY_BATCH_LIMIT = 50  # HubSpot halves batch sizes when propertiesWithHistory is asked for
_EPOCH = datetime(1970, 1, 1)  # to_timestamp returns naive UTC


def epoch_ms(value: Any) -> int | None:
    """A HubSpot datetime (ISO string or ms epoch) as integer milliseconds: the only form cursors compare in."""
    try:
        moment = to_timestamp(value)
    except CoercionError:
        return None
    if moment is None:
        return None
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class ListPage:
    records: list[dict[str, Any]]
    after: str | None  # the token for the next page; None on the last one


def list_pages(
    conn: HubSpotConnection,
    object_type: str,
    property_chunks: Sequence[Sequence[str]],
    *,
    archived: bool = False,
    after: str | None = None,
    limit: int = LIST_LIMIT,
) -> Iterator[ListPage]:
    """All records in id order. Several property chunks mean one GET per chunk for the same ``after``: the
    pages hold the same ids (the list is id-ordered), and a record missing from a later chunk was archived in
    between — it is dropped here and the archived listing flags it."""
    while True:
        merged: dict[str, dict[str, Any]] = {}
        next_after: str | None = None
        for index, chunk in enumerate(property_chunks):
            current = after
            body = conn.call(
                lambda: conn.objects.get_page(
                    object_type,
                    limit=limit,
                    after=current,
                    properties=list(chunk),
                    archived=archived,
                    _preload_content=False,
                    _request_timeout=conn.timeout_s,
                ),
                what=f"list {object_type}",
            )
            results = body.get("results") or []
            if index == 0:
                merged = {str(r["id"]): r for r in results}
                next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
                continue
            fresh = {str(r["id"]): r for r in results}
            merged = {rid: _merge(rec, fresh[rid]) for rid, rec in merged.items() if rid in fresh}
        yield ListPage(list(merged.values()), next_after)
        if not next_after:
            return
        after = next_after


def _merge(first: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    return {**first, "properties": {**(first.get("properties") or {}), **(other.get("properties") or {})}}


@dataclass
class SearchPosition:
    """Where a search window stands: everything before ``ts`` (and, at ``ts``, the ``seen`` ids) is done.

    ``mode``: ``gte`` re-asks from ``ts`` inclusive; ``slice`` pages the tie at ``ts`` by id after ``last_id``;
    ``gt`` moves strictly past ``ts`` (its tie is complete).
    """

    ts: int
    mode: str = "gte"
    seen: list[int] = field(default_factory=list)
    last_id: int = 0

    def to_state(self) -> dict[str, Any]:
        return {"ts": self.ts, "mode": self.mode, "seen": list(self.seen), "last_id": self.last_id}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SearchPosition:
        return cls(
            int(state["ts"]), str(state["mode"]), [int(i) for i in state.get("seen", [])], int(state.get("last_id", 0))
        )


@dataclass(frozen=True)
class SearchPage:
    records: list[dict[str, Any]]  # new records only: ties already taken are filtered out
    position: SearchPosition  # resume point after this page
    total: int | None  # the search's ``total`` for its filter (the window total on a window's first request)


def search_pages(
    conn: HubSpotConnection,
    object_type: str,
    cursor_property: str,
    properties: Sequence[str],
    *,
    upper_ms: int,
    position: SearchPosition,
    limit: int = SEARCH_LIMIT,
) -> Iterator[SearchPage]:
    """Records with ``position <= (ts, id)`` and ``ts <= upper_ms``, each exactly once, in timestamp order."""
    pos = SearchPosition(position.ts, position.mode, list(position.seen), position.last_id)
    while True:
        slicing = pos.mode == "slice"
        body = conn.call(
            lambda: conn.search.do_search(
                object_type,
                _search_body(cursor_property, properties, upper_ms, pos, limit),
                _preload_content=False,
                _request_timeout=conn.timeout_s,
            ),
            what=f"search {object_type}",
        )
        results = body.get("results") or []
        keyed = [(_ts(r, cursor_property), int(r["id"]), r) for r in results]
        seen = set(pos.seen)
        fresh = [r for ts, rid, r in keyed if not (ts == pos.ts and rid in seen)]
        full = len(results) >= limit
        if slicing:
            # Ids inside a slice come in increasing order, so only the ids taken before it need filtering.
            nxt = SearchPosition(pos.ts, "slice", pos.seen, keyed[-1][1]) if full else SearchPosition(pos.ts, "gt")
        elif not full:
            nxt = SearchPosition(keyed[-1][0] if keyed else pos.ts, "gt")
        else:
            first_ts, last_ts = keyed[0][0], keyed[-1][0]
            carried = pos.seen if last_ts == pos.ts else []
            taken = list(dict.fromkeys([*carried, *(rid for ts, rid, _ in keyed if ts == last_ts)]))
            # A whole page at one timestamp: the tie is bigger than a page, page it alone by id.
            nxt = SearchPosition(last_ts, "slice" if first_ts == last_ts else "gte", taken)
        yield SearchPage(fresh, nxt, body.get("total"))
        if not full and not slicing:
            return
        pos = nxt


def _ts(record: dict[str, Any], cursor_property: str) -> int:
    value = epoch_ms((record.get("properties") or {}).get(cursor_property))
    if value is None:
        # Search filtered on this property, so it is set; a record without it would break the keyset walk.
        raise ValueError(f"search returned record {record.get('id')} without {cursor_property}")
    return value


def _search_body(
    cursor_property: str, properties: Sequence[str], upper_ms: int, pos: SearchPosition, limit: int
) -> dict[str, Any]:
    upper = {"propertyName": cursor_property, "operator": "LTE", "value": str(upper_ms)}
    if pos.mode == "slice":
        filters = [
            {"propertyName": cursor_property, "operator": "EQ", "value": str(pos.ts)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(pos.last_id)},
        ]
        sort = "hs_object_id"
    else:
        filters = [
            {"propertyName": cursor_property, "operator": "GTE" if pos.mode == "gte" else "GT", "value": str(pos.ts)},
            upper,
        ]
        sort = cursor_property
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": list(dict.fromkeys([*properties, cursor_property, "hs_object_id"])),
        "limit": limit,
    }


def batch_read(
    conn: HubSpotConnection,
    object_type: str,
    ids: Sequence[str],
    properties: Sequence[str],
    *,
    with_history: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Records by id, ``BATCH_READ_LIMIT`` (or 50 with history) per POST; ids that vanished are skipped."""
    size = HISTORY_BATCH_LIMIT if with_history else BATCH_READ_LIMIT
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        body: dict[str, Any] = {"inputs": [{"id": str(i)} for i in chunk], "properties": list(properties)}
        if with_history:
            body["propertiesWithHistory"] = list(with_history)
        reply = conn.call(
            lambda: conn.batch.read(
                object_type, body, archived=False, _preload_content=False, _request_timeout=conn.timeout_s
            ),
            what=f"batch read {object_type}",
        )
        out.extend(reply.get("results") or [])
    return out
