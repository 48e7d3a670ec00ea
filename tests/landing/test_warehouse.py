"""Raw tables, upserts, deletions and atomic batches, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.warehouse import Column, QuarantineRow, SchemaError, TableSpec, Warehouse, split_records

EXTRACTED = datetime(2026, 1, 20, 8, 0, 0)

LEADS = TableSpec(
    "sf_lead",
    [
        Column("Id", "string", doc="18-char Salesforce id"),
        Column("Company", "string", max_length=255),
        Column("NumberOfEmployees", "integer"),
        Column("AnnualRevenue", "float"),
        Column("IsConverted", "boolean"),
        Column("ConvertedDate", "date"),
        Column("LastModifiedDate", "timestamp"),
        Column("Address", "json"),
    ],
    primary_key="Id",
    doc="One row per Salesforce Lead id.",
)


def lead(n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Id": f"00Q{n:015d}",
        "Company": f"Company {n}",
        "NumberOfEmployees": n * 10,
        "AnnualRevenue": n * 1000.5,
        "IsConverted": n % 2 == 0,
        "ConvertedDate": date(2026, 1, 1) + timedelta(days=n % 28),
        "LastModifiedDate": datetime(2026, 1, 15, 10, 30, 0, 123000) + timedelta(minutes=n),
        "Address": {"city": f"City {n}", "lines": ["1 Main St"]},
    }
    row.update(overrides)
    return row


def rows_of(wh: Warehouse, spec: TableSpec) -> list[dict[str, Any]]:
    """Every column, including those that left the spec, ordered by key."""
    target = sa.table(spec.name, *[sa.column(k) for k in spec.primary_key], schema=wh.schema)
    query = sa.select(sa.text("*")).select_from(target).order_by(*target.c)
    with wh.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def upsert(wh: Warehouse, rows: list[dict[str, Any]], sync_id: str = "s1", spec: TableSpec = LEADS) -> int:
    with wh.batch() as b:
        return b.upsert(spec, rows, sync_id=sync_id, extracted_at=EXTRACTED)


def test_ensure_table_creates_then_reports_no_drift(warehouse: Warehouse) -> None:
    first = warehouse.ensure_table(LEADS)
    assert first.created and first.added == [] and first.missing == []
    again = warehouse.ensure_table(LEADS)
    assert not again.created and again.added == [] and again.missing == []
    assert warehouse.row_count(LEADS) == 0


def test_schema_drift_adds_new_columns_and_keeps_dropped_ones(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    upsert(warehouse, [lead(1), lead(2)])
    evolved = TableSpec(
        LEADS.name,
        [c for c in LEADS.columns if c.name != "NumberOfEmployees"] + [Column("Rating", "string")],
        primary_key="Id",
    )
    drift = warehouse.ensure_table(evolved)
    assert drift.added == ["Rating"]
    assert drift.missing == ["NumberOfEmployees"]
    rewritten = {k: v for k, v in lead(2, Rating="Hot").items() if k != "NumberOfEmployees"}
    upsert(warehouse, [rewritten], spec=evolved)
    by_id = {r["Id"]: r for r in rows_of(warehouse, LEADS)}
    # Old data intact: lead 1 was not rewritten, so its dropped column keeps its value.
    assert by_id[lead(1)["Id"]]["NumberOfEmployees"] == 10
    assert by_id[lead(1)["Id"]]["Rating"] is None
    # A row written under the new spec has the new column, and the dropped one is null (whole-row replace).
    assert by_id[lead(2)["Id"]]["Rating"] == "Hot"
    assert by_id[lead(2)["Id"]]["NumberOfEmployees"] is None
    # A spec column the table does not have yet is refused rather than silently not landed.
    unknown = TableSpec(LEADS.name, [Column("Id", "string"), Column("Brand", "string")], "Id")
    with pytest.raises(SchemaError, match="call ensure_table first"):
        upsert(warehouse, [{"Id": "x", "Brand": "new"}], spec=unknown)


def test_changing_the_primary_key_is_refused(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    rekeyed = TableSpec(LEADS.name, [Column("Email", "string")], primary_key="Email")
    with pytest.raises(SchemaError, match="primary-key"):
        warehouse.ensure_table(rekeyed)


def test_upsert_is_idempotent(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    batch = [lead(n) for n in range(1, 6)]
    assert upsert(warehouse, batch) == 5
    first = rows_of(warehouse, LEADS)
    assert upsert(warehouse, batch) == 5
    assert rows_of(warehouse, LEADS) == first
    assert warehouse.row_count(LEADS) == 5
    assert first[0]["Address"] == {"city": "City 1", "lines": ["1 Main St"]}
    assert first[0]["_sync_id"] == "s1" and first[0]["_extracted_at"] == EXTRACTED
    assert first[0]["_is_deleted"] is False and first[0]["_deleted_at"] is None


def test_last_write_wins_across_and_within_batches(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    upsert(warehouse, [lead(1), lead(2)], sync_id="s1")
    written = upsert(warehouse, [lead(1, Company="first"), lead(1, Company="second"), lead(3)], sync_id="s2")
    assert written == 2  # the duplicate key inside the batch collapsed to its last occurrence
    by_id = {r["Id"]: r for r in rows_of(warehouse, LEADS)}
    assert len(by_id) == 3
    assert by_id[lead(1)["Id"]]["Company"] == "second"
    assert by_id[lead(1)["Id"]]["_sync_id"] == "s2"
    assert by_id[lead(2)["Id"]]["_sync_id"] == "s1"


def test_mark_deleted_keeps_the_row_and_a_reappearing_record_is_live_again(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    upsert(warehouse, [lead(n) for n in range(1, 5)])
    deleted_at = datetime(2026, 1, 21, 9, 0, tzinfo=UTC)
    gone = [lead(1)["Id"], lead(2)["Id"], "00Q999999999999999"]  # the last id was never landed
    with warehouse.batch() as b:
        assert b.mark_deleted(LEADS, gone, deleted_at=deleted_at, sync_id="s2") == 2
    with warehouse.batch() as b:  # reported again later: already flagged, first deletion time kept
        assert b.mark_deleted(LEADS, gone, deleted_at=deleted_at + timedelta(days=1), sync_id="s3") == 0
    assert warehouse.row_count(LEADS) == 4
    assert warehouse.row_count(LEADS, deleted=True) == 2
    assert warehouse.row_count(LEADS.name, deleted=False) == 2
    assert warehouse.live_ids(LEADS) == {lead(3)["Id"], lead(4)["Id"]}
    row = next(r for r in rows_of(warehouse, LEADS) if r["Id"] == lead(1)["Id"])
    assert row["_is_deleted"] is True and row["_deleted_at"] == datetime(2026, 1, 21, 9, 0)
    assert row["Company"] == "Company 1" and row["_sync_id"] == "s2"
    upsert(warehouse, [lead(1)], sync_id="s4")  # undeleted in the CRM and extracted again
    assert warehouse.live_ids(LEADS) == {lead(1)["Id"], lead(3)["Id"], lead(4)["Id"]}


def test_batch_commits_rows_quarantine_and_state_together(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    raw: list[dict[str, Any]] = [
        {"Id": "00Q000000000000001", "NumberOfEmployees": "12", "LastModifiedDate": "2026-01-15T10:30:00.000+0000"},
        {"Id": "00Q000000000000002", "NumberOfEmployees": "abc", "IsConverted": "maybe"},
        {"Id": None, "Company": "no id"},
    ]
    split = split_records(LEADS, raw, sync_id="s1", source="salesforce", object="Lead")
    assert split.quarantined_records == 2
    with warehouse.batch() as b:
        assert b.upsert(LEADS, split.rows, sync_id="s1", extracted_at=EXTRACTED) == 1
        assert b.quarantine(split.quarantine) == 3
        b.save_state("salesforce", "Lead", {"cursor": "2026-01-15T10:30:00.000+0000"}, sync_id="s1")
    assert warehouse.get_state("salesforce", "Lead") == {"cursor": "2026-01-15T10:30:00.000+0000"}
    quarantine = warehouse.control.quarantine
    with warehouse.engine.connect() as conn:
        stored = conn.execute(
            sa.select(quarantine.c.record_id, quarantine.c.field, quarantine.c.raw_value, quarantine.c.reason).order_by(
                quarantine.c.record_id, quarantine.c.field
            )
        ).all()
    assert [tuple(r) for r in stored] == [
        ("", "Id", None, "missing primary key"),
        ("00Q000000000000002", "IsConverted", "maybe", "not a boolean (expected true or false)"),
        ("00Q000000000000002", "NumberOfEmployees", "abc", "not an integer"),
    ]


def test_an_exception_inside_a_batch_changes_nothing(warehouse: Warehouse) -> None:
    warehouse.ensure_table(LEADS)
    with warehouse.batch() as b:
        b.upsert(LEADS, [lead(1)], sync_id="s1", extracted_at=EXTRACTED)
        b.save_state("salesforce", "Lead", {"cursor": "c1"}, sync_id="s1")
    before = rows_of(warehouse, LEADS)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with warehouse.batch() as b:
            b.upsert(LEADS, [lead(1, Company="changed"), lead(2)], sync_id="s2", extracted_at=EXTRACTED)
            b.mark_deleted(LEADS, [lead(1)["Id"]], deleted_at=EXTRACTED, sync_id="s2")
            b.quarantine([QuarantineRow("s2", "salesforce", "Lead", "x", "Company", "?", "bad")])
            b.save_state("salesforce", "Lead", {"cursor": "c2"}, sync_id="s2")
            raise Boom
    assert rows_of(warehouse, LEADS) == before
    assert warehouse.get_state("salesforce", "Lead") == {"cursor": "c1"}
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(warehouse.control.quarantine)).scalar() == 0


def test_state_is_none_until_saved_and_then_overwritten(warehouse: Warehouse) -> None:
    assert warehouse.get_state("hubspot", "contacts") is None
    for cursor in ["1768473000123", "1768473999999"]:
        with warehouse.batch() as b:
            b.save_state("hubspot", "contacts", {"after": cursor, "window": [1, 2]})
    assert warehouse.get_state("hubspot", "contacts") == {"after": "1768473999999", "window": [1, 2]}


def test_timestamps_round_trip_identically(warehouse: Warehouse) -> None:
    """Same UTC wall time back on both engines, whatever zone the value came in, to the microsecond."""
    spec = TableSpec("hs_contact", [Column("id", "string"), Column("ts", "timestamp")], "id")
    warehouse.ensure_table(spec)
    values = {
        "naive-utc": datetime(2026, 1, 15, 10, 30, 0, 123456),
        "aware-utc": datetime(2026, 1, 15, 10, 30, 0, 123456, tzinfo=UTC),
        "aware-minus5": datetime(2026, 1, 15, 5, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
        "epoch-start": datetime(1970, 1, 1),
        "far-future": datetime(2199, 12, 31, 23, 59, 59, 999999),
    }
    upsert(warehouse, [{"id": k, "ts": v} for k, v in values.items()], spec=spec)
    stored = {r["id"]: r["ts"] for r in rows_of(warehouse, spec)}
    expected_instant = datetime(2026, 1, 15, 10, 30, 0, 123456)
    assert stored["naive-utc"] == stored["aware-utc"] == stored["aware-minus5"] == expected_instant
    assert stored["epoch-start"] == datetime(1970, 1, 1)
    assert stored["far-future"] == datetime(2199, 12, 31, 23, 59, 59, 999999)
    assert all(v.tzinfo is None for v in stored.values())


def test_upsert_without_ensure_table_or_with_bad_rows_fails_loudly(warehouse: Warehouse) -> None:
    with pytest.raises(SchemaError, match="ensure_table"):
        upsert(warehouse, [lead(1)])
    warehouse.ensure_table(LEADS)
    with pytest.raises(ValueError, match="outside the spec"):
        upsert(warehouse, [lead(1, Bogus=1)])
    with pytest.raises(ValueError, match="primary key"):
        upsert(warehouse, [lead(1, Id=None)])
    assert warehouse.row_count(LEADS) == 0


def test_concurrent_writer_threads_do_not_conflict(warehouse: Warehouse) -> None:
    """Threads writing overlapping keys at once: DuckDB would abort with a write conflict without the lock."""
    warehouse.ensure_table(LEADS)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for round_ in range(5):
                rows = [lead(n, Company=f"w{worker} r{round_}") for n in range(1, 51)]
                with warehouse.batch() as b:
                    b.upsert(LEADS, rows, sync_id=f"w{worker}", extracted_at=EXTRACTED)
                    b.save_state("salesforce", "Lead", {"worker": worker, "round": round_})
        except BaseException as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert warehouse.row_count(LEADS) == 50


def test_bulk_upsert_of_50k_rows(warehouse: Warehouse) -> None:
    """Just runs it and prints the rate (no timing assertion: shared CI machines vary)."""
    warehouse.ensure_table(LEADS)
    rows = [lead(n) for n in range(50_000)]
    started = time.perf_counter()
    upsert(warehouse, rows)
    first = time.perf_counter() - started
    started = time.perf_counter()
    upsert(warehouse, rows, sync_id="s2")  # every key already present: the replace path
    second = time.perf_counter() - started
    engine = warehouse.engine.dialect.name
    print(f"\nlanding_upsert_insert_{engine}: {len(rows) / first:,.0f} rows/s")
    print(f"landing_upsert_replace_{engine}: {len(rows) / second:,.0f} rows/s")
    assert warehouse.row_count(LEADS) == 50_000


def test_awkward_values_round_trip_exactly(warehouse: Warehouse) -> None:
    """Text with tabs/newlines/backslashes/quotes, unicode, exact floats and nested JSON survive both bulk paths."""
    warehouse.ensure_table(LEADS)
    awkward = lead(
        1,
        Company="Tab\there\nnew line\r\\N back\\slash \"quoted\" 'single' — 日本 🚀",
        AnnualRevenue=0.1 + 0.2,
        NumberOfEmployees=2**62,
        Address={"note": "a\tb\nc\\d", "nested": {"list": [1, 2.5, None, True, "x"]}},
    )
    empty = lead(2, Company="", Address=None, IsConverted=None, ConvertedDate=None, LastModifiedDate=None)
    upsert(warehouse, [awkward, empty])
    stored = {r["Id"]: r for r in rows_of(warehouse, LEADS)}
    for sent in (awkward, empty):
        got = stored[sent["Id"]]
        assert {k: got[k] for k in sent} == sent
