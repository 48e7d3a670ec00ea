"""canonical_accounts as SQL: Salesforce Accounts and HubSpot companies with canonical firmographics and ICP tier
(``pipelines.closed_loop.accounts``)."""

from __future__ import annotations

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.firmographics import create_firmographic_maps, firmographic_columns
from pipelines.funnel.model import FunnelDefinitions

# accounts._SCHEME: a leading scheme and "www." are not part of the domain.
_SCHEME = r"^(https?://)?(www\.)?"


def accounts_sql(ctx: SqlContext, defs: FunnelDefinitions) -> str:
    """SELECT of canonical_accounts' columns (creates the firmographic map tables first)."""
    create_firmographic_maps(ctx, defs)
    accounts = ctx.raw(
        salesforce.raw_table_name("account"),
        {
            "id": "text",
            "name": "text",
            "website": "text",
            "industry": "text",
            "numberofemployees": "integer",
            "annualrevenue": "float",
            "billingcountry": "text",
            "icp_tier__c": "text",
            "ownerid": "text",
            "createddate": "timestamp",
            "lastmodifieddate": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    companies = ctx.raw(
        hubspot.raw_table_name("companies"),
        {
            "id": "text",
            "name": "text",
            "domain": "text",
            "industry": "text",
            "numberofemployees": "integer",
            "annualrevenue": "float",
            "country": "text",
            "icp_tier": "text",
            "hubspot_owner_id": "text",
            "salesforceaccountid": "text",
            "createdate": "timestamp",
            "created_at": "timestamp",
            "hs_lastmodifieddate": "timestamp",
            "updated_at": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    sf = (
        "SELECT 'salesforce' AS source_system, id AS source_id, 'salesforce:account:' || id AS account_key, name, "
        f"{domain_of(ctx, 'website')} AS domain, industry, numberofemployees AS employees, "
        "annualrevenue AS annual_revenue, billingcountry AS country, icp_tier__c AS crm_icp_tier, "
        "ownerid AS owner_source_id, CAST(NULL AS VARCHAR) AS linked_salesforce_account_id, "
        "createddate AS created_at, lastmodifieddate AS updated_at, "
        f"COALESCE(_is_deleted, FALSE) AS is_deleted FROM {accounts} a"
    )
    hs = (
        "SELECT 'hubspot' AS source_system, id AS source_id, "
        "CASE WHEN salesforceaccountid IS NOT NULL THEN 'salesforce:account:' || salesforceaccountid "
        "ELSE 'hubspot:company:' || id END AS account_key, name, "
        f"{domain_of(ctx, 'domain')} AS domain, industry, numberofemployees AS employees, "
        "annualrevenue AS annual_revenue, country, icp_tier AS crm_icp_tier, "
        "hubspot_owner_id AS owner_source_id, salesforceaccountid AS linked_salesforce_account_id, "
        "COALESCE(createdate, created_at) AS created_at, COALESCE(hs_lastmodifieddate, updated_at) AS updated_at, "
        f"COALESCE(_is_deleted, FALSE) AS is_deleted FROM {companies} c"
    )
    joins, firm = firmographic_columns(
        ctx,
        defs,
        prefix="acc",
        industry="r.industry",
        employees="r.employees",
        revenue="r.annual_revenue",
        country="r.country",
    )
    return (
        "SELECT r.source_system, r.source_id, r.account_key, r.name, r.domain, r.industry, "
        f"{firm['industry_canonical']} AS industry_canonical, r.employees, r.annual_revenue, r.country, "
        f"{firm['country_code']} AS country_code, {firm['icp_tier']} AS icp_tier, r.crm_icp_tier, "
        "r.owner_source_id, r.linked_salesforce_account_id, r.created_at, r.updated_at, r.is_deleted, "
        f"{literal(defs.content_hash)} AS definitions_hash "
        f"FROM ({sf} UNION ALL {hs}) r{joins}"
    )


def domain_of(ctx: SqlContext, expr: str) -> str:
    """``accounts.domain_of`` of cleaned text: without scheme and "www.", up to the first "/", lower-case."""
    bare = f"REGEXP_REPLACE({expr}, {literal(_SCHEME)}, '', 'i')"
    return f"NULLIF(LOWER(SPLIT_PART({bare}, '/', 1)), '')"
