"""The data dictionary (docs/data_dictionary.md) and the Dagster column schemas, from the same specs.

Regenerate the file with ``python -m pipelines.closed_loop.dictionary``; a test fails when it is stale.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from dagster import TableColumn, TableSchema

from connectors.warehouse.spec import Column
from pipelines.closed_loop.tables import ALL_TABLES
from pipelines.closed_loop.views import VIEWS

DICTIONARY_PATH = Path(__file__).resolve().parents[2] / "docs" / "data_dictionary.md"
_SQL_TYPES = {"string": "text", "integer": "bigint", "float": "double", "boolean": "boolean", "timestamp": "timestamp (UTC)",
              "date": "date", "json": "json"}


def column_schema(columns: Sequence[Column]) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, _SQL_TYPES[c.type], description=c.doc) for c in columns])


def _table(name: str, doc: str, columns: Sequence[Column], kind: str, key: str) -> list[str]:
    lines = [f"## `{name}` ({kind})", "", doc, "", f"Primary key: {key}", "", "| column | type | description |",
             "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {_SQL_TYPES[c.type]} | {c.doc.replace('|', '/')} |" for c in columns]
    return [*lines, ""]


def render() -> str:
    lines = ["# Data dictionary", "",
             "Generated from `pipelines/closed_loop/tables.py` and `views.py` by "
             "`python -m pipelines.closed_loop.dictionary`; do not edit by hand.",
             "Timestamps are naive UTC. Every table states its grain and primary key.", ""]
    for spec in ALL_TABLES:
        lines += _table(spec.name, spec.doc, spec.columns, "table", ", ".join(f"`{k}`" for k in spec.primary_key))
    for view in VIEWS:
        lines += _table(view.name, view.doc, view.columns, "view", "see grain")
    return "\n".join(lines)


if __name__ == "__main__":
    DICTIONARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    DICTIONARY_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DICTIONARY_PATH}\n")
