"""canonical_opportunities as SQL: Salesforce Opportunities and HubSpot deals with their person and canonical
stage (``pipelines.closed_loop.opportunities``).

The person of an Opportunity is the person of the Lead that converted into it, else of its Contact; a deal's is
the person of the first of its live associated HubSpot contacts (lowest id by length, then text) that is a person
record, else the person of its linked Opportunity. A record whose person_key is missing (its identity group has no
live record) still counts as found, giving no person rather than falling through: that is what the reference does
under pandas 3, where the missing key is a NaN, which Python's ``or`` takes as a value. A deal's company is its
first live associated company in the same order. Stages map through the definitions, written as two small
tables; an absent raw stage looks up "" as the reference's ``mapping.get(stage_raw or "")`` does.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.funnel.model import FunnelDefinitions

_SF_STAGES = "opp_sf_stages"
_HS_STAGES = "opp_hs_stages"
_CONVERTED = "opp_converted"
_EDGES = "opp_edges"
_SF = "opp_sf"
_COLUMNS = (
    "source_system, source_id, opportunity_key, person_key, name, stage_raw, stage, is_closed, is_won, amount, "
    "close_date, loss_reason, account_source_id, campaign_source_id, owner_source_id, created_at, updated_at, "
    "is_deleted, definitions_hash"
)


def opportunities_sql(ctx: SqlContext, defs: FunnelDefinitions, people: str) -> str:
    """SELECT of canonical_opportunities' columns. ``people`` names a relation of canonical_people rows with
    their person_key (source_system, source_object, source_id, person_key, converted_opportunity_id)."""
    _stage_map(ctx, _SF_STAGES, defs.stages.salesforce_opportunity_stages)
    _stage_map(ctx, _HS_STAGES, defs.stages.hubspot_deal_stages)
    _create_converted(ctx, people)
    _create_edges(ctx)
    ctx.temp(_SF, _salesforce(ctx, defs, people))
    return f"SELECT {_COLUMNS} FROM {_SF} UNION ALL {_hubspot(ctx, defs, people)}"


def _stage_map(ctx: SqlContext, name: str, mapping: Mapping[str, str | None]) -> None:
    ctx.values(name, {"raw": "text", "stage": "text"}, ((str(k), v) for k, v in mapping.items()))


def _create_converted(ctx: SqlContext, people: str) -> None:
    """Opportunity Id -> the person of the Lead converted into it. Should several Leads name one Opportunity, the
    reference keeps the last in its (id-ordered) frame, so the highest Lead id wins here."""
    ranked = (
        "SELECT converted_opportunity_id AS opportunity_id, person_key, "
        "ROW_NUMBER() OVER (PARTITION BY converted_opportunity_id "
        f"ORDER BY {ctx.sortable('source_id')} DESC) AS rn "
        f"FROM {people} WHERE source_object = 'lead' AND converted_opportunity_id IS NOT NULL"
    )
    ctx.temp(_CONVERTED, f"SELECT opportunity_id, person_key FROM ({ranked}) r WHERE rn = 1")


def _create_edges(ctx: SqlContext) -> None:
    """Live deal -> contact/company edges, each once, ranked per deal and target type by (length, id)."""
    edges = ctx.raw(
        hubspot.raw_table_name("associations"),
        {"from_type": "text", "from_id": "text", "to_type": "text", "to_id": "text", "_is_deleted": "boolean"},
    )
    live = (
        f"SELECT DISTINCT from_id, to_type, to_id FROM {edges} e WHERE from_type = 'deals' "
        "AND to_type IN ('contacts', 'companies') AND NOT COALESCE(_is_deleted, FALSE)"
    )
    ctx.temp(_EDGES, live)


def _salesforce(ctx: SqlContext, defs: FunnelDefinitions, people: str) -> str:
    opps = ctx.raw(
        salesforce.raw_table_name("opportunity"),
        {
            "id": "text",
            "contactid": "text",
            "name": "text",
            "stagename": "text",
            "isclosed": "boolean",
            "iswon": "boolean",
            "amount": "float",
            "closedate": "date",
            "loss_reason__c": "text",
            "accountid": "text",
            "campaignid": "text",
            "ownerid": "text",
            "createddate": "timestamp",
            "lastmodifieddate": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    return (
        "SELECT 'salesforce' AS source_system, o.id AS source_id, "
        "'salesforce:opportunity:' || o.id AS opportunity_key, "
        "CASE WHEN cv.opportunity_id IS NOT NULL THEN cv.person_key ELSE pc.person_key END AS person_key, "
        "o.name, o.stagename AS stage_raw, m.stage, "
        "o.isclosed AS is_closed, o.iswon AS is_won, o.amount, o.closedate AS close_date, "
        "o.loss_reason__c AS loss_reason, o.accountid AS account_source_id, o.campaignid AS campaign_source_id, "
        "o.ownerid AS owner_source_id, o.createddate AS created_at, o.lastmodifieddate AS updated_at, "
        f"COALESCE(o._is_deleted, FALSE) AS is_deleted, {literal(defs.content_hash)} AS definitions_hash "
        f"FROM {opps} o "
        f"LEFT JOIN {_CONVERTED} cv ON cv.opportunity_id = o.id "
        f"LEFT JOIN {people} pc ON pc.source_system = 'salesforce' AND pc.source_object = 'contact' "
        "AND pc.source_id = o.contactid "
        f"LEFT JOIN {_SF_STAGES} m ON m.raw = COALESCE(o.stagename, '')"
    )


def _hubspot(ctx: SqlContext, defs: FunnelDefinitions, people: str) -> str:
    deals = ctx.raw(
        hubspot.raw_table_name("deals"),
        {
            "id": "text",
            "salesforceopportunityid": "text",
            "dealname": "text",
            "dealstage": "text",
            "hs_is_closed": "boolean",
            "hs_is_closed_won": "boolean",
            "amount": "float",
            "closedate": "date",
            "closed_lost_reason": "text",
            "hubspot_owner_id": "text",
            "createdate": "timestamp",
            "created_at": "timestamp",
            "hs_lastmodifieddate": "timestamp",
            "updated_at": "timestamp",
            "_is_deleted": "boolean",
            "archived": "boolean",
        },
    )
    natural = f"LENGTH(e.to_id), {ctx.sortable('e.to_id')}"
    contact_person = (
        "SELECT from_id, person_key FROM (SELECT e.from_id, p.person_key, "
        f"ROW_NUMBER() OVER (PARTITION BY e.from_id ORDER BY {natural}) AS rn FROM {_EDGES} e "
        f"JOIN {people} p ON p.source_system = 'hubspot' AND p.source_object = 'contact' AND p.source_id = e.to_id "
        "WHERE e.to_type = 'contacts') r WHERE rn = 1"
    )
    company = (
        "SELECT from_id, to_id FROM (SELECT e.from_id, e.to_id, "
        f"ROW_NUMBER() OVER (PARTITION BY e.from_id ORDER BY {natural}) AS rn FROM {_EDGES} e "
        "WHERE e.to_type = 'companies') r WHERE rn = 1"
    )
    # One person per linked Opportunity even if its Id repeats in the raw table.
    linked_person = f"SELECT source_id, MAX(person_key) AS person_key FROM {_SF} GROUP BY source_id"
    return (
        "SELECT 'hubspot' AS source_system, d.id AS source_id, "
        "CASE WHEN d.salesforceopportunityid IS NOT NULL "
        "THEN 'salesforce:opportunity:' || d.salesforceopportunityid ELSE 'hubspot:deal:' || d.id END "
        "AS opportunity_key, CASE WHEN cp.from_id IS NOT NULL THEN cp.person_key ELSE lp.person_key END "
        "AS person_key, d.dealname AS name, "
        "d.dealstage AS stage_raw, m.stage, d.hs_is_closed AS is_closed, d.hs_is_closed_won AS is_won, d.amount, "
        "d.closedate AS close_date, d.closed_lost_reason AS loss_reason, co.to_id AS account_source_id, "
        "CAST(NULL AS VARCHAR) AS campaign_source_id, d.hubspot_owner_id AS owner_source_id, "
        "COALESCE(d.createdate, d.created_at) AS created_at, "
        "COALESCE(d.hs_lastmodifieddate, d.updated_at) AS updated_at, "
        "COALESCE(d._is_deleted, FALSE) OR COALESCE(d.archived, FALSE) AS is_deleted, "
        f"{literal(defs.content_hash)} AS definitions_hash "
        f"FROM {deals} d "
        f"LEFT JOIN ({contact_person}) cp ON cp.from_id = d.id "
        f"LEFT JOIN ({linked_person}) lp ON lp.source_id = d.salesforceopportunityid "
        f"LEFT JOIN ({company}) co ON co.from_id = d.id "
        f"LEFT JOIN {_HS_STAGES} m ON m.raw = COALESCE(d.dealstage, '')"
    )
