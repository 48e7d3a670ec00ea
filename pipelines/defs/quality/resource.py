"""How checks are configured inside Dagster: which definitions, judged at which instant, how fresh is fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions


@dataclass(frozen=True)
class CheckSettings:
    defs: FunnelDefinitions
    as_of: datetime
    max_age: timedelta


class ChecksResource(ConfigurableResource):
    definitions_path: str = Field(
        default="", description="Shared definitions file; empty = $CRM_LOOP_DEFINITIONS or the default"
    )
    as_of: str = Field(default="", description="ISO instant to judge the data at (replays, tests); empty = now")
    freshness_hours: float = Field(default=36.0, description="Newest record older than this (before as_of) is stale")

    def settings(self) -> CheckSettings:
        as_of = datetime.fromisoformat(self.as_of) if self.as_of else datetime.now(UTC)
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        return CheckSettings(
            load_definitions(self.definitions_path or None), as_of, timedelta(hours=self.freshness_hours)
        )
