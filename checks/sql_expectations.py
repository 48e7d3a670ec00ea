"""GX's verdicts on a DuckDB batch computed in the warehouse: one aggregate query per suite, one capped sample
query per failing row-wise expectation.

GX's SQL engine is broken on DuckDB (GX issues 10738, 11579) and its pandas engine needs every judged value in
Python, which costs tens of seconds per suite at a million rows. Each expectation kind below is restated as SQL
with the semantics GX's pandas engine has on the frame DuckDB would hand it:

- column-map expectations ignore nulls, except ``..._to_not_be_null`` / ``..._to_be_null`` which judge them;
  ``mostly`` compares the share of considered rows that pass (all rows for the null kinds, non-null rows
  otherwise; vacuously true when none are considered);
- pair expectations drop rows by ``ignore_row_if`` first; uniqueness counts every copy of a repeated key;
- a regex is Python ``re.search`` (pandas ``str.contains``); DuckDB's RE2 agrees on a pattern rewritten so that
  ``\\s`` is Python's Unicode whitespace and a final ``$`` also matches before one trailing newline; patterns
  using anything else RE2 reads differently are not translated;
- column min/max and the row count are aggregates judged in Python against the bounds.

``translate`` returns None for whatever it cannot restate exactly (an unknown kind, an argument or column type
it is unsure of); the caller then keeps GX's pandas engine for that expectation, so no verdict changes meaning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import pandas as pd

from checks.model import Expect, ExpectationOutcome

Quote = Callable[[str], str]
Builder = Callable[[dict[str, Any], Mapping[str, str], Quote], "Plan | None"]

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_NUMBERS = _INTEGERS | {"FLOAT", "DOUBLE"}
# Types pandas (on what DuckDB hands it) and DuckDB order alike, for pair comparisons.
_ORDERED = _NUMBERS | {"TIMESTAMP", "DATE", "VARCHAR"}

# What Python's ``\s`` matches in a str pattern (every code point c with re.match(r"\s", c)), for RE2.
_PYTHON_SPACE = (
    r"\t\n\x{0b}\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
# Escapes that mean the same in RE2 and Python (literal punctuation); ``\d``, ``\w``, ``\b`` differ on Unicode.
_SAME_ESCAPES = set(r".-@+*?()[]{}|^$/\_:#%&,;<=>!~'" + '"')


class SqlBatch(Protocol):
    """The suite's rows as DuckDB SQL, and what outcomes need to name offending rows."""

    @property
    def sql(self) -> str: ...

    @property
    def id_columns(self) -> tuple[str, ...]: ...

    @property
    def sample_size(self) -> int: ...

    def quote(self, column: str) -> str: ...

    def read(self, sql: str) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Plan:
    """One expectation as SQL over the batch (aliased ``batch``).

    ``map`` and ``unique``: ``offending`` is a row condition (map) or a key list (unique), ``considered`` the
    rows ``mostly`` is a share of; ``aggregate``: ``value`` is the one-row aggregate GX judges."""

    form: Literal["map", "unique", "aggregate"]
    offending: str = "FALSE"
    considered: str = "TRUE"
    ignored: str = "FALSE"  # unique: rows whose key counts as missing
    value: str = ""
    mostly: float = 1.0


def column_types(batch: SqlBatch) -> dict[str, str]:
    """The batch's column types, which decide whether a translation is exact (DuckDB: DESCRIBE plans only)."""
    frame = batch.read(f"DESCRIBE {batch.sql}")
    return {str(n): str(t) for n, t in zip(frame["column_name"], frame["column_type"])}


def translate(spec: Expect, types: Mapping[str, str], quote: Quote) -> Plan | None:
    """``spec`` as SQL, or None when GX's pandas engine must judge it (the caller keeps that path)."""
    kwargs = dict(spec.kwargs)
    mostly = kwargs.pop("mostly", 1.0)
    if not isinstance(mostly, (int, float)) or isinstance(mostly, bool) or not 0 <= mostly <= 1:
        return None
    kwargs.pop("meta", None)
    kwargs.pop("notes", None)
    builder = _BUILDERS.get(spec.kind)
    plan = builder(kwargs, types, quote) if builder else None
    if plan is None:
        return None
    return Plan(plan.form, plan.offending, plan.considered, plan.ignored, plan.value, float(mostly))


def _column(kwargs: dict[str, Any], types: Mapping[str, str], key: str = "column") -> str | None:
    name = kwargs.pop(key, None)
    return name if isinstance(name, str) and name in types else None


def _not_null(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    column = _column(kwargs, types)
    return None if column is None or kwargs else Plan("map", f"{quote(column)} IS NULL")


def _null(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    column = _column(kwargs, types)
    return None if column is None or kwargs else Plan("map", f"{quote(column)} IS NOT NULL")


def _members(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> tuple[str, str] | None:
    """(column, SQL list) when the set's values and the column have one type pandas ``isin`` compares alike."""
    column = _column(kwargs, types)
    values = kwargs.pop("value_set", None)
    if column is None or kwargs or not isinstance(values, (list, tuple, set)) or not values:
        return None
    kind = types[column]
    if kind == "VARCHAR" and all(isinstance(v, str) for v in values):
        return quote(column), ", ".join(_string(v) for v in values)
    if kind == "BOOLEAN" and all(isinstance(v, bool) for v in values):
        return quote(column), ", ".join("TRUE" if v else "FALSE" for v in values)
    if kind in _INTEGERS and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return quote(column), ", ".join(str(int(v)) for v in values)
    return None


def _in_set(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    members = _members(kwargs, types, quote)
    return None if members is None else _nonnull_map(members[0], f"{members[0]} NOT IN ({members[1]})")


def _not_in_set(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    members = _members(kwargs, types, quote)
    return None if members is None else _nonnull_map(members[0], f"{members[0]} IN ({members[1]})")


def _regex(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote, negate: bool) -> Plan | None:
    column = _column(kwargs, types)
    pattern = python_regex_as_re2(kwargs.pop("regex", None))
    if column is None or kwargs or pattern is None or types[column] != "VARCHAR":
        return None
    matches = f"regexp_matches({quote(column)}, {_string(pattern)})"
    return _nonnull_map(quote(column), matches if negate else f"NOT {matches}")


def _match(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    return _regex(kwargs, types, quote, negate=False)


def _not_match(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    return _regex(kwargs, types, quote, negate=True)


def _between(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    """Numeric columns and bounds only: pandas compares those exactly as SQL does."""
    column = _column(kwargs, types)
    bounds = _bounds(kwargs)
    if column is None or kwargs or bounds is None or types[column] not in _NUMBERS:
        return None
    low, high, strict_low, strict_high = bounds
    if not _typed_bounds(low, high, "DOUBLE"):
        return None
    passing = [f"{quote(column)} {'>' if strict_low else '>='} {low!r}"] if low is not None else []
    passing += [f"{quote(column)} {'<' if strict_high else '<='} {high!r}"] if high is not None else []
    return _nonnull_map(quote(column), f"NOT ({' AND '.join(passing)})")


def _typed_bounds(low: Any, high: Any, column_type: str) -> bool:
    """Bounds Python compares with the column's values as SQL would: finite numbers for numbers, naive datetimes
    for timestamps; anything else (or a configuration GX rejects) is GX's to judge."""
    if column_type == "TIMESTAMP":
        fits = all(b is None or (isinstance(b, datetime) and b.tzinfo is None) for b in (low, high))
    else:
        fits = all(
            b is None or (isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b))
            for b in (low, high)
        )
    return fits and (low is not None or high is not None) and (low is None or high is None or low <= high)


def _bounds(kwargs: dict[str, Any]) -> tuple[Any, Any, bool, bool] | None:
    low, high = kwargs.pop("min_value", None), kwargs.pop("max_value", None)
    strict_low, strict_high = kwargs.pop("strict_min", False), kwargs.pop("strict_max", False)
    if not isinstance(strict_low, bool) or not isinstance(strict_high, bool):
        return None
    return low, high, strict_low, strict_high


def _pair(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote, compare: str) -> Plan | None:
    a, b = _column(kwargs, types, "column_A"), _column(kwargs, types, "column_B")
    ignore = kwargs.pop("ignore_row_if", "both_values_are_missing")
    if a is None or b is None or kwargs or not _comparable(types[a], types[b]):
        return None
    missing = {
        "both_values_are_missing": f"({quote(a)} IS NULL AND {quote(b)} IS NULL)",
        "either_value_is_missing": f"({quote(a)} IS NULL OR {quote(b)} IS NULL)",
        "neither": "FALSE",
    }.get(ignore)
    if missing is None:
        return None
    # pandas compares a missing value as unequal/not greater: a remaining row with a null offends.
    passing = f"COALESCE({quote(a)} {compare} {quote(b)}, FALSE)"
    return Plan("map", f"NOT {missing} AND NOT {passing}", f"NOT {missing}")


def _pair_equal(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    return _pair(kwargs, types, quote, "=")


def _pair_greater(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    or_equal = kwargs.pop("or_equal", False)
    return _pair(kwargs, types, quote, ">=" if or_equal else ">") if isinstance(or_equal, bool) else None


def _comparable(a: str, b: str) -> bool:
    return (a in _NUMBERS and b in _NUMBERS) or (a == b and a in _ORDERED | {"BOOLEAN"})


def _unique(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    column = _column(kwargs, types)
    if column is None or kwargs:
        return None
    return Plan("unique", quote(column), f"{quote(column)} IS NOT NULL", f"{quote(column)} IS NULL")


def _compound_unique(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    """GX's default ignores a row only when its whole key is missing; NULLs of a key compare equal (pandas)."""
    columns = kwargs.pop("column_list", None)
    ignore = kwargs.pop("ignore_row_if", "all_values_are_missing")
    if kwargs or not isinstance(columns, (list, tuple)) or not columns or any(c not in types for c in columns):
        return None
    joiner = {"all_values_are_missing": " AND ", "any_value_is_missing": " OR ", "never": None}
    if ignore not in joiner:
        return None
    glue = joiner[ignore]
    missing = f"({glue.join(f'{quote(c)} IS NULL' for c in columns)})" if glue else "FALSE"
    return Plan("unique", ", ".join(quote(c) for c in columns), f"NOT {missing}", missing)


def _extreme(function: str) -> Builder:
    def build(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
        column = _column(kwargs, types)
        bounds = _bounds(kwargs)
        if column is None or bounds is None or kwargs or types[column] not in _NUMBERS | {"TIMESTAMP"}:
            return None
        typed = _typed_bounds(bounds[0], bounds[1], types[column])
        return Plan("aggregate", value=f"{function}({quote(column)})") if typed else None

    return build


def _row_count(kwargs: dict[str, Any], types: Mapping[str, str], quote: Quote) -> Plan | None:
    bounds = _bounds(kwargs)
    if bounds is None or kwargs or not _typed_bounds(bounds[0], bounds[1], "BIGINT"):
        return None
    return Plan("aggregate", value="count(*)")


def _nonnull_map(column: str, offending: str) -> Plan:
    return Plan("map", f"{column} IS NOT NULL AND {offending}", f"{column} IS NOT NULL")


_BUILDERS: dict[str, Builder] = {
    "ExpectColumnValuesToNotBeNull": _not_null,
    "ExpectColumnValuesToBeNull": _null,
    "ExpectColumnValuesToBeInSet": _in_set,
    "ExpectColumnValuesToNotBeInSet": _not_in_set,
    "ExpectColumnValuesToMatchRegex": _match,
    "ExpectColumnValuesToNotMatchRegex": _not_match,
    "ExpectColumnValuesToBeBetween": _between,
    "ExpectColumnPairValuesToBeEqual": _pair_equal,
    "ExpectColumnPairValuesAToBeGreaterThanB": _pair_greater,
    "ExpectColumnValuesToBeUnique": _unique,
    "ExpectCompoundColumnsToBeUnique": _compound_unique,
    "ExpectColumnMaxToBeBetween": _extreme("max"),
    "ExpectColumnMinToBeBetween": _extreme("min"),
    "ExpectTableRowCountToBeBetween": _row_count,
}
_NULL_KINDS = {"ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeNull"}


def python_regex_as_re2(pattern: Any) -> str | None:
    """``pattern`` rewritten so RE2's partial match agrees with Python's ``re.search``, or None when it uses a
    construct whose meaning differs or that only one of them has: ``\\d``/``\\w``/``\\b`` (Unicode in
    Python), groups with ``(?``, backreferences, POSIX or nested classes, ``{,n}``, possessive quantifiers, a
    ``$`` anywhere but at the very end."""
    if not isinstance(pattern, str) or any(s in pattern for s in ("(?", "{,", "++", "*+", "?+", "}+")):
        return None
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if escaped == "s":
                out.append(_PYTHON_SPACE if in_class else f"[{_PYTHON_SPACE}]")
            elif escaped and escaped in _SAME_ESCAPES:
                out.append(char + escaped)
            else:
                return None
            i += 2
            continue
        if in_class and char == "[":
            return None  # "[[:alpha:]]" is a POSIX class in RE2, a literal "[" in Python
        if not in_class and char == "[":
            in_class = True
            opening = pattern[i + 1 : i + 3]
            if opening.startswith("]") or opening == "^]":
                return None  # a leading "]" is literal in Python, an empty class to RE2
        elif in_class and char == "]":
            in_class = False
        elif char == "$" and (in_class or i != len(pattern) - 1):
            return None
        out.append(char)
        i += 1
    if in_class:
        return None
    # Python's final ``$`` also matches just before a trailing newline; RE2's only at the very end. (An escaped
    # "\\$" is one token of ``out``, so only an anchor is a bare "$".)
    if out and out[-1] == "$":
        out[-1] = r"\n?$"
    return "".join(out)


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def evaluate(
    batch: SqlBatch, plans: Mapping[int, tuple[Expect, str, Plan]]
) -> tuple[dict[int, ExpectationOutcome], int]:
    """Outcomes of the planned expectations (by suite position) and the batch's row count, from one aggregate
    query over the batch and one ``LIMIT sample_size`` query per failing row-wise expectation. A min/max of an
    empty batch (NULL) is left out: the caller has GX judge it."""
    source = f"WITH batch AS NOT MATERIALIZED ({batch.sql}) "
    selects = ["count(*) AS element_count"]
    for i, (_, _, plan) in plans.items():
        selects += _aggregates(i, plan)
    frame = batch.read(source + f"SELECT {', '.join(selects)} FROM batch")
    # Cell by cell: a row of a mixed frame would upcast every value to one dtype (a count to float).
    row = {name: frame[name].iloc[0] for name in frame.columns}
    rows = int(row["element_count"])
    judged = {i: _judge(batch, source, i, spec, kind, plan, row, rows) for i, (spec, kind, plan) in plans.items()}
    return {i: o for i, o in judged.items() if o is not None}, rows


def _aggregates(i: int, plan: Plan) -> list[str]:
    if plan.form == "aggregate":
        return [f"{plan.value} AS v{i}"]
    considered = f"sum(CASE WHEN {plan.considered} THEN 1 ELSE 0 END) AS c{i}"
    if plan.form == "map":
        return [f"sum(CASE WHEN {plan.offending} THEN 1 ELSE 0 END) AS u{i}", considered]
    # Every copy of a repeated key offends: the sizes of the groups with more than one row, summed.
    copies = (
        f"(SELECT sum(copies) FROM (SELECT count(*) AS copies FROM batch WHERE NOT {plan.ignored} "
        f"GROUP BY {plan.offending} HAVING count(*) > 1) AS repeated) AS u{i}"
    )
    return [copies, considered]


def _judge(
    batch: SqlBatch, source: str, i: int, spec: Expect, kind: str, plan: Plan, row: Mapping[str, Any], rows: int
) -> ExpectationOutcome | None:
    """GX's outcome from the aggregate row; None for an aggregate that came out NULL (an empty batch), whose
    verdict GX's pandas engine must give."""
    column = _named_columns(spec)
    if plan.form == "aggregate":
        value = row[f"v{i}"]
        if _missing(value) or pd.isna(value):
            return None
        success = _within(value, spec.kwargs)
        return ExpectationOutcome(kind, column, success, 0 if success else 1, (), str(value))
    unexpected = 0 if pd.isna(row[f"u{i}"]) else int(row[f"u{i}"])
    considered = rows if spec.kind in _NULL_KINDS else (0 if pd.isna(row[f"c{i}"]) else int(row[f"c{i}"]))
    # GX: vacuously true when no row is considered, else the passing share of considered rows against mostly.
    success = rows == 0 or considered == 0 or (considered - unexpected) / considered >= plan.mostly
    samples = _samples(batch, source, plan) if unexpected else ()
    return ExpectationOutcome(kind, column, success, unexpected, samples)


def _within(value: Any, kwargs: Mapping[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    above = low is None or (value > low if kwargs.get("strict_min") else value >= low)
    below = high is None or (value < high if kwargs.get("strict_max") else value <= high)
    return bool(above and below)


def _samples(batch: SqlBatch, source: str, plan: Plan) -> tuple[str, ...]:
    ids = ", ".join(batch.quote(c) for c in batch.id_columns)
    limit = int(batch.sample_size)
    if plan.form == "map":
        query = f"SELECT {ids} FROM batch WHERE {plan.offending} LIMIT {limit}"
    else:
        query = (
            f"SELECT {ids} FROM (SELECT {ids}, count(*) OVER (PARTITION BY {plan.offending}) AS copies "
            f"FROM batch WHERE NOT {plan.ignored}) AS keyed WHERE copies > 1 LIMIT {limit}"
        )
    frame = batch.read(source + query)
    return sample_ids(frame.to_dict("records"), batch.id_columns, limit)


def _named_columns(spec: Expect) -> str:
    kwargs = spec.kwargs
    if kwargs.get("column"):
        return str(kwargs["column"])
    named = kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if k in kwargs]
    return ",".join(str(c) for c in named)


def sample_ids(index_list: Iterable[Any], id_columns: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """Offending rows named by their id columns ("a|b"), distinct, at most ``limit``."""
    seen: dict[str, None] = {}
    for row in index_list:
        if not isinstance(row, Mapping):
            continue
        key = "|".join("" if _missing(row.get(c)) else str(row.get(c)) for c in id_columns)
        seen.setdefault(key, None)
        if len(seen) >= limit:
            break
    return tuple(seen)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))
