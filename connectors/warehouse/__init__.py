"""The warehouse landing layer shared by the Salesforce and HubSpot extractors.

Extractors declare raw tables as `TableSpec`s, coerce what they fetch with `split_records` (bad values go to
quarantine, never into raw tables) and write each page through `Warehouse.batch()`, which commits rows,
quarantine, deletions and the advanced cursor in one transaction. `record_sync` keeps the per-sync audit.
"""

from connectors.warehouse.coerce import CoercionError, coerce_value
from connectors.warehouse.logical_types import LogicalType, sql_type
from connectors.warehouse.records import QuarantineRow, SchemaDrift, SyncAudit
from connectors.warehouse.schema import SchemaError
from connectors.warehouse.spec import Column, TableSpec
from connectors.warehouse.validate import Split, split_records
from connectors.warehouse.warehouse import Batch, ControlTables, Warehouse

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
