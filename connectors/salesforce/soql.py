"""SOQL text for incremental windows: a compound keyset cursor with a fixed upper bound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def soql_datetime(value: datetime) -> str:
    """SOQL datetime literal (unquoted, UTC, millisecond precision)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Window:
    """Rows with ``after < (cursor, Id) <= upper`` in (cursor field, Id) order.

    ``after_id`` empty means "everything at ``after_ts`` too" (a fresh window opened with a lookback);
    a non-empty id resumes exactly after the last committed row of an interrupted window.
    """

    cursor_field: str
    upper: datetime
    after_ts: datetime | None = None
    after_id: str = ""

    def where(self) -> str:
        f = self.cursor_field
        bound = f"{f} <= {soql_datetime(self.upper)}"
        if self.after_ts is None:
            return bound
        ts = soql_datetime(self.after_ts)
        if not self.after_id:
            return f"{f} >= {ts} AND {bound}"
        return f"({f} > {ts} OR ({f} = {ts} AND Id > {_quote(self.after_id)})) AND {bound}"


def select(fields: tuple[str, ...], object_name: str, window: Window) -> str:
    return (
        f"SELECT {', '.join(fields)} FROM {object_name} WHERE {window.where()} "
        f"ORDER BY {window.cursor_field} ASC, Id ASC"
    )
