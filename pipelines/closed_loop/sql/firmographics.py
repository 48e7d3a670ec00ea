"""Canonical industry, country and ICP tier of raw firmographics, as joins and a CASE (``accounts.firmographics_row``).

``create_firmographic_maps`` writes the definitions' vocabularies as two temp tables keyed by the folded raw
spelling (``vocab``: trimmed, case-folded; the canonical name itself is a spelling too). ``firmographic_columns``
then turns any relation's raw values into two LEFT JOINs onto those tables and a CASE over the canonical values
with one branch per ICP tier in file order, so the first tier whose every rule matches wins (``icp.icp_tier``).
Missing data never satisfies a constrained attribute: every test of a value also requires it to be present.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.funnel.model import FunnelDefinitions, IcpTier, NumberRange

INDUSTRY_MAP = "fir_industry_map"
COUNTRY_MAP = "fir_country_map"


def create_firmographic_maps(ctx: SqlContext, defs: FunnelDefinitions) -> None:
    """Both mapping tables (``raw`` -> ``canonical``); a later spelling of the same folded raw value wins, as
    in ``vocab``'s indexes."""
    industries: dict[str, str] = {}
    for key, industry in defs.industries.items():
        for raw in (key, *industry.salesforce, *industry.hubspot):
            industries[raw.strip().casefold()] = key
    countries: dict[str, str] = {}
    for code, names in defs.countries.items():
        for raw in (code, *names):
            countries[raw.strip().casefold()] = code
    for name, mapping in ((INDUSTRY_MAP, industries), (COUNTRY_MAP, countries)):
        ctx.values(name, {"raw": "text", "canonical": "text"}, mapping.items())


def firmographic_columns(
    ctx: SqlContext,
    defs: FunnelDefinitions,
    *,
    prefix: str,
    industry: str,
    employees: str,
    revenue: str,
    country: str,
) -> tuple[str, dict[str, str]]:
    """(LEFT JOIN clauses, {industry_canonical, country_code, icp_tier: SQL expression}) for raw values given
    as SQL expressions (``employees`` an integer, ``revenue`` a number). The joined tables are aliased
    ``{prefix}_ind`` and ``{prefix}_cty``, so two sets of firmographics can share one query."""
    ind, cty = f"{prefix}_ind", f"{prefix}_cty"
    joins = (
        f" LEFT JOIN {INDUSTRY_MAP} {ind} ON {ind}.raw = {ctx.fold(f'CAST({industry} AS VARCHAR)')}"
        f" LEFT JOIN {COUNTRY_MAP} {cty} ON {cty}.raw = {ctx.fold(f'CAST({country} AS VARCHAR)')}"
    )
    industry_canonical, country_code = f"{ind}.canonical", f"{cty}.canonical"
    branches = " ".join(
        f"WHEN {_tier_matches(tier, industry_canonical, employees, revenue, country_code)} THEN {literal(tier.tier)}"
        for tier in defs.icp_tiers
    )
    icp = f"CASE {branches} END" if branches else "CAST(NULL AS VARCHAR)"
    return joins, {"industry_canonical": industry_canonical, "country_code": country_code, "icp_tier": icp}


def _tier_matches(tier: IcpTier, industry: str, employees: str, revenue: str, country: str) -> str:
    tests = ["TRUE"]
    if tier.industries is not None:
        tests.append(_one_of(industry, tier.industries))
    if tier.countries is not None:
        tests.append(_one_of(country, tier.countries))
    if tier.employees is not None:
        tests.append(_within(employees, tier.employees))
    if tier.annual_revenue is not None:
        tests.append(_within(revenue, tier.annual_revenue))
    return "(" + " AND ".join(tests) + ")"


def _one_of(expr: str, allowed: Iterable[str]) -> str:
    names = sorted(allowed)
    if not names:
        return "FALSE"
    return f"({expr} IS NOT NULL AND {expr} IN ({', '.join(literal(n) for n in names)}))"


def _within(expr: str, bounds: NumberRange) -> str:
    # A NaN (what pandas reads a missing float as) is missing, but both engines sort it above every number.
    tests = [f"{expr} IS NOT NULL", f"{expr} <> CAST('NaN' AS DOUBLE PRECISION)"]
    if bounds.min is not None:
        tests.append(f"{expr} >= {literal(bounds.min)}")
    if bounds.max is not None:
        tests.append(f"{expr} <= {literal(bounds.max)}")
    return "(" + " AND ".join(tests) + ")"
