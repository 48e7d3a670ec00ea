"""Hostile records for every raw table of both CRMs and the path they take: landing (`split_records`,
`Batch.upsert`, `Batch.quarantine`) -> harmonisation (`write_canonical`, `write_closed_loop`) -> checks
(`run_all`). Shared by tests/landing/test_hostile_values.py (a few examples per run) and bench/fuzz.py (long runs).

Records are shaped as the extractors hand them over: Salesforce records keyed by API name, HubSpot objects as
`{"id", "properties", ...}` read through `PropertySelection.row`, the other HubSpot tables keyed by column.
Values are mostly plausible for their field (ids from small shared pools, so records reference each other and
people match across CRMs) and otherwise hostile: NUL, lone surrogates, RTL and combining marks, long strings,
integers at and past int64, numbers past the double's range, NaN/Infinity, dates at 0001-01-01/9999-12-31 and
odd offsets, booleans as strings, wrong JSON types; fields go missing and unknown fields appear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from checks.run import run_all
from connectors.hubspot import catalog as hubspot
from connectors.hubspot.properties import PropertySelection, select_properties
from connectors.salesforce import catalog as salesforce
from connectors.salesforce.fields import FieldSelection, select_fields
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_canonical, write_closed_loop
from pipelines.funnel.model import FunnelDefinitions
from sandbox.model import hubspot as hs_model
from sandbox.model import salesforce as sf_model

ANCHOR = datetime(2026, 11, 2, 15, 0)
LONG_TEXT = 100_000  # the longest string drawn (the 1 MB strings are bench/fuzz.py's --long)

# --- values ----------------------------------------------------------------------------------------------
_PIECES = [
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",  # right-to-left override
    "\u200f",
    "\u0301",  # combining acute
    "\ufeff",
    "😀",
    "\\",
    "\\.",
    "\\N",
    "\t",
    "\n",
    "\r",
    "'",
    '"',
    "%",
    "%s",
    "\u00a0",
]
_NUMBER_TEXT = [
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "1e308",
    "1e309",
    "-1e-400",
    "NaN",
    "Infinity",
    "-0",
    "1_000",
    "0x10",
    "1" * 400,
    "١٢",
    " 42 ",
    "5.0",
    "1,000+",
    "100-500",
]
_MOMENT_TEXT = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:00:00-05:00",
    "2026-01-15T10:30:00+14:00",
    "2026-01-15T10:30:00-12:00",
    "2026-01-15T10:30:00+05:45",
    "2026-01-15T10:30:00+2359",
    "2026-01-15T10:30:00",
    "2026-02-30T10:30:00Z",
    "0001-01-01",
    "9999-12-31",
    "0000-01-01",
    "2024-02-29",
    "2023-02-29",
    "-62135596800000",
    "253402300799999",
    "99999999999999999999",
]
_WRONG_TYPES: list[Any] = [{}, [], {"a": "\x00"}, [1, "x"], True, False, 1.5, 0, "text", {"\ud800": 1}]
_INTEGERS = [2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30, 0, -1]
_FLOATS = [math.nan, math.inf, -math.inf, 1.7976931348623157e308, 5e-324, -0.0, 1e19]
_BOOLEAN_TEXT = ["true", "false", "TRUE", "False ", "yes", "1", "0", "", "t"]


def hostile_text() -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(_PIECES)), max_size=6).map("".join)
    long = st.sampled_from([1_000, LONG_TEXT]).map(lambda n: ("ab\u0301\u202e" * n)[:n])
    return st.one_of(pieces, st.sampled_from(_NUMBER_TEXT + _MOMENT_TEXT + _BOOLEAN_TEXT), long)


def hostile_value() -> st.SearchStrategy[Any]:
    """Anything a CRM's JSON could carry in a field, aimed at the edges."""
    json_like = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | hostile_text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(), inner, max_size=3),
        max_leaves=6,
    )
    return st.one_of(
        hostile_text(),
        st.sampled_from(_INTEGERS),
        st.integers(),
        st.sampled_from(_FLOATS),
        st.floats(),
        st.sampled_from(_WRONG_TYPES),
        json_like,
    )


def _moment(at: datetime, offset_minutes: int, spelling: int) -> Any:
    aware = at.replace(tzinfo=UTC)
    if spelling == 0:  # Salesforce
        shifted = aware.astimezone(timezone(timedelta(minutes=offset_minutes)))
        return shifted.strftime("%Y-%m-%dT%H:%M:%S.000%z")
    if spelling == 1:  # HubSpot ISO
        return aware.isoformat().replace("+00:00", "Z")
    return str(int(aware.timestamp() * 1000))  # HubSpot epoch ms


def plausible_moment() -> st.SearchStrategy[Any]:
    instants = st.integers(-400 * 24 * 60, 30 * 24 * 60).map(lambda m: ANCHOR + timedelta(minutes=m))
    return st.builds(_moment, instants, st.integers(-12 * 60, 14 * 60), st.integers(0, 2))


@dataclass(frozen=True)
class Pools:
    """Small shared pools, so records point at each other and people match across CRMs."""

    ids: tuple[str, ...] = tuple(f"00{k}000000000000{n:03d}" for k in range(5) for n in range(4))
    hubspot_ids: tuple[str, ...] = tuple(str(n) for n in range(101, 113))
    emails: tuple[str, ...] = (
        "ana@acme.com",
        "ANA@ACME.COM ",
        "bo@beta.io",
        "cy@gamma.org",
        "bad@",
        "ana\x00@acme.com",
    )


POOLS = Pools()


def plausible(kind: str, options: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """A value shaped like a real one of this field kind (Salesforce or HubSpot type names)."""
    if kind in ("id", "reference"):
        return st.sampled_from(POOLS.ids)
    if kind == "hubspot_id":
        return st.sampled_from(POOLS.hubspot_ids)
    if kind == "email":
        return st.sampled_from(POOLS.emails)
    if kind in ("picklist", "enumeration", "multipicklist") and options:
        return st.sampled_from(tuple(options))
    if kind in ("datetime", "timestamp"):
        return plausible_moment()
    if kind == "date":
        return st.dates(date(2024, 1, 1), date(2027, 1, 1)).map(date.isoformat)
    if kind in ("int", "long", "integer"):
        return st.integers(0, 5000)
    if kind in ("double", "currency", "percent", "number", "float"):
        return st.one_of(st.integers(0, 10**6), st.floats(0, 1e6), st.integers(0, 10**6).map(str))
    if kind in ("boolean", "bool"):
        return st.one_of(st.booleans(), st.sampled_from(["true", "false"]))
    return st.text(max_size=12)


def field_value(kind: str, options: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """Plausible or null; hostile values are put into a few fields of each record (`_record`), so most
    records still load and the harmonisation has something to work on."""
    return st.one_of(plausible(kind, options), st.none())


# --- tables ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One raw table and how an extractor hands its records to `split_records`."""

    source: str
    object: str
    spec: TableSpec
    record: st.SearchStrategy[dict[str, Any]]
    keys: tuple[str, ...] | None = None
    to_row: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_EXTRA = st.dictionaries(st.sampled_from(["Extra__c", "unknown", "_sync_id", "id "]), hostile_value(), max_size=2)


def _record(fields: Mapping[str, st.SearchStrategy[Any]], key: str) -> st.SearchStrategy[dict[str, Any]]:
    """A record over ``fields`` where any field but the key may be missing, up to two fields (the key too)
    hold hostile values, and unknown fields may appear."""
    present = st.fixed_dictionaries({key: fields[key]}, optional={n: s for n, s in fields.items() if n != key})
    hostile = st.dictionaries(st.sampled_from(sorted(fields)), hostile_value(), max_size=2)
    return st.builds(lambda extra, r, h: {**extra, **r, **h}, _EXTRA, present, hostile)


def _salesforce_target(name: str) -> Target:
    obj = sf_model.get_object(name)
    assert obj is not None, name
    describe = {"name": obj.name, "fields": [{"name": f.name, "type": f.type, "length": f.length} for f in obj.fields]}
    selection: FieldSelection = select_fields(describe)
    by_name = {f.name: f for f in obj.fields}
    fields = {n: field_value(by_name[n].type, by_name[n].picklist) for n in selection.fields}
    return Target(salesforce.SOURCE, name, selection.spec(), _record(fields, "Id"), keys=selection.fields)


def _hubspot_target(object_type: str) -> Target:
    props = hs_model.PROPERTIES[object_type]
    selection: PropertySelection = select_properties(object_type, [{"name": p.name, "type": p.type} for p in props])
    kinds = {p.name: ("hubspot_id" if p.name.endswith("_id") else p.type) for p in props}
    kinds["email"] = "email"
    properties = {n: field_value(kinds[n], next(p.options for p in props if p.name == n)) for n in selection.names}
    record = st.fixed_dictionaries(
        {
            "id": st.one_of(plausible("hubspot_id"), plausible("hubspot_id"), plausible("hubspot_id"), hostile_value()),
            "properties": _record({**properties, "hs_object_id": plausible("hubspot_id")}, "hs_object_id"),
        },
        optional={
            "createdAt": field_value("datetime"),
            "updatedAt": field_value("datetime"),
            "archived": field_value("bool"),
            "archivedAt": field_value("datetime"),
        },
    )
    return Target(hubspot.SOURCE, object_type, selection.spec(), record, to_row=selection.row)


def _column_target(spec: TableSpec, kinds: Mapping[str, str]) -> Target:
    """A HubSpot table keyed by column name (owners, associations, history, merges, pipeline stages)."""
    fields = {c.name: field_value(kinds.get(c.name, c.type)) for c in spec.columns}
    key = spec.primary_key[0]
    fields[key] = plausible("hubspot_id")
    return Target(hubspot.SOURCE, spec.name, spec, _record(fields, key))


def targets() -> list[Target]:
    """Every raw table of both CRMs."""
    hubspot_ids = {"contact_id": "hubspot_id", "from_id": "hubspot_id", "to_id": "hubspot_id", "email": "email"}
    return [
        *(_salesforce_target(name) for name in salesforce.OBJECTS),
        *(_hubspot_target(t) for t in hubspot.OBJECT_TYPES),
        *(
            _column_target(spec, hubspot_ids)
            for spec in (
                hubspot.OWNERS,
                hubspot.ASSOCIATIONS,
                hubspot.PROPERTY_HISTORY,
                hubspot.MERGED_RECORDS,
                hubspot.DEAL_PIPELINE_STAGES,
            )
        ),
    ]


Batch = dict[int, list[dict[str, Any]]]


def batches(tables: Sequence[Target], max_tables: int = 3, max_records: int = 4) -> st.SearchStrategy[Batch]:
    """Records for a few of ``tables`` (by index): landing costs a few statements per table touched."""
    chosen = st.lists(st.integers(0, len(tables) - 1), min_size=1, max_size=max_tables, unique=True)
    return chosen.flatmap(
        lambda indices: st.fixed_dictionaries(
            {i: st.lists(tables[i].record, min_size=1, max_size=max_records) for i in indices}
        )
    )


# --- the path --------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)


def prepare(wh: Warehouse, tables: Sequence[Target]) -> None:
    for target in tables:
        wh.ensure_table(target.spec)


def land(wh: Warehouse, tables: Sequence[Target], batch: Batch, sync_id: str) -> Outcome:
    """Split and write the batch's records in one transaction (tables `prepare`d), then check that what was
    written is what the split said: each quarantined record has a reason per bad field and its rows in
    `quarantine`, each loaded record's key is in its raw table, and extracted = loaded + quarantined."""
    outcome = Outcome()
    splits = {}
    for index, records in batch.items():
        target = tables[index]
        rows = [target.to_row(r) for r in records] if target.to_row else list(records)
        split = split_records(
            target.spec, rows, sync_id=sync_id, source=target.source, object=target.object, keys=target.keys
        )
        assert split.quarantined_records + len(split.rows) == len(rows), target.spec.name
        assert all(q.reason and q.field for q in split.quarantine), target.spec.name
        outcome.records += len(rows)
        outcome.loaded += len(split.rows)
        outcome.quarantined += split.quarantined_records
        splits[index] = split
    with wh.batch() as b:
        for index, split in splits.items():
            b.upsert(tables[index].spec, split.rows, sync_id=sync_id, extracted_at=ANCHOR)
            b.quarantine(split.quarantine)
    _check_landed(wh, tables, splits, sync_id)
    return outcome


def _check_landed(wh: Warehouse, tables: Sequence[Target], splits: Mapping[int, Any], sync_id: str) -> None:
    quarantine = wh.control.quarantine
    with wh.engine.connect() as conn:
        stored = conn.execute(
            sa.select(quarantine.c.record_id, quarantine.c.field, quarantine.c.reason).where(
                quarantine.c.sync_id == sync_id
            )
        ).all()
        assert all(reason for _, _, reason in stored)
        expected = {(q.record_id, q.field) for s in splits.values() for q in s.quarantine}
        assert {(r, f) for r, f, _ in stored} == expected
        for index, split in splits.items():
            spec = tables[index].spec
            table = wh.table(spec)
            key = spec.primary_key[0]
            landed = set(conn.execute(sa.select(table.c[key]).where(table.c["_sync_id"] == sync_id)).scalars())
            assert landed == {row[key] for row in split.rows}, spec.name


def harmonise_and_check(wh: Warehouse, defs: FunnelDefinitions) -> list[str]:
    """Build the canonical and closed-loop tables and run every check; the checks' own errors (a suite that
    could not be evaluated), which must be none."""
    write_canonical(wh, defs)
    result = write_closed_loop(wh, defs, ANCHOR.replace(tzinfo=UTC))
    checked = run_all(wh.engine, wh.schema, defs, result.as_of or ANCHOR.replace(tzinfo=UTC))
    return [f"{r.suite}: {r.error}" for r in checked.suites if r.error is not None]
