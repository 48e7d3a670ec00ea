"""Conversions between a HubSpot property's three forms: dataset/Python, SQLite storage and wire string.

HubSpot sends every property value as a string, but its search compares datetimes and numbers numerically; the
store therefore keeps datetimes as millisecond epochs, numbers as numbers and booleans as 0/1, and only the
wire renderer turns them back into strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sandbox.model.hubspot import HsProperty

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: sandbox datetimes must be timezone-aware")
    return int(round(value.timestamp() * 1000))


def iso_ms(epoch_ms: int) -> str:
    """``2024-03-01T09:30:00.123Z``: the form HubSpot uses for every datetime on the wire."""
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_instant(text: str) -> int:
    """A datetime given as a millisecond-epoch string, an ISO datetime or an ISO date (midnight UTC)."""
    raw = text.strip()
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        if len(raw) == 10:
            return ms(datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC))
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a millisecond epoch, ISO-8601 datetime or date") from None
    return ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def to_storage(prop: HsProperty, value: Any) -> Any:
    """Dataset values (Python) and wire values (strings, JSON numbers) alike, as the store keeps them."""
    if value is None or (isinstance(value, str) and value == "" and prop.type != "string"):
        return None
    if prop.type in ("datetime", "date"):
        if isinstance(value, datetime):
            return ms(value)
        if isinstance(value, date):
            return ms(datetime.combine(value, time(), tzinfo=UTC))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        return parse_instant(str(value))
    if prop.type == "number":
        if isinstance(value, bool):
            raise ValueError(f"{prop.name}: {value!r} is not a number")
        if isinstance(value, (int, float)):
            return value
        return parse_number(str(value), prop.name)
    if prop.type == "bool":
        if isinstance(value, bool):
            return int(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return 1
        if text in _FALSE:
            return 0
        raise ValueError(f"{prop.name}: {value!r} is not a boolean")
    if isinstance(value, (list, tuple)):
        # Multi-valued enumerations (checkboxes) are ';'-joined strings on the wire.
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_number(text: str, name: str = "value") -> int | float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def to_wire(prop: HsProperty | None, stored: Any) -> str | None:
    if stored is None:
        return None
    kind = prop.type if prop is not None else "string"
    if kind == "datetime":
        return iso_ms(int(stored))
    if kind == "date":
        return iso_ms(int(stored))[:10]
    if kind == "bool":
        return "true" if stored else "false"
    if kind == "number":
        if isinstance(stored, float) and stored.is_integer():
            return str(int(stored))
        return str(stored)
    return str(stored)
