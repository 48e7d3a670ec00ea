"""Lead score = fit + engagement, its band and whether it makes the lead an MQL.

Fit (does not fade):
  - title: the first title rule (file order) with a keyword found in the job title as whole words, ignoring
    case ("vp" matches "VP of Sales", not "MVP"); no match gives 0;
  - company size: the points of the band holding the employee count (bands never overlap), else 0;
  - industry: the points of the canonical industry, else 0.
Engagement (fades): each action is worth ``points * count * 0.5 ** (age_days / half_life_days)`` at
``as_of``; actions after ``as_of`` are ignored (the score is what was knowable then); each kind's faded sum is
then capped by ``caps`` when one is set. The lead is an MQL when the total reaches ``mql_threshold``.

When the score first reached the threshold (``score_reached_at``): between two actions every faded sum only
shrinks and a cap cannot raise it, so the score peaks at the instants actions happen; the first of those instants
(or the instant the fit became known) at which the score reaches the threshold is the score-defined MQL time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from pipelines.funnel.model import ENGAGEMENT_KINDS, FunnelDefinitions, LeadScoreDefs
from pipelines.funnel.vocab import canonical_industry

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class PersonFacts:
    title: str | None = None
    employees: int | None = None
    industry: str | None = None  # raw from either CRM, or canonical


@dataclass(frozen=True)
class Engagement:
    """One action (``model.ENGAGEMENT_KINDS``); ``count`` > 1 for aggregates such as a page-view total."""

    kind: str
    at: datetime
    count: int = 1


@dataclass(frozen=True)
class ScoreBreakdown:
    fit: float
    engagement: float
    total: float
    band: str
    is_mql: bool


def lead_score(
    person: PersonFacts, engagements: Iterable[Engagement], as_of: datetime, defs: FunnelDefinitions
) -> ScoreBreakdown:
    rules = defs.lead_score
    fit = _fit(person, defs)
    engagement = _engagement(engagements, as_of, rules)
    total = round(fit + engagement, 6)  # six decimals keep sums stable against float noise at band edges
    band = next(b.name for b in rules.bands if b.contains(total))
    return ScoreBreakdown(round(fit, 6), round(engagement, 6), total, band, total >= rules.mql_threshold)


def score_reached_at(
    person: PersonFacts,
    engagements: Sequence[Engagement],
    known_from: datetime | None,
    as_of: datetime,
    defs: FunnelDefinitions,
) -> datetime | None:
    """The first instant by ``as_of`` at which the lead's score reached ``mql_threshold``, else None.

    ``known_from`` is when the fit became known (the person record's creation); the only other candidates are
    the actions' own instants, where the score peaks (module docstring)."""
    candidates = {e.at.astimezone(UTC) for e in engagements}
    if known_from is not None:
        candidates.add(known_from.astimezone(UTC))
    cutoff = as_of.astimezone(UTC)
    for at in sorted(c for c in candidates if c <= cutoff):
        if lead_score(person, engagements, at, defs).is_mql:
            return at
    return None


def _fit(person: PersonFacts, defs: FunnelDefinitions) -> float:
    rules = defs.lead_score
    points = 0.0
    if person.title:
        for rule, pattern in zip(rules.title_rules, _title_patterns(defs)):
            if pattern.search(person.title):
                points += rule.points
                break
    if person.employees is not None:
        points += next((b.points for b in rules.size_bands if b.employees.contains(person.employees)), 0.0)
    industry = canonical_industry(person.industry, defs)
    if industry is not None:
        points += rules.industry_points.get(industry, 0.0)
    return points


@lru_cache(maxsize=8)
def _title_patterns(defs: FunnelDefinitions) -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(
            r"\b(?:" + "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in rule.keywords) + r")\b", re.IGNORECASE
        )
        for rule in defs.lead_score.title_rules
    )


def _engagement(engagements: Iterable[Engagement], as_of: datetime, rules: LeadScoreDefs) -> float:
    by_kind: dict[str, float] = {}
    now = as_of.astimezone(UTC)  # same-zone aware subtraction ignores DST; UTC does not
    for e in engagements:
        if e.kind not in ENGAGEMENT_KINDS:
            raise ValueError(f"unknown engagement kind {e.kind!r}; expected one of {', '.join(ENGAGEMENT_KINDS)}")
        at = e.at.astimezone(UTC)
        if at > now or e.kind not in rules.engagement_points:
            continue
        age_days = (now - at).total_seconds() / _SECONDS_PER_DAY
        faded = rules.engagement_points[e.kind] * e.count * 0.5 ** (age_days / rules.half_life_days)
        by_kind[e.kind] = by_kind.get(e.kind, 0.0) + faded
    return sum(min(v, rules.engagement_caps.get(k, v)) for k, v in by_kind.items())
