"""Suites for the canonical tables (``pipelines/closed_loop/tables.py``): keys, agreed values, orphans, and
identity: a conflict left unresolved, or one human split into unmatched people across the two CRMs.

Canonical rows keep deleted records (``is_deleted``): keys cover every row, the other suites only live ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.model import Severity, Source, Suite, expect
from checks.suites.common import email_expectation, in_set, in_set_bool
from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
    IDENTITY_CONFLICTS,
    TableSpec,
)
from pipelines.funnel.model import ICP_TIERS, FunnelDefinitions

# Each source imports SQLAlchemy when it builds (a check runs), not when the code location declares the suites.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog

PEOPLE, ACCOUNTS, OWNERS = CANONICAL_PEOPLE.name, CANONICAL_ACCOUNTS.name, CANONICAL_OWNERS.name
OPPORTUNITIES, ACTIVITIES, CONFLICTS = CANONICAL_OPPORTUNITIES.name, CANONICAL_ACTIVITIES.name, IDENTITY_CONFLICTS.name
SYSTEMS = ("hubspot", "salesforce")
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "task")
OPPORTUNITY_STAGES = ("opportunity", "won", "lost")
LIVE = "is_deleted"


def canonical_suites(defs: FunnelDefinitions) -> list[Suite]:
    return [
        *(
            keys_suite(spec)
            for spec in (
                CANONICAL_OWNERS,
                CANONICAL_ACCOUNTS,
                CANONICAL_PEOPLE,
                IDENTITY_CONFLICTS,
                CANONICAL_OPPORTUNITIES,
                CANONICAL_ACTIVITIES,
            )
        ),
        _people_values(defs),
        _unmatched_across_crms(),
        _conflicts_open(),
        Suite(
            f"{OWNERS}__values",
            OWNERS,
            Severity.WARN,
            live(OWNERS, "source_system", "source_id", "owner_key"),
            (expect("ExpectColumnValuesToNotBeNull", column="owner_key"), in_set("source_system", SYSTEMS)),
            id_columns=("source_system", "source_id"),
            description="every owner record is matched to an owner_key",
        ),
        Suite(
            f"{ACCOUNTS}__values",
            ACCOUNTS,
            Severity.WARN,
            live(ACCOUNTS, "source_system", "source_id", "account_key", "icp_tier"),
            (
                expect("ExpectColumnValuesToNotBeNull", column="account_key"),
                in_set("source_system", SYSTEMS),
                in_set("icp_tier", ICP_TIERS),
            ),
            id_columns=("source_system", "source_id"),
            description="account_key set; ICP tier one of the agreed tiers",
        ),
        Suite(
            f"{OPPORTUNITIES}__values",
            OPPORTUNITIES,
            Severity.WARN,
            live(OPPORTUNITIES, "source_system", "source_id", "stage_raw", "stage"),
            (expect("ExpectColumnValuesToNotBeNull", column="stage"), in_set("stage", OPPORTUNITY_STAGES)),
            id_columns=("source_system", "source_id"),
            description="every deal's stage maps through the definitions to opportunity, won or lost",
        ),
        _opportunity_orphans(),
        Suite(
            f"{ACTIVITIES}__values",
            ACTIVITIES,
            Severity.WARN,
            live(ACTIVITIES, "source_system", "source_object", "source_id", "activity_type", "occurred_at"),
            (in_set("activity_type", ACTIVITY_TYPES), expect("ExpectColumnValuesToNotBeNull", column="occurred_at")),
            id_columns=("source_system", "source_object", "source_id"),
            description="activity type one of call/email/meeting/note/task; every activity has a time",
        ),
        _activity_orphans(),
    ]


def live(table: str, *columns: str) -> Source:
    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(table, *columns, LIVE)
        return sa.select(*(t.c[c] for c in columns)).where(t.c[LIVE] == sa.false())

    return build


def keys_suite(spec: TableSpec) -> Suite:
    """The primary key present and unique over every row (deleted ones too): downstream joins on it, so it blocks."""
    key = spec.primary_key
    not_null = tuple(expect("ExpectColumnValuesToNotBeNull", column=c) for c in key)
    unique = (
        expect("ExpectColumnValuesToBeUnique", column=key[0])
        if len(key) == 1
        else expect("ExpectCompoundColumnsToBeUnique", column_list=list(key))
    )

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        return sa.select(*catalog.table(spec.name, *key).c)

    return Suite(
        f"{spec.name}__keys",
        spec.name,
        Severity.ERROR,
        build,
        (*not_null, unique),
        id_columns=tuple(key),
        description=f"({', '.join(key)}) present and unique",
    )


def _people_values(defs: FunnelDefinitions) -> Suite:
    stages = defs.stages
    statuses = [*stages.hubspot_lead_status, *stages.salesforce_lead_status]
    reasons = [v for r in defs.reasons.values() for v in (*r.salesforce, *r.hubspot)]
    return Suite(
        f"{PEOPLE}__values",
        PEOPLE,
        Severity.WARN,
        live(
            PEOPLE,
            "source_system",
            "source_object",
            "source_id",
            "person_key",
            "email",
            "lifecycle_stage",
            "lead_status",
            "disqualification_reason_raw",
        ),
        (
            expect("ExpectColumnValuesToNotBeNull", column="person_key"),
            in_set("source_system", SYSTEMS),
            in_set("source_object", ("contact", "lead")),
            email_expectation(),
            in_set("lifecycle_stage", stages.hubspot_lifecycle),
            in_set("lead_status", statuses),
            in_set("disqualification_reason_raw", reasons),
        ),
        id_columns=("source_system", "source_object", "source_id"),
        description="every live record resolved to a person; e-mail well formed; stage, status and reason agreed",
    )


def _unmatched_across_crms() -> Suite:
    """An e-mail held by live records of both CRMs must belong to ONE person: two people there mean marketing
    and sales each see a different lead for the same human (the matching refused, or could not, join them)."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        p = catalog.table(PEOPLE, "source_system", "source_object", "source_id", "person_key", "email_normalized", LIVE)
        people = (
            sa.select(p.c.source_system, p.c.person_key, p.c.email_normalized)
            .where(p.c[LIVE] == sa.false(), p.c.email_normalized.is_not(None), p.c.person_key.is_not(None))
            .subquery("people")
        )
        split = (
            sa.select(people.c.email_normalized)
            .group_by(people.c.email_normalized)
            .having(sa.func.count(sa.distinct(people.c.source_system)) > 1)
            .having(sa.func.count(sa.distinct(people.c.person_key)) > 1)
        ).subquery("split")
        matched = sa.case((split.c.email_normalized.is_(None), sa.true()), else_=sa.false())
        return (
            sa.select(
                p.c.source_system,
                p.c.source_object,
                p.c.source_id,
                p.c.person_key,
                p.c.email_normalized,
                matched.label("matched"),
            )
            .select_from(p.outerjoin(split, split.c.email_normalized == p.c.email_normalized))
            .where(p.c[LIVE] == sa.false(), p.c.email_normalized.is_not(None))
        )

    return Suite(
        f"{PEOPLE}__unmatched_across_crms",
        PEOPLE,
        Severity.WARN,
        build,
        (in_set_bool("matched"),),
        id_columns=("source_system", "source_object", "source_id"),
        description="no person in two CRMs without a match: records of both CRMs sharing an e-mail are one person",
    )


def _conflicts_open() -> Suite:
    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(CONFLICTS, "conflict_key", "kind")
        # Every row is a finding: the table is empty once the CRMs agree on who is who.
        return sa.select(t.c.conflict_key, t.c.kind, sa.false().label("resolved"))

    return Suite(
        f"{CONFLICTS}__open",
        CONFLICTS,
        Severity.WARN,
        build,
        (in_set_bool("resolved"),),
        id_columns=("conflict_key",),
        description="no identity conflict left open (possible duplicates, cross-CRM ids that disagree)",
    )


def _opportunity_orphans() -> Suite:
    """A deal hangs off a live person or a live account of its own CRM; otherwise no funnel can count it."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        o = catalog.table(OPPORTUNITIES, "source_system", "source_id", "person_key", "account_source_id", LIVE)
        p = catalog.table(PEOPLE, "person_key", LIVE)
        a = catalog.table(ACCOUNTS, "source_system", "source_id", LIVE)
        people = sa.select(p.c.person_key).where(p.c[LIVE] == sa.false()).distinct().subquery()
        accounts = sa.select(a.c.source_system, a.c.source_id).where(a.c[LIVE] == sa.false()).distinct().subquery()
        linked = sa.or_(people.c.person_key.is_not(None), accounts.c.source_id.is_not(None))
        joined = o.outerjoin(people, people.c.person_key == o.c.person_key).outerjoin(
            accounts,
            sa.and_(accounts.c.source_system == o.c.source_system, accounts.c.source_id == o.c.account_source_id),
        )
        return (
            sa.select(o.c.source_system, o.c.source_id, linked.label("linked"))
            .select_from(joined)
            .where(o.c[LIVE] == sa.false())
        )

    return Suite(
        f"{OPPORTUNITIES}__orphans",
        OPPORTUNITIES,
        Severity.WARN,
        build,
        (in_set_bool("linked"),),
        id_columns=("source_system", "source_id"),
        description="every live opportunity belongs to a live person or account",
    )


def _activity_orphans() -> Suite:
    """Judged from the tables, not from the build's own ``is_orphan`` flag, so a build bug cannot hide one."""

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(ACTIVITIES, "source_system", "source_object", "source_id", "person_key", LIVE)
        p = catalog.table(PEOPLE, "person_key", LIVE)
        people = sa.select(p.c.person_key).where(p.c[LIVE] == sa.false()).distinct().subquery()
        found = people.c.person_key.is_not(None).label("person_found")
        return (
            sa.select(t.c.source_system, t.c.source_object, t.c.source_id, found)
            .select_from(t.outerjoin(people, people.c.person_key == t.c.person_key))
            .where(t.c[LIVE] == sa.false())
        )

    return Suite(
        f"{ACTIVITIES}__orphans",
        ACTIVITIES,
        Severity.WARN,
        build,
        (in_set_bool("person_found"),),
        id_columns=("source_system", "source_object", "source_id"),
        description="every live activity is logged against a live person",
    )
