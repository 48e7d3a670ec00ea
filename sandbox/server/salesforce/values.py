"""Conversions between neutral Python values, the SQLite store and Salesforce's wire formats.

Datetimes are stored as fixed-width UTC text in Salesforce's own format (``2026-01-15T10:30:00.000+0000``) so
that text order is time order: SOQL comparisons and ORDER BY then run inside SQLite without conversions.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.model.salesforce import SfField

_NUMERIC = {"double", "currency", "percent"}
_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})\Z")


def format_datetime(value: datetime) -> str:
    """Salesforce's datetime format, always rendered in UTC with milliseconds."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: sandbox datetimes must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """A SOQL/REST datetime: ``2026-01-15T10:30:00Z``, ``...00.000+0000`` or ``...00+02:00``."""
    m = _DATETIME_RE.match(text)
    if not m:
        raise ValueError(f"not a Salesforce datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    if zone == "Z":
        return parsed.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    return (parsed - timedelta(minutes=offset)).replace(tzinfo=UTC)


def to_db(field: SfField, value: Any) -> Any:
    """A neutral Python value (or its JSON/string form from a REST write) as stored in SQLite."""
    if value is None:
        return None
    kind = field.type
    if kind == "boolean":
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                raise ValueError(f"{field.name}: not a boolean: {value!r}")
            return int(value.lower() == "true")
        return int(bool(value))
    if kind == "datetime":
        if isinstance(value, datetime):
            return format_datetime(value)
        return format_datetime(parse_datetime(str(value)))
    if kind == "date":
        if isinstance(value, datetime):
            return value.astimezone(UTC).date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return date.fromisoformat(str(value)).isoformat()
    if kind == "int":
        return int(value)
    if kind in _NUMERIC:
        return float(value)
    if kind == "multipicklist" and isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def to_json(field: SfField, stored: Any) -> Any:
    """A stored value as the REST API renders it (datetimes are already in wire format)."""
    if stored is None:
        return None
    if field.type == "boolean":
        return bool(stored)
    if field.type in _NUMERIC:
        return float(stored)
    return stored


def to_csv(field: SfField, stored: Any) -> str:
    """A stored value as a Bulk 2.0 CSV cell: empty for null, ``true``/``false`` for booleans."""
    if stored is None:
        return ""
    if field.type == "boolean":
        return "true" if stored else "false"
    return str(stored)
