"""Reading the report's tables from the warehouse: every number is the result of one SQL query over the analyst
views (or closed_loop_leads), run as is on DuckDB and PostgreSQL; Python only lays the rows out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import live_columns, qualified
from pipelines.report.model import Column, Note, Table

MONTHS = 12  # trends cover the last year


@dataclass
class Reader:
    conn: sa.Connection
    schema: str | None
    as_of: datetime  # the instant the closed loop was judged at
    _columns: dict[str, list[str]] = field(default_factory=dict)

    def name(self, relation: str) -> str:
        return qualified(self.conn.dialect, self.schema, relation)

    def has(self, relation: str, *columns: str) -> bool:
        """The view (or table) exists here, with ``columns``: views another release adds may not be built yet."""
        if relation not in self._columns:
            self._columns[relation] = live_columns(self.conn, self.schema, relation)
        live = self._columns[relation]
        return bool(live) and all(c in live for c in columns)

    @property
    def as_of_naive(self) -> datetime:
        """``as_of`` as the warehouse stores instants (naive UTC)."""
        return self.as_of.astimezone(UTC).replace(tzinfo=None)

    @property
    def since(self) -> date:
        """The first month of the trends: the as_of month and the eleven before it."""
        months = self.as_of.year * 12 + self.as_of.month - 1 - (MONTHS - 1)
        return date(months // 12, months % 12 + 1, 1)

    def table(
        self,
        key: str,
        caption: str,
        source: str,
        columns: tuple[Column, ...],
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        cards: bool = False,
    ) -> Table:
        """The rows of ``sql`` in ``columns``' order; ``{v}`` in it is ``source`` qualified, ``{t}``
        closed_loop_leads, ``{any_view}`` that view."""
        text = sql.format_map(_Names(self, source))
        rows = [tuple(r) for r in self.conn.execute(sa.text(text), dict(params or {})).all()]
        return Table(key, caption, source, columns, rows, cards)


class _Names(dict[str, str]):
    def __init__(self, reader: Reader, source: str) -> None:
        super().__init__()
        self.reader, self.source = reader, source

    def __missing__(self, key: str) -> str:
        relation = {"v": self.source, "t": CLOSED_LOOP_LEADS.name}.get(key, key)
        return self.reader.name(relation)


def absent(relation: str, what: str) -> Note:
    return Note(
        f"{what}: not available in this warehouse (the view {relation} is not built there yet; "
        "the next crm-loop sync with this release creates it)."
    )
