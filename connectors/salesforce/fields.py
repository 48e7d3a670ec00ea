"""From an object's describe to the fields a sync selects and the raw table that lands them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.catalog import CURSOR_FIELDS, UNSELECTABLE_TYPES, raw_table_name
from connectors.warehouse.logical_types import LogicalType
from connectors.warehouse.spec import Column, TableSpec

_LOGICAL_TYPES: dict[str, LogicalType] = {
    "boolean": "boolean",
    "int": "integer",
    "long": "integer",
    "double": "float",
    "currency": "float",
    "percent": "float",
    "date": "date",
    "datetime": "timestamp",
}


@dataclass(frozen=True)
class FieldSelection:
    object_name: str
    fields: tuple[str, ...]  # API names as describe spells them
    types: dict[str, str]  # API name -> Salesforce type
    lengths: dict[str, int]
    cursor_field: str
    replicateable: bool

    @property
    def table(self) -> str:
        return raw_table_name(self.object_name)

    def spec(self) -> TableSpec:
        return TableSpec(name=self.table, columns=tuple(self._column(f) for f in self.fields), primary_key=("id",))

    def _column(self, api_name: str) -> Column:
        logical: LogicalType = _LOGICAL_TYPES.get(self.types[api_name], "string")
        return Column(
            name=column_name(api_name),
            type=logical,
            max_length=(self.lengths.get(api_name) or None) if logical == "string" else None,
            doc=f"Salesforce {self.object_name}.{api_name} ({self.types[api_name]})",
        )


def column_name(api_name: str) -> str:
    """Lower-case column names: PostgreSQL folds unquoted identifiers, and analysts should not need quotes."""
    return api_name.lower()


def compact_describe(describe: dict[str, Any]) -> dict[str, Any]:
    """What :func:`select_fields` reads of a describe: small enough to keep in ``sync_state`` between runs."""
    return {
        "name": describe["name"],
        "replicateable": bool(describe.get("replicateable", True)),
        "fields": [{"name": f["name"], "type": f["type"], "length": f.get("length")} for f in describe["fields"]],
    }


def select_fields(describe: dict[str, Any], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> FieldSelection:
    """All selectable fields by default; ``include`` narrows to a list (Id and the cursor always kept)."""
    by_name = {f["name"]: f for f in describe["fields"]}
    lowered = {n.lower(): n for n in by_name}
    unknown = [n for n in (*include, *exclude) if n.lower() not in lowered]
    if unknown:
        raise ValueError(f"{describe['name']}: no such fields {unknown}")
    cursor = next((c for c in CURSOR_FIELDS if c in by_name), None)
    if cursor is None or "Id" not in by_name:
        raise ValueError(f"{describe['name']} has no Id or modification timestamp to sync incrementally")
    wanted = {lowered[n.lower()] for n in include} if include else set(by_name)
    wanted -= {lowered[n.lower()] for n in exclude}
    wanted |= {"Id", cursor}
    if "IsDeleted" in by_name:
        wanted.add("IsDeleted")
    names = tuple(n for n in by_name if n in wanted and by_name[n]["type"] not in UNSELECTABLE_TYPES)
    return FieldSelection(
        object_name=describe["name"],
        fields=names,
        types={n: by_name[n]["type"] for n in names},
        lengths={n: int(by_name[n].get("length") or 0) for n in names},
        cursor_field=cursor,
        replicateable=bool(describe.get("replicateable", True)),
    )
