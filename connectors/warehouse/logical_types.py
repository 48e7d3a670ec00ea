"""Logical column types of the landing layer and the SQL types they become on every supported engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

LogicalType = Literal["string", "integer", "float", "boolean", "timestamp", "date", "json"]
LOGICAL_TYPES: tuple[str, ...] = get_args(LogicalType)


def sql_type(logical: LogicalType) -> TypeEngine[Any]:
    """The SQLAlchemy type a logical column is stored as (identical DDL on DuckDB and PostgreSQL except json).

    Strings are unbounded TEXT even when the spec declares a max length: the length is a data-quality rule that
    `coerce` enforces (and quarantines), so raising a limit in the spec never needs a column migration.
    Timestamps are TIMESTAMP WITHOUT TIME ZONE holding UTC: DuckDB renders TIMESTAMPTZ in the session time
    zone and needs ICU for it, so naive-UTC is the one representation that round-trips identically on both.
    """
    # Imported here: the catalogs (pure data, loaded with the Dagster code location) need only the type names.
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    if logical == "string":
        return sa.Text()
    if logical == "integer":
        return sa.BigInteger()
    if logical == "float":
        return sa.Double()
    if logical == "boolean":
        return sa.Boolean()
    if logical == "timestamp":
        return sa.DateTime(timezone=False)
    if logical == "date":
        return sa.Date()
    if logical == "json":
        # JSONB on PostgreSQL so analysts can index/query it; DuckDB's JSON type otherwise.
        return sa.JSON().with_variant(JSONB(), "postgresql")
    raise ValueError(f"unknown logical type {logical!r}; expected one of {LOGICAL_TYPES}")
