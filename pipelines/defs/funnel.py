"""The shared funnel definitions file as a Dagster resource: its path from config, else ``CRM_LOOP_DEFINITIONS``,
else the repository default (``pipelines/funnel/definitions.yaml``)."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions


class FunnelDefinitionsResource(ConfigurableResource):
    path: str = Field(
        default="", description="FunnelDefinitions YAML; empty = $CRM_LOOP_DEFINITIONS, else the repo default"
    )

    def load(self) -> FunnelDefinitions:
        """Validated on every load: a broken file fails the run with file:line:col messages."""
        return load_definitions(self.path or None)
