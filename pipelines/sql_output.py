"""A query's rows as ``crm-loop sql`` prints them: an aligned table for people, CSV or JSON for other programs.

The table rounds fractions for reading (4 decimals in a column holding fractions below 1, else 2) and shows
NULL as ``NULL``, so it differs from an empty string; CSV and JSON keep every value's full precision.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal, get_args

from connectors.errors import UserError

Format = Literal["table", "csv", "json"]
FORMATS: tuple[str, ...] = get_args(Format)
NULL = "NULL"


def render(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Format) -> Iterator[str]:
    """The output lines, one by one (CSV and JSON stream; the table needs every row to align them)."""
    if fmt == "csv":
        return _csv(columns, rows)
    if fmt == "json":
        return _json(columns, rows)
    return _table(columns, list(rows))


def _is_fraction(value: Any) -> bool:
    """A number shown with decimals: floats, and decimals that are not whole (PostgreSQL's SUM is numeric)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, Decimal) and value.is_finite() and value != value.to_integral_value()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _decimals(values: Iterable[Any]) -> int:
    fractions = [abs(v) for v in values if _is_fraction(v)]
    return 4 if any(0 < f < 1 for f in fractions) else 2


def _text(value: Any, decimals: int) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_fraction(value):
        return f"{value:.{decimals}f}"
    if isinstance(value, Decimal) and value.is_finite():
        return str(value.to_integral_value())
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    # One row per line: a line break or tab inside a value is shown escaped.
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _table(columns: Sequence[str], rows: list[Sequence[Any]]) -> Iterator[str]:
    decimals = [_decimals(row[i] for row in rows) for i in range(len(columns))]
    cells = [[_text(v, decimals[i]) for i, v in enumerate(row)] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [bool(rows) and all(_is_number(r[i]) or r[i] is None for r in rows) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        padded = (v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True))
        return "  ".join(padded).rstrip()

    yield line(columns)
    yield "  ".join("-" * w for w in widths)
    for row in cells:
        yield line(row)
    yield f"({len(rows)} row{'' if len(rows) == 1 else 's'})"


def _plain(value: Any) -> Any:
    """A value as CSV and JSON carry it: ISO dates, whole decimals as integers, others as floats."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity; the text keeps the value visible.
    return value


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(columns)
    for row in rows:
        yield line(["" if v is None else _plain(v) for v in row])


def _json(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    duplicates = sorted({c for c in columns if list(columns).count(c) > 1})
    if duplicates:
        raise UserError(f"--format json needs distinct column names; alias {', '.join(duplicates)} (AS ...)")
    yield "["
    previous: str | None = None
    for row in rows:
        if previous is not None:
            yield previous + ","
        previous = json.dumps({c: _plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False)
    if previous is not None:
        yield previous
    yield "]"
