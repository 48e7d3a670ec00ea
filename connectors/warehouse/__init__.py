"""The warehouse landing layer shared by the Salesforce and HubSpot extractors.

Extractors declare raw tables as `TableSpec`s, coerce what they fetch with `split_records` (bad values go to
quarantine, never into raw tables) and write each page through `Warehouse.batch()`, which commits rows,
quarantine, deletions and the advanced cursor in one transaction. `record_sync` keeps the per-sync audit.

The names below load on first use (PEP 562): importing a light submodule such as the catalog must not pull in
SQLAlchemy, pandas and pyarrow, which the Dagster code location does not need until a step runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.warehouse.coerce import CoercionError, coerce_value
    from connectors.warehouse.logical_types import LogicalType, sql_type
    from connectors.warehouse.records import QuarantineRow, SchemaDrift, SyncAudit
    from connectors.warehouse.schema import SchemaError
    from connectors.warehouse.spec import Column, TableSpec
    from connectors.warehouse.validate import Split, split_records
    from connectors.warehouse.warehouse import Batch, ControlTables, Warehouse

_SOURCES = {
    "Batch": "warehouse",
    "CoercionError": "coerce",
    "Column": "spec",
    "ControlTables": "warehouse",
    "LogicalType": "logical_types",
    "QuarantineRow": "records",
    "SchemaDrift": "records",
    "SchemaError": "schema",
    "Split": "validate",
    "SyncAudit": "records",
    "TableSpec": "spec",
    "Warehouse": "warehouse",
    "coerce_value": "coerce",
    "sql_type": "logical_types",
    "split_records": "validate",
}

__all__ = [
    "Batch",
    "CoercionError",
    "Column",
    "ControlTables",
    "LogicalType",
    "QuarantineRow",
    "SchemaDrift",
    "SchemaError",
    "Split",
    "SyncAudit",
    "TableSpec",
    "Warehouse",
    "coerce_value",
    "sql_type",
    "split_records",
]


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
