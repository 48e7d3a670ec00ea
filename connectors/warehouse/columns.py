"""Column-at-a-time coercion: the rules of `coerce.coerce_value`, applied to a whole column with Arrow compute.

`coerce_value` stays the reference rule. This module only takes a vectorised shortcut for the cells whose
outcome it can prove is the reference's: a column whose Python types are the usual ones for its logical type
(e.g. all `str`/None for a Bulk CSV page), and, within it, the cells that match a strict pattern (plain
ASCII digits, ISO-8601 with an offset in 1900-2999, ...). Every other cell goes through `coerce_value` itself,
so unusual input costs speed, never a different value or reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.warehouse.coerce import NUL, CoercionError, coerce_value
from connectors.warehouse.logical_types import LogicalType

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    # Arrow has no JSON type DuckDB maps: JSON travels as its serialised text and is CAST to JSON in SQL.
    "json": pa.string(),
}

# Only characters Python's str.strip() also removes, so a match here is blank for the reference rule too.
_BLANK = r"^[ \t\n\r\f\v]*$"
_INTEGER = r"^[+-]?[0-9]{1,18}$"  # 18 digits always fit int64
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_EPOCH_MS = r"^-?[0-9]{1,15}$"
# Years 1900-2999 and offsets under 24h: far from datetime's range limits, where the reference raises.
_YEAR = r"(19|2[0-9])[0-9]{2}"
_ISO_DATE = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
_ISO_TIMESTAMP = (
    rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,6}})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$"
)
_MS_PER_DAY = 86_400_000
# datetime.min and datetime.max as millisecond epochs: outside them the reference raises "out of range".
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_799_999


@dataclass
class CoercedColumn:
    """Typed values (null where the cell was null, blank or bad), the bad cells' reasons by row index, and
    for json columns the original objects (the array holds their JSON text)."""

    array: pa.Array
    errors: dict[int, str] = field(default_factory=dict)
    objects: list[Any] | None = None


@dataclass
class _Partial:
    """A vectorised attempt: `array` is right wherever `unresolved` is false."""

    array: pa.Array
    unresolved: np.ndarray


def coerce_column(values: Sequence[Any], logical: LogicalType, max_length: int | None = None) -> CoercedColumn:
    """`coerce_value` applied to every value, with the same results and reasons."""
    if logical == "json":
        return _json_column(values, max_length)
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return CoercedColumn(pa.nulls(len(values), ARROW_TYPES[logical]))
    shortcut = _SHORTCUTS.get((logical, frozenset(kinds)))
    partial = None
    if shortcut is not None:
        try:
            partial = shortcut(values, max_length)
        except (pa.ArrowException, OverflowError, UnicodeError):
            partial = None  # e.g. an invalid calendar date in the matched cells: let the reference decide
    if partial is None:
        partial = _Partial(pa.nulls(len(values), ARROW_TYPES[logical]), np.ones(len(values), dtype=bool))
    return _resolve(values, logical, max_length, partial)


def _resolve(values: Sequence[Any], logical: LogicalType, max_length: int | None, partial: _Partial) -> CoercedColumn:
    """Run the reference rule on the cells the shortcut left open and patch its results in."""
    indices = np.flatnonzero(partial.unresolved)
    if not len(indices):
        return CoercedColumn(partial.array)
    errors: dict[int, str] = {}
    patched: list[Any] = []
    for index in indices.tolist():
        try:
            patched.append(coerce_value(values[index], logical, max_length))
        except CoercionError as exc:
            errors[index] = exc.reason
            patched.append(None)
    mask = pa.array(partial.unresolved, type=pa.bool_())
    array = pc.replace_with_mask(partial.array, mask, pa.array(patched, type=ARROW_TYPES[logical]))
    return CoercedColumn(array, errors)


def _json_column(values: Sequence[Any], max_length: int | None) -> CoercedColumn:
    # No shortcut: checking that a value serialises is the rule itself, and its text is what gets staged.
    errors: dict[int, str] = {}
    objects: list[Any] = []
    for index, value in enumerate(values):
        try:
            objects.append(coerce_value(value, "json", max_length))
        except CoercionError as exc:
            errors[index] = exc.reason
            objects.append(None)
    texts = [None if v is None else json.dumps(v) for v in objects]
    return CoercedColumn(pa.array(texts, type=pa.string()), errors, objects)


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null counting as false."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _strings(values: Sequence[Any]) -> tuple[pa.Array, np.ndarray]:
    """The column as Arrow text, and the mask of cells holding a value (neither null nor blank)."""
    text = pa.array(values, type=pa.string())
    blank = _mask(pc.match_substring_regex(text, _BLANK)) | _mask(pc.is_null(text))
    return text, ~blank


def _integers(array: pa.Array) -> np.ndarray:
    """An int64 Arrow array as numpy, null as 0 (callers mask those cells out)."""
    return np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _matching(text: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.match_substring_regex(text, pattern))


def _parsed(text: pa.Array, matched: np.ndarray, target: pa.DataType) -> pa.Array:
    """Cast only the matched cells (others become null first, so they cannot make the cast fail)."""
    kept = pc.if_else(pa.array(matched), text, pa.scalar(None, pa.string()))
    return pc.cast(pc.replace_substring_regex(kept, r"^\+", ""), target)


def _string_to_string(values: Sequence[Any], max_length: int | None) -> _Partial:
    # Arrow refuses lone surrogates (UnicodeEncodeError: the reference takes the column); text holding NUL is
    # left to the reference, which removes it.
    text = pa.array(values, type=pa.string())
    open_cells = _mask(pc.match_substring(text, NUL))
    if max_length is not None:
        open_cells |= _mask(pc.greater(pc.utf8_length(text), max_length))
    return _Partial(text, open_cells)


def _string_to_integer(values: Sequence[Any], max_length: int | None) -> _Partial:
    text, present = _strings(values)
    matched = present & _matching(text, _INTEGER)
    return _Partial(_parsed(text, matched, pa.int64()), present & ~matched)


def _string_to_float(values: Sequence[Any], max_length: int | None) -> _Partial:
    text, present = _strings(values)
    matched = present & _matching(text, _DECIMAL)
    numbers = _parsed(text, matched, pa.float64())
    # inf/nan (e.g. "1e999") get the reference's "not finite" reason.
    finite = _mask(pc.is_finite(numbers))
    return _Partial(numbers, present & ~(matched & finite))


def _string_to_boolean(values: Sequence[Any], max_length: int | None) -> _Partial:
    text, present = _strings(values)
    lowered = pc.ascii_lower(text)
    true, false = _mask(pc.equal(lowered, "true")), _mask(pc.equal(lowered, "false"))
    array = pc.if_else(pa.array(true | false), pa.array(true), pa.scalar(None, pa.bool_()))
    return _Partial(array, present & ~(true | false))


def _epoch_ms(millis: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Milliseconds since the epoch as naive-UTC timestamps, and the mask of cells within datetime's range."""
    valid = ~_mask(pc.is_null(millis))
    filled = _integers(millis)
    in_range = valid & (filled >= _MIN_MS) & (filled <= _MAX_MS)
    micros = pa.array(np.where(in_range, filled, 0) * 1000, type=pa.int64(), mask=~in_range)
    return micros.cast(pa.timestamp("us")), in_range


def _string_to_timestamp(values: Sequence[Any], max_length: int | None) -> _Partial:
    text, present = _strings(values)
    iso = present & _matching(text, _ISO_TIMESTAMP)
    epoch = present & _matching(text, _EPOCH_MS)
    from_iso = pc.cast(_parsed(text, iso, pa.timestamp("us", "UTC")), pa.timestamp("us"))
    from_epoch, in_range = _epoch_ms(_parsed(text, epoch, pa.int64()))
    array = pc.if_else(pa.array(iso), from_iso, from_epoch)
    return _Partial(array, present & ~(iso | (epoch & in_range)))


def _integer_to_timestamp(values: Sequence[Any], max_length: int | None) -> _Partial:
    millis = pa.array(values, type=pa.int64())
    array, in_range = _epoch_ms(millis)
    present = ~_mask(pc.is_null(millis))
    return _Partial(array, present & ~in_range)


def _string_to_date(values: Sequence[Any], max_length: int | None) -> _Partial:
    text, present = _strings(values)
    iso = present & _matching(text, _ISO_DATE)
    epoch = present & _matching(text, _EPOCH_MS)
    from_iso = _parsed(text, iso, pa.date32())
    millis = _integers(_parsed(text, epoch, pa.int64()))
    midnight = epoch & (millis % _MS_PER_DAY == 0) & (millis >= _MIN_MS) & (millis <= _MAX_MS)
    days = pa.array((millis // _MS_PER_DAY).astype(np.int32), type=pa.int32(), mask=~midnight).cast(pa.date32())
    array = pc.if_else(pa.array(iso), from_iso, days)
    return _Partial(array, present & ~(iso | midnight))


def _typed(arrow_type: pa.DataType) -> Callable[[Sequence[Any], int | None], _Partial]:
    """Values already of the column's Python type: Arrow converts them exactly, nothing is left open."""

    def convert(values: Sequence[Any], max_length: int | None) -> _Partial:
        return _Partial(pa.array(values, type=arrow_type), np.zeros(len(values), dtype=bool))

    return convert


def _numbers_to_float(values: Sequence[Any], max_length: int | None) -> _Partial:
    numbers = pa.array(values, type=pa.float64())
    finite = _mask(pc.is_finite(numbers))
    present = ~_mask(pc.is_null(numbers))
    return _Partial(numbers, present & ~finite)


_Shortcut = Callable[[Sequence[Any], int | None], _Partial]
_SHORTCUTS: dict[tuple[str, frozenset[type]], _Shortcut] = {
    ("string", frozenset({str})): _string_to_string,
    ("integer", frozenset({str})): _string_to_integer,
    ("integer", frozenset({int})): _typed(pa.int64()),
    ("float", frozenset({str})): _string_to_float,
    ("float", frozenset({float})): _numbers_to_float,
    ("float", frozenset({int})): _numbers_to_float,
    ("float", frozenset({int, float})): _numbers_to_float,
    ("boolean", frozenset({str})): _string_to_boolean,
    ("boolean", frozenset({bool})): _typed(pa.bool_()),
    ("timestamp", frozenset({str})): _string_to_timestamp,
    ("timestamp", frozenset({int})): _integer_to_timestamp,
    ("date", frozenset({str})): _string_to_date,
}
