"""Catalog columns as Dagster column schemas, so the UI documents every table the way the data dictionary does."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import TableColumn, TableSchema

from connectors.warehouse.spec import Column
from pipelines.closed_loop.dictionary import SQL_TYPES


def column_schema(columns: Sequence[Column]) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, SQL_TYPES[c.type], description=c.doc) for c in columns])
