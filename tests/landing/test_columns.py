"""The column path (`columns.coerce_column`, `split_records`) must equal the reference rule (`coerce_value`)
cell by cell and record by record.

Property-style without extra dependencies: seeded random columns mixing the wire formats both CRMs send with
near-misses (signs, blanks, whitespace, out-of-range values, wrong Python types), so both the vectorised
shortcuts and the reference fallback are exercised, on single-kind and mixed-kind columns.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.warehouse.coerce import CoercionError, coerce_value
from connectors.warehouse.columns import coerce_column
from connectors.warehouse.logical_types import LOGICAL_TYPES, LogicalType
from connectors.warehouse.spec import Column, TableSpec
from connectors.warehouse.validate import split_records

_WORDS = ["", " ", "\t", "\u00a0", "abc", "Ünïcødé", "x" * 12, "null", "None", "true", "FALSE", " True ", "yes"]
# Text a warehouse cannot store as is: NUL (removed), lone surrogates (quarantined); RTL and combining marks.
_WORDS += ["a\x00b", "\x00", "\x00\x00\x00\x00\x00\x00", "\ud800", "x\udfff", "\u202eabc", "e\u0301", "😀"]
_NUMBERS = [
    "0",
    "-0",
    "+5",
    "007",
    "12",
    " 12 ",
    "5.0",
    "5.",
    ".5",
    "-.5e+3",
    "1e5",
    "1E-3",
    "12,5",
    "1_000",
    "nan",
    "inf",
    "1e999",
    "-1e-400",
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "00000000000000000000009",
    "1" * 5000,
    "٣",
    "0x10",
    "1.5.2",
    "+",
    "-",
    ".",
]
_MOMENTS = [
    "2026-01-15T10:30:00.000+0000",
    "2026-01-15T10:30:00.123Z",
    "2026-01-15T10:30:00+05:30",
    "2026-01-15T10:30:00.1-0100",
    "2026-01-15T10:30:00.1234567Z",
    "2026-01-15T10:30:00",
    "2026-01-15",
    "2026-02-30T10:30:00Z",
    "2026-01-15T24:00:00Z",
    "2026-01-15 10:30:00Z",
    "0001-01-01T00:30:00+01:00",
    "1768435200000",
    "1768435200001",
    "-86400000",
    "999999999999999",
    "2026-13-01",
    "2024-02-29",
    "2023-02-29",
    "15/01/2026",
    "2026-01-15T10:30:00+24:00",
    " 2026-01-15 ",
]


def _random_value(rng: random.Random, pool: str) -> Any:
    if rng.random() < 0.1:
        return None
    if pool == "word":
        return rng.choice(_WORDS)
    if pool == "number":
        return rng.choice(_NUMBERS + [str(rng.randint(-(10**12), 10**12)), f"{rng.uniform(-1e6, 1e6)!r}"])
    if pool == "moment":
        millis = rng.randint(-(10**12), 4 * 10**12)
        stamp = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)).isoformat()
        return rng.choice(_MOMENTS + [str(millis), str(millis - millis % 86_400_000), stamp])
    if pool == "int":
        return rng.choice(
            [
                0,
                -1,
                7,
                2**40,
                2**63,
                2**63 - 1,
                -(2**63),
                10**400,
                1768435200000,
                86_400_000 * rng.randint(-1000, 30000),
            ]
        )
    if pool == "float":
        return rng.choice([0.0, -2.5, 5.0, 1e300, float("inf"), float("nan"), rng.uniform(-1e9, 1e9)])
    if pool == "bool":
        return rng.random() < 0.5
    return rng.choice([{"a": [1, 2]}, [1, "x"], date(2026, 1, 15), datetime(2026, 1, 15, 10), b"bytes", 1.5, True])


def _reference(value: Any, logical: LogicalType, max_length: int | None) -> tuple[Any, str | None]:
    try:
        return coerce_value(value, logical, max_length), None
    except CoercionError as exc:
        return None, exc.reason


_POOLS = [
    ("word",),
    ("number",),
    ("moment",),
    ("int",),
    ("float",),
    ("bool",),
    ("int", "float"),
    ("word", "int"),
    ("number", "moment"),
    ("moment", "other"),
    ("other",),
]


@pytest.mark.parametrize("logical", [t for t in LOGICAL_TYPES if t != "json"])
@pytest.mark.parametrize("pools", _POOLS, ids="+".join)
def test_the_column_path_equals_the_reference_rule_cell_by_cell(logical: LogicalType, pools: tuple[str, ...]) -> None:
    rng = random.Random(f"{logical}-{pools}")
    for max_length in (None, 5) if logical == "string" else (None,):
        values = [_random_value(rng, rng.choice(pools)) for _ in range(400)]
        column = coerce_column(values, logical, max_length)
        typed = column.array.to_pylist()
        for index, value in enumerate(values):
            expected, reason = _reference(value, logical, max_length)
            assert (typed[index], column.errors.get(index)) == (expected, reason) or (
                isinstance(expected, float) and expected != expected
            ), f"{logical} {value!r}"


def test_json_columns_keep_the_objects_and_stage_their_text() -> None:
    column = coerce_column([{"a": [1, 2]}, None, float("nan"), "text"], "json")
    assert column.objects == [{"a": [1, 2]}, None, None, "text"]
    assert column.array.to_pylist() == ['{"a": [1, 2]}', None, None, '"text"']
    assert column.errors == {2: "not JSON-serialisable: Out of range float values are not JSON compliant"}


def test_an_all_null_column_is_typed() -> None:
    column = coerce_column([None, None], "timestamp")
    assert column.array.to_pylist() == [None, None] and str(column.array.type) == "timestamp[us]"


def _split_per_record(spec: TableSpec, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple]]:
    """The record-by-record reference `split_records` must equal."""
    rows: list[dict[str, Any]] = []
    quarantine: list[tuple[Any, ...]] = []
    for record in records:
        problems = {k: reason for k in spec.primary_key if (reason := _key_problem(record.get(k)))}
        typed = {}
        for column in spec.columns:
            typed[column.name], reason = _reference(record.get(column.name), column.type, column.max_length)
            if reason is not None:
                problems.setdefault(column.name, reason)
        if not problems:
            rows.append(typed)
        record_id = "|".join("" if record.get(k) is None else _shown(record.get(k)) for k in spec.primary_key)
        if len(record_id) > 200:
            digest = hashlib.sha256(record_id.encode()).hexdigest()[:16]
            record_id = f"{record_id[:200]}… ({len(record_id)} characters, sha256 {digest})"
        quarantine += [(record_id, name, _shown(record.get(name)), reason) for name, reason in problems.items()]
    return rows, quarantine


def _key_problem(key: Any) -> str | None:
    if key is None or (isinstance(key, str) and not key.strip(" \t\n\r\f\v")):
        return "missing primary key"
    if isinstance(key, str) and "\x00" in key:
        return "primary key holds a NUL character, which PostgreSQL cannot store"
    if isinstance(key, str) and key != key.strip(" \t\n\r\f\v"):
        return "primary key has surrounding whitespace"
    if isinstance(key, str) and len(key.encode("utf-8", "surrogatepass")) > 1000:
        return "primary key longer than 1000 bytes, more than a warehouse index holds"
    return None


def _shown(raw: Any) -> str | None:
    """A raw value as the quarantine table shows it: JSON for non-text, NUL and lone surrogates escaped."""
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str, ensure_ascii=False)
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def test_split_records_equals_the_record_by_record_reference() -> None:
    spec = TableSpec(
        "mixed",
        [
            Column("id", "string", max_length=6),
            Column("region", "integer"),
            Column("amount", "float"),
            Column("flag", "boolean"),
            Column("at", "timestamp"),
            Column("on", "date"),
            Column("extra", "json"),
        ],
        primary_key=("id", "region"),
    )
    rng = random.Random(11)
    pools = {"id": "word", "region": "number", "amount": "number", "flag": "word", "at": "moment", "on": "moment"}
    records = []
    for n in range(600):
        record: dict[str, Any] = {"id": f"r{n}" if rng.random() < 0.9 else _random_value(rng, "word")}
        record |= {name: _random_value(rng, pool) for name, pool in pools.items() if name != "id"}
        record["region"] = str(rng.randint(1, 3)) if rng.random() < 0.8 else record["region"]
        record["extra"] = rng.choice([None, {"k": [1]}, float("nan"), "text"])
        records.append(record)
    split = split_records(spec, records, sync_id="s", source="src", object="obj")
    rows, quarantine = _split_per_record(spec, records)
    assert split.rows == rows
    assert [(q.record_id, q.field, q.raw_value, q.reason) for q in split.quarantine] == [
        (record_id, name, raw, reason) for record_id, name, raw, reason in quarantine
    ]
    assert split.quarantined_records + len(split.rows) == len(records)
    assert 0 < len(split.rows) < len(records)
