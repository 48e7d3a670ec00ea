"""Numbers as leaders read them: 91%, $1.2M, 1,234, 3.5 days. One formatter per kind of column, shared by the
page, its charts' labels and the Markdown summary."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["text", "count", "rate", "money", "days", "minutes", "month"]


def as_number(value: Any) -> float | None:
    """A driver's value as a float (PostgreSQL's SUM is a Decimal); None stays None."""
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | int | float) else None


def money(value: float) -> str:
    """$1.2M, $35K, $950: the precision a leader reads, not the cents."""
    sign, amount = ("-" if value < 0 else ""), abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= threshold:
            return f"{sign}${amount / threshold:.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{sign}${amount:,.0f}"


def shown(value: Any, kind: Kind) -> str:
    """``value`` as the page shows it; a missing value (no rate without a denominator) is an en dash."""
    if value is None:
        return "–"
    if kind == "month":
        return value.strftime("%b %Y") if isinstance(value, date | datetime) else str(value)
    if kind == "text":
        return str(value)
    number = as_number(value)
    if number is None:
        return str(value)
    if kind == "rate":
        return f"{number:.0%}"
    if kind == "money":
        return money(number)
    if kind == "days":
        return f"{number:,.1f} d"
    if kind == "minutes":
        return f"{number:,.0f} min"
    return f"{number:,.0f}"


def raw(value: Any) -> str:
    """The exact value behind a cell (``data-value``), for readers that want it and for the tests."""
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    number = as_number(value)
    if number is None:
        return str(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
