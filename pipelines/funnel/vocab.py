"""Raw CRM spellings -> the canonical industry and country names of the definitions file.

Both CRMs' values are looked up at once (Salesforce ``Technology`` and HubSpot ``COMPUTER_SOFTWARE`` both
give ``technology``), ignoring case and surrounding spaces; the canonical name itself is accepted too, so
already-harmonised rows pass through unchanged. Unknown or blank values give ``None``.
"""

from __future__ import annotations

from functools import lru_cache

from pipelines.funnel.model import FunnelDefinitions


@lru_cache(maxsize=8)
def _industry_index(defs: FunnelDefinitions) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, industry in defs.industries.items():
        for raw in (key, *industry.salesforce, *industry.hubspot):
            index[raw.strip().casefold()] = key
    return index


@lru_cache(maxsize=8)
def _country_index(defs: FunnelDefinitions) -> dict[str, str]:
    index: dict[str, str] = {}
    for code, names in defs.countries.items():
        for raw in (code, *names):
            index[raw.strip().casefold()] = code
    return index


def canonical_industry(value: str | None, defs: FunnelDefinitions) -> str | None:
    return _industry_index(defs).get(value.strip().casefold()) if value else None


def canonical_country(value: str | None, defs: FunnelDefinitions) -> str | None:
    return _country_index(defs).get(value.strip().casefold()) if value else None
