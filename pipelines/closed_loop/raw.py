"""Reading the raw tables the harmonisation needs, as pandas frames (the only I/O on the way in).

A table an extractor has not created yet reads as an empty frame, and a column it does not have (a field
excluded from a sync) reads as all-null, so a half-configured deployment still builds what it can.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from connectors.warehouse.schema import live_columns, qualified
from connectors.warehouse.warehouse import Warehouse


@dataclass(frozen=True)
class Frames:
    """Tables by name; ``get`` never fails (absent tables are empty)."""

    tables: Mapping[str, pd.DataFrame]

    def get(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    def sf(self, name: str) -> pd.DataFrame:
        return self.get(salesforce.raw_table_name(name))

    def hs(self, name: str) -> pd.DataFrame:
        return self.get(hubspot.raw_table_name(name))


def read_tables(wh: Warehouse, names: tuple[str, ...]) -> Frames:
    out: dict[str, pd.DataFrame] = {}
    with wh.engine.connect() as conn:
        for name in names:
            if not live_columns(conn, wh.schema, name):
                continue
            out[name] = read_frame(conn, wh.schema, name)
    return Frames(out)


def read_frame(conn: sa.Connection, schema: str | None, name: str) -> pd.DataFrame:
    """Sorted by the table's first column so every build sees rows in the same order on either engine."""
    return pd.read_sql(sa.text(f"SELECT * FROM {qualified(conn.dialect, schema, name)} ORDER BY 1"), conn)
