"""Typed rows kept as Arrow columns, so landing never has to turn them into Python values and back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import pyarrow as pa
import pyarrow.compute as pc


class LoadedRows(Sequence[dict[str, Any]]):
    """The rows `split_records` loads: column-wise in `table` (json columns as their JSON text), and readable
    as a sequence of dicts like any other rows (built on first use, for callers that inspect rows)."""

    def __init__(self, table: pa.Table, json_objects: Mapping[str, list[Any]]) -> None:
        self.table = table
        self._json_objects = json_objects
        self._rows: list[dict[str, Any]] | None = None

    @classmethod
    def empty(cls) -> LoadedRows:
        return cls(pa.table({}), {})

    def flagged(self, column: str) -> list[dict[str, Any]]:
        """The rows whose boolean ``column`` is true, as dicts (none when the rows lack the column)."""
        if column not in self.table.column_names:
            return []
        indices = pc.indices_nonzero(pc.fill_null(self.table[column], False))
        return _with_objects(self.table.take(indices).to_pylist(), self._json_objects, indices.to_pylist())

    def _materialised(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = _with_objects(self.table.to_pylist(), self._json_objects, range(len(self)))
        return self._rows

    def __len__(self) -> int:
        return self.table.num_rows

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._materialised()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._materialised())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._materialised() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LoadedRows({self._materialised()!r})"


def _with_objects(
    rows: list[dict[str, Any]], json_objects: Mapping[str, list[Any]], indices: Sequence[int]
) -> list[dict[str, Any]]:
    """Put the original json objects (row ``indices`` of the table) in place of their staged text."""
    for name, objects in json_objects.items():
        for row, index in zip(rows, indices, strict=True):
            row[name] = objects[index]
    return rows
