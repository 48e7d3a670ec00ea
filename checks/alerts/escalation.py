"""Who and what to escalate, per the definitions' ``sla.escalation``: a check failing, or an owner breaching
the SLA, in ``consecutive_breaches`` runs in a row (``pipelines.funnel.sla.needs_escalation`` decides)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from checks.alerts.digest import Escalated
from checks.history import CheckHistory
from checks.sla.store import SlaStore, owner_statuses
from pipelines.funnel.model import Escalation
from pipelines.funnel.sla import Status, needs_escalation


def _as_sla(status: str) -> Status:
    # An errored check could not judge the data: it neither breaks nor extends a streak.
    return {"failed": "breached", "passed": "met"}.get(status, "pending")  # type: ignore[return-value]


def escalations(
    engine: sa.Engine, schema: str | None, check_names: Sequence[str], policy: Escalation
) -> list[Escalated]:
    n = policy.consecutive_breaches
    out: list[Escalated] = []
    for name, statuses in CheckHistory(engine, schema).recent_statuses(check_names, n).items():
        if needs_escalation([_as_sla(s) for s in statuses], policy):
            out.append(Escalated("check", name, n))
    # One run more than the streak: a run's "new breaches" are measured against the run before it.
    for owner, history in sorted(SlaStore(engine, schema).owner_history(n + 1).items()):
        if needs_escalation(owner_statuses(history)[-n:], policy):  # type: ignore[arg-type]
            out.append(Escalated("owner", owner, n))
    return out
