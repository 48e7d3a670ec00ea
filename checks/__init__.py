"""Data-quality and SLA checks, and alerting.

``run_all`` runs every check of a warehouse without Dagster; it imports Great Expectations when called, not
when this package is imported (the Dagster code location imports ``checks.model`` and must stay light).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.run import CheckRun
    from pipelines.funnel.model import FunnelDefinitions


def run_all(
    engine: sa.Engine, schema: str | None, defs: FunnelDefinitions, as_of: datetime, **options: Any
) -> CheckRun:
    """See ``checks.run.run_all``."""
    from checks.run import run_all as run

    return run(engine, schema, defs, as_of, **options)
