"""Reading the raw tables the harmonisation needs, as pandas frames (the only I/O on the way in).

A table an extractor has not created yet reads as an empty frame, and a column it does not have (a field
excluded from a sync) reads as all-null, so a half-configured deployment still builds what it can.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from connectors.warehouse.schema import live_columns
from connectors.warehouse.warehouse import Warehouse

SALESFORCE_TABLES = ("user", "account", "campaign", "campaignmember", "lead", "leadhistory", "contact", "opportunity",
                     "opportunityhistory", "task", "event")
HUBSPOT_TABLES = ("owners", "companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks",
                  "associations", "contact_property_history", "merged_records")


def salesforce_table(name: str) -> str:
    return f"raw_salesforce__{name}"


def hubspot_table(name: str) -> str:
    return f"raw_hubspot__{name}"


RAW_TABLES: tuple[str, ...] = (*(salesforce_table(t) for t in SALESFORCE_TABLES), *(hubspot_table(t) for t in HUBSPOT_TABLES))


@dataclass(frozen=True)
class Frames:
    """Tables by name; ``get`` never fails (absent tables are empty)."""

    tables: Mapping[str, pd.DataFrame]

    def get(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    def sf(self, name: str) -> pd.DataFrame:
        return self.get(salesforce_table(name))

    def hs(self, name: str) -> pd.DataFrame:
        return self.get(hubspot_table(name))


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
    preparer = conn.dialect.identifier_preparer
    qualified = f"{preparer.quote(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)
    return pd.read_sql(sa.text(f"SELECT * FROM {qualified} ORDER BY 1"), conn)
