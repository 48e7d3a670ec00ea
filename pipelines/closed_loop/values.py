"""Small conversions between pandas cells and the plain values the pure builders and funnel functions use.

No cell can make a conversion fail: a value that does not convert is None (the raw table keeps it as landed).
The SQL staging (``pipelines.closed_loop.sql.context``) applies the same rules, so both agree on any value:

* Text is trimmed of ASCII whitespace only (what SQL's TRIM is given), never of other Unicode spaces.
* A number in text is read only when it is spelled plainly (``[+-]digits[.digits]``, an exponent of at most
  two digits) in at most ``MAX_NUMBER_LENGTH`` characters: within those bounds every spelling converts to a
  double on both engines without overflow or underflow errors, and the rest is not a number a CRM sends.
* Integers are exact: a plain integer or decimal spelling is truncated on its digits, never through a float
  (``int(float("9223372036854775807"))`` is 2**63), and anything outside BIGINT's range is None.
* A date in text is its first ten characters when they are a real calendar date (year 1 onwards).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
WHITESPACE = " \t\n\r\f\v"
READABLE_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,2})?$"
MAX_NUMBER_LENGTH = 100
_READABLE = re.compile(READABLE_NUMBER.removeprefix("^").removesuffix("$"))
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip(WHITESPACE) == ""


def text(value: Any) -> str | None:
    """Trimmed text; blanks, NaN and None are None. Integral floats in BIGINT's range lose their '.0' (ids landed
    as numbers); others keep Python's spelling ("1e+19"), which is also SQL's."""
    if missing(value):
        return None
    if isinstance(value, float) and value.is_integer() and _in_int64(value):
        return str(int(value))
    return str(value).strip(WHITESPACE)


def _readable(value: str) -> str | None:
    """The trimmed text if it is a readable number (see the module docstring), else None."""
    trimmed = value.strip(WHITESPACE)
    return trimmed if len(trimmed) <= MAX_NUMBER_LENGTH and _READABLE.fullmatch(trimmed) else None


def _in_int64(value: float) -> bool:
    return -(2.0**63) <= value < 2.0**63


def _truncated(value: float) -> int | None:
    return int(value) if math.isfinite(value) and _in_int64(value) else None


def integer(value: Any) -> int | None:
    """Exact (see the module docstring); None outside BIGINT's range or when not a number."""
    if missing(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        whole = int(value)
        return whole if INT64_MIN <= whole <= INT64_MAX else None
    if isinstance(value, float):
        return _truncated(value)
    if not isinstance(value, str):
        return None
    readable = _readable(value)
    if readable is None:
        return None
    if "e" in readable.lower():
        return _truncated(float(readable))
    head = readable.split(".", 1)[0]
    digits = head.lstrip("+-").lstrip("0")
    if len(digits) > 19:
        return None
    whole = -int(digits or "0") if head.startswith("-") else int(digits or "0")
    return whole if INT64_MIN <= whole <= INT64_MAX else None


def number(value: Any) -> float | None:
    if missing(value):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    readable = _readable(value)
    return None if readable is None else float(readable)


def flag(value: Any) -> bool | None:
    if missing(value):
        return None
    if isinstance(value, str):
        return value.strip(WHITESPACE).lower() in ("true", "1", "yes")
    return bool(value)


def instant(value: Any) -> datetime | None:
    """An aware UTC datetime from a naive-UTC warehouse timestamp (the funnel functions refuse naive ones)."""
    if missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def day(value: Any) -> date | None:
    if missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    head = str(value).strip(WHITESPACE)[:10]
    if not _ISO_DATE.fullmatch(head):
        return None
    try:
        return date.fromisoformat(head)
    except ValueError:  # not a calendar date (2026-02-30, year 0)
        return None


def naive_utc(value: datetime | None) -> datetime | None:
    """What the warehouse stores."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def normalize_email(value: Any) -> tuple[str | None, bool]:
    """(trimmed lower-case e-mail or None, whether it is well-formed); malformed e-mails never match anyone."""
    raw = text(value)
    if raw is None:
        return None, False
    folded = raw.lower()
    valid = bool(_EMAIL.fullmatch(folded))
    return (folded if valid else None), valid


def records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows as dicts; NaN/NaT become None so the builders see one kind of 'missing'."""
    if frame.empty:
        return iter(())
    clean = frame.astype(object).where(frame.notna(), None)
    rows: list[dict[str, Any]] = clean.to_dict("records")  # type: ignore[assignment]
    return iter(rows)


def record_key(system: str, obj: str, source_id: str) -> str:
    return f"{system}:{obj}:{source_id}"
