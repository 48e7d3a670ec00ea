"""The lead score of ``pipelines.funnel.scoring`` as SQL expressions over one row per person.

Every rule of ``defs.lead_score`` becomes a CASE generated from the definitions, so the warehouse scores a
million people in one pass:
  - fit: the first title rule whose pattern (``scoring._title_patterns``, the very same regular expression)
    is found in the title, the size band holding the employee count, the canonical industry's points;
  - engagement: each action ``points * count * 0.5 ** (age_days / half_life)`` when it happened by ``as_of``,
    capped per kind; a person has at most one action of each kind (HubSpot's aggregates), so no GROUP BY;
  - the total is rounded to six decimals before its band is chosen, as ``lead_score`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.funnel.model import FunnelDefinitions, LeadScoreDefs
from pipelines.funnel.scoring import _title_patterns

_DOUBLE = "DOUBLE PRECISION"
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class EngagementSql:
    """One engagement kind as SQL: ``at`` is NULL when the person has no such action; ``count`` its weight."""

    at: str
    count: str = "1"


def _number(value: float) -> str:
    """A double literal: PostgreSQL would otherwise compute in NUMERIC and round differently."""
    return f"CAST({literal(float(value))} AS {_DOUBLE})"


def fit_sql(ctx: SqlContext, defs: FunnelDefinitions, *, title: str, employees: str, industry: str) -> str:
    """Fit points of a person: ``title`` text, ``employees`` an integer, ``industry`` the CANONICAL industry."""
    rules = defs.lead_score
    titles = " ".join(
        f"WHEN {ctx.matches(title, pattern.pattern, ignore_case=True)} THEN {_number(rule.points)}"
        for rule, pattern in zip(rules.title_rules, _title_patterns(defs))
    )
    sizes = " ".join(
        f"WHEN {_within(employees, band.employees.min, band.employees.max)} THEN {_number(band.points)}"
        for band in rules.size_bands
    )
    industries = " ".join(
        f"WHEN {industry} = {literal(name)} THEN {_number(points)}" for name, points in rules.industry_points.items()
    )
    parts = [f"CASE {cases} ELSE {_number(0)} END" for cases in (titles, sizes, industries) if cases]
    return "(" + " + ".join([_number(0), *parts]) + ")"


def _within(expr: str, low: float | None, high: float | None) -> str:
    tests = [f"{expr} IS NOT NULL"]
    if low is not None:
        tests.append(f"{expr} >= {literal(low)}")
    if high is not None:
        tests.append(f"{expr} <= {literal(high)}")
    return "(" + " AND ".join(tests) + ")"


def engagement_sql(
    ctx: SqlContext, defs: FunnelDefinitions, engagements: Mapping[str, EngagementSql], as_of: str
) -> str:
    """Faded, capped engagement points at ``as_of`` (a timestamp expression); kinds the definitions do not
    score add nothing, as do actions after ``as_of`` (not knowable then)."""
    rules = defs.lead_score
    terms = [
        _capped(_faded(ctx, rules, kind, e, as_of), rules.engagement_caps.get(kind))
        for kind, e in engagements.items()
        if kind in rules.engagement_points
    ]
    return "(" + " + ".join([_number(0), *(f"COALESCE({t}, {_number(0)})" for t in terms)]) + ")"


def _faded(ctx: SqlContext, rules: LeadScoreDefs, kind: str, e: EngagementSql, as_of: str) -> str:
    age_days = f"({ctx.seconds_between(e.at, as_of)} / {_number(_SECONDS_PER_DAY)})"
    decay = f"POWER({_number(0.5)}, {age_days} / {_number(rules.half_life_days)})"
    points = _number(rules.engagement_points[kind])
    return f"(CASE WHEN {e.at} <= {as_of} THEN {points} * CAST({e.count} AS {_DOUBLE}) * {decay} END)"


def _capped(expr: str, cap: float | None) -> str:
    if cap is None:
        return expr
    return f"(CASE WHEN {expr} > {_number(cap)} THEN {_number(cap)} ELSE {expr} END)"


def total_sql(ctx: SqlContext, fit: str, engagement: str) -> str:
    """The score: six decimals keep sums stable against float noise at band edges (``lead_score``)."""
    return ctx.round(f"({fit} + {engagement})", 6)


def reaches_mql_sql(defs: FunnelDefinitions, total: str) -> str:
    """Whether a score ``total`` makes the lead an MQL (``ScoreBreakdown.is_mql``)."""
    return f"({total} >= {_number(defs.lead_score.mql_threshold)})"


def band_sql(defs: FunnelDefinitions, total: str) -> str:
    """The first band (file order) holding ``total``: ``min`` inclusive, ``below`` exclusive."""
    branches = []
    for band in defs.lead_score.bands:
        tests = ["TRUE"]
        if band.min is not None:
            tests.append(f"{total} >= {_number(band.min)}")
        if band.below is not None:
            tests.append(f"{total} < {_number(band.below)}")
        branches.append(f"WHEN {' AND '.join(tests)} THEN {literal(band.name)}")
    return f"CASE {' '.join(branches)} END" if branches else "CAST(NULL AS VARCHAR)"
