"""closed_loop_leads from the canonical tables and the raw stage histories (pure: frames in, frame out)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.closed_loop.bundles import bundles
from pipelines.closed_loop.canonical import CanonicalFrames
from pipelines.closed_loop.leads import closed_loop_row
from pipelines.closed_loop.raw import Frames
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import FunnelDefinitions


def build_closed_loop(
    canonical: CanonicalFrames, raw: Frames, defs: FunnelDefinitions, as_of: datetime
) -> pd.DataFrame:
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    rows = [closed_loop_row(b, defs, calendar, as_of) for b in bundles(canonical, raw, as_of)]
    return pd.DataFrame(rows, columns=CLOSED_LOOP_LEADS.column_names)
