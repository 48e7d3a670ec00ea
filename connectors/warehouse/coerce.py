"""Pure conversions of raw CRM values into the typed Python values the warehouse stores.

Every function either returns the typed value or raises `CoercionError` whose `reason` is written to the
quarantine table verbatim, so reasons are short, specific and free of the (possibly long) raw value itself.
Conventions shared by all functions:
  * `None` stays `None`: nullability is not a coercion concern (primary keys are checked in `validate`).
  * For non-string types an empty/blank string is `None`: Bulk 2.0 CSV renders null as an empty field and
    HubSpot returns "" for a cleared property, so blank means "no value", not "bad value".
  * Timestamps come back as naive datetimes in UTC (see `logical_types.sql_type` for why naive-UTC).

Text a warehouse cannot store, one rule for both engines so they hold the same values:
  * NUL (U+0000) is removed from text and from the strings (keys included) of JSON values. PostgreSQL refuses
    it in TEXT and JSONB (DuckDB would keep it), both CRMs accept it through their APIs, and it is invisible
    wherever the value is shown, so removing it changes nothing a reader sees. A primary key holding one is
    quarantined instead (`validate`): cleaning could merge two records into one key.
  * A lone surrogate (half of a UTF-16 pair, e.g. JSON "\\ud800") is not a character: the text cannot be
    encoded as UTF-8 on either engine, and what was meant is unknown, so the value is quarantined.
Numbers are exact: integers are parsed as integers (never through a float) and must fit BIGINT; floats must
be finite and within the double-precision range; both out-of-range cases are quarantined with their reason.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.warehouse.logical_types import LogicalType

_INTEGER = re.compile(r"[+-]?\d+")
# HubSpot number properties may render integral values as "5.0"; that is still an integer.
_INTEGRAL_DECIMAL = re.compile(r"[+-]?\d+\.0*")
# Spelled out rather than float(): float() also accepts "1_000", "nan" and "infinity".
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EPOCH_MS = re.compile(r"-?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1)
_INT64 = range(-(2**63), 2**63)
NUL = "\x00"


class CoercionError(ValueError):
    """A raw value that cannot become its column's type; `reason` says why, for the quarantine table."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _type_name(value: object) -> str:
    return type(value).__name__


def _blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def storable_text(text: str) -> str:
    """`text` without NUL; `CoercionError` when it holds a lone surrogate (see the module docstring)."""
    if not text.isascii() and not _utf8(text):
        raise CoercionError("text holds a lone surrogate (not valid Unicode)")
    return text.replace(NUL, "") if NUL in text else text


def to_string(value: Any, max_length: int | None = None) -> str | None:
    """Text; numbers are rendered with str() (a numeric CRM field declared as text), other types rejected.
    NUL is removed before the length is checked: what is stored is what must fit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CoercionError(f"expected a string, got {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CoercionError("number is not finite")
    if isinstance(value, str):
        text = storable_text(value)
    else:
        try:
            text = str(value)
        except ValueError:
            raise CoercionError("integer too long to render as text") from None  # past Python's 4,300 digits
    if max_length is not None and len(text) > max_length:
        raise CoercionError(f"string of {len(text)} characters exceeds max_length {max_length}")
    return text


def to_integer(value: Any) -> int | None:
    number = _integer(value)
    if number is not None and number not in _INT64:
        # The column is BIGINT on both engines: the value could not be stored, so quarantine it here.
        raise CoercionError("integer outside the 64-bit range")
    return number


def _integer(value: Any) -> int | None:
    if value is None or _blank(value):
        return None
    if isinstance(value, bool):
        # bool is an int subclass in Python; True silently becoming 1 would hide a spec mismatch.
        raise CoercionError("expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise CoercionError("expected an integer, got a fractional number")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text) or _INTEGRAL_DECIMAL.fullmatch(text):
            return _parse_integer(text.split(".", 1)[0])
        if _DECIMAL.fullmatch(text):
            raise CoercionError("expected an integer, got a fractional number")
        raise CoercionError("not an integer")
    raise CoercionError(f"expected an integer, got {_type_name(value)}")


def _parse_integer(digits: str) -> int:
    """An optionally signed digit string as an int, exactly. Its length is checked first: Python refuses to
    parse more than 4,300 digits (ValueError), and anything past 19 digits is out of BIGINT's range anyway."""
    if len(digits.lstrip("+-").lstrip("0")) > 19:
        raise CoercionError("integer outside the 64-bit range")
    return int(digits)


def to_float(value: Any) -> float | None:
    if value is None or _blank(value):
        return None
    if isinstance(value, bool):
        raise CoercionError("expected a number, got bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            # NaN/inf cannot be stored in JSON state nor compared sanely downstream.
            raise CoercionError("number is not finite")
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise CoercionError("number outside the double-precision range") from None
    if not isinstance(value, str):
        raise CoercionError(f"expected a number, got {_type_name(value)}")
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        raise CoercionError("not a number")
    number = float(text)
    if not math.isfinite(number):
        # Only a finite spelling gets here ("nan"/"inf" are not numbers above): it overflowed the double.
        raise CoercionError("number outside the double-precision range")
    return number


def to_boolean(value: Any) -> bool | None:
    """bool, or the strings true/false in any case (REST JSON, Bulk CSV and HubSpot all use these)."""
    if value is None or _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        raise CoercionError("not a boolean (expected true or false)")
    raise CoercionError(f"expected a boolean, got {_type_name(value)}")


def to_utc_naive(moment: datetime) -> datetime:
    """Aware → converted to UTC; naive is taken to be UTC already. Result is naive (the stored form)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _from_epoch_ms(millis: int | str) -> datetime:
    if isinstance(millis, str):
        # A digit string (checked by the caller): within range it has at most 15 digits.
        if len(millis.lstrip("+-").lstrip("0")) > 18:
            raise CoercionError("millisecond epoch out of range")
        millis = int(millis)
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        raise CoercionError("millisecond epoch out of range") from None


def to_timestamp(value: Any) -> datetime | None:
    """A UTC instant from a datetime, an int/digit-string millisecond epoch (HubSpot), or ISO-8601 with an
    offset: Salesforce `2026-01-15T10:30:00.000+0000`, HubSpot `2026-01-15T10:30:00.123Z`.

    Strings without an offset are rejected rather than guessed: both CRMs always send one, so a missing
    offset means the value is not what the spec thinks it is.
    """
    if value is None or _blank(value):
        return None
    if isinstance(value, datetime):
        return to_utc_naive(value)
    if isinstance(value, bool):
        raise CoercionError("expected a timestamp, got bool")
    if isinstance(value, int):
        return _from_epoch_ms(value)
    if not isinstance(value, str):
        raise CoercionError(f"expected a timestamp, got {_type_name(value)}")
    text = value.strip()
    if _EPOCH_MS.fullmatch(text):
        return _from_epoch_ms(text)
    if _ISO_DATE.fullmatch(text):
        raise CoercionError("date without a time where a timestamp is expected")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CoercionError("unparseable timestamp") from None
    if parsed.tzinfo is None:
        raise CoercionError("timestamp without a UTC offset")
    try:
        return to_utc_naive(parsed)
    except OverflowError:
        # e.g. 0001-01-01T00:30+01:00: in UTC it falls before datetime.min.
        raise CoercionError("timestamp out of range in UTC") from None


def reported_instant(value: Any) -> datetime | None:
    """``to_timestamp`` for a value a CRM reports back (a record's modstamp): one it cannot read is unknown (None)
    rather than an error, so the caller treats the record as changed at an unknown time."""
    try:
        return to_timestamp(value)
    except CoercionError:
        return None


def to_date(value: Any) -> date | None:
    """A calendar date from a date, `YYYY-MM-DD`, or a millisecond epoch at midnight UTC (HubSpot date
    properties). A datetime is rejected: silently truncating a time of day would lose information."""
    if value is None or _blank(value):
        return None
    if isinstance(value, datetime):
        raise CoercionError("expected a date, got a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise CoercionError(f"expected a date, got {_type_name(value)}")
    text = value.strip() if isinstance(value, str) else None
    if text is None or _EPOCH_MS.fullmatch(text):
        moment = _from_epoch_ms(value if text is None else text)
        if moment.time() != datetime.min.time():
            raise CoercionError("millisecond epoch is not midnight UTC, so not a date")
        return moment.date()
    if not _ISO_DATE.fullmatch(text):
        raise CoercionError("unparseable date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CoercionError("invalid calendar date") from None


def to_json(value: Any) -> Any:
    """Any JSON-serialisable value, kept as is (a str stays a JSON string: it is not parsed), except that its
    strings lose NUL and may hold no lone surrogate (see the module docstring)."""
    if value is None:
        return None
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise CoercionError(f"not JSON-serialisable: {exc}") from None
    # The serialised text tells cheaply whether any string needs a look: NUL is escaped as \u0000 there, and
    # a surrogate survives ensure_ascii=False only when it is a lone one.
    if "\\u0000" in text or not text.isascii() and not _utf8(text):
        return _storable_json(value)
    return value


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable_json(v) for v in value]
    return value


def coerce_value(value: Any, logical: LogicalType, max_length: int | None = None) -> Any:
    """Dispatch on the logical type; `max_length` only applies to strings."""
    if logical == "string":
        return to_string(value, max_length)
    if logical == "integer":
        return to_integer(value)
    if logical == "float":
        return to_float(value)
    if logical == "boolean":
        return to_boolean(value)
    if logical == "timestamp":
        return to_timestamp(value)
    if logical == "date":
        return to_date(value)
    if logical == "json":
        return to_json(value)
    raise ValueError(f"unknown logical type {logical!r}")
