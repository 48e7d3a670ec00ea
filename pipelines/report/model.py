"""What the leaders' page is made of, independent of how it is drawn: sections of tables, charts over those
tables, headline figures and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.report.numbers import Kind


@dataclass(frozen=True)
class Column:
    name: str  # the view's column where the cell is one of its values
    label: str
    kind: Kind = "count"


@dataclass(frozen=True)
class Table:
    """Rows as the warehouse returned them; ``source`` names the view (or table) they were read from."""

    key: str
    caption: str
    source: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    cards: bool = False  # one row shown as headline figures (label above value) rather than as a grid
    row_ids: list[str] | None = None  # anchors other tables link to
    row_links: list[str] | None = None  # each row's link to an anchor (its detail)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip((c.name for c in self.columns), row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite chart drawn from ``table``'s rows only: every mark's number is in the table beside it."""

    key: str
    title: str
    table: Table
    spec: dict[str, Any]


@dataclass(frozen=True)
class Note:
    text: str


Block = Table | Chart | Note


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    definition: str  # one sentence: what the numbers mean
    blocks: list[Block] = field(default_factory=list)
