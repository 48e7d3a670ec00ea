"""Warehouse URLs as people write them: the driver crm-loop installs, a DuckDB file's path, the password hidden."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connectors.errors import UserError
from connectors.warehouse.locking import duckdb_database
from pipelines.warehouse_settings import URL_VARIABLE

# The PostgreSQL driver pyproject installs (psycopg2-binary). A URL without a driver would get SQLAlchemy's
# default, which since 2.1 is psycopg 3: not installed, so `postgresql://` would fail on an import.
POSTGRES_DRIVER = "postgresql+psycopg2"
_DRIVERLESS_POSTGRES = ("postgresql://", "postgres://")
EXAMPLES = "duckdb:///path/to/warehouse.duckdb or postgresql://user@host:5432/database"


def normalise(url: str) -> str:
    """``url`` with the installed PostgreSQL driver where it names none; any other URL unchanged."""
    for prefix in _DRIVERLESS_POSTGRES:
        if url.startswith(prefix):
            return f"{POSTGRES_DRIVER}://{url.removeprefix(prefix)}"
    return url


def parse(url: str) -> sa.URL:
    try:
        return sa.make_url(normalise(url))
    except sa.exc.ArgumentError:
        # The text is not echoed: a URL that does not parse may still hold a password.
        raise UserError(
            f"the warehouse URL (--warehouse or {URL_VARIABLE}) is not a database URL: write {EXAMPLES}"
        ) from None


def shown(url: sa.URL) -> str:
    """The URL as it may be printed: never its password."""
    return url.render_as_string(hide_password=True)


def duckdb_file(url: sa.URL) -> Path | None:
    """The database file of a DuckDB URL (None for another engine or an in-memory database)."""
    database = duckdb_database(url)
    return None if database is None else Path(database)


def report_path(url: sa.URL) -> Path:
    """Where ``crm-loop report`` writes by default: ``report.md`` beside a DuckDB warehouse file (the demo's
    ``var/demo/report.md`` for its warehouse), ``var/report.md`` for a server warehouse."""
    database = duckdb_file(url)
    return (database.parent if database is not None else Path("var")) / "report.md"
