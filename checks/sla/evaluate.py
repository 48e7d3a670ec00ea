"""One SLA audit of ``closed_loop_leads``: findings, roll-ups and check records, ready to store and report."""

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
    RuleSummary,
    ignored_leads,
    lead_findings,
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
    ignored: pd.DataFrame  # one row per ignored lead, oldest first
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
                len(self.ignored),
                len(self.ignored),
                tuple(self.ignored["person_key"].astype(str)),
                [{"oldest_age_days": float(self.ignored["age_days"].max())}] if len(self.ignored) else [],
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


def read_leads(engine: sa.Engine, schema: str | None) -> pd.DataFrame:
    table = Catalog(engine, schema).table(CLOSED_LOOP_LEADS.name, *COLUMNS)
    with engine.connect() as conn:
        return pd.read_sql(sa.select(*table.c), conn)


def audit(leads: pd.DataFrame, defs: FunnelDefinitions, as_of: datetime) -> SlaAudit:
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    findings = lead_findings(leads)
    ignored = ignored_leads(leads, as_of, calendar)
    per_owner_ignored = ignored.assign(owner_key=ignored["owner_key"].fillna("(none)")).groupby("owner_key").size()
    ignored_rows = pd.DataFrame(
        {
            "dimension": "owner",
            "rule": IGNORED,
            "member": per_owner_ignored.index.astype(str),
            "leads": per_owner_ignored.values,
            "met": 0,
            "breached": per_owner_ignored.values,
            "pending": 0,
            "compliance": None,
        }
    )
    rollups = pd.concat([*(rollup(findings, d) for d in DIMENSIONS), ignored_rows], ignore_index=True)
    return SlaAudit(
        rule_summaries(findings), rollups, ignored, mql_commitment(leads, as_of, calendar, defs.sla.mql_commitment)
    )
