"""Per-person facts of ``closed_loop_leads`` (everything but the journey and SLA columns), as set-based SQL.

The reference is ``leads.closed_loop_row`` over ``bundles.PersonBundle``; each of its choices is a join on
the shared membership tables (``members``, ``person_deals``: the caller creates them first) at a rank:
  - primary ids (``_primary_ids``): the HubSpot contact; the Lead that contact links to, else the earliest
    Lead; that Lead's converted Contact / Opportunity when the person has them live, else the first one; the
    HubSpot deal of that Opportunity, else the earliest deal;
  - the person record (firmographics, title, e-mail fallback): that Lead, else that contact, else the first
    Salesforce Contact;
  - accounts: the ids named by the person's records (live order), then by its deals (earliest first), looked
    up by id; the first Salesforce one wins, else the first HubSpot one (``bundles``' stable sort);
  - owner (``_owner``): the earliest Lead's owner, else the contact's, with its status; ``assigned_at`` from
    the earliest Lead's Owner history (else its creation), for HubSpot-only people the owner property history;
  - "first record with a value" columns (e-mail, CRM score, source, campaign) are a ROW_NUMBER per person in
    the order the reference scans the records.
The score comes from ``scoring`` with the person's MQL instant, read from the ``journeys`` relation; the
KPI columns (campaign attribution, marketing influence, counts_as_lead, closed_month) from ``kpi_facts``; the
intermediate tables are materialised so neither engine repeats a big expression per use.
"""

from __future__ import annotations

from datetime import datetime

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
)
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.firmographics import create_firmographic_maps, firmographic_columns
from pipelines.closed_loop.sql.kpi_facts import KPI_FACTS, create_kpi_facts
from pipelines.closed_loop.sql.members import MEMBERS, PERSON_DEALS
from pipelines.closed_loop.sql.owner_history import owner_histories
from pipelines.closed_loop.sql.scoring import (
    EngagementSql,
    band_sql,
    engagement_sql,
    fit_sql,
    reaches_mql_sql,
    total_sql,
)
from pipelines.closed_loop.values import naive_utc
from pipelines.funnel.model import FunnelDefinitions

IDS = "lf_ids"
ACCOUNTS = "lf_accounts"
FIRSTS = "lf_firsts"
FACTS = "lf_facts"
SCORES = "lf_scores"

# Wider than any person's count of records of one kind, so (kind place, rank in kind) packs into one key.
_KIND_SPAN = 4_294_967_296
LEAD, HUBSPOT_CONTACT, SF_CONTACT = "'salesforce_lead'", "'hubspot_contact'", "'salesforce_contact'"
SF_OPPORTUNITY, HUBSPOT_DEAL = "'salesforce_opportunity'", "'hubspot_deal'"


def lead_facts_sql(ctx: SqlContext, defs: FunnelDefinitions, as_of: datetime, journeys: str) -> str:
    """One row per person of ``members`` with the per-person columns of closed_loop_leads (ids, account,
    firmographics, score, campaign and its attribution, owner, amount, last update). ``journeys`` is a relation
    (person_key, mql_at, opportunity_at, won_at, lost_at; naive UTC) giving each person's stage instants;
    ``as_of`` (aware) is the instant the score and attribution are judged at. Creates temp tables ``lf_*``,
    ``kpi_*`` and the firmographics maps."""
    create_kpi_facts(ctx, as_of, journeys, defs.sla.calendar.timezone)
    create_firmographic_maps(ctx, defs)
    _create_ids(ctx)
    _create_accounts(ctx)
    _create_firsts(ctx)
    _create_facts(ctx, journeys)
    _create_scores(ctx, defs, literal(naive_utc(as_of)))
    return _select(ctx, defs)


def _rank(alias: str, kind: str, rank: str = "1") -> str:
    """Join condition for one member of ``kind`` of the row's person, by rank."""
    return f"{alias}.person_key = i.person_key AND {alias}.kind = {kind} AND {alias}.kind_rank = {rank}"


def _create_ids(ctx: SqlContext) -> None:
    """Primary ids per person and the few values of the first records the later steps key on."""
    ctx.temp(
        "lf_first_ids",
        f"""
        SELECT i.person_key,
               hc.source_id AS hubspot_contact_id,
               COALESCE(lk.source_id, l1.source_id) AS salesforce_lead_id,
               l1.source_id AS first_lead_id,
               l1.created_at AS first_lead_created_at,
               NULLIF(l1.owner_source_id, '') AS first_lead_owner_id,
               NULLIF(hc.owner_source_id, '') AS contact_owner_id,
               c1.source_id AS first_contact_id
        FROM (SELECT person_key FROM {MEMBERS} GROUP BY person_key) i
        LEFT JOIN {MEMBERS} hc ON {_rank("hc", HUBSPOT_CONTACT)}
        LEFT JOIN {MEMBERS} l1 ON {_rank("l1", LEAD)}
        LEFT JOIN {MEMBERS} c1 ON {_rank("c1", SF_CONTACT)}
        LEFT JOIN {MEMBERS} lk
          ON lk.person_key = i.person_key AND lk.kind = {LEAD} AND lk.source_id = hc.linked_salesforce_lead_id
        """,
    )
    ctx.temp(
        IDS,
        f"""
        SELECT i.*,
               COALESCE(cc.source_id, i.first_contact_id) AS salesforce_contact_id,
               COALESCE(oc.source_id, o1.source_id) AS salesforce_opportunity_id
        FROM lf_first_ids i
        LEFT JOIN {MEMBERS} ld
          ON ld.person_key = i.person_key AND ld.kind = {LEAD} AND ld.source_id = i.salesforce_lead_id
        LEFT JOIN {MEMBERS} cc
          ON cc.person_key = i.person_key AND cc.kind = {SF_CONTACT} AND cc.source_id = ld.converted_contact_id
        LEFT JOIN {PERSON_DEALS} oc
          ON oc.person_key = i.person_key AND oc.kind = {SF_OPPORTUNITY}
         AND oc.source_id = ld.converted_opportunity_id
        LEFT JOIN {PERSON_DEALS} o1 ON {_rank("o1", SF_OPPORTUNITY)}
        """,
    )
    ctx.execute("DROP TABLE lf_first_ids")


def _create_accounts(ctx: SqlContext) -> None:
    """Each person's first live Salesforce account and first live HubSpot company, in the order the bundle
    meets their ids: its records in live order, then its deals earliest first (a repeated id keeps its first
    place, which the minimum rank gives)."""
    refs = f"""
        SELECT person_key, account_source_id AS account_id, 0 AS grp,
               CASE kind WHEN {LEAD} THEN 0 WHEN {HUBSPOT_CONTACT} THEN 1 ELSE 2 END AS sub, kind_rank AS pos
        FROM {MEMBERS} WHERE account_source_id IS NOT NULL AND account_source_id <> ''
        UNION ALL
        SELECT person_key, account_source_id, 1, 0,
               ROW_NUMBER() OVER (
                   PARTITION BY person_key ORDER BY created_at NULLS LAST, {ctx.sortable("source_id")}, source_system
               )
        FROM {PERSON_DEALS} WHERE account_source_id IS NOT NULL AND account_source_id <> ''
    """
    ctx.temp(
        ACCOUNTS,
        f"""
        SELECT * FROM (
            SELECT r.person_key, a.source_system, a.source_id, a.name, a.industry, a.employees,
                   a.industry_canonical, a.icp_tier,
                   ROW_NUMBER() OVER (PARTITION BY r.person_key, a.source_system ORDER BY r.grp, r.sub, r.pos)
                       AS system_rank
            FROM ({refs}) r
            JOIN {ctx.table(CANONICAL_ACCOUNTS.name)} a ON a.source_id = r.account_id AND NOT a.is_deleted
        ) ranked
        WHERE system_rank = 1
        """,
    )


def _create_firsts(ctx: SqlContext) -> None:
    """Values taken from the first record that has one, each in the order the reference scans: e-mail over
    all live records (Leads, HubSpot contacts, Salesforce Contacts), and per CRM in that order (for
    ``email_other_crm``); CRM score over Leads then contacts;
    original source over contacts then Leads; campaign over Leads, Salesforce Contacts, HubSpot contacts."""
    lead_first = f"CASE kind WHEN {LEAD} THEN 0 WHEN {HUBSPOT_CONTACT} THEN 1 ELSE 2 END"
    contact_first = f"CASE kind WHEN {HUBSPOT_CONTACT} THEN 0 WHEN {LEAD} THEN 1 ELSE 2 END"
    salesforce_first = f"CASE kind WHEN {LEAD} THEN 0 WHEN {SF_CONTACT} THEN 1 ELSE 2 END"
    system = f"CASE WHEN kind = {HUBSPOT_CONTACT} THEN 'hubspot' ELSE 'salesforce' END"

    def position(kind_order: str) -> str:
        """A member's place in one scan order: its kind's place, then its rank in that kind (unique per person)."""
        return f"({kind_order}) * {_KIND_SPAN} + kind_rank"

    email = "NULLIF(email_normalized, '')"
    campaign = "NULLIF(campaign_key, '')"
    has_email = f"{email} IS NOT NULL"
    has_score = f"crm_score IS NOT NULL AND kind <> {SF_CONTACT}"
    has_source = f"NULLIF(original_source, '') IS NOT NULL AND kind <> {SF_CONTACT}"
    by_lead = position(lead_first)
    ctx.temp(
        FIRSTS,
        f"""
        SELECT person_key,
               MAX(CASE WHEN email_is_valid THEN 1 ELSE 0 END) = 1 AS email_is_valid,
               {ctx.first_by(email, by_lead, has_email)} AS email_normalized,
               {ctx.first_by(system, by_lead, has_email)} AS email_system,
               {ctx.first_by(email, by_lead, f"{has_email} AND kind = {HUBSPOT_CONTACT}")} AS hubspot_email,
               {ctx.first_by(email, by_lead, f"{has_email} AND kind <> {HUBSPOT_CONTACT}")} AS salesforce_email,
               {ctx.first_by("crm_score", by_lead, has_score)} AS crm_score,
               {ctx.first_by("original_source", position(contact_first), has_source)} AS original_source,
               {ctx.first_by(campaign, position(salesforce_first), f"{campaign} IS NOT NULL")} AS campaign_key
        FROM {MEMBERS}
        GROUP BY person_key
        """,
    )


def _create_facts(ctx: SqlContext, journeys: str) -> None:
    """One row per person joining its ids to the records they name: the person record, the HubSpot contact
    (engagement instants), the account, the Opportunity / deal, the owner (with its status), and the MQL
    instant from ``journeys``."""
    person_kind = (
        f"CASE WHEN i.salesforce_lead_id IS NOT NULL THEN {LEAD} "
        f"WHEN i.hubspot_contact_id IS NOT NULL THEN {HUBSPOT_CONTACT} ELSE {SF_CONTACT} END"
    )
    owner_system = (
        "CASE WHEN i.first_lead_owner_id IS NOT NULL THEN 'salesforce' "
        "WHEN i.contact_owner_id IS NOT NULL THEN 'hubspot' END"
    )
    owner_id = "COALESCE(i.first_lead_owner_id, i.contact_owner_id)"
    status = (
        f"CASE WHEN {owner_id} IS NULL THEN 'unassigned' WHEN ow.source_id IS NULL THEN 'inactive' "
        "WHEN NULLIF(ow.team, '') IS NULL THEN 'unassigned' WHEN ow.is_active THEN 'assigned' ELSE 'inactive' END"
    )

    # The engagement instants of ``leads._score``: HubSpot's aggregates dated at the person record's creation,
    # the demo request at the MQL; none without a HubSpot contact or a creation date.
    known = "hc.source_id IS NOT NULL AND pr.created_at IS NOT NULL"

    def engaged(test: str, at: str = "pr.created_at") -> str:
        return f"CASE WHEN {known} AND {test} THEN {at} END"

    def account(column: str) -> str:
        return f"CASE WHEN sa.source_id IS NOT NULL THEN sa.{column} ELSE ha.{column} END"

    ctx.temp(
        FACTS,
        f"""
        SELECT i.person_key, i.hubspot_contact_id, i.salesforce_lead_id, i.salesforce_contact_id,
               i.salesforce_opportunity_id, dl.source_id AS hubspot_deal_id,
               ha.source_id AS hubspot_company_id, sa.source_id AS salesforce_account_id,
               (sa.source_id IS NOT NULL OR ha.source_id IS NOT NULL) AS has_account,
               {account("name")} AS account_name, {account("industry")} AS account_industry,
               {account("employees")} AS account_employees,
               {account("industry_canonical")} AS account_industry_canonical,
               {account("icp_tier")} AS account_icp_tier,
               pr.email AS person_email, pr.title AS person_title, pr.company_name AS person_company_name,
               pr.industry AS person_industry, pr.employees AS person_employees,
               pr.annual_revenue AS person_revenue, pr.country AS person_country,
               hc.page_views, hc.form_fills, j.mql_at, pr.created_at AS person_created_at,
               {engaged("hc.page_views <> 0")} AS page_view_at, {engaged("hc.form_fills <> 0")} AS form_fill_at,
               {engaged("hc.webinar_attended")} AS webinar_at,
               {engaged("hc.demo_requested", "COALESCE(j.mql_at, pr.created_at)")} AS demo_request_at,
               {engaged("hc.last_reply_at IS NOT NULL", "hc.last_reply_at")} AS email_reply_at,
               i.first_lead_id, i.first_lead_created_at,
               ow.owner_key, ow.name AS owner_name, ow.team AS owner_team, {status} AS owner_status,
               CASE WHEN op.source_id IS NOT NULL THEN op.amount ELSE dl.amount END AS amount,
               op.campaign_source_id AS opportunity_campaign
        FROM {IDS} i
        LEFT JOIN {MEMBERS} pr
          ON pr.person_key = i.person_key AND pr.kind = {person_kind}
         AND pr.source_id = COALESCE(i.salesforce_lead_id, i.hubspot_contact_id, i.first_contact_id)
        LEFT JOIN {MEMBERS} hc ON {_rank("hc", HUBSPOT_CONTACT)}
        LEFT JOIN {ACCOUNTS} sa ON sa.person_key = i.person_key AND sa.source_system = 'salesforce'
        LEFT JOIN {ACCOUNTS} ha ON ha.person_key = i.person_key AND ha.source_system = 'hubspot'
        LEFT JOIN {PERSON_DEALS} op
          ON op.person_key = i.person_key AND op.kind = {SF_OPPORTUNITY}
         AND op.source_id = i.salesforce_opportunity_id
        LEFT JOIN (
            SELECT d.person_key, MIN(d.kind_rank) AS kind_rank
            FROM {PERSON_DEALS} d
            JOIN {IDS} x
              ON x.person_key = d.person_key
             AND d.opportunity_key = 'salesforce:opportunity:' || x.salesforce_opportunity_id
            WHERE d.kind = {HUBSPOT_DEAL}
            GROUP BY d.person_key
        ) dm ON dm.person_key = i.person_key
        LEFT JOIN {PERSON_DEALS} dl ON {_rank("dl", HUBSPOT_DEAL, "COALESCE(dm.kind_rank, 1)")}
        LEFT JOIN {ctx.table(CANONICAL_OWNERS.name)} ow
          ON ow.source_system = {owner_system} AND ow.source_id = {owner_id}
        LEFT JOIN {journeys} j ON j.person_key = i.person_key
        """,
    )


def _later(a: str, b: str) -> str:
    """The later of two nullable instants (GREATEST's NULL handling is not the same everywhere)."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END"


def _last_updated(ctx: SqlContext) -> str:
    """Latest change of any record of the person (deleted ones too), its live deals and its activities
    (their update or occurrence, deleted ones too), per person."""
    activities = f"""
        SELECT person_key, MAX(updated_at) AS updated_at, MAX(occurred_at) AS occurred_at
        FROM {ctx.table(CANONICAL_ACTIVITIES.name)} WHERE person_key IS NOT NULL GROUP BY person_key
    """
    return f"""
        SELECT person_key, MAX(stamp) AS last_updated_at FROM (
            SELECT person_key, updated_at AS stamp FROM {ctx.table(CANONICAL_PEOPLE.name)}
            WHERE person_key IS NOT NULL
            UNION ALL
            SELECT person_key, updated_at FROM {PERSON_DEALS}
            UNION ALL
            SELECT person_key, {_later("updated_at", "occurred_at")} FROM ({activities}) a
        ) s
        GROUP BY person_key
    """


def _owner_changes(ctx: SqlContext) -> tuple[str, str]:
    """(Salesforce Lead Id -> its last Owner change, HubSpot contact id -> its last hubspot_owner_id change
    to a value): the histories ``_assigned_at`` reads, deleted rows left out."""
    lead_history, property_history = owner_histories(ctx)
    leads = f"""
        SELECT leadid, MAX(createddate) AS changed_at FROM {lead_history} h
        WHERE field = 'Owner' AND createddate IS NOT NULL AND NOT COALESCE(_is_deleted, FALSE)
        GROUP BY leadid
    """
    contacts = f"""
        SELECT contact_id, MAX(changed_at) AS changed_at FROM {property_history} h
        WHERE property = 'hubspot_owner_id' AND value IS NOT NULL AND changed_at IS NOT NULL
          AND NOT COALESCE(_is_deleted, FALSE)
        GROUP BY contact_id
    """
    return leads, contacts


def _create_scores(ctx: SqlContext, defs: FunnelDefinitions, as_of: str) -> None:
    """Score now and at the MQL, and the person's own canonical industry and ICP tier (used when no account
    is known), from plain columns of ``lf_facts``: a narrow table, so the mapping joins move little data and
    the band tests reuse the score instead of repeating its expression."""
    person_joins, person_firm = firmographic_columns(
        ctx,
        defs,
        prefix="lfp",
        industry="f.person_industry",
        employees="f.person_employees",
        revenue="f.person_revenue",
        country="f.person_country",
    )
    industry = "COALESCE(NULLIF(f.account_industry, ''), f.person_industry)"
    joins, firm = firmographic_columns(
        ctx,
        defs,
        prefix="lfs",
        industry=industry,
        employees="CAST(NULL AS BIGINT)",
        revenue="CAST(NULL AS DOUBLE PRECISION)",
        country="CAST(NULL AS VARCHAR)",
    )
    fit = fit_sql(
        ctx,
        defs,
        title="f.person_title",
        employees="COALESCE(NULLIF(f.account_employees, 0), f.person_employees)",
        industry=firm["industry_canonical"],
    )
    engagements = {
        "page_view": EngagementSql("f.page_view_at", "f.page_views"),
        "form_fill": EngagementSql("f.form_fill_at", "f.form_fills"),
        "webinar": EngagementSql("f.webinar_at"),
        "demo_request": EngagementSql("f.demo_request_at"),
        "email_reply": EngagementSql("f.email_reply_at"),
    }
    # ``scoring.score_reached_at``: the score peaks where the fit became known or an action happened, so
    # those instants (the creation, the demo request, the last reply: the aggregates share the creation) are
    # the only candidates for when it first reached the threshold.
    candidates = {"created": "f.person_created_at", "demo": "f.demo_request_at", "reply": "f.email_reply_at"}
    at_candidates = ", ".join(
        f"{at} AS {name}_at, {engagement_sql(ctx, defs, engagements, at)} AS engagement_at_{name}"
        for name, at in candidates.items()
    )
    reached = [
        f"CASE WHEN {name}_at <= {as_of} AND {reaches_mql_sql(defs, total_sql(ctx, 'fit', f'engagement_at_{name}'))} "
        f"THEN {name}_at END"
        for name in candidates
    ]
    ctx.temp(
        SCORES,
        f"""
        SELECT person_key, {total_sql(ctx, "fit", "engagement")} AS lead_score,
               CASE WHEN mql_at IS NOT NULL THEN {total_sql(ctx, "fit", "engagement_at_mql")} END AS score_at_mql,
               {_earliest(reached)} AS score_mql_at,
               person_industry_canonical, person_icp_tier
        FROM (
            SELECT f.person_key, f.mql_at, {fit} AS fit,
                   {person_firm["industry_canonical"]} AS person_industry_canonical,
                   {person_firm["icp_tier"]} AS person_icp_tier,
                   {engagement_sql(ctx, defs, engagements, as_of)} AS engagement,
                   {engagement_sql(ctx, defs, engagements, "f.mql_at")} AS engagement_at_mql,
                   {at_candidates}
            FROM {FACTS} f
            {joins}
            {person_joins}
        ) s
        """,
    )


def _earliest(instants: list[str]) -> str:
    """The earliest of nullable instants, NULL when all are (as ``_later``, without LEAST's engine quirks)."""
    earliest = instants[0]
    for other in instants[1:]:
        earliest = (
            f"CASE WHEN {earliest} IS NULL THEN {other} "
            f"WHEN {other} IS NULL OR {earliest} <= {other} THEN {earliest} ELSE {other} END"
        )
    return earliest


def _select(ctx: SqlContext, defs: FunnelDefinitions) -> str:
    """The output columns over ``lf_facts`` and ``lf_scores``: firmographics (account's, else the person's
    own), score and band, campaign, owner assignment and the latest update."""
    lead_changes, contact_changes = _owner_changes(ctx)
    assigned_at = (
        "CASE WHEN f.owner_status = 'unassigned' THEN NULL "
        "WHEN f.first_lead_id IS NOT NULL THEN COALESCE(lh.changed_at, f.first_lead_created_at) "
        "ELSE hh.changed_at END"
    )
    return f"""
        SELECT f.person_key, f.hubspot_contact_id, f.salesforce_lead_id, f.salesforce_contact_id,
               f.salesforce_opportunity_id, f.hubspot_deal_id, f.hubspot_company_id, f.salesforce_account_id,
               COALESCE(fi.email_normalized, f.person_email) AS email,
               CASE WHEN fi.email_system = 'hubspot' THEN NULLIF(fi.salesforce_email, fi.email_normalized)
                    ELSE NULLIF(fi.hubspot_email, fi.email_normalized) END AS email_other_crm,
               fi.email_is_valid,
               COALESCE(NULLIF(f.account_name, ''), f.person_company_name) AS company_name,
               CASE WHEN f.has_account THEN f.account_industry_canonical ELSE sc.person_industry_canonical END
                   AS industry,
               CASE WHEN f.has_account THEN f.account_icp_tier ELSE sc.person_icp_tier END AS icp_tier,
               sc.lead_score, {band_sql(defs, "sc.lead_score")} AS score_band, sc.score_at_mql, sc.score_mql_at,
               fi.crm_score, fi.original_source,
               COALESCE(oc.campaign_key, fi.campaign_key, f.opportunity_campaign) AS campaign_key,
               k.first_touch_campaign_key, k.last_touch_campaign_key, k.marketing_influenced,
               k.counts_as_lead, k.closed_month,
               f.owner_key, f.owner_name, f.owner_team, f.owner_status, {assigned_at} AS assigned_at,
               f.amount, u.last_updated_at, {literal(defs.content_hash)} AS definitions_hash
        FROM {FACTS} f
        JOIN {SCORES} sc ON sc.person_key = f.person_key
        LEFT JOIN {FIRSTS} fi ON fi.person_key = f.person_key
        LEFT JOIN {KPI_FACTS} k ON k.person_key = f.person_key
        LEFT JOIN ({_opportunity_campaigns()}) oc ON oc.person_key = f.person_key
        LEFT JOIN ({lead_changes}) lh ON lh.leadid = f.first_lead_id
        LEFT JOIN ({contact_changes}) hh ON hh.contact_id = f.hubspot_contact_id
        LEFT JOIN ({_last_updated(ctx)}) u ON u.person_key = f.person_key
    """


def _opportunity_campaigns() -> str:
    """The campaign key of the first Lead, else Salesforce Contact, of the person that responded to its
    primary Opportunity's campaign (``_campaign``'s first choice)."""
    return f"""
        SELECT person_key, campaign_key FROM (
            SELECT m.person_key, m.campaign_key,
                   ROW_NUMBER() OVER (
                       PARTITION BY m.person_key ORDER BY CASE WHEN m.kind = {LEAD} THEN 0 ELSE 1 END, m.kind_rank
                   ) AS rn
            FROM {FACTS} f
            JOIN {MEMBERS} m ON m.person_key = f.person_key AND m.salesforce_campaign_id = f.opportunity_campaign
            WHERE m.kind IN ({LEAD}, {SF_CONTACT}) AND NULLIF(m.campaign_key, '') IS NOT NULL
        ) c
        WHERE rn = 1
    """
