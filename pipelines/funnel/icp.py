"""Ideal-customer-profile tier of a company: A, B, C or ``None``.

Rule (as the definitions file says): tiers are tried in file order and the first tier whose every rule
matches wins. A tier's rule on an attribute the company lacks (no employee count, unknown industry) does not
match, so missing data never promotes a company; a tier without a rule on that attribute ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.funnel.model import FunnelDefinitions, IcpTier
from pipelines.funnel.vocab import canonical_country, canonical_industry


@dataclass(frozen=True)
class Firmographics:
    """Raw values from either CRM (Salesforce ``Technology`` or HubSpot ``COMPUTER_SOFTWARE``, ``United
    States`` or ``US``) or canonical names: ``icp_tier`` normalises them through the definitions."""

    industry: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    country: str | None = None


def icp_tier(firmographics: Firmographics, defs: FunnelDefinitions) -> str | None:
    industry = canonical_industry(firmographics.industry, defs)
    country = canonical_country(firmographics.country, defs)
    for tier in defs.icp_tiers:
        if _matches(tier, industry, firmographics.employees, firmographics.annual_revenue, country):
            return tier.tier
    return None


def _matches(
    tier: IcpTier, industry: str | None, employees: int | None, revenue: float | None, country: str | None
) -> bool:
    if tier.industries is not None and industry not in tier.industries:
        return False
    if tier.countries is not None and country not in tier.countries:
        return False
    if tier.employees is not None and (employees is None or not tier.employees.contains(employees)):
        return False
    return tier.annual_revenue is None or (revenue is not None and tier.annual_revenue.contains(revenue))
