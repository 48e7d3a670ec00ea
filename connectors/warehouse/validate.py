"""Turn raw extracted records into typed rows for `Batch.upsert` and quarantine rows for `Batch.quarantine`.

A record is loaded only if every spec field coerces; otherwise *all* its bad fields are quarantined and the
record is not loaded at all, so a raw table never holds a half-valid row and
extracted = loaded + quarantined holds per record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.warehouse.coerce import CoercionError, coerce_value
from connectors.warehouse.records import QuarantineRow
from connectors.warehouse.spec import TableSpec


@dataclass
class Split:
    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    quarantined_records: int = 0


def _raw_text(value: Any) -> str | None:
    """The raw value as text for the quarantine table (which stores text whatever the column type)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def split_records(
    spec: TableSpec, records: Iterable[Mapping[str, Any]], *, sync_id: str, source: str, object: str
) -> Split:
    """Coerce each record's spec fields (keys outside the spec are ignored: extractors may over-fetch)."""
    split = Split()
    for record in records:
        key_values = [record.get(k) for k in spec.primary_key]
        record_id = "|".join("" if v is None else str(v) for v in key_values)
        problems: list[tuple[str, str]] = [
            (k, "missing primary key") for k, v in zip(spec.primary_key, key_values, strict=True) if v in (None, "")
        ]
        typed: dict[str, Any] = {}
        for column in spec.columns:
            try:
                typed[column.name] = coerce_value(record.get(column.name), column.type, column.max_length)
            except CoercionError as exc:
                problems.append((column.name, exc.reason))
        if not problems:
            split.rows.append(typed)
            continue
        split.quarantined_records += 1
        # A key column can fail both checks; the quarantine key (record, field) must stay unique.
        reasons: dict[str, str] = {}
        for name, reason in problems:
            reasons.setdefault(name, reason)
        split.quarantine.extend(
            QuarantineRow(
                sync_id=sync_id,
                source=source,
                object=object,
                record_id=record_id,
                field=name,
                raw_value=_raw_text(record.get(name)),
                reason=reason,
            )
            for name, reason in reasons.items()
        )
    return split
