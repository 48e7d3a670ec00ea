"""Each owner's latest SLA outcomes, in the order their deadlines fell: escalation's input.

An owner escalates after ``consecutive_breaches`` breaches in a row: the owner's latest that many *decided*
outcomes (met or breached, over every rule and lead) are all breaches. Outcomes are ordered by when they were
decided, read from ``closed_loop_leads``: the first-touch and accept/reject deadlines, and the rejection for the
two rules judged at disqualification (the MQL when that instant is unknown); then rule, then person_key. A
nightly run that finds no new outcome leaves the streak as it was: one breach is never counted once per night.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import table_for
from pipelines.funnel.sla import Status

# Rule -> (status column, the instant the outcome was decided at), in rule order (ties at one instant).
_DECIDED_AT: dict[str, tuple[str, str]] = {
    "first_touch": ("first_touch_sla_status", "first_touch_due_at"),
    "accept_reject": ("accept_reject_sla_status", "accept_reject_due_at"),
    "rejection_reason": ("rejection_reason_sla_status", "rejected_at"),
    "contact_attempts": ("contact_attempts_sla_status", "rejected_at"),
}


def latest_outcomes(engine: sa.Engine, schema: str | None, count: int) -> dict[str, list[Status]]:
    """Per owner (owner_key), the statuses of its latest ``count`` decided outcomes, oldest first; leads without
    an owner are nobody's streak."""
    leads = table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=schema))
    parts = [
        sa.select(
            leads.c.owner_key.label("owner"),
            leads.c.person_key,
            sa.literal(number).label("rule_no"),
            sa.func.coalesce(leads.c[at], leads.c.mql_at).label("decided_at"),
            leads.c[status].label("status"),
        ).where(leads.c[status].in_(("met", "breached")), leads.c.owner_key.is_not(None))
        for number, (status, at) in enumerate(_DECIDED_AT.values())
    ]
    outcomes = sa.union_all(*parts).subquery("outcomes")
    recency = sa.func.row_number().over(
        partition_by=outcomes.c.owner,
        order_by=(outcomes.c.decided_at.desc().nulls_last(), outcomes.c.rule_no.desc(), outcomes.c.person_key.desc()),
    )
    ranked = sa.select(outcomes.c.owner, outcomes.c.status, recency.label("recent")).subquery("ranked")
    query = sa.select(ranked.c.owner, ranked.c.status).where(ranked.c.recent <= count)
    with engine.connect() as conn:
        if count <= 0 or not sa.inspect(conn).has_table(leads.name, schema=schema):
            return {}
        rows = conn.execute(query.order_by(ranked.c.owner, ranked.c.recent.desc())).all()
    out: dict[str, list[Status]] = {}
    for owner, status in rows:
        out.setdefault(str(owner), []).append(cast(Status, status))
    return out
