"""Small conversions between pandas cells and the plain values the pure builders and funnel functions use."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def text(value: Any) -> str | None:
    """Trimmed text; blanks, NaN and None are None. Integral floats lose their '.0' (ids landed as numbers)."""
    if missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def integer(value: Any) -> int | None:
    if missing(value):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def number(value: Any) -> float | None:
    if missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def flag(value: Any) -> bool | None:
    if missing(value):
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
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
    return date.fromisoformat(str(value)[:10])


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
