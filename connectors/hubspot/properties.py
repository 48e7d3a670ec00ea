"""From ``/crm/v3/properties/<type>`` to the properties a sync requests and the raw table that lands them.

Hundreds of property names do not fit in a GET query string (HubSpot answers 414, Airbyte 33976) nor in a
search body (3,000 characters): :func:`chunk_for_query` splits them for list GETs, and
:func:`fits_search_body` tells the search whether it can ask for them inline or must batch-read by id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from connectors.hubspot.catalog import RECORD_COLUMNS, last_modified_property, raw_table_name
from connectors.hubspot.connection import HubSpotConnection
from connectors.warehouse.logical_types import LogicalType
from connectors.warehouse.spec import Column, TableSpec

_RESERVED = {c.name for c in RECORD_COLUMNS}

_LOGICAL: dict[str, LogicalType] = {"number": "float", "datetime": "timestamp", "date": "date", "bool": "boolean"}
# Ids travel as HubSpot "number" properties; landing them as floats would make every join key "123.0".
_INTEGER_NUMBERS = ("hs_object_id",)

# What the search body leaves for property names: 3,000 characters minus filters, sorts and paging.
SEARCH_BODY_PROPERTY_BUDGET = 2_300
# Conservative for proxies between us and HubSpot (8 KB request lines are a common ceiling).
DEFAULT_QUERY_BUDGET = 6_000


def column_name(property_name: str) -> str:
    """Property names are already lower-case snake; a clash with a record column gets a suffix."""
    name = property_name.lower()
    return f"{name}_property" if name in _RESERVED else name


def logical_type(property_name: str, hubspot_type: str) -> LogicalType:
    if hubspot_type == "number" and (property_name in _INTEGER_NUMBERS or property_name.endswith("_id")):
        return "integer"
    return _LOGICAL.get(hubspot_type, "string")  # string, enumeration, phone_number, json…


@dataclass(frozen=True)
class PropertySelection:
    object_type: str
    names: tuple[str, ...]
    types: dict[str, str]  # property name -> HubSpot type
    cursor_property: str

    @property
    def table(self) -> str:
        return raw_table_name(self.object_type)

    def spec(self) -> TableSpec:
        columns = [*RECORD_COLUMNS]
        columns += [
            Column(
                column_name(n), logical_type(n, self.types[n]), doc=f"HubSpot {self.object_type}.{n} ({self.types[n]})"
            )
            for n in self.names
        ]
        return TableSpec(
            name=self.table,
            columns=columns,
            primary_key=("id",),
            doc=f"One row per HubSpot {self.object_type} record id (archived/merged rows kept, flagged _is_deleted).",
        )

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """Raw values keyed by column name, for ``split_records`` to coerce."""
        props = record.get("properties") or {}
        out: dict[str, Any] = {
            "id": record.get("id"),
            "created_at": record.get("createdAt"),
            "updated_at": record.get("updatedAt"),
            "archived": record.get("archived"),
            "archived_at": record.get("archivedAt"),
        }
        for name in self.names:
            out[column_name(name)] = props.get(name)
        return out


def fetch_properties(conn: HubSpotConnection, object_type: str) -> list[dict[str, Any]]:
    body = conn.call(
        lambda: conn.properties.get_all(
            object_type, archived=False, _preload_content=False, _request_timeout=conn.timeout_s
        ),
        what=f"properties {object_type}",
    )
    return list(body.get("results") or [])


def cached_properties(
    conn: HubSpotConnection,
    object_type: str,
    state: dict[str, Any],
    *,
    now: datetime,
    every: timedelta,
    refresh: bool = False,
) -> list[dict[str, Any]]:
    """The property definitions, from the copy in ``state`` while it is younger than ``every``.

    HubSpot documents no conditional GET (ETag, If-Modified-Since) for ``/crm/v3/properties`` [?], and each
    definition's ``updatedAt`` is only found inside the list itself: there is no cheap change marker to ask for.
    So the list is re-read at a cadence (a new property reaches the table within ``every``), and at once on
    ``refresh`` (a full refresh, or a configured property missing from the copy). The copy keeps only what
    :func:`select_properties` reads, so ``sync_state`` stays small.
    """
    cached = None if refresh else state.get("properties")
    if cached and now - datetime.fromisoformat(cached["fetched_at"]) < every:
        return list(cached["definitions"])
    definitions = [{"name": d["name"], "type": d.get("type")} for d in fetch_properties(conn, object_type)]
    state["properties"] = {"fetched_at": now.isoformat(), "definitions": definitions}
    return definitions


def select_properties(
    object_type: str, definitions: Sequence[dict[str, Any]], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> PropertySelection:
    """All properties by default (custom ones included); ``include`` narrows, ``exclude`` removes. The id and
    the last-modified property are always kept: the cursor cannot work without them."""
    by_name = {d["name"]: d for d in definitions}
    cursor = last_modified_property(object_type)
    unknown = [n for n in (*include, *exclude) if n not in by_name]
    if unknown:
        raise ValueError(f"{object_type}: no such properties {unknown}")
    if cursor not in by_name:
        raise ValueError(f"{object_type} has no {cursor} property to sync incrementally")
    wanted = set(include) if include else set(by_name)
    wanted -= set(exclude)
    wanted |= {cursor, "hs_object_id"} & set(by_name)
    names = tuple(n for n in by_name if n in wanted)
    return PropertySelection(object_type, names, {n: str(by_name[n].get("type") or "string") for n in names}, cursor)


def chunk_for_query(names: Sequence[str], budget: int = DEFAULT_QUERY_BUDGET) -> list[list[str]]:
    """Split property names so each chunk's ``properties=a&properties=b…`` stays under ``budget`` characters."""
    chunks: list[list[str]] = [[]]
    size = 0
    for name in names:
        cost = len("&properties=") + len(quote(name, safe=""))
        if chunks[-1] and size + cost > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(name)
        size += cost
    return chunks


def fits_search_body(names: Sequence[str]) -> bool:
    return len(json.dumps(list(names))) <= SEARCH_BODY_PROPERTY_BUDGET
