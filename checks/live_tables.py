"""Table references for suite sources: schema-qualified, with the columns the live table really has.

Raw tables only hold the fields a sync selected (include/exclude lists, schema drift), so a suite asks which
columns exist before it expects anything of an optional one.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from connectors.warehouse.schema import live_columns


class Catalog:
    def __init__(self, engine: sa.Engine, schema: str | None) -> None:
        self.engine = engine
        self.schema = schema

    @cache  # noqa: B019 - one catalog lives for one validation run; the table list does not change within it
    def columns(self, table: str) -> tuple[str, ...]:
        with self.engine.connect() as conn:
            return tuple(live_columns(conn, self.schema, table))

    def exists(self, table: str) -> bool:
        return bool(self.columns(table))

    def table(self, name: str, *columns: str) -> sa.TableClause:
        """``columns`` default to every live column; naming a missing one raises (caught as a check error)."""
        live = self.columns(name)
        if not live:
            raise LookupError(f"table {name!r} does not exist")
        wanted = columns or live
        missing = [c for c in wanted if c not in live]
        if missing:
            raise LookupError(f"table {name!r} has no columns {missing}")
        return sa.table(name, *(sa.column(c) for c in wanted), schema=self.schema)
