"""Turn raw extracted records into typed rows for `Batch.upsert` and quarantine rows for `Batch.quarantine`.

A record is loaded only if every spec field coerces; otherwise *all* its bad fields are quarantined and the
record is not loaded at all, so a raw table never holds a half-valid row and
extracted = loaded + quarantined holds per record. A primary key must be usable as it is: present, without NUL
and without surrounding whitespace (see `_key_problem`). What cannot be stored in the quarantine table itself
(NUL, lone surrogates) is written there escaped (`_raw_text`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.warehouse.coerce import NUL
from connectors.warehouse.columns import CoercedColumn, coerce_column
from connectors.warehouse.loaded import LoadedRows
from connectors.warehouse.records import QuarantineRow
from connectors.warehouse.spec import TableSpec

# What Python's str.strip() and the harmonisation's TRIM both remove.
_EDGE_SPACE = " \t\n\r\f\v"
# A key longer than this cannot be indexed everywhere: a PostgreSQL B-tree entry holds at most ~2.7 kB (the
# raw tables' and quarantine's primary keys). CRM ids are under 100 bytes.
MAX_KEY_BYTES = 1000
# The quarantine table keeps this much of a raw value or record id; longer ones are cut, with their length
# and (for ids, which are part of its key) a digest, so two long ids stay two rows.
_SHOWN_CHARACTERS = 10_000
_SHOWN_ID_CHARACTERS = 200


@dataclass
class Split:
    rows: LoadedRows = field(default_factory=LoadedRows.empty)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    quarantined_records: int = 0


def _raw_text(value: Any) -> str | None:
    """The raw value as text for the quarantine table (which stores text whatever the column type). What no
    warehouse can store is written visibly escaped, as Python spells it: NUL as \\x00, a lone surrogate as
    \\udXXX (the value is quarantined because of them, so they must show)."""
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = json.dumps(value, default=str, ensure_ascii=False)
        except ValueError:  # an int past Python's 4,300-digit rendering limit
            return f"<{type(value).__name__} too long to render>"
    if len(value) > _SHOWN_CHARACTERS:
        value = f"{value[:_SHOWN_CHARACTERS]}… ({len(value)} characters)"
    if NUL in value:
        value = value.replace(NUL, "\\x00")
    if value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _record_id(text: str) -> str:
    """The record id as the quarantine table's key holds it (see `_SHOWN_ID_CHARACTERS`)."""
    shown = _raw_text(text) or ""
    if len(shown) <= _SHOWN_ID_CHARACTERS:
        return shown
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{shown[:_SHOWN_ID_CHARACTERS]}… ({len(text)} characters, sha256 {digest})"


def _key_problem(value: Any) -> str | None:
    """Why a primary-key value cannot identify its record, if it cannot. Keys are compared across tables after
    trimming, and NUL would be removed (the rule for other text): a key changed by either could silently make
    two records one, so such a record is quarantined instead. No CRM id has either."""
    if value is None or value == "":
        return "missing primary key"
    if not isinstance(value, str):
        return None
    if NUL in value:
        return "primary key holds a NUL character, which PostgreSQL cannot store"
    if value.strip(_EDGE_SPACE) != value:
        return "missing primary key" if not value.strip(_EDGE_SPACE) else "primary key has surrounding whitespace"
    if len(value) * 4 > MAX_KEY_BYTES and len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"primary key longer than {MAX_KEY_BYTES} bytes, more than a warehouse index holds"
    return None


def split_records(
    spec: TableSpec,
    records: Iterable[Mapping[str, Any]],
    *,
    sync_id: str,
    source: str,
    object: str,
    keys: Sequence[str] | None = None,
) -> Split:
    """Coerce each record's spec fields (keys outside the spec are ignored: extractors may over-fetch).

    ``keys`` name each spec column's key in the records (default: the column names), so an extractor can hand
    over records as the API spelled them instead of renaming every key of every record first.

    Column by column (see `columns.coerce_column`); the result is what coercing record by record with
    `coerce_value` gives, and `rows` keeps the loaded records column-wise for `Batch.upsert`."""
    records = list(records)
    key_of = dict(zip(spec.column_names, keys if keys is not None else spec.column_names, strict=True))
    coerced = {
        column.name: coerce_column(values, column.type, column.max_length)
        for column, values in zip(spec.columns, _columns(records, list(key_of.values())), strict=True)
    }
    bad_keys = {
        name: {i: reason for i, r in enumerate(records) if (reason := _key_problem(r.get(key_of[name])))}
        for name in spec.primary_key
    }
    bad = sorted(set().union(*bad_keys.values(), *(c.errors for c in coerced.values())))
    split = Split(quarantined_records=len(bad))
    for index in bad:
        split.quarantine.extend(
            _quarantine_rows(spec, records[index], index, bad_keys, coerced, key_of, sync_id, source, object)
        )
    good = np.ones(len(records), dtype=bool)
    good[bad] = False
    table = pa.table({name: column.array for name, column in coerced.items()}).filter(pa.array(good))
    json_objects = {
        name: [obj for obj, keep in zip(column.objects, good, strict=True) if keep]
        for name, column in coerced.items()
        if column.objects is not None
    }
    split.rows = LoadedRows(table, json_objects)
    return split


def _columns(records: list[Mapping[str, Any]], names: list[str]) -> list[Sequence[Any]]:
    """The records' values column by column (None where a record lacks the key)."""
    if len(names) > 1 and records:
        try:
            # Both loops in C: about twice as fast as a comprehension per column.
            return list(zip(*map(itemgetter(*names), records), strict=True))
        except KeyError:
            pass  # some record lacks a key: fall back to .get
    return [[r.get(name) for r in records] for name in names]


def _quarantine_rows(
    spec: TableSpec,
    record: Mapping[str, Any],
    index: int,
    bad_keys: Mapping[str, Mapping[int, str]],
    coerced: Mapping[str, CoercedColumn],
    key_of: Mapping[str, str],
    sync_id: str,
    source: str,
    object: str,
) -> Iterator[QuarantineRow]:
    """One row per bad field: unusable key columns first, then failed columns in spec order."""
    record_id = "|".join(
        "" if (v := record.get(key_of[k])) is None else (v if isinstance(v, str) else _raw_text(v) or "")
        for k in spec.primary_key
    )
    reasons: dict[str, str] = {name: bad_keys[name][index] for name in spec.primary_key if index in bad_keys[name]}
    for name, column in coerced.items():
        if index in column.errors:
            # A key column can fail both checks; the quarantine key (record, field) must stay unique.
            reasons.setdefault(name, column.errors[index])
    for name, reason in reasons.items():
        yield QuarantineRow(
            sync_id=sync_id,
            source=source,
            object=object,
            record_id=_record_id(record_id),
            field=name,
            raw_value=_raw_text(record.get(key_of[name])),
            reason=reason,
        )
