"""Stored rows rendered as HubSpot's v3/v4 JSON: records, property history, associations, owners, properties."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sandbox.model.hubspot import (
    DEAL_PIPELINE_STAGES,
    DEFAULT_PROPERTIES,
    SINGULAR,
    HsProperty,
    always_returned,
    property_map,
)
from sandbox.server.hubspot.store import HistoryEntry, HubSpotStore
from sandbox.server.hubspot.values import iso_ms, to_wire


def wanted_properties(
    object_type: str, requested: Sequence[str], props: Mapping[str, HsProperty] | None = None
) -> list[str]:
    """Known requested properties (unknown ones are ignored, as documented) plus those always returned.
    ``props``: the portal's properties including those created through the API (default: the model's)."""
    props = property_map(object_type) if props is None else props
    names = list(requested) if requested else list(DEFAULT_PROPERTIES[object_type])
    return [n for n in dict.fromkeys([*names, *always_returned(object_type)]) if n in props]


def record(
    object_type: str,
    row: sqlite3.Row,
    properties: Sequence[str],
    history: dict[str, list[dict[str, Any]]] | None = None,
    associations: dict[str, Any] | None = None,
    props: Mapping[str, HsProperty] | None = None,
) -> dict[str, Any]:
    props = property_map(object_type) if props is None else props
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "properties": {name: to_wire(props[name], row[name]) for name in properties},
    }
    if history is not None:
        out["propertiesWithHistory"] = history
    out["createdAt"] = iso_ms(int(row["created_at"]))
    out["updatedAt"] = iso_ms(int(row["updated_at"]))
    out["archived"] = bool(row["archived"])
    if row["archived"]:
        out["archivedAt"] = iso_ms(int(row["archived_at"] or row["updated_at"]))
    if associations:
        out["associations"] = associations
    return out


def records(
    store: HubSpotStore,
    object_type: str,
    rows: Sequence[sqlite3.Row],
    requested: Sequence[str],
    with_history: Sequence[str] = (),
    association_types: Sequence[str] = (),
) -> list[dict[str, Any]]:
    names = wanted_properties(object_type, requested, store.properties(object_type))
    ids = [int(r["id"]) for r in rows]
    history_names = [n for n in dict.fromkeys(with_history) if store.prop(object_type, n) is not None]
    history = store.history(object_type, ids, history_names) if history_names else {}
    assoc = {to: store.associations(object_type, ids, to) for to in association_types}
    out = []
    for row in rows:
        rid = int(row["id"])
        hist = None
        if history_names:
            hist = {n: _history(store.prop(object_type, n), row, history.get((rid, n))) for n in history_names}
        blocks = {
            to: {
                "results": [
                    {"id": str(a["to_id"]), "type": f"{SINGULAR[object_type]}_to_{SINGULAR[to]}"}
                    for a in _distinct(found[rid])
                ]
            }
            for to, found in assoc.items()
            if found.get(rid)
        }
        out.append(record(object_type, row, names, hist, blocks, store.properties(object_type)))
    return out


def _distinct(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    seen: dict[int, sqlite3.Row] = {}
    for r in rows:
        seen.setdefault(int(r["to_id"]), r)
    return list(seen.values())


def _history(prop: HsProperty | None, row: sqlite3.Row, entries: list[HistoryEntry] | None) -> list[dict[str, Any]]:
    """Newest first. A seeded value without recorded history gets one entry at the record's creation [?],
    because the real API never returns a set property with an empty history."""
    if entries:
        return [_history_entry(e) for e in entries]
    assert prop is not None
    value = to_wire(prop, row[prop.name])
    if value is None:
        return []
    return [{"value": value, "timestamp": iso_ms(int(row["created_at"])), "sourceType": "CRM_UI"}]


def _history_entry(e: HistoryEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": e.value if e.value is not None else "",
        "timestamp": iso_ms(e.timestamp_ms),
        "sourceType": e.source_type,
    }
    if e.source_id is not None:
        out["sourceId"] = e.source_id
    if e.updated_by_user_id is not None:
        out["updatedByUserId"] = e.updated_by_user_id
    return out


def association_targets(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """v4 shape: one entry per associated record, carrying every association type between the two."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(int(r["to_id"]), []).append(
            {"category": r["category"], "typeId": int(r["type_id"]), "label": r["label"]}
        )
    return [{"toObjectId": to_id, "associationTypes": types} for to_id, types in grouped.items()]


def owner(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "email": row["email"],
        "type": "PERSON",
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "userId": row["user_id"],
        "createdAt": iso_ms(int(row["created_at"])),
        "updatedAt": iso_ms(int(row["updated_at"])),
        "archived": bool(row["archived"]),
        "teams": json.loads(row["teams"]),
    }


def property_definition(object_type: str, p: HsProperty, created_ms: int) -> dict[str, Any]:
    return {
        "name": p.name,
        "label": p.label,
        "type": p.type,
        "fieldType": p.field_type,
        "description": "",
        "groupName": p.group,
        "options": [
            {
                "label": o.replace("_", " ").title() if p.type == "enumeration" else o,
                "value": o,
                "displayOrder": i,
                "hidden": False,
            }
            for i, o in enumerate(p.options)
        ],
        "displayOrder": -1,
        "calculated": p.calculated,
        "externalOptions": False,
        "hasUniqueValue": p.has_unique_value,
        "hidden": False,
        "hubspotDefined": p.hubspot_defined,
        "showCurrencySymbol": False,
        "modificationMetadata": {
            "archivable": not p.hubspot_defined,
            "readOnlyDefinition": p.hubspot_defined,
            "readOnlyValue": p.calculated
            or p.name in ("hs_object_id", "hs_createdate", "hs_lastmodifieddate", "lastmodifieddate"),
        },
        "formField": object_type == "contacts" and not p.calculated and p.group != "system",
        "dataSensitivity": "non_sensitive",
        "createdAt": iso_ms(created_ms),
        "updatedAt": iso_ms(created_ms),
        "archived": False,
    }


def deal_pipeline(created: datetime) -> dict[str, Any]:
    """The default deal pipeline as ``GET /crm/v3/pipelines/deals`` returns it (metadata values are strings)."""
    stamp = iso_ms(int((created - timedelta(days=365)).timestamp() * 1000))
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": stage,
                "label": label,
                "displayOrder": order,
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                "metadata": {"isClosed": "true" if closed else "false", "probability": str(probability)},
            }
            for order, (stage, label, probability, closed) in enumerate(DEAL_PIPELINE_STAGES)
        ],
    }
