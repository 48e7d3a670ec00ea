"""All canonical tables from the raw frames, in dependency order (pure: frames in, frames out)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from connectors.warehouse.catalog.harmonised import CANONICAL_PEOPLE
from pipelines.closed_loop.accounts import build_accounts
from pipelines.closed_loop.activities import build_activities
from pipelines.closed_loop.identity import resolve
from pipelines.closed_loop.opportunities import build_opportunities
from pipelines.closed_loop.owners import build_owners
from pipelines.closed_loop.people import build_people
from pipelines.closed_loop.raw import Frames
from pipelines.funnel.model import FunnelDefinitions


@dataclass(frozen=True)
class CanonicalFrames:
    """The canonical tables as frames: what the harmonisation builds and the closed loop reads back."""

    owners: pd.DataFrame
    accounts: pd.DataFrame
    people: pd.DataFrame
    identity_conflicts: pd.DataFrame
    opportunities: pd.DataFrame
    activities: pd.DataFrame


def build_canonical(raw: Frames, defs: FunnelDefinitions) -> CanonicalFrames:
    people, conflicts = resolve(build_people(raw))
    people = people.reindex(columns=CANONICAL_PEOPLE.column_names)
    return CanonicalFrames(
        owners=build_owners(raw),
        accounts=build_accounts(raw, defs),
        people=people,
        identity_conflicts=conflicts,
        opportunities=build_opportunities(raw, people, defs),
        activities=build_activities(raw, people, defs),
    )
