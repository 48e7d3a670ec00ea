"""Pure unit tests of value coercion: every kind of bad input raises CoercionError with a useful reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.warehouse.coerce import (
    CoercionError,
    coerce_value,
    to_boolean,
    to_date,
    to_float,
    to_integer,
    to_json,
    to_string,
    to_timestamp,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-15T10:30:00.000+0000", datetime(2026, 1, 15, 10, 30)),  # Salesforce REST / SOQL
        ("2026-01-15T10:30:00.123Z", datetime(2026, 1, 15, 10, 30, 0, 123000)),  # HubSpot ISO
        ("2026-01-15T12:30:00.000+0200", datetime(2026, 1, 15, 10, 30)),  # offset converted to UTC
        ("1768473000123", datetime(2026, 1, 15, 10, 30, 0, 123000)),  # HubSpot millisecond epoch string
        (1768473000123, datetime(2026, 1, 15, 10, 30, 0, 123000)),
        (datetime(2026, 1, 15, 5, 30, tzinfo=timezone(timedelta(hours=-5))), datetime(2026, 1, 15, 10, 30)),
        (datetime(2026, 1, 15, 10, 30), datetime(2026, 1, 15, 10, 30)),  # naive is taken as UTC
        ("", None),
        (None, None),
    ],
)
def test_timestamps_parse_to_naive_utc(raw: object, expected: datetime | None) -> None:
    assert to_timestamp(raw) == expected
    if expected is not None:
        assert to_timestamp(raw).tzinfo is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("15/01/2026 10:30", "unparseable timestamp"),
        ("2026-13-15T10:30:00.000+0000", "unparseable timestamp"),
        ("2026-01-15T10:30:00", "timestamp without a UTC offset"),
        ("2026-01-15", "date without a time where a timestamp is expected"),
        ("99999999999999999999", "millisecond epoch out of range"),
        ("0001-01-01T00:30:00+01:00", "timestamp out of range in UTC"),  # before datetime.min once in UTC
        (True, "expected a timestamp, got bool"),
        (1.5, "expected a timestamp, got float"),
    ],
)
def test_bad_timestamps_are_rejected(raw: object, reason: str) -> None:
    with pytest.raises(CoercionError) as info:
        to_timestamp(raw)
    assert info.value.reason == reason


def test_dates() -> None:
    assert to_date("2026-01-15") == date(2026, 1, 15)
    assert to_date(str(int(datetime(2026, 1, 15, tzinfo=UTC).timestamp() * 1000))) == date(2026, 1, 15)
    for raw, reason in [
        ("2026-02-30", "invalid calendar date"),
        ("15.01.2026", "unparseable date (expected YYYY-MM-DD)"),
        ("1768473000123", "millisecond epoch is not midnight UTC, so not a date"),
        (datetime(2026, 1, 15), "expected a date, got a datetime"),
    ]:
        with pytest.raises(CoercionError) as info:
            to_date(raw)
        assert info.value.reason == reason


def test_integers() -> None:
    assert to_integer("42") == 42
    assert to_integer(" -7 ") == -7
    assert to_integer("5.0") == 5  # HubSpot renders integral numbers like this
    assert to_integer(3.0) == 3
    assert to_integer("") is None
    assert to_integer(str(2**63 - 1)) == 2**63 - 1
    for raw, reason in [
        ("abc", "not an integer"),
        ("1.5", "expected an integer, got a fractional number"),
        (2.5, "expected an integer, got a fractional number"),
        (True, "expected an integer, got bool"),
        ([1], "expected an integer, got list"),
        (2**63, "integer outside the 64-bit range"),  # BIGINT could not store it: quarantined, not a crash
        ("-9223372036854775809", "integer outside the 64-bit range"),
    ]:
        with pytest.raises(CoercionError) as info:
            to_integer(raw)
        assert info.value.reason == reason


def test_floats() -> None:
    assert to_float("1.25") == 1.25
    assert to_float("1e3") == 1000.0
    assert to_float(2) == 2.0
    for raw in ["abc", "1_000", "nan", "inf", float("nan"), False]:
        with pytest.raises(CoercionError):
            to_float(raw)


def test_booleans() -> None:
    assert to_boolean("true") is True
    assert to_boolean("True") is True
    assert to_boolean("FALSE") is False
    assert to_boolean(False) is False
    assert to_boolean("") is None
    for raw in ["yes", "1", 1, 0]:
        with pytest.raises(CoercionError):
            to_boolean(raw)


def test_strings_and_max_length() -> None:
    assert to_string("hello", max_length=5) == "hello"
    assert to_string(12) == "12"
    assert to_string("") == ""  # text keeps an empty string: it is a value, not a null
    with pytest.raises(CoercionError) as info:
        to_string("x" * 81, max_length=80)
    assert info.value.reason == "string of 81 characters exceeds max_length 80"
    for raw in [True, {"a": 1}]:
        with pytest.raises(CoercionError):
            to_string(raw)


def test_json() -> None:
    assert to_json({"street": "1 Main St", "city": None}) == {"street": "1 Main St", "city": None}
    assert to_json("[1]") == "[1]"  # strings are JSON strings, not parsed
    with pytest.raises(CoercionError):
        to_json({"x": {1, 2}})
    with pytest.raises(CoercionError):
        to_json([float("inf")])


def test_dispatch_by_logical_type() -> None:
    assert coerce_value("7", "integer") == 7
    assert coerce_value("true", "boolean") is True
    with pytest.raises(CoercionError):
        coerce_value("toolong", "string", max_length=3)
    with pytest.raises(ValueError, match="unknown logical type"):
        coerce_value("x", "decimal")  # type: ignore[arg-type]


def test_text_a_warehouse_cannot_store() -> None:
    """NUL is removed (PostgreSQL refuses it; invisible anyway), before the length is checked; a lone surrogate
    is no character at all, so its value is quarantined. RTL and combining marks are ordinary text."""
    assert to_string("a\x00b\x00", max_length=2) == "ab"
    assert to_string("\u202eabc\u0301 😀") == "\u202eabc\u0301 😀"
    assert to_json({"k\x00": ["v\x00", 1, {"x": "\x00"}]}) == {"k": ["v", 1, {"x": ""}]}
    assert to_json({"😀": "é"}) == {"😀": "é"}
    for raw, coerce in [("x\ud800", to_string), ({"a": ["\udfff"]}, to_json), ({"\ud800": 1}, to_json)]:
        with pytest.raises(CoercionError) as info:
            coerce(raw)
        assert info.value.reason == "text holds a lone surrogate (not valid Unicode)"


def test_numbers_are_exact_and_out_of_range_ones_have_a_reason() -> None:
    assert to_integer("-9223372036854775808") == -(2**63)
    assert to_integer("0000000000000000000000009") == 9  # leading zeros are not magnitude
    assert to_integer(9223372036854775807.0 - 1024) == 9223372036854774784  # a float converts exactly
    for raw, coerce, reason in [
        ("9" * 5000, to_integer, "integer outside the 64-bit range"),  # past Python's 4,300 digits: no ValueError
        ("1e309", to_float, "number outside the double-precision range"),
        (10**400, to_float, "number outside the double-precision range"),
        (float("inf"), to_float, "number is not finite"),
        (float("nan"), to_string, "number is not finite"),
        ("9" * 5000, to_timestamp, "millisecond epoch out of range"),
        (10**30, to_date, "millisecond epoch out of range"),
    ]:
        with pytest.raises(CoercionError) as info:
            coerce(raw)
        assert info.value.reason == reason
