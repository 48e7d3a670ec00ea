"""Building blocks every family of suites shares: keys, e-mail shape, freshness, audit reconciliation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from checks.model import Expect, Severity, Source, Suite, expect
from connectors.warehouse.catalog.control import SYNC_RUNS
from connectors.warehouse.spec import IS_DELETED

# Each source imports SQLAlchemy when it builds (a check runs), not when the code location declares the suites.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog

# Deliberately loose (one @, no spaces, a dot in the domain, nothing after the last dot but a label): it
# catches typos and broken imports without rejecting the odd valid address a strict RFC 5322 pattern would.
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def naive_utc(instant: datetime) -> datetime:
    """The warehouse stores naive UTC; GX compares against it as is."""
    return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo else instant


def whole_table(table: str, *columns: str) -> Source:
    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(table, *columns)
        return sa.select(*t.c)

    return build


def live_rows(table: str, *columns: str) -> Source:
    """Rows still live at the source: deleted/merged-away rows are history, not data to judge."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(table, *columns, IS_DELETED) if columns else catalog.table(table)
        return sa.select(*(t.c[c] for c in (columns or catalog.columns(table)))).where(t.c[IS_DELETED] == sa.false())

    return build


def keys_suite(table: str, key: str = "id") -> Suite:
    """Every row has a key and no key twice: anything downstream joins on it, so this one blocks."""
    return Suite(
        name=f"{table}__keys",
        asset=table,
        severity=Severity.ERROR,
        source=whole_table(table, key),
        expectations=(
            expect("ExpectColumnValuesToNotBeNull", column=key),
            expect("ExpectColumnValuesToBeUnique", column=key),
        ),
        id_columns=(key,),
        description=f"{key} present and unique",
    )


def email_expectation(column: str = "email") -> Expect:
    return expect("ExpectColumnValuesToMatchRegex", column=column, regex=EMAIL_REGEX)


def in_set(column: str, values: Iterable[str]) -> Expect:
    return expect("ExpectColumnValuesToBeInSet", column=column, value_set=sorted(set(values)))


def freshness_suite(table: str, column: str, as_of: datetime, max_age: timedelta) -> Suite:
    """The newest record changed within ``max_age`` before ``as_of``: a stalled sync shows up as staleness."""
    return Suite(
        name=f"{table}__freshness",
        asset=table,
        severity=Severity.WARN,
        source=whole_table(table, "id", column),
        expectations=(expect("ExpectColumnMaxToBeBetween", column=column, min_value=naive_utc(as_of - max_age)),),
        description=f"newest {column} at most {max_age} before as_of",
    )


def reconciliation_suite(table: str, source: str, object_name: str) -> Suite:
    """The latest audit of the object balances: every extracted record was loaded or quarantined, none lost."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        runs = catalog.table(
            SYNC_RUNS.name, "sync_id", "source", "object", "started_at", "extracted", "loaded", "quarantined"
        )
        return (
            sa.select(runs.c.sync_id, runs.c.extracted, (runs.c.loaded + runs.c.quarantined).label("accounted"))
            .where(runs.c.source == source, runs.c.object == object_name)
            .order_by(runs.c.started_at.desc())
            .limit(1)
        )

    return Suite(
        name=f"{table}__reconciliation",
        asset=table,
        severity=Severity.ERROR,
        source=build,
        expectations=(
            expect("ExpectTableRowCountToBeBetween", min_value=1),
            expect("ExpectColumnPairValuesToBeEqual", column_A="extracted", column_B="accounted"),
        ),
        id_columns=("sync_id",),
        description="sync_runs: extracted = loaded + quarantined (latest sync)",
    )


def in_set_bool(column: str) -> Expect:
    """For the boolean verdict columns of relation sources (``*_found``, ``owner_active``)."""
    return expect("ExpectColumnValuesToBeInSet", column=column, value_set=[True])


def lower_email(table: str, column: str = "email") -> Source:
    """Live rows' e-mail folded to lower case as ``email_key``: duplicates differ in case more often than not."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(table, "id", column, IS_DELETED)
        return sa.select(t.c.id, sa.func.lower(sa.func.trim(t.c[column])).label("email_key")).where(
            t.c[IS_DELETED] == sa.false(), t.c[column].is_not(None)
        )

    return build
