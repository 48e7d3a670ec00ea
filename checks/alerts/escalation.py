"""Who and what to escalate, per the definitions' ``sla.escalation``: a check failing in ``consecutive_breaches``
runs in a row, or an owner whose latest ``consecutive_breaches`` SLA outcomes are all breaches
(``checks.sla.streaks``); ``pipelines.funnel.sla.needs_escalation`` decides both."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from checks.alerts.digest import Escalated
from checks.history import CheckHistory
from checks.sla.streaks import latest_outcomes
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
    for owner, outcomes in sorted(latest_outcomes(engine, schema, n).items()):
        if needs_escalation(outcomes, policy):
            out.append(Escalated("owner", owner, n))
    return out
