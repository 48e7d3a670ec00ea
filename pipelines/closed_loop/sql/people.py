"""canonical_people rows before identity resolution (``people.build_people``): HubSpot contacts, Salesforce
Leads and Contacts, one SELECT per CRM object joined to two small lookups built first:

  - ``ppl_campaigns``: Lead/Contact Id -> the Salesforce campaign it first responded to
    (``people.campaign_by_member``): live members ordered by FirstRespondedDate (never responded last),
    CreatedDate (unknown last), then Id;
  - ``ppl_merged``: HubSpot contact -> the surviving contact it was merged into.

``person_key`` is NULL here; identity resolution fills it in.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from connectors.warehouse.catalog.harmonised import CANONICAL_PEOPLE
from pipelines.closed_loop.people import MQL_DATE_PROPERTY
from pipelines.closed_loop.sql.context import SQL_TYPES, SqlContext, Want

CAMPAIGNS = "ppl_campaigns"
MERGED = "ppl_merged"
# ``values.normalize_email``'s pattern; \v spelled out because RE2's \s lacks it while Python's has it.
# values.normalize_email's pattern; \v spelled out because RE2 (DuckDB) leaves it out of \s, Python does not.
EMAIL_PATTERN = r"^[^@\s\v]+@[^@\s\v]+\.[a-z]{2,}$"
# What Python's float() accepts of the text the CRMs store (``values.integer``).

_HUBSPOT_COLUMNS: dict[str, Want] = {
    "id": "text",
    "email": "text",
    "_is_deleted": "boolean",
    "archived": "boolean",
    "firstname": "text",
    "lastname": "text",
    "jobtitle": "text",
    "company": "text",
    "country": "text",
    "industry": "text",
    "numemployees": "text",
    "annualrevenue": "float",
    "hubspot_owner_id": "text",
    "associatedcompanyid": "text",
    "lifecyclestage": "text",
    "hs_lead_status": "text",
    "hs_analytics_source": "text",
    "crm_loop_campaign": "text",
    "hubspotscore": "float",
    MQL_DATE_PROPERTY: "timestamp",
    "disqualification_reason": "text",
    "hs_analytics_num_page_views": "integer",
    "num_conversion_events": "integer",
    "demo_requested": "boolean",
    "webinar_attended": "boolean",
    "hs_email_last_reply_date": "timestamp",
    "salesforceleadid": "text",
    "salesforcecontactid": "text",
    "createdate": "timestamp",
    "created_at": "timestamp",
    "lastmodifieddate": "timestamp",
    "updated_at": "timestamp",
}
_LEAD_COLUMNS: dict[str, Want] = {
    "id": "text",
    "email": "text",
    "_is_deleted": "boolean",
    "firstname": "text",
    "lastname": "text",
    "title": "text",
    "company": "text",
    "country": "text",
    "industry": "text",
    "numberofemployees": "integer",
    "annualrevenue": "float",
    "ownerid": "text",
    "convertedaccountid": "text",
    "status": "text",
    "leadsource": "text",
    "lead_score__c": "float",
    "mql_date__c": "timestamp",
    "disqualification_reason__c": "text",
    "hubspot_contact_id__c": "text",
    "isconverted": "boolean",
    "converteddate": "date",
    "convertedcontactid": "text",
    "convertedopportunityid": "text",
    "createddate": "timestamp",
    "lastmodifieddate": "timestamp",
}
_CONTACT_COLUMNS: dict[str, Want] = {
    "id": "text",
    "email": "text",
    "_is_deleted": "boolean",
    "firstname": "text",
    "lastname": "text",
    "title": "text",
    "mailingcountry": "text",
    "ownerid": "text",
    "accountid": "text",
    "leadsource": "text",
    "hubspot_contact_id__c": "text",
    "createddate": "timestamp",
    "lastmodifieddate": "timestamp",
}


def people_sql(ctx: SqlContext) -> str:
    """Every canonical_people column for every person record, ``person_key`` NULL."""
    create_campaigns(ctx)
    create_merged(ctx)
    return " UNION ALL ".join((_hubspot_contacts(ctx), _salesforce_leads(ctx), _salesforce_contacts(ctx)))


def create_campaigns(ctx: SqlContext) -> str:
    """Temp table ``ppl_campaigns`` (member_id, campaign_id, campaign_key): a member listed as both Lead and
    Contact of one CampaignMember row takes that campaign under both ids, as the reference does."""
    members = ctx.raw(
        salesforce.raw_table_name("campaignmember"),
        {
            "id": "text",
            "campaignid": "text",
            "leadid": "text",
            "contactid": "text",
            "firstrespondeddate": "text",
            "createddate": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    campaigns = ctx.raw(
        salesforce.raw_table_name("campaign"), {"id": "text", "hubspot_campaign__c": "text", "name": "text"}
    )
    live = f"SELECT * FROM {members} m WHERE NOT COALESCE(m._is_deleted, FALSE) AND m.campaignid IS NOT NULL"
    # The reference sorts FirstRespondedDate as text with "9999" for never, i.e. ISO order, never last.
    order = f"{ctx.sortable('u.firstrespondeddate')} NULLS LAST, u.createddate NULLS LAST, {ctx.sortable('u.id')}"
    created = ctx.temp(
        CAMPAIGNS,
        f"""
        SELECT member_id, campaign_id, campaign_key FROM (
            SELECT u.member_id, u.campaignid AS campaign_id, COALESCE(c.hubspot_campaign__c, c.name) AS campaign_key,
                   ROW_NUMBER() OVER (PARTITION BY u.member_id ORDER BY {order}) AS pick
            FROM (
                SELECT l.leadid AS member_id, l.* FROM ({live}) l WHERE l.leadid IS NOT NULL
                UNION ALL
                SELECT k.contactid AS member_id, k.* FROM ({live}) k WHERE k.contactid IS NOT NULL
            ) u
            LEFT JOIN {campaigns} c ON c.id = u.campaignid
        ) ranked
        WHERE pick = 1
        """,
    )
    return created


def create_merged(ctx: SqlContext) -> str:
    """Temp table ``ppl_merged`` (merged_id, survivor_id); of repeated rows for one contact the reference's
    dict keeps the last read (the raw table is read ordered by its first column, id)."""
    merged = ctx.raw(
        hubspot.raw_table_name("merged_records"),
        {"id": "text", "object_type": "text", "merged_id": "text", "survivor_id": "text"},
    )
    created = ctx.temp(
        MERGED,
        f"""
        SELECT merged_id, survivor_id FROM (
            SELECT merged_id, survivor_id, ROW_NUMBER() OVER (PARTITION BY merged_id ORDER BY id DESC) AS pick
            FROM {merged} m
            WHERE object_type = 'contacts' AND merged_id IS NOT NULL
        ) ranked
        WHERE pick = 1
        """,
    )
    return created


def employee_band_floor(ctx: SqlContext, band: str) -> str:
    """``people.employee_band_floor`` of cleaned text: the number before the first '-', without trailing '+'
    and thousands separators ("100-500" -> 100, "1,000+" -> 1000)."""
    head = ctx.clean(f"REPLACE(RTRIM(SPLIT_PART({band}, '-', 1), '+'), ',', '')")
    return ctx.integer_of_text(head)


def normalized_email(ctx: SqlContext, expr: str) -> str:
    """``values.normalize_email(...)[0]``: the trimmed lower-case e-mail when well-formed, else NULL."""
    folded = ctx.fold(expr)
    return f"CASE WHEN {ctx.matches(folded, EMAIL_PATTERN)} THEN {folded} END"


def _email_columns(ctx: SqlContext, email: str) -> dict[str, str]:
    """``values.normalize_email``: the lower-cased e-mail when well-formed (else NULL) and whether it is."""
    normalized = normalized_email(ctx, email)
    return {
        "email": email,
        "email_normalized": normalized,
        "email_is_valid": f"({normalized} IS NOT NULL)",
    }


def _select(values: Mapping[str, str], source: str) -> str:
    """A SELECT of every canonical_people column in catalog order, NULL (typed) where ``values`` has none."""
    columns = [
        f"{values[c.name]} AS {c.name}" if c.name in values else f"CAST(NULL AS {SQL_TYPES[c.type]}) AS {c.name}"
        for c in CANONICAL_PEOPLE.columns
    ]
    return f"SELECT {', '.join(columns)} FROM {source}"


def _hubspot_contacts(ctx: SqlContext) -> str:
    raw = ctx.raw(hubspot.raw_table_name("contacts"), _HUBSPOT_COLUMNS)
    values = {
        "source_system": "'hubspot'",
        "source_object": "'contact'",
        "source_id": "c.id",
        **_email_columns(ctx, "c.email"),
        "is_deleted": "(COALESCE(c._is_deleted, FALSE) OR COALESCE(c.archived, FALSE))",
        "first_name": "c.firstname",
        "last_name": "c.lastname",
        "title": "c.jobtitle",
        "company_name": "c.company",
        "country": "c.country",
        "industry": "c.industry",
        "employees": employee_band_floor(ctx, "c.numemployees"),
        "annual_revenue": "c.annualrevenue",
        "owner_source_id": "c.hubspot_owner_id",
        "account_source_id": "c.associatedcompanyid",
        "lifecycle_stage": "c.lifecyclestage",
        "lead_status": "c.hs_lead_status",
        "original_source": "c.hs_analytics_source",
        "campaign_key": "c.crm_loop_campaign",
        "crm_score": "c.hubspotscore",
        "mql_at": f"c.{MQL_DATE_PROPERTY}",
        "disqualification_reason_raw": "c.disqualification_reason",
        "page_views": "c.hs_analytics_num_page_views",
        "form_fills": "c.num_conversion_events",
        "demo_requested": "c.demo_requested",
        "webinar_attended": "c.webinar_attended",
        "last_reply_at": "c.hs_email_last_reply_date",
        "linked_salesforce_lead_id": "c.salesforceleadid",
        "linked_salesforce_contact_id": "c.salesforcecontactid",
        "merged_into_source_id": "m.survivor_id",
        "created_at": "COALESCE(c.createdate, c.created_at)",
        "updated_at": "COALESCE(c.lastmodifieddate, c.updated_at)",
    }
    return _select(values, f"{raw} c LEFT JOIN {MERGED} m ON m.merged_id = c.id")


def _salesforce_leads(ctx: SqlContext) -> str:
    raw = ctx.raw(salesforce.raw_table_name("lead"), _LEAD_COLUMNS)
    values = {
        "source_system": "'salesforce'",
        "source_object": "'lead'",
        "source_id": "l.id",
        **_email_columns(ctx, "l.email"),
        "is_deleted": "COALESCE(l._is_deleted, FALSE)",
        "first_name": "l.firstname",
        "last_name": "l.lastname",
        "title": "l.title",
        "company_name": "l.company",
        "country": "l.country",
        "industry": "l.industry",
        "employees": "l.numberofemployees",
        "annual_revenue": "l.annualrevenue",
        "owner_source_id": "l.ownerid",
        "account_source_id": "l.convertedaccountid",
        "lead_status": "l.status",
        "original_source": "l.leadsource",
        "campaign_key": "k.campaign_key",
        "salesforce_campaign_id": "k.campaign_id",
        "crm_score": "l.lead_score__c",
        "mql_at": "l.mql_date__c",
        "disqualification_reason_raw": "l.disqualification_reason__c",
        "linked_hubspot_contact_id": "l.hubspot_contact_id__c",
        "is_converted": "l.isconverted",
        "converted_date": "l.converteddate",
        "converted_contact_id": "l.convertedcontactid",
        "converted_opportunity_id": "l.convertedopportunityid",
        "created_at": "l.createddate",
        "updated_at": "l.lastmodifieddate",
    }
    return _select(values, f"{raw} l LEFT JOIN {CAMPAIGNS} k ON k.member_id = l.id")


def _salesforce_contacts(ctx: SqlContext) -> str:
    raw = ctx.raw(salesforce.raw_table_name("contact"), _CONTACT_COLUMNS)
    values = {
        "source_system": "'salesforce'",
        "source_object": "'contact'",
        "source_id": "s.id",
        **_email_columns(ctx, "s.email"),
        "is_deleted": "COALESCE(s._is_deleted, FALSE)",
        "first_name": "s.firstname",
        "last_name": "s.lastname",
        "title": "s.title",
        "country": "s.mailingcountry",
        "owner_source_id": "s.ownerid",
        "account_source_id": "s.accountid",
        "original_source": "s.leadsource",
        "campaign_key": "k.campaign_key",
        "salesforce_campaign_id": "k.campaign_id",
        "linked_hubspot_contact_id": "s.hubspot_contact_id__c",
        "created_at": "s.createddate",
        "updated_at": "s.lastmodifieddate",
    }
    return _select(values, f"{raw} s LEFT JOIN {CAMPAIGNS} k ON k.member_id = s.id")
