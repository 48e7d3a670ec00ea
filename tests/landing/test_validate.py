"""Pure tests of spec declaration and of splitting raw records into loadable rows and quarantine rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from connectors.warehouse import Column, TableSpec, split_records

DEALS = TableSpec(
    "hs_deal",
    [
        Column("hs_object_id", "string"),
        Column("dealname", "string", max_length=10),
        Column("amount", "float"),
        Column("closedate", "timestamp"),
        Column("hs_is_closed", "boolean"),
    ],
    primary_key="hs_object_id",
)


def test_spec_validation() -> None:
    assert DEALS.primary_key == ("hs_object_id",)
    with pytest.raises(ValueError, match="reserved"):
        Column("_sync_id", "string")
    with pytest.raises(ValueError, match="unknown type"):
        Column("x", "money")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_length"):
        Column("x", "integer", max_length=5)
    with pytest.raises(ValueError, match="ignoring case"):
        TableSpec("t", [Column("Id", "string"), Column("id", "string")], "Id")
    with pytest.raises(ValueError, match="not among its columns"):
        TableSpec("t", [Column("id", "string")], ["id", "other"])
    with pytest.raises(ValueError, match="lower-case"):
        TableSpec("Leads", [Column("id", "string")], "id")


def test_good_records_become_typed_rows_and_extra_keys_are_ignored() -> None:
    raw = {
        "hs_object_id": "101",
        "dealname": "Big deal",
        "amount": "1500.50",
        "closedate": "2026-02-01T00:00:00.000Z",
        "hs_is_closed": "false",
        "not_in_spec": "ignored",
    }
    split = split_records(DEALS, [raw], sync_id="s1", source="hubspot", object="deals")
    assert split.quarantine == [] and split.quarantined_records == 0
    assert split.rows == [
        {
            "hs_object_id": "101",
            "dealname": "Big deal",
            "amount": 1500.5,
            "closedate": datetime(2026, 2, 1),
            "hs_is_closed": False,
        }
    ]


def test_a_record_with_bad_fields_is_quarantined_whole_with_one_row_per_field() -> None:
    raw: list[dict[str, Any]] = [
        {"hs_object_id": "1", "dealname": "way too long a name", "amount": "12,5", "hs_is_closed": "yes"},
        {"hs_object_id": "2", "dealname": "ok", "closedate": {"not": "a date"}},
        {"dealname": "anonymous"},
    ]
    split = split_records(DEALS, raw, sync_id="s1", source="hubspot", object="deals")
    assert split.rows == []
    assert split.quarantined_records == 3
    found = {(q.record_id, q.field): (q.raw_value, q.reason) for q in split.quarantine}
    assert found == {
        ("1", "dealname"): ("way too long a name", "string of 19 characters exceeds max_length 10"),
        ("1", "amount"): ("12,5", "not a number"),
        ("1", "hs_is_closed"): ("yes", "not a boolean (expected true or false)"),
        ("2", "closedate"): ('{"not": "a date"}', "expected a timestamp, got dict"),
        ("", "hs_object_id"): (None, "missing primary key"),
    }
    assert all((q.sync_id, q.source, q.object) == ("s1", "hubspot", "deals") for q in split.quarantine)


def test_loaded_rows_pick_out_the_flagged_ones_with_their_json_objects() -> None:
    spec = TableSpec(
        "flags",
        [Column("id", "string"), Column("gone", "boolean"), Column("payload", "json")],
        primary_key="id",
    )
    raw = [{"id": "1", "gone": "false", "payload": {"a": 1}}, {"id": "2", "gone": "true", "payload": [2]}, {"id": "3"}]
    rows = split_records(spec, raw, sync_id="s", source="x", object="y").rows
    assert rows.flagged("gone") == [{"id": "2", "gone": True, "payload": [2]}]
    assert rows.flagged("missing") == []
    assert split_records(spec, raw[:1], sync_id="s", source="x", object="y").rows.flagged("gone") == []
    assert list(rows) == [
        {"id": "1", "gone": False, "payload": {"a": 1}},
        {"id": "2", "gone": True, "payload": [2]},
        {"id": "3", "gone": None, "payload": None},
    ]


def test_a_key_that_cannot_identify_its_record_is_quarantined_and_what_is_shown_is_storable() -> None:
    long_id = "7" * 1001
    raw: list[dict[str, Any]] = [
        {"hs_object_id": " 1", "dealname": "a"},
        {"hs_object_id": " \t", "dealname": "b"},
        {"hs_object_id": long_id, "dealname": "c"},
        {"hs_object_id": "4", "dealname": "x\ud800"},
        {"hs_object_id": "5", "dealname": "n\x00" * 6000},
        {"hs_object_id": "6", "dealname": "ok\x00"},
    ]
    split = split_records(DEALS, raw, sync_id="s1", source="hubspot", object="deals")
    assert [r["dealname"] for r in split.rows] == ["ok"]
    found = {q.record_id: (q.field, q.raw_value, q.reason) for q in split.quarantine}
    shown_id = next(k for k in found if k.startswith("7" * 200))
    assert shown_id.startswith("7" * 200 + "… (1001 characters, sha256 ") and len(shown_id) < 260
    assert found == {
        " 1": ("hs_object_id", " 1", "primary key has surrounding whitespace"),
        " \t": ("hs_object_id", " \t", "missing primary key"),
        shown_id: (
            "hs_object_id",
            long_id,
            "primary key longer than 1000 bytes, more than a warehouse index holds",
        ),
        "4": ("dealname", "x\\ud800", "text holds a lone surrogate (not valid Unicode)"),
        "5": (
            "dealname",
            ("n\\x00" * 5000) + "… (12000 characters)",
            "string of 6000 characters exceeds max_length 10",
        ),
    }
