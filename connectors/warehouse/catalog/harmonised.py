"""Every table the harmonisation writes, column by column, with its grain and primary key.

These specs are the single source of the DDL (``write``), the Dagster column metadata (``pipelines.defs``)
and the data dictionary (``dictionary`` -> ``docs/data_dictionary.md``), so the three cannot drift apart.

Conventions: timestamps are naive UTC like the raw tables; ``source_system`` is ``hubspot`` or ``salesforce``;
``source_id`` is the record id in that CRM, as text. Deleted, archived and merged-away source records keep their
canonical row (``is_deleted`` true) so nothing silently disappears; they never join a person or count.
"""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec

DEFINITIONS_HASH = Column(
    "definitions_hash",
    "string",
    doc="Content hash (12 hex) of the definitions file these values were computed under. A rebuild that leaves "
    "a row's values unchanged keeps the hash it had, so after a definitions edit exactly the rows the edit "
    "changed carry the new hash.",
)
SOURCE_SYSTEM = Column("source_system", "string", doc="hubspot | salesforce")
IS_DELETED = Column(
    "is_deleted",
    "boolean",
    doc="Deleted, archived or merged away in the CRM (kept, never joined to a person or counted)",
)
CREATED_AT = Column("created_at", "timestamp", doc="Created in the CRM (UTC)")
UPDATED_AT = Column("updated_at", "timestamp", doc="Last modified in the CRM (UTC)")


def _c(name: str, type_: str, doc: str) -> Column:
    return Column(name, type_, doc=doc)  # type: ignore[arg-type]


CANONICAL_OWNERS = TableSpec(
    name="canonical_owners",
    doc="Grain: one row per owner record (Salesforce User, HubSpot owner). Primary key (source_system, "
    "source_id). Records of the same human are matched by normalised e-mail into one owner_key.",
    primary_key=("source_system", "source_id"),
    columns=(
        SOURCE_SYSTEM,
        _c("source_id", "string", "Salesforce User Id or HubSpot owner id"),
        _c("owner_key", "string", "The matched owner: normalised e-mail, else <system>:<id>"),
        _c("email", "string", "E-mail as the CRM stores it"),
        _c("name", "string", "First and last name"),
        _c("team", "string", "Sales team of the owner_key: Salesforce User.Team__c, else the HubSpot primary team"),
        _c(
            "is_active",
            "boolean",
            "Owner_key still active: Salesforce IsActive when a User exists, else not archived in HubSpot",
        ),
        _c("title", "string", "Salesforce User.Title (HubSpot owners have none)"),
        _c("salesforce_user_id", "string", "Salesforce User Id of this owner_key (on both CRMs' rows)"),
        _c("hubspot_owner_id", "string", "HubSpot owner id of this owner_key (on both CRMs' rows)"),
        CREATED_AT,
        UPDATED_AT,
        IS_DELETED,
    ),
)

CANONICAL_ACCOUNTS = TableSpec(
    name="canonical_accounts",
    doc="Grain: one row per company record (HubSpot company, Salesforce Account). Primary key (source_system, "
    "source_id). account_key joins a HubSpot company to its Salesforce Account (salesforceaccountid).",
    primary_key=("source_system", "source_id"),
    columns=(
        SOURCE_SYSTEM,
        _c("source_id", "string", "HubSpot company id or Salesforce Account Id"),
        _c(
            "account_key",
            "string",
            "salesforce:account:<Id> when a Salesforce Account is known (own or linked), else hubspot:company:<id>",
        ),
        _c("name", "string", "Company name"),
        _c("domain", "string", "Web domain (HubSpot domain, Salesforce Website without scheme and www.)"),
        _c("industry", "string", "Industry as the CRM stores it"),
        _c("industry_canonical", "string", "Industry mapped through the definitions' industries (null when unknown)"),
        _c("employees", "integer", "Number of employees"),
        _c("annual_revenue", "float", "Annual revenue"),
        _c("country", "string", "Country as the CRM stores it"),
        _c("country_code", "string", "ISO code through the definitions' countries (null when unknown)"),
        _c("icp_tier", "string", "ICP tier (A/B/C) by the definitions' icp rules; null = no tier"),
        _c("crm_icp_tier", "string", "The tier the CRM itself records (HubSpot icp_tier, Salesforce ICP_Tier__c)"),
        _c("owner_source_id", "string", "Owner id in the same CRM"),
        _c("linked_salesforce_account_id", "string", "HubSpot salesforceaccountid (null on Salesforce rows)"),
        CREATED_AT,
        UPDATED_AT,
        IS_DELETED,
        DEFINITIONS_HASH,
    ),
)

CANONICAL_PEOPLE = TableSpec(
    name="canonical_people",
    doc="Grain: one row per person record (HubSpot contact, Salesforce Lead, Salesforce Contact). Primary key "
    "(source_system, source_object, source_id). person_key is the identity-resolved person.",
    primary_key=("source_system", "source_object", "source_id"),
    columns=(
        SOURCE_SYSTEM,
        _c("source_object", "string", "contact (HubSpot) | lead | contact (Salesforce)"),
        _c("source_id", "string", "Record id in its CRM"),
        _c(
            "person_key",
            "string",
            "Resolved person (see identity rules); null for deleted/archived records. "
            "A HubSpot record merged into another gets its survivor's person",
        ),
        _c("email", "string", "E-mail as the CRM stores it"),
        _c("email_normalized", "string", "Trimmed, lower-cased e-mail; null when blank or malformed"),
        _c("email_is_valid", "boolean", "The e-mail has the shape local@domain.tld"),
        _c("first_name", "string", "First name"),
        _c("last_name", "string", "Last name"),
        _c("title", "string", "Job title"),
        _c("company_name", "string", "Company name typed on the person"),
        _c("country", "string", "Country typed on the person"),
        _c("industry", "string", "Industry on the person (Salesforce Lead; HubSpot contact industry)"),
        _c("employees", "integer", "Employee count on the person (Salesforce Lead; HubSpot band's lower bound)"),
        _c("annual_revenue", "float", "Annual revenue on the person (Salesforce Lead)"),
        _c("owner_source_id", "string", "Owner id in the same CRM (hubspot_owner_id / OwnerId)"),
        _c(
            "account_source_id",
            "string",
            "Company in the same CRM: HubSpot associatedcompanyid, Lead ConvertedAccountId, Contact AccountId",
        ),
        _c("lifecycle_stage", "string", "HubSpot lifecyclestage (null on Salesforce rows)"),
        _c("lead_status", "string", "HubSpot hs_lead_status / Salesforce Lead Status"),
        _c("original_source", "string", "HubSpot hs_analytics_source / Salesforce LeadSource"),
        _c(
            "campaign_key",
            "string",
            "HubSpot crm_loop_campaign / the Salesforce campaign (HubSpot_Campaign__c, "
            "else Name) the record first responded to",
        ),
        _c("salesforce_campaign_id", "string", "That Salesforce Campaign Id (Salesforce rows)"),
        _c("crm_score", "float", "The CRM's own lead score (hubspotscore / Lead_Score__c)"),
        _c(
            "mql_at",
            "timestamp",
            "MQL instant the record states (hs_lifecyclestage_marketingqualifiedlead_date / MQL_Date__c)",
        ),
        _c("disqualification_reason_raw", "string", "disqualification_reason / Disqualification_Reason__c as stored"),
        _c("page_views", "integer", "HubSpot hs_analytics_num_page_views (scoring)"),
        _c("form_fills", "integer", "HubSpot num_conversion_events (scoring)"),
        _c("demo_requested", "boolean", "HubSpot demo_requested (scoring)"),
        _c("webinar_attended", "boolean", "HubSpot webinar_attended (scoring)"),
        _c("last_reply_at", "timestamp", "HubSpot hs_email_last_reply_date (scoring)"),
        _c("linked_salesforce_lead_id", "string", "HubSpot salesforceleadid"),
        _c("linked_salesforce_contact_id", "string", "HubSpot salesforcecontactid"),
        _c("linked_hubspot_contact_id", "string", "Salesforce HubSpot_Contact_Id__c"),
        _c("is_converted", "boolean", "Salesforce Lead IsConverted"),
        _c("converted_date", "date", "Salesforce Lead ConvertedDate (a date in the org's zone)"),
        _c("converted_contact_id", "string", "Salesforce Lead ConvertedContactId"),
        _c("converted_opportunity_id", "string", "Salesforce Lead ConvertedOpportunityId"),
        _c("merged_into_source_id", "string", "HubSpot: the surviving contact this one was merged into"),
        CREATED_AT,
        UPDATED_AT,
        IS_DELETED,
    ),
)

IDENTITY_CONFLICTS = TableSpec(
    name="identity_conflicts",
    doc="Grain: one row per identity conflict: records the resolution refused to merge (they stay separate "
    "people until the data is fixed in a CRM), or merged by id although their e-mails disagree "
    "(email_mismatch). Primary key conflict_key.",
    primary_key=("conflict_key",),
    columns=(
        _c("conflict_key", "string", "<kind>|<record keys, sorted, comma-separated>"),
        _c(
            "kind",
            "string",
            "shared_email: one e-mail on records of several people that e-mail matching may not "
            "merge (same-CRM duplicates); email_mismatch: a HubSpot and a Salesforce record joined by a "
            "cross-CRM id carry different e-mails (merged, both kept: closed_loop_leads.email and "
            "email_other_crm); link_disagreement: cross-CRM ids that would put two "
            "records of one CRM object into one person; link_target_missing: an id pointing at a "
            "record that is not in the warehouse or is deleted",
        ),
        _c(
            "email_normalized",
            "string",
            "The shared e-mail (shared_email), the HubSpot record's e-mail (email_mismatch), else null",
        ),
        _c("record_keys", "string", "The records involved, <system>:<object>:<id>, sorted, comma-separated"),
        _c("person_keys", "string", "The people these records resolved to, sorted, comma-separated"),
        _c("detail", "string", "What disagreed, in words"),
    ),
)

CANONICAL_OPPORTUNITIES = TableSpec(
    name="canonical_opportunities",
    doc="Grain: one row per deal record (HubSpot deal, Salesforce Opportunity). Primary key (source_system, "
    "source_id). opportunity_key joins a HubSpot deal to its Salesforce Opportunity (salesforceopportunityid).",
    primary_key=("source_system", "source_id"),
    columns=(
        SOURCE_SYSTEM,
        _c("source_id", "string", "HubSpot deal id or Salesforce Opportunity Id"),
        _c(
            "opportunity_key",
            "string",
            "salesforce:opportunity:<Id> when known (own or linked), else hubspot:deal:<id>",
        ),
        _c(
            "person_key",
            "string",
            "The person: Salesforce ContactId / converting Lead; HubSpot deal->contact association (lowest id)",
        ),
        _c("name", "string", "Deal / Opportunity name"),
        _c("stage_raw", "string", "dealstage / StageName as stored"),
        _c("stage", "string", "Canonical stage through the definitions (opportunity | won | lost; null if unmapped)"),
        _c("is_closed", "boolean", "hs_is_closed / IsClosed"),
        _c("is_won", "boolean", "hs_is_closed_won / IsWon"),
        _c("amount", "float", "Amount"),
        _c("close_date", "date", "Close date (expected while open)"),
        _c("loss_reason", "string", "closed_lost_reason / Loss_Reason__c"),
        _c("account_source_id", "string", "Company in the same CRM"),
        _c("campaign_source_id", "string", "Salesforce primary CampaignId"),
        _c("owner_source_id", "string", "Owner id in the same CRM"),
        CREATED_AT,
        UPDATED_AT,
        IS_DELETED,
        DEFINITIONS_HASH,
    ),
)

CANONICAL_ACTIVITIES = TableSpec(
    name="canonical_activities",
    doc="Grain: one row per logged activity and person record it is logged against (HubSpot engagements via "
    "their contact associations, Salesforce Task/Event via WhoId); an activity linked to no person appears "
    "once with who_source_id null. Primary key activity_key.",
    primary_key=("activity_key",),
    columns=(
        _c("activity_key", "string", "<system>:<object>:<id>><who id or ->"),
        SOURCE_SYSTEM,
        _c("source_object", "string", "HubSpot calls|emails|meetings|notes|tasks; Salesforce task|event"),
        _c("source_id", "string", "Record id in its CRM"),
        _c("activity_type", "string", "call | email | meeting | note | task"),
        _c(
            "occurred_at",
            "timestamp",
            "When it happened: hs_timestamp; Task CompletedDateTime (else CreatedDate); "
            "Event StartDateTime (else ActivityDateTime)",
        ),
        _c("owner_source_id", "string", "Who logged it: hubspot_owner_id / OwnerId"),
        _c("who_source_object", "string", "contact | lead: the person record type it is logged against"),
        _c("who_source_id", "string", "That person record's id (HubSpot contact id / Salesforce WhoId)"),
        _c("person_key", "string", "The resolved person; null when orphaned"),
        _c(
            "opportunity_source_id",
            "string",
            "Deal / Opportunity it is logged against (HubSpot association, Salesforce WhatId 006…)",
        ),
        _c("direction", "string", "hs_call_direction / hs_email_direction; Salesforce Task CallType"),
        _c("status", "string", "hs_call_status / hs_meeting_outcome / hs_task_status; Salesforce Task Status"),
        _c("subtype", "string", "Salesforce TaskSubtype / EventSubtype; HubSpot hs_task_type"),
        _c("subject", "string", "Subject or title"),
        _c(
            "counts_as_touch",
            "boolean",
            "Sales touching the lead per the definitions' sla.touches (false when deleted)",
        ),
        _c(
            "is_orphan",
            "boolean",
            "Linked to no known live person (no association / WhoId, or it points at a missing record)",
        ),
        CREATED_AT,
        UPDATED_AT,
        IS_DELETED,
        DEFINITIONS_HASH,
    ),
)

_SLA_STATUS = "met | breached | pending | not_applicable"

CLOSED_LOOP_LEADS = TableSpec(
    name="closed_loop_leads",
    doc="Grain: one row per resolved person (person_key) with at least one live person record in either CRM: "
    "what happened to the lead and whose move it was. Primary key person_key. Stage times come from both "
    "CRMs' values and histories as the definitions map them (pipelines.funnel.stages); SLAs per sla.*; "
    "evaluated as of the build's as_of instant.",
    primary_key=("person_key",),
    columns=(
        _c("person_key", "string", "The resolved person (canonical_people.person_key)"),
        _c("hubspot_contact_id", "string", "Live HubSpot contact"),
        _c("salesforce_lead_id", "string", "Salesforce Lead"),
        _c("salesforce_contact_id", "string", "Salesforce Contact (after conversion)"),
        _c("salesforce_opportunity_id", "string", "Salesforce Opportunity (the converted one, else the earliest)"),
        _c("hubspot_deal_id", "string", "HubSpot deal of that opportunity (or the person's earliest deal)"),
        _c("hubspot_company_id", "string", "HubSpot company"),
        _c("salesforce_account_id", "string", "Salesforce Account"),
        _c(
            "email",
            "string",
            "Normalised e-mail (raw e-mail when malformed): the first Salesforce Lead's, else the HubSpot "
            "contact's, else the Salesforce Contact's",
        ),
        _c(
            "email_other_crm",
            "string",
            "The other CRM's e-mail when it differs from email (records linked by id that disagree: an "
            "email_mismatch in identity_conflicts); null when they agree or one CRM has none",
        ),
        _c("email_is_valid", "boolean", "The e-mail has the shape local@domain.tld"),
        _c("company_name", "string", "Account name, else the company typed on the person"),
        _c("industry", "string", "Canonical industry (account, else person)"),
        _c("icp_tier", "string", "ICP tier A/B/C of the account (else of the person's own firmographics); null = none"),
        _c("lead_score", "float", "Lead score per the definitions (fit + faded engagement) at as_of"),
        _c("score_band", "string", "The definitions' score band of lead_score"),
        _c(
            "score_at_mql",
            "float",
            "Lead score at mql_at (what was known then, faded to then): marketing's "
            "monthly MQL commitment counts MQLs by this score",
        ),
        _c(
            "score_mql_at",
            "timestamp",
            "When the shared lead score first reached lead_score.mql_threshold (by as_of), reconstructed from the "
            "dated engagement and the fit known since the person record's creation: the agreement's MQL time, "
            "beside the CRM's mql_at; null = never reached",
        ),
        _c("crm_score", "float", "The CRM's own score (Salesforce Lead_Score__c, else hubspotscore)"),
        _c("original_source", "string", "HubSpot original source (hs_analytics_source), else Salesforce LeadSource"),
        _c(
            "campaign_key",
            "string",
            "Original campaign: Opportunity primary campaign, else first responded "
            "Salesforce campaign, else HubSpot crm_loop_campaign",
        ),
        _c(
            "first_touch_campaign_key",
            "string",
            "First-touch attribution: the campaign of the person's earliest campaign membership dated at or before "
            "the MQL (mql_at; when never an MQL, or the MQL lies after as_of: at or before as_of). Memberships: "
            "live Salesforce CampaignMembers of the person's live Leads and Contacts, dated by their CreatedDate "
            "(when the person joined; FirstRespondedDate is only a day), keyed like campaign_key (the Campaign's "
            "HubSpot_Campaign__c, else its name, else its Id); and each live HubSpot contact's crm_loop_campaign, "
            "dated at the contact's creation. Ties (same instant): the alphabetically first campaign key. Null = "
            "no membership by then",
        ),
        _c(
            "last_touch_campaign_key",
            "string",
            "Last-touch attribution: the campaign of the latest such membership dated at or before the MQL (else "
            "as_of); ties: the alphabetically first campaign key",
        ),
        _c(
            "marketing_influenced",
            "boolean",
            "Any campaign membership (as first_touch_campaign_key counts them) dated strictly before "
            "opportunity_created_at; null when no opportunity",
        ),
        _c(
            "owner_key", "string", "Owner responsible for the lead: Salesforce Lead OwnerId, else HubSpot contact owner"
        ),
        _c("owner_name", "string", "That owner's name"),
        _c("owner_team", "string", "That owner's team"),
        _c(
            "owner_status",
            "string",
            "assigned | unassigned (no owner, or an owner on no sales team such as an "
            "integration user) | inactive (owner deactivated/archived)",
        ),
        _c("created_at", "timestamp", "First created in either CRM"),
        _c("cohort_month", "date", "First day of created_at's month in the SLA calendar's zone"),
        _c("mql_at", "timestamp", "Became an MQL"),
        _c("mql_month", "date", "First day of mql_at's month in the SLA calendar's zone"),
        _c("mql_inferred", "boolean", "MQL was skipped or backfilled (implied by a later stage): SLAs do not run"),
        _c(
            "assigned_at",
            "timestamp",
            "Got its current owner: last Salesforce Owner change, else Lead creation; for "
            "HubSpot-only leads the last hubspot_owner_id change; null when unassigned",
        ),
        _c(
            "first_touch_at",
            "timestamp",
            "First touch (counts_as_touch) in EITHER CRM at/after the MQL (after creation when never an MQL)",
        ),
        _c("accepted_at", "timestamp", "Reached SAL (sales working it)"),
        _c("rejected_at", "timestamp", "Disqualified or recycled (first of the two)"),
        _c("sql_at", "timestamp", "Reached SQL"),
        _c("opportunity_created_at", "timestamp", "Reached opportunity"),
        _c("won_at", "timestamp", "Won"),
        _c("lost_at", "timestamp", "Lost"),
        _c(
            "closed_month",
            "date",
            "First day of the month of the close (won_at, else lost_at) in the SLA calendar's zone; null when neither",
        ),
        _c("outcome", "string", "won | lost | open_opportunity | disqualified | recycled | open"),
        _c("amount", "float", "Opportunity amount (Salesforce, else HubSpot deal)"),
        _c(
            "disqualification_reason",
            "string",
            "Agreed reason key; 'unmapped' when outside the agreed list; null when none given",
        ),
        _c("disqualification_reason_raw", "string", "The reason as stored (Salesforce first, else HubSpot)"),
        _c("contact_attempts", "integer", "Touches from the MQL (else creation) to the rejection (else as_of)"),
        _c("contact_attempts_required", "integer", "sla.disqualification.min_contact_attempts"),
        _c(
            "business_minutes_to_first_touch",
            "float",
            "Business minutes from the first-touch clock start (first_touch_clock_at) to the first touch, 0 "
            "when touched before it; null when untouched or no audited MQL",
        ),
        _c(
            "first_touch_clock_from",
            "string",
            "What started the first-touch clock: assignment (sla.first_touch.clock: assignment and an owner "
            "assignment is recorded) | mql (clock: mql, or no assignment recorded: the MQL is used); null "
            "when no SLA runs",
        ),
        _c(
            "first_touch_clock_at",
            "timestamp",
            "First-touch clock start: the later of the MQL and the owner assignment (the first one, or the "
            "latest when sla.first_touch.reassignment_restarts_clock), else the MQL",
        ),
        _c("first_touch_sla_status", "string", _SLA_STATUS),
        _c(
            "first_touch_due_at",
            "timestamp",
            "First-touch deadline: inside_hours when the clock started during working hours, else outside_hours",
        ),
        _c("accept_reject_sla_status", "string", _SLA_STATUS),
        _c("accept_reject_due_at", "timestamp", "Accept/reject deadline (from the MQL)"),
        _c(
            "rejection_reason_sla_status",
            "string",
            "met | breached (rejected without an agreed reason) | not_applicable",
        ),
        _c(
            "contact_attempts_sla_status",
            "string",
            "met | breached (disqualified or rejected with fewer than contact_attempts_required touches) | "
            "not_applicable (not rejected, or for one of sla.disqualification.exempt_reasons)",
        ),
        _c(
            "current_stage",
            "string",
            "Current canonical stage (lead, mql, sal, sql, opportunity, won, lost, disqualified, "
            "recycled); null = not in the funnel yet (e.g. a HubSpot subscriber)",
        ),
        _c("has_stage_regression", "boolean", "A signal moved back to a lower funnel stage"),
        _c("regression_from_stage", "string", "Latest regression: stage before"),
        _c("regression_to_stage", "string", "Latest regression: stage after"),
        _c("regressed_at", "timestamp", "Latest regression: when"),
        _c("unmapped_values", "string", "CRM values the definitions do not map (signal=value, comma-separated)"),
        _c("has_identity_conflict", "boolean", "One of the person's records is in identity_conflicts"),
        _c(
            "counts_as_lead",
            "boolean",
            "Counted in person counts (every analyst view leaves out the rows where it is false): false for a "
            "possible duplicate, a "
            "person of a shared_email conflict (identity_conflicts: records of several people share one e-mail "
            "and were not merged) other than its earliest created (created_at, unknown last; then person_key)",
        ),
        _c(
            "last_updated_at",
            "timestamp",
            "Latest modification in either CRM of any record of this person (records, opportunities, activities)",
        ),
        DEFINITIONS_HASH,
    ),
)


def _snapshot_column(name: str) -> Column:
    return next(c for c in CLOSED_LOOP_LEADS.columns if c.name == name)


SLA_DAILY_SNAPSHOTS = TableSpec(
    name="sla_daily_snapshots",
    doc="Grain: one row per day x person who was an MQL by the end of that day (SLA calendar's zone), with the "
    "SLA outcomes as they stood at that moment: compliance trends without re-judging the past by today's "
    "data. Primary key (snapshot_date, person_key). Built per day by the daily-partitioned asset, so any "
    "date range can be backfilled.",
    primary_key=("snapshot_date", "person_key"),
    columns=(
        _c(
            "snapshot_date", "date", "The day judged; outcomes are as of the end of that day in the SLA calendar's zone"
        ),
        *(
            _snapshot_column(n)
            for n in (
                "person_key",
                "owner_key",
                "owner_name",
                "owner_team",
                "original_source",
                "campaign_key",
                "mql_at",
                "mql_month",
                "first_touch_at",
                "business_minutes_to_first_touch",
                "first_touch_sla_status",
                "first_touch_due_at",
                "accept_reject_sla_status",
                "accept_reject_due_at",
                "rejection_reason_sla_status",
                "contact_attempts_sla_status",
            )
        ),
        DEFINITIONS_HASH,
    ),
)

CANONICAL_TABLES: tuple[TableSpec, ...] = (
    CANONICAL_OWNERS,
    CANONICAL_ACCOUNTS,
    CANONICAL_PEOPLE,
    IDENTITY_CONFLICTS,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_ACTIVITIES,
)
HARMONISED_TABLES: tuple[TableSpec, ...] = (*CANONICAL_TABLES, CLOSED_LOOP_LEADS, SLA_DAILY_SNAPSHOTS)
