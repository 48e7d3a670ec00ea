"""Landing throughput on DuckDB: the column path (`split_records` + `Batch.upsert` of its Arrow rows) against the
per-value reference path (`coerce_value` cell by cell into dict rows, then `Batch.upsert` of those dicts), on
the same generated Salesforce-Lead-like records (Bulk CSV style: every value a string, ~1% bad values), in
pages of one transaction each, measured in the same run.

Usage: .venv/bin/python bench/landing.py [--rows 200000] [--page 10000]
Prints `landing: rows=N column_s=X per_value_s=Y ratio=R` (ratio = per_value_s / column_s), after checking
that both paths loaded the same rows and quarantined the same values.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.warehouse.coerce import CoercionError, coerce_value  # noqa: E402
from connectors.warehouse.records import QuarantineRow  # noqa: E402
from connectors.warehouse.spec import Column, TableSpec  # noqa: E402
from connectors.warehouse.validate import split_records  # noqa: E402
from connectors.warehouse.warehouse import Warehouse  # noqa: E402

LEADS = TableSpec(
    "bench_lead",
    [
        Column("Id", "string", max_length=18),
        Column("FirstName", "string", max_length=40),
        Column("LastName", "string", max_length=80),
        Column("Company", "string", max_length=255),
        Column("Email", "string", max_length=80),
        Column("Status", "string", max_length=40),
        Column("LeadSource", "string", max_length=40),
        Column("OwnerId", "string", max_length=18),
        Column("NumberOfEmployees", "integer"),
        Column("AnnualRevenue", "float"),
        Column("IsConverted", "boolean"),
        Column("IsDeleted", "boolean"),
        Column("ConvertedDate", "date"),
        Column("CreatedDate", "timestamp"),
        Column("LastModifiedDate", "timestamp"),
        Column("SystemModstamp", "timestamp"),
    ],
    primary_key="Id",
)
_BAD = {"NumberOfEmployees": "12,5", "AnnualRevenue": "n/a", "IsConverted": "yes", "CreatedDate": "2026-01-15"}


def generate(rows: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    records = []
    for n in range(rows):
        created = start + timedelta(seconds=rng.randint(0, 30_000_000), milliseconds=rng.randint(0, 999))
        modified = created + timedelta(seconds=rng.randint(0, 1_000_000))
        converted = rng.random() < 0.2
        record = {
            "Id": f"00Q{n:015d}",
            "FirstName": rng.choice(["Ana", "Björn", "Chen", "Dara", ""]),
            "LastName": f"Name{n}",
            "Company": f"Company {rng.randint(1, 5000)}",
            "Email": f"person{n}@example.com",
            "Status": rng.choice(["Open", "Working", "Qualified", "Unqualified"]),
            "LeadSource": rng.choice(["Web", "Partner", "Event", ""]),
            "OwnerId": f"005{rng.randint(1, 50):015d}",
            "NumberOfEmployees": str(rng.randint(1, 10_000)) if rng.random() < 0.9 else "",
            "AnnualRevenue": f"{rng.uniform(1e4, 1e8):.2f}",
            "IsConverted": "true" if converted else "false",
            "IsDeleted": "false",
            "ConvertedDate": modified.date().isoformat() if converted else "",
            "CreatedDate": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
            "LastModifiedDate": modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
            "SystemModstamp": modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        }
        if rng.random() < 0.01:
            field = rng.choice(sorted(_BAD))
            record[field] = _BAD[field]
        records.append(record)
    return records


def split_per_value(
    spec: TableSpec, records: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[QuarantineRow], int]:
    """The record-by-record reference: every cell through `coerce_value`."""
    rows: list[dict[str, Any]] = []
    quarantine: list[QuarantineRow] = []
    bad_records = 0
    for record in records:
        typed: dict[str, Any] = {}
        problems: dict[str, str] = {k: "missing primary key" for k in spec.primary_key if record.get(k) in (None, "")}
        for column in spec.columns:
            try:
                typed[column.name] = coerce_value(record.get(column.name), column.type, column.max_length)
            except CoercionError as exc:
                problems.setdefault(column.name, exc.reason)
        if not problems:
            rows.append(typed)
            continue
        bad_records += 1
        record_id = "|".join(str(record.get(k) or "") for k in spec.primary_key)
        quarantine += [
            QuarantineRow("bench", "salesforce", "Lead", record_id, name, record.get(name), reason)
            for name, reason in problems.items()
        ]
    return rows, quarantine, bad_records


def land(wh: Warehouse, records: list[dict[str, Any]], page: int, per_value: bool) -> tuple[float, int, int]:
    """Seconds to land every page (split + one transaction each), rows loaded, records quarantined."""
    extracted_at = datetime(2026, 1, 20, tzinfo=UTC)
    loaded = quarantined = 0
    started = time.perf_counter()
    for offset in range(0, len(records), page):
        chunk = records[offset : offset + page]
        rows: Sequence[Mapping[str, Any]]
        if per_value:
            rows, bad_values, bad_records = split_per_value(LEADS, chunk)
        else:
            split = split_records(LEADS, chunk, sync_id="bench", source="salesforce", object="Lead")
            rows, bad_values, bad_records = split.rows, split.quarantine, split.quarantined_records
        with wh.batch() as b:
            loaded += b.upsert(LEADS, rows, sync_id="bench", extracted_at=extracted_at)
            b.quarantine(bad_values)
        quarantined += bad_records
    return time.perf_counter() - started, loaded, quarantined


def fingerprint(wh: Warehouse) -> tuple[Any, ...]:
    """Order-independent digest of the landed rows and the quarantine table."""
    with wh.engine.connect() as conn:
        digest: Callable[[str], Any] = lambda sql: conn.exec_driver_sql(sql).fetchall()  # noqa: E731
        columns = ", ".join(f'"{c}"' for c in LEADS.column_names)
        rows = digest(f"SELECT count(*), sum(hash({columns})) FROM {LEADS.name}")
        bad = digest("SELECT count(*), sum(hash(record_id, field, raw_value, reason)) FROM quarantine")
    return tuple(rows + bad)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=10_000, help="records per transaction (a Bulk page)")
    args = parser.parse_args()
    records = generate(args.rows)
    timings: dict[bool, float] = {}
    prints: dict[bool, tuple[Any, ...]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for per_value in (False, True):
            wh = Warehouse.from_url(f"duckdb:///{tmp}/{'per_value' if per_value else 'column'}.duckdb")
            wh.ensure_table(LEADS)
            timings[per_value], loaded, quarantined = land(wh, records, args.page, per_value)
            assert loaded + quarantined == len(records), "extracted != loaded + quarantined"
            prints[per_value] = fingerprint(wh)
            wh.close()
    if prints[False] != prints[True]:
        raise SystemExit(f"the two paths landed different data: {prints[False]} != {prints[True]}")
    column_s, per_value_s = timings[False], timings[True]
    print(
        f"landing: rows={args.rows} column_s={column_s:.2f} per_value_s={per_value_s:.2f} "
        f"ratio={per_value_s / column_s:.2f}"
    )
    print(f"landing_column_throughput: {args.rows / column_s:,.0f} rows/s")
    print(f"landing_per_value_throughput: {args.rows / per_value_s:,.0f} rows/s")


if __name__ == "__main__":
    main()
