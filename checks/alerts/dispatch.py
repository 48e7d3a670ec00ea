"""Send a run's digest: read its ``check_results`` and their context, add escalations, deliver to every channel,
report each."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from checks.alerts.channels import Channel, channels
from checks.alerts.config import AlertConfig
from checks.alerts.context import RunContext, run_context
from checks.alerts.describe import CheckInfo, check_catalog
from checks.alerts.digest import Digest, build_digest
from checks.alerts.escalation import escalations
from checks.history import CheckHistory
from pipelines.funnel.definitions import load_definitions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    channel: str
    escalation: bool
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class DispatchReport:
    digest: Digest | None  # None when the run wrote no check results (nothing to say)
    deliveries: tuple[Delivery, ...]

    @property
    def failed(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if not d.ok)


def send_run_digest(
    engine: sa.Engine,
    schema: str | None,
    run_id: str,
    config: AlertConfig,
    available: dict[str, Channel] | None = None,
    run_failure: str | None = None,
    catalog: Mapping[str, CheckInfo] | None = None,
) -> DispatchReport:
    """Never raises for a channel: a failed delivery is logged and listed in the report, the rest still go out.

    A run that failed is always reported, even before any check wrote a result (an extraction error).
    ``catalog`` (what each check means) defaults to the current definitions' suites and SLA findings."""
    rows = CheckHistory(engine, schema).for_run(run_id)
    if not rows and run_failure is None:
        return DispatchReport(None, ())
    escalated = (
        escalations(engine, schema, [r["check_name"] for r in rows], config.escalation)
        if config.escalation is not None
        else []
    )
    digest = build_digest(
        run_id,
        config.run_url(run_id),
        rows,
        context=_context(engine, schema, run_id, rows),
        catalog=check_catalog(load_definitions()) if catalog is None else catalog,
        crm=config.crm,
        escalations=escalated,
        run_failure=run_failure,
    )
    targets = channels(config) if available is None else available
    deliveries = [_deliver(targets, name, digest, escalation=False) for name in config.primary]
    if escalated and config.escalation is not None:
        deliveries.append(_deliver(targets, config.escalation.channel, digest, escalation=True))
    return DispatchReport(digest, tuple(deliveries))


def _context(engine: sa.Engine, schema: str | None, run_id: str, rows: list[dict[str, Any]]) -> RunContext:
    # History, reps and record links make the digest better, not possible: without them it still goes out.
    try:
        return run_context(engine, schema, run_id, rows)
    except sa.exc.SQLAlchemyError:
        log.exception("run %s: the digest goes out without history, reps and record links", run_id)
        return RunContext()


def _deliver(targets: dict[str, Channel], name: str, digest: Digest, *, escalation: bool) -> Delivery:
    channel = targets.get(name)
    if channel is None:
        log.error("alert channel %s is not configured; digest for run %s not sent there", name, digest.run_id)
        return Delivery(name, escalation, False, "not configured")
    try:
        channel.send(digest, escalation=escalation)
    except Exception as exc:  # any failure of one channel must not stop the others or the run
        log.exception("alert channel %s failed for run %s", name, digest.run_id)
        return Delivery(name, escalation, False, f"{type(exc).__name__}: {exc}")
    return Delivery(name, escalation, True)
