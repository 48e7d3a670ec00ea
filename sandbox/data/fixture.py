"""Hand-written or recorded datasets as JSON files, loaded into the same chunks the generator produces.

File shape::

    {"salesforce": {"Lead": [{"Id": "00Q...", "CreatedDate": "2026-01-05T10:00:00.000+0000", ...}], ...},
     "hubspot": {"objects": {"contacts": [{"id": "51", "properties": {...}, "createdAt": "...",
                                           "updatedAt": "...", "archived": false}]},
                 "owners": [{"id", "email", "firstName", "lastName", "userId", "createdAt", "updatedAt",
                             "archived", "teams"}],
                 "associations": [{"fromType", "fromId", "toType", "toId", "typeId"?}],
                 "history": [{"objectType", "objectId", "property", "value", "timestamp", "sourceType"?,
                              "sourceId"?, "updatedByUserId"?}]},
     "manifest": {...}}

HubSpot keys follow the API's camelCase so recorded responses paste in; values may be wire strings. Datetimes
are ISO strings (or millisecond epochs for HubSpot) and become aware UTC datetimes, typed by the schemas.
``dump_fixture`` writes a generated dataset in this shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sandbox.data.manifest import Manifest, jsonable
from sandbox.model.dataset import Association, DatasetChunk, HubSpotOwner, HubSpotRecord, PropertyChange
from sandbox.model.hubspot import ASSOCIATION_TYPES, property_map
from sandbox.model.salesforce import OBJECTS


def load_fixture(path: Path | str) -> tuple[Iterator[DatasetChunk], Manifest]:
    raw = json.loads(Path(path).read_text())
    chunk = DatasetChunk()
    for object_name, rows in (raw.get("salesforce") or {}).items():
        chunk.salesforce.records[object_name] = [_sf_row(object_name, row) for row in rows]
    hubspot = raw.get("hubspot") or {}
    for object_type, records in (hubspot.get("objects") or {}).items():
        chunk.hubspot.objects[object_type] = [_hs_record(object_type, r) for r in records]
    chunk.hubspot.owners = [_owner(o) for o in hubspot.get("owners") or []]
    chunk.hubspot.associations = [_association(a) for a in hubspot.get("associations") or []]
    chunk.hubspot.history = [_change(h) for h in hubspot.get("history") or []]
    manifest = Manifest(extra=dict(raw.get("manifest") or {}))
    manifest.count(chunk)
    return iter([chunk]), manifest


def instant(value: Any) -> datetime:
    """An ISO datetime (``Z``, ``+0000`` or ``+00:00``), an ISO date, or a millisecond epoch, as aware UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    elif isinstance(value, str) and len(value.strip()) == 10:
        return datetime.combine(date.fromisoformat(value.strip()), datetime.min.time(), tzinfo=UTC)
    else:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def _sf_row(object_name: str, row: dict[str, Any]) -> dict[str, Any]:
    obj = OBJECTS.get(object_name)
    if obj is None:
        raise ValueError(f"fixture: unknown Salesforce object {object_name!r}")
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name == "attributes":  # pasted REST records carry their type and url
            continue
        f = obj.field(name)
        if f is None:
            raise ValueError(f"fixture: {object_name} has no field {name!r}")
        if value is not None and f.type == "datetime":
            value = instant(value)
        elif value is not None and f.type == "date":
            value = date.fromisoformat(str(value)[:10])
        out[f.name] = value
    return out


def _hs_value(prop_type: str, value: Any) -> Any:
    if value is None or (value == "" and prop_type != "string"):
        return None
    if prop_type in ("datetime", "date"):
        return instant(value)
    if prop_type == "number" and isinstance(value, str):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if prop_type == "bool" and isinstance(value, str):
        return value.lower() == "true"
    return value


def _hs_record(object_type: str, record: dict[str, Any]) -> HubSpotRecord:
    props = property_map(object_type)
    values = {}
    for name, value in (record.get("properties") or {}).items():
        if name not in props:
            raise ValueError(f"fixture: {object_type} has no property {name!r}")
        if name == "hs_object_id":
            continue  # always the record id
        values[name] = _hs_value(props[name].type, value)
    archived_at = record.get("archivedAt")
    return HubSpotRecord(
        id=int(record["id"]),
        properties={k: v for k, v in values.items() if v is not None},
        created_at=instant(record["createdAt"]),
        updated_at=instant(record["updatedAt"]),
        archived=bool(record.get("archived", False)),
        archived_at=instant(archived_at) if archived_at else None,
    )


def _owner(o: dict[str, Any]) -> HubSpotOwner:
    return HubSpotOwner(
        id=int(o["id"]),
        email=o["email"],
        first_name=o.get("firstName", ""),
        last_name=o.get("lastName", ""),
        user_id=int(o["userId"]),
        created_at=instant(o["createdAt"]),
        updated_at=instant(o["updatedAt"]),
        archived=bool(o.get("archived", False)),
        teams=list(o.get("teams") or []),
    )


def _association(a: dict[str, Any]) -> Association:
    key = (a["fromType"], a["toType"])
    type_id = a.get("typeId", ASSOCIATION_TYPES.get(key))
    if type_id is None:
        raise ValueError(f"fixture: no default association type from {key[0]} to {key[1]}; give typeId")
    return Association(
        key[0],
        int(a["fromId"]),
        key[1],
        int(a["toId"]),
        int(type_id),
        a.get("category", "HUBSPOT_DEFINED"),
        a.get("label"),
    )


def _change(h: dict[str, Any]) -> PropertyChange:
    user = h.get("updatedByUserId")
    return PropertyChange(
        h["objectType"],
        int(h["objectId"]),
        h["property"],
        str(h["value"]),
        instant(h["timestamp"]),
        h.get("sourceType", "CRM_UI"),
        h.get("sourceId"),
        int(user) if user is not None else None,
    )


# -- writing ---------------------------------------------------------------------------------------------------
def dump_fixture(chunks: Iterable[DatasetChunk], manifest: Manifest | None = None) -> dict[str, Any]:
    """A dataset (e.g. a small generated one) as a fixture document; the manifest is read after the chunks."""
    sf: dict[str, list[dict[str, Any]]] = {}
    objects: dict[str, list[dict[str, Any]]] = {}
    hubspot: dict[str, Any] = {"objects": objects, "owners": [], "associations": [], "history": []}
    for chunk in chunks:
        for name, rows in chunk.salesforce.records.items():
            sf.setdefault(name, []).extend({k: v for k, v in row.items() if v is not None} for row in rows)
        for object_type, records in chunk.hubspot.objects.items():
            objects.setdefault(object_type, []).extend(
                {
                    "id": str(r.id),
                    "properties": r.properties,
                    "createdAt": r.created_at,
                    "updatedAt": r.updated_at,
                    "archived": r.archived,
                    **({"archivedAt": r.archived_at} if r.archived_at else {}),
                }
                for r in records
            )
        hubspot["owners"].extend(
            {
                "id": str(o.id),
                "email": o.email,
                "firstName": o.first_name,
                "lastName": o.last_name,
                "userId": o.user_id,
                "createdAt": o.created_at,
                "updatedAt": o.updated_at,
                "archived": o.archived,
                "teams": o.teams,
            }
            for o in chunk.hubspot.owners
        )
        hubspot["associations"].extend(
            {"fromType": a.from_type, "fromId": a.from_id, "toType": a.to_type, "toId": a.to_id, "typeId": a.type_id}
            for a in chunk.hubspot.associations
        )
        hubspot["history"].extend(
            {
                "objectType": h.object_type,
                "objectId": h.object_id,
                "property": h.property,
                "value": h.value,
                "timestamp": h.timestamp,
                "sourceType": h.source_type,
                "sourceId": h.source_id,
                "updatedByUserId": h.updated_by_user_id,
            }
            for h in chunk.hubspot.history
        )
    out: dict[str, Any] = {"salesforce": sf, "hubspot": hubspot}
    if manifest is not None:
        document = manifest.to_dict()
        document.pop("counts", None)  # recounted from the records on load
        document.pop("planted_counts", None)
        out["manifest"] = document
    return jsonable(out)
