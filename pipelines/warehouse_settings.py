"""Which warehouse crm-loop uses: the variables that name it and the default, shared by the Dagster resources
(``pipelines.defs.settings``) and the commands that only read it (``sql``, ``report``).

Nothing is imported here, so those commands learn the settings without loading Dagster (over a second of CPU).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

URL_VARIABLE = "CRM_LOOP_WAREHOUSE_URL"
SCHEMA_VARIABLE = "CRM_LOOP_WAREHOUSE_SCHEMA"
DEFAULT_URL = "duckdb:///var/crm_loop.duckdb"
DEFAULT_SCHEMA = ""  # the engine's default schema


def configured(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The warehouse URL and schema as the resources resolve them: a variable that is not set leaves the default."""
    env = os.environ if environ is None else environ
    return env.get(URL_VARIABLE, DEFAULT_URL), env.get(SCHEMA_VARIABLE, DEFAULT_SCHEMA)
