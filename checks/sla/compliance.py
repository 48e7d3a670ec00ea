"""Pure SLA compliance over the closed-loop table (a pandas frame with ``closed_loop_leads`` columns).

The per-lead statuses are computed once, by the closed-loop build, with the shared SLA functions; here they
are only counted, so a report and the table can never disagree. What this adds: roll-ups per owner, team and
month, the "ignored leads" finding (an MQL nobody touched, past its deadline) with its age, and marketing's
monthly MQL commitment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import MqlCommitment
from pipelines.funnel.sla import CommitmentOutcome, mql_commitment_outcome

# Rule name -> the closed_loop_leads column holding each lead's status for it.
RULES: dict[str, str] = {
    "first_touch": "first_touch_sla_status",
    "accept_reject": "accept_reject_sla_status",
    "rejection_reason": "rejection_reason_sla_status",
    "contact_attempts": "contact_attempts_sla_status",
}
DIMENSIONS: dict[str, str] = {"owner": "owner_key", "team": "owner_team", "month": "mql_month"}
STATUSES = ("met", "breached", "pending")
UNKNOWN = "(none)"


def lead_findings(leads: pd.DataFrame) -> pd.DataFrame:
    """One row per (lead, rule) the rule applies to: person_key, rule, status, owner_key, owner_team, mql_month."""
    keep = ["person_key", "owner_key", "owner_team", "mql_month"]
    frames = []
    for rule, column in RULES.items():
        part = leads.loc[leads[column].isin(STATUSES), keep + [column]].rename(columns={column: "status"})
        part.insert(1, "rule", rule)
        frames.append(part)
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["person_key", "rule", "status", *keep[1:]])
    )
    for column in ("owner_key", "owner_team"):
        out[column] = out[column].fillna(UNKNOWN).astype(str)
    out["mql_month"] = out["mql_month"].map(lambda d: UNKNOWN if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m"))
    return out


def rollup(findings: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Per (rule, member of the dimension): leads, met, breached, pending and compliance (met / decided)."""
    column = DIMENSIONS[dimension]
    counts = (
        findings.groupby(["rule", column, "status"])
        .size()
        .unstack("status", fill_value=0)
        .reindex(columns=list(STATUSES), fill_value=0)
        .reset_index()
        .rename(columns={column: "member"})
    )
    counts["leads"] = counts[list(STATUSES)].sum(axis=1)
    decided = counts["met"] + counts["breached"]
    counts["compliance"] = (counts["met"] / decided.where(decided > 0)).round(4)
    counts.insert(0, "dimension", dimension)
    return counts[["dimension", "rule", "member", "leads", *STATUSES, "compliance"]]


def ignored_leads(leads: pd.DataFrame, as_of: datetime, calendar: BusinessCalendar) -> pd.DataFrame:
    """MQLs nobody touched at all whose first-touch deadline has passed, oldest first, with their age."""
    untouched = leads[
        leads["mql_at"].notna() & leads["first_touch_at"].isna() & (leads["first_touch_sla_status"] == "breached")
    ]
    rows = []
    for lead in untouched.itertuples(index=False):
        mql_at = _aware(lead.mql_at)
        rows.append(
            {
                "person_key": lead.person_key,
                "owner_key": lead.owner_key,
                "owner_team": lead.owner_team,
                "mql_at": mql_at,
                "age_days": round((as_of - mql_at).total_seconds() / 86_400, 1),
                "age_business_hours": round(calendar.business_minutes_between(mql_at, as_of) / 60, 1),
            }
        )
    columns = ["person_key", "owner_key", "owner_team", "mql_at", "age_days", "age_business_hours"]
    return pd.DataFrame(rows, columns=columns).sort_values("mql_at", kind="stable").reset_index(drop=True)


def mql_commitment(
    leads: pd.DataFrame,
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: MqlCommitment,
    score_column: str = "score_at_mql",
) -> list[CommitmentOutcome]:
    """One outcome per calendar month that has MQLs (audited MQLs only: inferred ones have no real MQL time),
    counting each MQL by the score it had when it became one."""
    mqls = leads[leads["mql_at"].notna() & ~leads["mql_inferred"].fillna(False).astype(bool)]
    pairs = [
        (_aware(at), float(score) if pd.notna(score) else 0.0) for at, score in zip(mqls["mql_at"], mqls[score_column])
    ]
    months = sorted({_month(at, calendar) for at, _ in pairs})
    return [mql_commitment_outcome(month, pairs, as_of, calendar, policy) for month in months]


@dataclass(frozen=True)
class RuleSummary:
    rule: str
    met: int
    breached: int
    pending: int
    breaching_leads: tuple[str, ...]


def rule_summaries(findings: pd.DataFrame) -> list[RuleSummary]:
    out = []
    for rule in RULES:
        part = findings[findings["rule"] == rule]
        counts = part["status"].value_counts()
        out.append(
            RuleSummary(
                rule,
                int(counts.get("met", 0)),
                int(counts.get("breached", 0)),
                int(counts.get("pending", 0)),
                tuple(part.loc[part["status"] == "breached", "person_key"].astype(str)),
            )
        )
    return out


def _aware(value: Any) -> datetime:
    instant = pd.Timestamp(value).to_pydatetime()
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _month(instant: datetime, calendar: BusinessCalendar) -> date:
    return instant.astimezone(calendar.tz).date().replace(day=1)
