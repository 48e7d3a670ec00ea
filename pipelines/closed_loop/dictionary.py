"""The data dictionary (docs/data_dictionary.md), rendered from the warehouse and CRM catalogs.

Regenerate the file with ``python -m pipelines.closed_loop.dictionary``; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from connectors.warehouse.catalog import TABLES, VIEWS
from connectors.warehouse.spec import Column, TableSpec

DICTIONARY_PATH = Path(__file__).resolve().parents[2] / "docs" / "data_dictionary.md"
SQL_TYPES = {
    "string": "text",
    "integer": "bigint",
    "float": "double",
    "boolean": "boolean",
    "timestamp": "timestamp (UTC)",
    "date": "date",
    "json": "json",
}
_FIXED_RAW = (
    hubspot.OWNERS,
    hubspot.ASSOCIATIONS,
    hubspot.PROPERTY_HISTORY,
    hubspot.MERGED_RECORDS,
    hubspot.DEAL_PIPELINE_STAGES,
)


def _table(name: str, doc: str, columns: Sequence[Column], kind: str, key: str) -> list[str]:
    lines = [
        f"## `{name}` ({kind})",
        "",
        doc,
        "",
        f"Primary key: {key}",
        "",
        "| column | type | description |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| `{c.name}` | {SQL_TYPES[c.type]}{'' if c.nullable else ', not null'} | {c.doc.replace('|', '/')} |"
        for c in columns
    ]
    return [*lines, ""]


def _spec(spec: TableSpec, kind: str) -> list[str]:
    return _table(spec.name, spec.doc, spec.columns, kind, ", ".join(f"`{k}`" for k in spec.primary_key))


def render() -> str:
    lines = [
        "# Data dictionary",
        "",
        "Generated from the catalogs (`connectors/warehouse/catalog/`, `connectors/salesforce/catalog.py`, "
        "`connectors/hubspot/catalog.py`) by `python -m pipelines.closed_loop.dictionary`; do not edit by hand.",
        "Timestamps are naive UTC. Every table states its grain and primary key.",
        "",
        "Raw object tables hold every field the CRM describes (one column per field, lower-case), plus the load "
        "metadata `_sync_id`, `_extracted_at`, `_is_deleted`, `_deleted_at`; one row per record id:",
        "",
        *(f"- `{t}`" for t in (*salesforce.RAW_TABLES, *(hubspot.raw_table_name(o) for o in hubspot.OBJECT_TYPES))),
        "",
    ]
    for spec in TABLES:
        lines += _spec(spec, "table")
    for spec in _FIXED_RAW:
        lines += _spec(spec, "raw table")
    for view in VIEWS:
        lines += _table(view.name, view.doc, view.columns, "view", "see grain")
    return "\n".join(lines)


if __name__ == "__main__":
    DICTIONARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    DICTIONARY_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DICTIONARY_PATH}\n")
