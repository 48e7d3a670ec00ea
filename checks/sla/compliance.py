"""SLA compliance counted in the warehouse, over ``closed_loop_leads``.

The per-lead statuses are computed once, by the closed-loop build, with the shared SLA functions; here they
are only counted (GROUP BY in the warehouse, so a million leads never leave it), and a report and the table can
never disagree. What this adds: roll-ups per owner, team and month, the "ignored leads" finding (an MQL nobody
touched, past its deadline) with its age, and marketing's monthly MQL commitment. Only aggregates and capped
samples of ids come back to Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import MqlCommitment
from pipelines.funnel.sla import CommitmentOutcome, Status

# Rule name -> the closed_loop_leads column holding each lead's status for it.
RULES: dict[str, str] = {
    "first_touch": "first_touch_sla_status",
    "accept_reject": "accept_reject_sla_status",
    "rejection_reason": "rejection_reason_sla_status",
    "contact_attempts": "contact_attempts_sla_status",
}
DIMENSIONS = ("owner", "team", "month")
STATUSES = ("met", "breached", "pending")
UNKNOWN = "(none)"
ROLLUP_COLUMNS = ["dimension", "rule", "member", "leads", *STATUSES, "compliance"]


def findings(leads: sa.TableClause) -> sa.Subquery:
    """One row per (lead, rule) the rule applies to: person_key, rule, status, and the lead's owner, team and
    MQL year/month (null ones as ``(none)``)."""
    parts = [
        sa.select(
            leads.c.person_key,
            sa.literal(rule).label("rule"),
            leads.c[column].label("status"),
            sa.func.coalesce(sa.cast(leads.c.owner_key, sa.Text), UNKNOWN).label("owner"),
            sa.func.coalesce(sa.cast(leads.c.owner_team, sa.Text), UNKNOWN).label("team"),
            sa.cast(sa.extract("year", leads.c.mql_month), sa.Integer).label("mql_year"),
            sa.cast(sa.extract("month", leads.c.mql_month), sa.Integer).label("mql_month_no"),
        ).where(leads.c[column].in_(STATUSES))
        for rule, column in RULES.items()
    ]
    return sa.union_all(*parts).subquery("findings")


def _status_counts(found: sa.Subquery) -> list[sa.Label[Any]]:
    return [sa.func.count(sa.case((found.c.status == s, 1))).label(s) for s in STATUSES]


def rollup(conn: sa.Connection, found: sa.Subquery, dimension: str) -> pd.DataFrame:
    """Per (rule, member of the dimension): leads, met, breached, pending and compliance (met / decided)."""
    members = [found.c.mql_year, found.c.mql_month_no] if dimension == "month" else [found.c[dimension]]
    query = sa.select(found.c.rule, *members, *_status_counts(found)).group_by(found.c.rule, *members)
    counts = pd.DataFrame(conn.execute(query).mappings().all(), columns=["rule", *(m.name for m in members), *STATUSES])
    if dimension == "month":
        year, month = counts.pop("mql_year"), counts.pop("mql_month_no")
        known = year.notna() & month.notna()
        label = year.astype("Int64").astype(str).str.zfill(4) + "-" + month.astype("Int64").astype(str).str.zfill(2)
        counts["member"] = label.where(known, UNKNOWN)
    else:
        counts = counts.rename(columns={dimension: "member"})
    counts = counts.astype({s: "int64" for s in STATUSES}).sort_values(["rule", "member"], kind="stable")
    counts["leads"] = counts[list(STATUSES)].sum(axis=1)
    decided = counts["met"] + counts["breached"]
    counts["compliance"] = (counts["met"] / decided.where(decided > 0)).round(4)
    counts.insert(0, "dimension", dimension)
    return counts[ROLLUP_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class RuleSummary:
    rule: str
    met: int
    breached: int
    pending: int
    breaching_leads: tuple[str, ...]  # a sample (lowest person_key first), not every breaching lead


def rule_summaries(conn: sa.Connection, found: sa.Subquery, sample_size: int) -> list[RuleSummary]:
    counts = {
        row.rule: row
        for row in conn.execute(sa.select(found.c.rule, *_status_counts(found)).group_by(found.c.rule)).all()
    }
    out = []
    for rule in RULES:
        breaching = conn.execute(
            sa.select(found.c.person_key)
            .where(found.c.rule == rule, found.c.status == "breached")
            .order_by(found.c.person_key)
            .limit(sample_size)
        ).scalars()
        row = counts.get(rule)
        met, breached, pending = (int(getattr(row, s)) for s in STATUSES) if row else (0, 0, 0)
        out.append(RuleSummary(rule, met, breached, pending, tuple(str(k) for k in breaching)))
    return out


@dataclass(frozen=True)
class Ignored:
    """MQLs nobody touched at all whose first-touch deadline has passed."""

    count: int
    oldest_age_days: float | None
    per_owner: pd.DataFrame  # owner_key ('(none)' for none), leads
    oldest: pd.DataFrame  # the oldest ``sample_size`` of them with their age, oldest first


def ignored_leads(
    conn: sa.Connection, leads: sa.TableClause, as_of: datetime, calendar: BusinessCalendar, sample_size: int
) -> Ignored:
    untouched = sa.and_(
        leads.c.mql_at.is_not(None), leads.c.first_touch_at.is_(None), leads.c.first_touch_sla_status == "breached"
    )
    count, first = conn.execute(sa.select(sa.func.count(), sa.func.min(leads.c.mql_at)).where(untouched)).one()
    owner = sa.func.coalesce(sa.cast(leads.c.owner_key, sa.Text), UNKNOWN).label("owner_key")
    per_owner = pd.DataFrame(
        conn.execute(sa.select(owner, sa.func.count().label("leads")).where(untouched).group_by(owner)).all(),
        columns=["owner_key", "leads"],
    ).sort_values("owner_key", kind="stable")
    sample = conn.execute(
        sa.select(leads.c.person_key, leads.c.owner_key, leads.c.owner_team, leads.c.mql_at)
        .where(untouched)
        .order_by(leads.c.mql_at, leads.c.person_key)
        .limit(sample_size)
    ).all()
    # At most ``sample_size`` rows: the business-time age needs the calendar, which lives in Python.
    oldest = pd.DataFrame(
        [
            {
                "person_key": key,
                "owner_key": owner_key,
                "owner_team": team,
                "mql_at": _aware(at),
                "age_days": _age_days(at, as_of),
                "age_business_hours": round(calendar.business_minutes_between(_aware(at), as_of) / 60, 1),
            }
            for key, owner_key, team, at in sample
        ],
        columns=["person_key", "owner_key", "owner_team", "mql_at", "age_days", "age_business_hours"],
    )
    return Ignored(int(count), None if first is None else _age_days(first, as_of), per_owner, oldest)


def mql_commitment(
    conn: sa.Connection,
    leads: sa.TableClause,
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: MqlCommitment,
) -> list[CommitmentOutcome]:
    """One outcome per calendar month (in the calendar's zone) that has MQLs (audited MQLs only: inferred ones
    have no real MQL time), counting each MQL by the score it had when it became one (none counts as 0); the
    same rule as ``pipelines.funnel.sla.mql_commitment_outcome``, counted in the warehouse."""
    audited = sa.and_(leads.c.mql_at.is_not(None), sa.func.coalesce(leads.c.mql_inferred, sa.false()) == sa.false())
    first, last = conn.execute(sa.select(sa.func.min(leads.c.mql_at), sa.func.max(leads.c.mql_at)).where(audited)).one()
    if first is None:
        return []
    months = _months(_month(_aware(first), calendar), _month(_aware(last), calendar))
    bounds = [_naive_utc(_month_start(m, calendar)) for m in months]
    # The month of each MQL as an index into ``months``: a CASE over a few dozen boundaries instead of a
    # time-zone conversion per row, which DuckDB and PostgreSQL spell differently.
    # One month has no boundary to test, and a CASE without WHEN is no SQL (nor is grouping by a literal).
    whens = [(leads.c.mql_at < b, i) for i, b in enumerate(bounds[1:])] or [(sa.true(), 0)]
    bucket = sa.case(*whens, else_=len(months) - 1).label("m")
    known = _naive_utc(as_of)
    counted = sa.func.count(
        sa.case((sa.and_(leads.c.mql_at <= known, sa.func.coalesce(leads.c.score_at_mql, 0.0) >= policy.min_score), 1))
    ).label("counted")
    rows = conn.execute(sa.select(bucket, counted).where(audited).group_by(bucket).order_by(bucket)).all()
    return [_commitment(months[int(m)], int(n), as_of, calendar, policy) for m, n in rows]


def _commitment(
    month: date, count: int, as_of: datetime, calendar: BusinessCalendar, policy: MqlCommitment
) -> CommitmentOutcome:
    """Met as soon as the target is reached, breached once the month ended short of it, pending before that."""
    if count >= policy.monthly_count:
        return CommitmentOutcome("met", month, count, policy.monthly_count, policy.min_score)
    end = _month_start(_next_month(month), calendar)
    status: Status = "breached" if as_of.astimezone(UTC) >= end else "pending"
    return CommitmentOutcome(status, month, count, policy.monthly_count, policy.min_score)


def _months(first: date, last: date) -> list[date]:
    out = [first]
    while out[-1] < last:
        out.append(_next_month(out[-1]))
    return out


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_start(month: date, calendar: BusinessCalendar) -> datetime:
    return datetime.combine(month.replace(day=1), time(0), calendar.tz).astimezone(UTC)


def _age_days(mql_at: Any, as_of: datetime) -> float:
    return round((as_of - _aware(mql_at)).total_seconds() / 86_400, 1)


def _aware(value: Any) -> datetime:
    instant = pd.Timestamp(value).to_pydatetime()
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _month(instant: datetime, calendar: BusinessCalendar) -> date:
    return instant.astimezone(calendar.tz).date().replace(day=1)
