"""One SLA audit of ``closed_loop_leads``: findings, roll-ups and check records, ready to store and report.

Everything is counted in the warehouse (``checks.sla.compliance``); the audit holds aggregates and capped
samples of ids, so its size follows the number of owners, teams and months, not the number of leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from checks.history import CheckRecord
from checks.live_tables import Catalog
from checks.model import SAMPLE_SIZE, Severity
from checks.sla.compliance import (
    DIMENSIONS,
    ROLLUP_COLUMNS,
    RuleSummary,
    findings,
    ignored_leads,
    mql_commitment,
    rollup,
    rule_summaries,
)
from checks.sla.store import IGNORED
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import FunnelDefinitions
from pipelines.funnel.sla import CommitmentOutcome

COLUMNS = (
    "person_key",
    "owner_key",
    "owner_team",
    "mql_at",
    "mql_month",
    "mql_inferred",
    "first_touch_at",
    "score_at_mql",
    "first_touch_sla_status",
    "accept_reject_sla_status",
    "rejection_reason_sla_status",
    "contact_attempts_sla_status",
)


@dataclass(frozen=True)
class SlaAudit:
    rules: list[RuleSummary]
    rollups: pd.DataFrame  # dimension, rule, member, leads, met, breached, pending, compliance
    ignored: pd.DataFrame  # the oldest ignored leads (at most the audit's sample size), oldest first
    ignored_count: int  # every ignored lead
    oldest_ignored_days: float | None
    commitment: list[CommitmentOutcome]

    def records(self) -> list[CheckRecord]:
        """One ``check_results`` row per rule, plus ignored leads and the MQL commitment."""
        out = [
            _record(
                f"sla__{r.rule}",
                r.breached,
                r.met + r.breached + r.pending,
                r.breaching_leads,
                [{"met": r.met, "breached": r.breached, "pending": r.pending}],
            )
            for r in self.rules
        ]
        out.append(
            _record(
                "sla__ignored_leads",
                self.ignored_count,
                self.ignored_count,
                tuple(self.ignored["person_key"].astype(str)),
                [] if self.oldest_ignored_days is None else [{"oldest_age_days": self.oldest_ignored_days}],
            )
        )
        short = [c for c in self.commitment if c.status == "breached"]
        out.append(
            _record(
                "sla__mql_commitment",
                len(short),
                len(self.commitment),
                tuple(c.month.strftime("%Y-%m") for c in short),
                [
                    {"month": c.month.isoformat(), "count": c.count, "target": c.target, "status": c.status}
                    for c in self.commitment
                ],
            )
        )
        return out


def _record(
    name: str, breached: int, checked: int, ids: tuple[str, ...], details: list[dict[str, object]]
) -> CheckRecord:
    return CheckRecord(
        check_name=name,
        asset=CLOSED_LOOP_LEADS.name,
        kind="sla",
        status="failed" if breached else "passed",
        severity=Severity.WARN.value,
        rows_checked=checked,
        expectations=1,
        failed_expectations=1 if breached else 0,
        unexpected_count=breached,
        sample_ids=ids[:SAMPLE_SIZE],
        details=details,
    )


def audit(
    engine: sa.Engine,
    schema: str | None,
    defs: FunnelDefinitions,
    as_of: datetime,
    sample_size: int = SAMPLE_SIZE,
) -> SlaAudit:
    """The audit of the warehouse's ``closed_loop_leads`` at ``as_of``; ``sample_size`` caps the breaching and
    ignored leads named per finding (counts always cover every lead)."""
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    leads = Catalog(engine, schema).table(CLOSED_LOOP_LEADS.name, *COLUMNS)
    found = findings(leads)
    with engine.connect() as conn:
        rules = rule_summaries(conn, found, sample_size)
        rollups = [rollup(conn, found, d) for d in DIMENSIONS]
        ignored = ignored_leads(conn, leads, as_of, calendar, sample_size)
        commitment = mql_commitment(conn, leads, as_of, calendar, defs.sla.mql_commitment)
    per_owner = ignored.per_owner
    ignored_rows = pd.DataFrame(
        {
            "dimension": "owner",
            "rule": IGNORED,
            "member": per_owner["owner_key"].astype(str).to_numpy(),
            "leads": per_owner["leads"].astype("int64").to_numpy(),
            "met": 0,
            "breached": per_owner["leads"].astype("int64").to_numpy(),
            "pending": 0,
            "compliance": None,
        },
        columns=ROLLUP_COLUMNS,
    )
    return SlaAudit(
        rules,
        pd.concat([*rollups, ignored_rows], ignore_index=True),
        ignored.oldest,
        ignored.count,
        ignored.oldest_age_days,
        commitment,
    )
