"""The I/O around the pure builders: read the warehouse, build, write the tables (and the views)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import pandas as pd

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
    CLOSED_LOOP_LEADS,
    IDENTITY_CONFLICTS,
)
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.canonical import CanonicalFrames, build_canonical
from pipelines.closed_loop.closed_loop import build_closed_loop, data_as_of
from pipelines.closed_loop.inputs import HISTORY_TABLES, RAW_TABLES
from pipelines.closed_loop.raw import read_tables
from pipelines.closed_loop.views import create_views
from pipelines.closed_loop.write import read_table, replace_table
from pipelines.funnel.model import FunnelDefinitions

# CanonicalFrames field -> its table, in the order the tables are written.
_CANONICAL = {
    "owners": CANONICAL_OWNERS,
    "accounts": CANONICAL_ACCOUNTS,
    "people": CANONICAL_PEOPLE,
    "identity_conflicts": IDENTITY_CONFLICTS,
    "opportunities": CANONICAL_OPPORTUNITIES,
    "activities": CANONICAL_ACTIVITIES,
}


def write_canonical(wh: Warehouse, defs: FunnelDefinitions) -> dict[str, int]:
    """Rebuild every canonical table from the raw tables; rows written per table."""
    built = build_canonical(read_tables(wh, RAW_TABLES), defs)
    return {spec.name: replace_table(wh, spec, getattr(built, attr)) for attr, spec in _CANONICAL.items()}


def read_canonical(wh: Warehouse) -> CanonicalFrames:
    return CanonicalFrames(**{f.name: read_table(wh, _CANONICAL[f.name]) for f in fields(CanonicalFrames)})


@dataclass(frozen=True)
class ClosedLoopResult:
    rows: int
    as_of: datetime | None
    views: list[str]


def write_closed_loop(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime | None = None) -> ClosedLoopResult:
    """Rebuild closed_loop_leads from the canonical tables (audited at ``as_of``, default: the latest instant
    the data shows) and recreate the analyst views."""
    canonical = read_canonical(wh)
    audit_at = as_of or data_as_of(canonical)
    # No instant in the data means no people either: an empty table.
    frame = (
        build_closed_loop(canonical, read_tables(wh, HISTORY_TABLES), defs, audit_at)
        if audit_at is not None
        else pd.DataFrame(columns=CLOSED_LOOP_LEADS.column_names)
    )
    rows = replace_table(wh, CLOSED_LOOP_LEADS, frame)
    return ClosedLoopResult(rows, audit_at, create_views(wh))
