"""Declarations of raw tables: which columns an extractor lands, their logical types and the primary key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.warehouse.logical_types import LOGICAL_TYPES, LogicalType

# Load metadata appended to every raw table. The leading underscore keeps them apart from CRM field names
# (neither Salesforce nor HubSpot allows a field name to start with "_"), which is why spec columns may not.
SYNC_ID = "_sync_id"
EXTRACTED_AT = "_extracted_at"
IS_DELETED = "_is_deleted"
DELETED_AT = "_deleted_at"
METADATA_COLUMNS: tuple[str, ...] = (SYNC_ID, EXTRACTED_AT, IS_DELETED, DELETED_AT)

# Lower-case table names never need quoting, so information_schema lookups match on both engines.
_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Column:
    """One column of a table crm-loop writes. `max_length` (strings only) is enforced by coercion, not by the DDL."""

    name: str
    type: LogicalType
    max_length: int | None = None
    doc: str = ""
    nullable: bool = True

    def __post_init__(self) -> None:
        if not self.name or self.name.startswith("_"):
            raise ValueError(f"column name {self.name!r} is empty or starts with '_' (reserved for load metadata)")
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; expected one of {LOGICAL_TYPES}")
        if self.max_length is not None and (self.type != "string" or self.max_length < 1):
            raise ValueError(f"column {self.name!r}: max_length applies to string columns and must be >= 1")


def required(name: str, type_: LogicalType, doc: str = "") -> Column:
    """A NOT NULL column of a table crm-loop defines (raw CRM columns are always nullable)."""
    return Column(name, type_, doc=doc, nullable=False)


@dataclass(frozen=True)
class TableSpec:
    """A table crm-loop writes: its grain is one row per primary-key value (raw tables add load metadata, see
    `schema.raw_table`).

    `columns`/`primary_key` accept any sequence (a lone string for a one-column key) and are stored as tuples
    so specs are hashable and immutable.
    """

    name: str
    columns: Sequence[Column]
    primary_key: Sequence[str] | str
    doc: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = tuple(self.columns)
        key = (self.primary_key,) if isinstance(self.primary_key, str) else tuple(self.primary_key)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "primary_key", key)
        object.__setattr__(self, "_by_name", {c.name: c for c in columns})
        if not _TABLE_NAME.fullmatch(self.name):
            raise ValueError(f"table name {self.name!r} must be lower-case letters, digits and '_'")
        # DuckDB identifiers are case-insensitive: "Id" and "id" would collide there but not on PostgreSQL.
        folded = [c.name.lower() for c in columns]
        if len(set(folded)) != len(folded):
            raise ValueError(f"table {self.name!r}: column names must be unique ignoring case")
        if not key:
            raise ValueError(f"table {self.name!r}: a primary key is required (upserts are keyed on it)")
        unknown = [k for k in key if k not in self._by_name]
        if unknown:
            raise ValueError(f"table {self.name!r}: primary key columns {unknown} are not among its columns")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return self._by_name[name]
