"""closed_loop_leads from the canonical tables and the raw stage histories (pure: frames in, frame out)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.closed_loop.bundles import bundles
from pipelines.closed_loop.canonical import CanonicalFrames
from pipelines.closed_loop.leads import closed_loop_row
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import instant
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import FunnelDefinitions


def data_as_of(canonical: CanonicalFrames) -> datetime | None:
    """The latest instant the data itself shows (a record change or an activity): the default audit instant,
    so rebuilding from the same raw data always audits at the same moment."""
    stamps = [
        canonical.people.get("updated_at"),
        canonical.opportunities.get("updated_at"),
        canonical.activities.get("updated_at"),
        canonical.activities.get("occurred_at"),
    ]
    values = [instant(v) for s in stamps if s is not None and not s.dropna().empty for v in [s.dropna().max()]]
    known = [v for v in values if v is not None]
    return max(known) if known else None


def build_closed_loop(
    canonical: CanonicalFrames, raw: Frames, defs: FunnelDefinitions, as_of: datetime
) -> pd.DataFrame:
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    rows = [closed_loop_row(b, defs, calendar, as_of) for b in bundles(canonical, raw)]
    return pd.DataFrame(rows, columns=CLOSED_LOOP_LEADS.column_names)
