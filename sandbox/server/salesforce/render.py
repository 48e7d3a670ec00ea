"""Records as Salesforce renders them: REST JSON (``attributes`` first, parents as nested objects) and CSV cells."""

from __future__ import annotations

import sqlite3
from typing import Any

from sandbox.model.salesforce import SfField, SfObject
from sandbox.server.salesforce.soql import Column, CompiledQuery, address_parts
from sandbox.server.salesforce.values import to_csv, to_json

_ADDRESS_KEYS = {
    "Street": "street",
    "City": "city",
    "State": "state",
    "PostalCode": "postalCode",
    "Country": "country",
    "StateCode": "stateCode",
    "CountryCode": "countryCode",
    "Latitude": "latitude",
    "Longitude": "longitude",
}


def attributes(obj: SfObject, record_id: str, version: str) -> dict[str, str]:
    return {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{record_id}"}


def address_json(obj: SfObject, compound: SfField, values: dict[str, Any]) -> dict[str, Any] | None:
    """A compound address from its components; null when every component is empty, as Salesforce does."""
    prefix = compound.name[: -len("Address")]
    parts = {f.name[len(prefix) :]: values.get(f.name) for f in address_parts(obj, compound)}
    if all(v is None for v in parts.values()):
        return None
    out: dict[str, Any] = {key: None for key in _ADDRESS_KEYS.values()}
    out["geocodeAccuracy"] = None
    out.update({_ADDRESS_KEYS[k]: v for k, v in parts.items()})
    return out


def full_record(obj: SfObject, row: sqlite3.Row, version: str) -> dict[str, Any]:
    """``GET sobjects/X/{id}``: every field in describe order."""
    stored = dict(row)
    out: dict[str, Any] = {"attributes": attributes(obj, stored["Id"], version)}
    for f in obj.fields:
        out[f.name] = address_json(obj, f, stored) if f.type == "address" else to_json(f, stored.get(f.name))
    return out


def query_record(query: CompiledQuery, row: sqlite3.Row, version: str) -> dict[str, Any]:
    """One row of a SOQL page, nested along relationship paths."""
    out: dict[str, Any] = {"attributes": attributes(query.obj, row["t0_Id"], version)}
    for i, column in enumerate(query.columns):
        target: dict[str, Any] | None = out
        for join in column.joins:
            assert target is not None
            parent_id = row[f"{join.alias}_Id"]
            if parent_id is None:
                target[join.relationship] = None  # a null parent renders as null; nothing below it is reachable
                target = None
                break
            nested = target.get(join.relationship)
            if nested is None:
                nested = {"attributes": attributes(join.obj, parent_id, version)}
                target[join.relationship] = nested
            target = nested
        if target is not None:
            target[column.field.name] = _value(column, row, i)
    return out


def csv_header(query: CompiledQuery) -> list[str]:
    return [column.path for column in query.columns]


def csv_row(query: CompiledQuery, row: sqlite3.Row) -> list[str]:
    return [to_csv(column.field, row[f"c{i}"]) for i, column in enumerate(query.columns)]


def _value(column: Column, row: sqlite3.Row, i: int) -> Any:
    if column.field.type == "address":
        values = {part.name: row[f"c{i}_{part.name}"] for part in address_parts(column.obj, column.field)}
        return address_json(column.obj, column.field, values)
    return to_json(column.field, row[f"c{i}"])
