"""canonical_accounts: HubSpot companies and Salesforce Accounts, with canonical firmographics and ICP tier."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from connectors.warehouse.catalog.harmonised import CANONICAL_ACCOUNTS
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import flag, integer, number, records, text
from pipelines.funnel.icp import Firmographics, icp_tier
from pipelines.funnel.model import FunnelDefinitions
from pipelines.funnel.vocab import canonical_country, canonical_industry

_SCHEME = re.compile(r"^(https?://)?(www\.)?", re.IGNORECASE)


def domain_of(website: Any) -> str | None:
    value = text(website)
    if value is None:
        return None
    return _SCHEME.sub("", value).split("/")[0].lower() or None


def firmographics_row(
    industry: Any, employees: Any, revenue: Any, country: Any, defs: FunnelDefinitions
) -> dict[str, Any]:
    """Canonical industry/country and ICP tier of raw firmographics (shared with person-level fallbacks)."""
    firm = Firmographics(text(industry), integer(employees), number(revenue), text(country))
    return {
        "industry_canonical": canonical_industry(firm.industry, defs),
        "country_code": canonical_country(firm.country, defs),
        "icp_tier": icp_tier(firm, defs),
    }


def build_accounts(raw: Frames, defs: FunnelDefinitions) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for a in records(raw.sf("account")):
        rows.append(
            {
                "source_system": "salesforce",
                "source_id": text(a["id"]),
                "account_key": f"salesforce:account:{a['id']}",
                "name": text(a.get("name")),
                "domain": domain_of(a.get("website")),
                "industry": text(a.get("industry")),
                "employees": integer(a.get("numberofemployees")),
                "annual_revenue": number(a.get("annualrevenue")),
                "country": text(a.get("billingcountry")),
                "crm_icp_tier": text(a.get("icp_tier__c")),
                "owner_source_id": text(a.get("ownerid")),
                "linked_salesforce_account_id": None,
                "created_at": a.get("createddate"),
                "updated_at": a.get("lastmodifieddate"),
                "is_deleted": bool(flag(a.get("_is_deleted"))),
            }
        )
    for c in records(raw.hs("companies")):
        linked = text(c.get("salesforceaccountid"))
        rows.append(
            {
                "source_system": "hubspot",
                "source_id": text(c["id"]),
                "account_key": f"salesforce:account:{linked}" if linked else f"hubspot:company:{c['id']}",
                "name": text(c.get("name")),
                "domain": domain_of(c.get("domain")),
                "industry": text(c.get("industry")),
                "employees": integer(c.get("numberofemployees")),
                "annual_revenue": number(c.get("annualrevenue")),
                "country": text(c.get("country")),
                "crm_icp_tier": text(c.get("icp_tier")),
                "owner_source_id": text(c.get("hubspot_owner_id")),
                "linked_salesforce_account_id": linked,
                "created_at": c.get("created_at") if c.get("createdate") is None else c.get("createdate"),
                "updated_at": c.get("hs_lastmodifieddate") or c.get("updated_at"),
                "is_deleted": bool(flag(c.get("_is_deleted"))),
            }
        )
    for row in rows:
        row.update(firmographics_row(row["industry"], row["employees"], row["annual_revenue"], row["country"], defs))
        row["definitions_hash"] = defs.content_hash
    return pd.DataFrame(rows, columns=CANONICAL_ACCOUNTS.column_names)
