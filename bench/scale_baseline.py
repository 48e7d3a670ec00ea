"""The hand-written SQL baseline for ``bench/scale.py``: what a competent analyst would write for crm-loop's
post-extract outputs, straight against the raw tables, on DuckDB or PostgreSQL.

It writes the same outputs as crm-loop, prefixed ``bl_`` so they never touch crm-loop's own:
  - canonical: bl_owners, bl_accounts, bl_people, bl_identity_conflicts, bl_opportunities and bl_activities with
    the columns of canonical_owners, canonical_accounts, canonical_people, identity_conflicts,
    canonical_opportunities and canonical_activities (through the narrow bl_records / bl_identity /
    bl_shared_emails the people are resolved with);
  - closed_loop: bl_closed_loop with closed_loop_leads' 67 columns (through per-person tables: bl_evidence,
    bl_journeys, bl_person, bl_lead_facts, bl_activity_facts, bl_attribution, and bl_calendar), and crm-loop's
    eight analyst views, named bl_<view>;
  - checks: the expectations of crm-loop's 89 suites (raw HubSpot, raw Salesforce, canonical, closed loop), one
    aggregate query per suite counting the offending rows of each expectation, then a ``LIMIT 20`` query of the
    offending ids for each expectation that fails (the sync audits need a sync_runs table);
  - sla: the SLA audit: per rule met/breached/pending with a sample of breaching leads, roll-ups per owner, team
    and MQL month (bl_sla_findings, bl_sla_rollup), the ignored leads and the monthly MQL commitment.

It deliberately skips crm-loop's edge rules: no trimming or guarded casts of raw values, the definitions' values
written into the SQL (the definitions version stands in for their hash) instead of mapping tables, no holiday
calendar (weekdays 09:00-17:00 local), identity by cross-CRM ids plus a unique-e-mail match (no link
disagreements, merged-away contacts or greedy e-mail matching), stage times as the first evidence per stage (no
replay of the journey: the current stage is the highest stage seen after the last exit, else that exit; an MQL
is inferred when no MQL evidence comes first), "the first record" of a kind is its lowest id, a HubSpot owner's team is its first listed team,
the campaign is the Opportunity's own campaign before the first-responded one. It must reach the same funnel
stage counts on the generated data, which ``bench/scale.py`` checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

AS_OF = "2026-11-02 15:00:00"
TZ = "America/New_York"
DEFINITIONS_VERSION = "2026.12.1"  # stands in for crm-loop's definitions hash: the file the rules below copy
FIRST_TOUCH_MIN = 60  # sla.first_touch.inside_hours = 1 business hour
FIRST_TOUCH_OUTSIDE_S = 24 * 3600  # sla.first_touch.outside_hours = 24 calendar hours
ACCEPT_REJECT_S = 24 * 3600  # sla.accept_reject.deadline = 24 calendar hours
MIN_CONTACT_ATTEMPTS = 3  # sla.disqualification.min_contact_attempts
MQL_COMMITMENT = (150, 60)  # sla.mql_commitment: MQLs per month, each scoring at least this at its MQL
OPEN_MIN, DAY_MIN = 9 * 60, 8 * 60  # the working day: 09:00-17:00 local, Monday to Friday
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"  # what identity trusts
CHECK_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"  # what the data-quality checks accept
SAMPLE = 20
LIVE = "NOT COALESCE({a}_is_deleted, FALSE)"


class _Sql:
    """Qualified names and the handful of expressions the two engines spell differently."""

    def __init__(self, conn: sa.Connection, schema: str | None) -> None:
        self.conn, self.schema, self.pg = conn, schema, conn.dialect.name == "postgresql"

    def t(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    def matches(self, expr: str, regex: str) -> str:
        return f"({expr} ~ '{regex}')" if self.pg else f"regexp_matches({expr}, '{regex}')"

    def has_word(self, expr: str, words: Iterable[str]) -> str:
        """A whole-word, case-blind match of any of ``words`` (PostgreSQL spells word boundaries \\y)."""
        b = r"\y" if self.pg else r"\b"
        alternatives = "|".join(words)
        pattern = f"{b}({alternatives}){b}"
        return f"({expr} ~* '{pattern}')" if self.pg else f"regexp_matches({expr}, '{pattern}', 'i')"

    def seconds(self, start: str, end: str) -> str:
        return f"EXTRACT(EPOCH FROM ({end}) - ({start}))" if self.pg else f"date_diff('second', {start}, {end})"

    def local(self, expr: str) -> str:
        return f"(({expr}) AT TIME ZONE 'UTC') AT TIME ZONE '{TZ}'"

    def utc(self, local: str) -> str:
        return f"(({local}) AT TIME ZONE '{TZ}') AT TIME ZONE 'UTC'"

    def month(self, expr: str) -> str:
        """First day of the instant's month in the calendar's zone."""
        return f"CAST(date_trunc('month', {self.local(expr)}) AS DATE)"

    def first_team(self, teams: str) -> str:
        return f"({teams} -> 0 ->> 'name')" if self.pg else f"json_extract_string({teams}, '$[0].name')"

    def table(self, name: str, select: str) -> None:
        self.conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.t(name)} CASCADE"))
        self.conn.execute(sa.text(f"CREATE TABLE {self.t(name)} AS {select}"))
        if self.pg:  # fresh tables have no statistics: the next join would be planned as if they were empty
            self.conn.execute(sa.text(f"ANALYZE {self.t(name)}"))

    def view(self, name: str, select: str) -> None:
        self.conn.execute(sa.text(f"DROP VIEW IF EXISTS {self.t(name)}"))
        self.conn.execute(sa.text(f"CREATE VIEW {self.t(name)} AS {select}"))

    def rows(self, select: str) -> list[Any]:
        return list(self.conn.execute(sa.text(select)).all())


def _live(alias: str = "") -> str:
    return LIVE.format(a=f"{alias}." if alias else "")


def _in(expr: str, values: Iterable[str]) -> str:
    return f"{expr} IN ({', '.join(_quote(v) for v in values)})"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _map(expr: str, mapping: Mapping[str, str | None], default: str = "NULL") -> str:
    """CASE over a value map written out (``None`` targets map to NULL)."""
    whens = " ".join(f"WHEN {_quote(k)} THEN {_quote(v) if v else 'NULL'}" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {default} END"


# -- the definitions, written out (pipelines/funnel/definitions.yaml) ------------------------------------------

INDUSTRIES = {  # canonical industry <- CRM values, lower-cased (Salesforce, HubSpot)
    "technology": ("technology", "computer_software"),
    "financial_services": ("financial services", "financial_services"),
    "healthcare": ("healthcare", "hospital_health_care"),
    "manufacturing": ("manufacturing", "machinery"),
    "retail": ("retail", "retail"),
    "education": ("education", "education_management"),
    "media": ("media", "media_production"),
    "telecommunications": ("telecommunications", "telecommunications"),
    "energy": ("energy", "oil_energy"),
    "government": ("government", "government_administration"),
    "consulting": ("consulting", "management_consulting"),
    "other": ("other", "other"),
}
COUNTRIES = {
    "US": ("united states", "united states of america", "usa", "u.s."),
    "CA": ("canada",),
    "GB": ("united kingdom", "uk", "great britain", "england", "scotland", "wales"),
    "DE": ("germany", "deutschland"),
    "FR": ("france",),
    "NL": ("netherlands", "the netherlands", "holland"),
    "AU": ("australia",),
    "ES": ("spain",),
    "SE": ("sweden",),
    "IN": ("india",),
}
TITLE_POINTS = (
    (("chief", "ceo", "cmo", "cro", "cfo", "coo", "vp", "vice president", "head of", "founder"), 25),
    (("director",), 20),
    (("manager", "lead"), 12),
    (("analyst", "specialist", "marketer", "consultant"), 6),
    (("student", "intern"), -15),
)
INDUSTRY_POINTS = {"technology": 15, "financial_services": 12, "healthcare": 8, "telecommunications": 8, "media": 5}
HALF_LIFE_DAYS = 30

# Stage ranks: lead 0, mql 1, sal 2, sql 3, opportunity 4, won/lost 5; reaching a stage implies the earlier ones.
# The exits (disqualified, recycled) have no rank.
RANKS = {"lead": 0, "mql": 1, "sal": 2, "sql": 3, "opportunity": 4, "won": 5, "lost": 5}
HS_LIFECYCLE = {
    "subscriber": None,
    "lead": "lead",
    "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql",
    "opportunity": "opportunity",
    "customer": "won",
    "evangelist": "won",
    "other": None,
}
HS_LEAD_STATUS = {
    "NEW": None,
    "OPEN": None,
    "ATTEMPTED_TO_CONTACT": None,
    "CONNECTED": "sal",
    "IN_PROGRESS": "sal",
    "OPEN_DEAL": "sal",
    "UNQUALIFIED": "disqualified",
    "BAD_TIMING": "recycled",
}
HS_DEAL_STAGES = {
    "appointmentscheduled": "opportunity",
    "qualifiedtobuy": "opportunity",
    "presentationscheduled": "opportunity",
    "decisionmakerboughtin": "opportunity",
    "contractsent": "opportunity",
    "closedwon": "won",
    "closedlost": "lost",
}
SF_LEAD_STATUS = {
    "Open - Not Contacted": "lead",
    "Working - Contacted": "sal",
    "Closed - Converted": "sql",
    "Closed - Not Converted": "disqualified",
    "New": "lead",
    "Contacted": "sal",
    "Nurturing": "recycled",
    "Qualified": "sql",
    "Unqualified": "disqualified",
}
SF_OPPORTUNITY_STAGES = {
    **dict.fromkeys(
        (
            "Prospecting",
            "Qualification",
            "Needs Analysis",
            "Value Proposition",
            "Id. Decision Makers",
            "Perception Analysis",
            "Proposal/Price Quote",
            "Negotiation/Review",
        ),
        "opportunity",
    ),
    "Closed Won": "won",
    "Closed Lost": "lost",
}
REASONS = {  # agreed reason <- (Salesforce value, HubSpot value)
    "no_budget": ("No Budget", "no_budget"),
    "no_authority": ("No Authority", "no_authority"),
    "no_need": ("No Need", "no_need"),
    "bad_timing": ("Bad Timing", "bad_timing"),
    "competitor": ("Competitor", "competitor"),
    "unresponsive": ("Unresponsive", "unresponsive"),
    "bad_data": ("Bad Data", "bad_data"),
    "not_icp": ("Not ICP", "not_icp"),
}
SCORE_BANDS = (("cold", None, 30), ("warm", 30, 60), ("hot", 60, None))
MQL_THRESHOLD = 60


# -- stage 1: canonical tables and identity -------------------------------------------------------------------


def canonical(s: _Sql) -> dict[str, Any]:
    """Owners, accounts, people (resolved to persons), identity conflicts, opportunities and activities."""
    _owners(s)
    _accounts(s)
    _identity(s)
    _people(s)
    _conflicts(s)
    _opportunities(s)
    _activities(s)
    tables = ("bl_owners", "bl_accounts", "bl_people", "bl_identity_conflicts", "bl_opportunities", "bl_activities")
    return {"rows": {name: int(s.rows(f"SELECT count(*) FROM {s.t(name)}")[0][0]) for name in tables}}


def _normalized_email(s: _Sql, expr: str) -> str:
    folded = f"lower(trim({expr}))"
    return f"CASE WHEN {s.matches(folded, EMAIL_RE)} THEN {folded} END"


def _owners(s: _Sql) -> None:
    """Salesforce Users and HubSpot owners matched by e-mail; team, activity and both ids per matched owner
    (Salesforce's team and activity when the owner has a User)."""
    s.table(
        "bl_owners",
        f"""WITH o AS (
              SELECT 'salesforce' AS source_system, id AS source_id,
                COALESCE({_normalized_email(s, "email")}, 'salesforce:' || id) AS owner_key, email, name,
                team__c AS team, isactive AND {_live()} AS active, title, createddate AS created_at,
                lastmodifieddate AS updated_at, NOT {_live()} AS is_deleted
              FROM {s.t("raw_salesforce__user")}
              UNION ALL
              SELECT 'hubspot', id, COALESCE({_normalized_email(s, "email")}, 'hubspot:' || id), email,
                first_name || ' ' || last_name, {s.first_team("teams")},
                {_live()} AND NOT COALESCE(archived, FALSE), NULL, created_at, updated_at,
                NOT {_live()} OR COALESCE(archived, FALSE)
              FROM {s.t("raw_hubspot__owners")})
            SELECT o.source_system, o.source_id, o.owner_key, o.email, o.name, k.team, k.is_active, o.title,
              k.salesforce_user_id, k.hubspot_owner_id, o.created_at, o.updated_at, o.is_deleted
            FROM o JOIN (
              SELECT owner_key, COALESCE(max(CASE WHEN source_system = 'salesforce' THEN team END),
                  max(team)) AS team,
                COALESCE(bool_or(CASE WHEN source_system = 'salesforce' THEN active END), bool_or(active))
                  AS is_active,
                min(CASE WHEN source_system = 'salesforce' THEN source_id END) AS salesforce_user_id,
                min(CASE WHEN source_system = 'hubspot' THEN source_id END) AS hubspot_owner_id
              FROM o GROUP BY owner_key
            ) k USING (owner_key)""",
    )


def _industry(expr: str) -> str:
    whens = " ".join(f"WHEN {_in(f'lower({expr})', values)} THEN '{name}'" for name, values in INDUSTRIES.items())
    return f"CASE {whens} END"


def _country_code(expr: str) -> str:
    whens = " ".join(f"WHEN {_in(f'lower({expr})', names)} THEN '{code}'" for code, names in COUNTRIES.items())
    return f"CASE {whens} END"


def _icp_tier(industry: str, employees: str, revenue: str, country: str) -> str:
    """definitions icp.tiers, first match wins; an unknown value never matches a rule on it."""
    return f"""CASE
        WHEN {industry} IN ('technology', 'financial_services') AND {employees} BETWEEN 200 AND 5000
          AND {revenue} >= 20000000 AND {country} IN ('US', 'CA', 'GB', 'DE') THEN 'A'
        WHEN {industry} IN ('technology', 'financial_services', 'healthcare', 'telecommunications', 'media')
          AND {employees} BETWEEN 50 AND 10000
          AND {country} IN ('US', 'CA', 'GB', 'DE', 'FR', 'NL', 'AU', 'ES', 'SE') THEN 'B'
        WHEN {employees} >= 20 THEN 'C' END"""


def _accounts(s: _Sql) -> None:
    """Salesforce Accounts and HubSpot companies with canonical industry, country and ICP tier."""
    bare = "lower(split_part(regexp_replace({x}, '^(https?://)?(www\\.)?', '', 'i'), '/', 1))"
    s.table(
        "bl_accounts",
        f"""SELECT source_system, source_id, account_key, name, domain, industry, industry_canonical, employees,
              annual_revenue, country, country_code,
              {_icp_tier("industry_canonical", "employees", "annual_revenue", "country_code")} AS icp_tier,
              crm_icp_tier, owner_source_id, linked_salesforce_account_id, created_at, updated_at, is_deleted,
              '{DEFINITIONS_VERSION}' AS definitions_hash
            FROM (
              SELECT 'salesforce' AS source_system, id AS source_id, 'salesforce:account:' || id AS account_key,
                name, {bare.format(x="website")} AS domain, industry, {_industry("industry")} AS industry_canonical,
                numberofemployees AS employees, annualrevenue AS annual_revenue, billingcountry AS country,
                {_country_code("billingcountry")} AS country_code, icp_tier__c AS crm_icp_tier,
                ownerid AS owner_source_id, CAST(NULL AS VARCHAR) AS linked_salesforce_account_id,
                createddate AS created_at, lastmodifieddate AS updated_at, NOT {_live()} AS is_deleted
              FROM {s.t("raw_salesforce__account")}
              UNION ALL
              SELECT 'hubspot', id,
                CASE WHEN salesforceaccountid IS NOT NULL THEN 'salesforce:account:' || salesforceaccountid
                     ELSE 'hubspot:company:' || id END,
                name, {bare.format(x="domain")}, industry, {_industry("industry")},
                CAST(numberofemployees AS BIGINT), annualrevenue, country, {_country_code("country")}, icp_tier,
                hubspot_owner_id, salesforceaccountid, COALESCE(createdate, created_at),
                COALESCE(hs_lastmodifieddate, updated_at), NOT {_live()} OR COALESCE(archived, FALSE)
              FROM {s.t("raw_hubspot__companies")}
            ) a""",
    )


def _identity(s: _Sql) -> None:
    """Every person record's person_key: cross-CRM ids first; an unlinked Lead joins the one HubSpot contact with
    its e-mail when that contact has no Lead of its own and nobody else shares the address. Deleted records get
    none."""
    s.table(
        "bl_records",
        f"""SELECT 'hubspot' AS crm, 'contact' AS kind, id, {_normalized_email(s, "email")} AS email,
              salesforceleadid AS link_id, salesforcecontactid AS link_contact_id,
              {_live()} AND NOT COALESCE(archived, FALSE) AS live
            FROM {s.t("raw_hubspot__contacts")}
            UNION ALL
            SELECT 'salesforce', 'lead', id, {_normalized_email(s, "email")}, hubspot_contact_id__c, NULL, {_live()}
            FROM {s.t("raw_salesforce__lead")}
            UNION ALL
            SELECT 'salesforce', 'contact', id, {_normalized_email(s, "email")}, hubspot_contact_id__c, NULL,
              {_live()}
            FROM {s.t("raw_salesforce__contact")}""",
    )
    records = s.t("bl_records")
    s.table(
        "bl_identity",
        f"""SELECT r.crm, r.kind, r.id, r.email,
              CASE WHEN NOT r.live THEN NULL
                   WHEN r.crm = 'hubspot' THEN 'hubspot:contact:' || r.id
                   WHEN hc.id IS NOT NULL THEN 'hubspot:contact:' || hc.id
                   WHEN em.id IS NOT NULL THEN 'hubspot:contact:' || em.id
                   ELSE 'salesforce:' || r.kind || ':' || r.id END AS person_key
            FROM {records} r
            LEFT JOIN {records} hc ON r.crm = 'salesforce' AND hc.crm = 'hubspot' AND hc.live AND hc.id = r.link_id
            LEFT JOIN (
              SELECT c.id, c.email FROM {records} c JOIN (
                SELECT email FROM {records} WHERE live AND email IS NOT NULL GROUP BY email
                HAVING SUM(CASE WHEN crm = 'hubspot' THEN 1 ELSE 0 END) = 1
                  AND SUM(CASE WHEN kind = 'lead' AND link_id IS NULL THEN 1 ELSE 0 END) = 1
              ) n USING (email)
              WHERE c.crm = 'hubspot' AND c.live AND NOT EXISTS (
                SELECT 1 FROM {records} l WHERE l.crm = 'salesforce' AND l.live AND l.link_id = c.id)
            ) em ON r.crm = 'salesforce' AND r.kind = 'lead' AND r.link_id IS NULL AND em.email = r.email""",
    )


def _people(s: _Sql) -> None:
    """canonical_people: every person record (deleted ones too), with its person and first-responded campaign."""
    ident = s.t("bl_identity")
    # A Lead's or Contact's campaign: the one it responded to first (never responded last, then joined first).
    campaigns = f"""SELECT member_id, campaign_id, campaign_key FROM (
          SELECT m.member_id, m.campaignid AS campaign_id, COALESCE(c.hubspot_campaign__c, c.name) AS campaign_key,
            ROW_NUMBER() OVER (PARTITION BY m.member_id
              ORDER BY m.firstrespondeddate NULLS LAST, m.createddate, m.id) AS pick
          FROM (SELECT leadid AS member_id, * FROM {s.t("raw_salesforce__campaignmember")}
                WHERE leadid IS NOT NULL AND {_live()}
                UNION ALL
                SELECT contactid, * FROM {s.t("raw_salesforce__campaignmember")}
                WHERE contactid IS NOT NULL AND {_live()}) m
          LEFT JOIN {s.t("raw_salesforce__campaign")} c ON c.id = m.campaignid) r WHERE pick = 1"""
    band_floor = "CAST(NULLIF(replace(rtrim(split_part(c.numemployees, '-', 1), '+'), ',', ''), '') AS BIGINT)"
    s.table(
        "bl_people",
        f"""WITH campaigns AS ({campaigns})
            SELECT 'hubspot' AS source_system, 'contact' AS source_object, c.id AS source_id, i.person_key, c.email,
              i.email AS email_normalized, i.email IS NOT NULL AS email_is_valid, c.firstname AS first_name,
              c.lastname AS last_name, c.jobtitle AS title, c.company AS company_name, c.country, c.industry,
              {band_floor} AS employees, CAST(c.annualrevenue AS DOUBLE PRECISION) AS annual_revenue,
              c.hubspot_owner_id AS owner_source_id,
              CAST(CAST(c.associatedcompanyid AS BIGINT) AS VARCHAR) AS account_source_id,
              c.lifecyclestage AS lifecycle_stage, c.hs_lead_status AS lead_status,
              c.hs_analytics_source AS original_source, c.crm_loop_campaign AS campaign_key,
              CAST(NULL AS VARCHAR) AS salesforce_campaign_id, c.hubspotscore AS crm_score,
              c.hs_lifecyclestage_marketingqualifiedlead_date AS mql_at,
              c.disqualification_reason AS disqualification_reason_raw,
              CAST(c.hs_analytics_num_page_views AS BIGINT) AS page_views,
              CAST(c.num_conversion_events AS BIGINT) AS form_fills, c.demo_requested, c.webinar_attended,
              c.hs_email_last_reply_date AS last_reply_at, c.salesforceleadid AS linked_salesforce_lead_id,
              c.salesforcecontactid AS linked_salesforce_contact_id,
              CAST(NULL AS VARCHAR) AS linked_hubspot_contact_id, CAST(NULL AS BOOLEAN) AS is_converted,
              CAST(NULL AS DATE) AS converted_date, CAST(NULL AS VARCHAR) AS converted_contact_id,
              CAST(NULL AS VARCHAR) AS converted_opportunity_id, m.survivor_id AS merged_into_source_id,
              COALESCE(c.createdate, c.created_at) AS created_at, COALESCE(c.lastmodifieddate, c.updated_at)
                AS updated_at,
              NOT {_live("c")} OR COALESCE(c.archived, FALSE) AS is_deleted
            FROM {s.t("raw_hubspot__contacts")} c
            JOIN {ident} i ON i.crm = 'hubspot' AND i.id = c.id
            LEFT JOIN (SELECT merged_id, max(survivor_id) AS survivor_id FROM {s.t("raw_hubspot__merged_records")}
                       WHERE object_type = 'contacts' GROUP BY merged_id) m ON m.merged_id = c.id
            UNION ALL
            SELECT 'salesforce', 'lead', l.id, i.person_key, l.email, i.email, i.email IS NOT NULL, l.firstname,
              l.lastname, l.title, l.company, l.country, l.industry, l.numberofemployees, l.annualrevenue, l.ownerid,
              l.convertedaccountid, NULL, l.status, l.leadsource, k.campaign_key, k.campaign_id, l.lead_score__c,
              l.mql_date__c, l.disqualification_reason__c, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              l.hubspot_contact_id__c, l.isconverted, l.converteddate, l.convertedcontactid,
              l.convertedopportunityid, NULL, l.createddate, l.lastmodifieddate, NOT {_live("l")}
            FROM {s.t("raw_salesforce__lead")} l
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = l.id
            LEFT JOIN campaigns k ON k.member_id = l.id
            UNION ALL
            SELECT 'salesforce', 'contact', c.id, i.person_key, c.email, i.email, i.email IS NOT NULL, c.firstname,
              c.lastname, c.title, NULL, c.mailingcountry, NULL, NULL, NULL, c.ownerid, c.accountid, NULL, NULL,
              c.leadsource, k.campaign_key, k.campaign_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              NULL, c.hubspot_contact_id__c, NULL, NULL, NULL, NULL, NULL, c.createddate, c.lastmodifieddate,
              NOT {_live("c")}
            FROM {s.t("raw_salesforce__contact")} c
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'contact' AND i.id = c.id
            LEFT JOIN campaigns k ON k.member_id = c.id""",
    )


def _conflicts(s: _Sql) -> None:
    """identity_conflicts: an e-mail left on several people, records linked by id whose e-mails differ, and
    cross-CRM ids pointing at no live record."""
    ident, records = s.t("bl_identity"), s.t("bl_records")
    rkey = "i.crm || ':' || i.kind || ':' || i.id"
    s.table(
        "bl_shared_emails",
        f"""SELECT i.email, {rkey} AS rkey, i.person_key FROM {ident} i JOIN (
              SELECT email FROM {ident} WHERE person_key IS NOT NULL AND email IS NOT NULL GROUP BY email
              HAVING count(DISTINCT person_key) > 1) d USING (email)
            WHERE i.person_key IS NOT NULL""",
    )
    links = f"""SELECT r.crm, r.kind, r.id, x.link_system, x.link_kind, x.link_id FROM {records} r JOIN (
          SELECT 'hubspot' AS crm, id, 'salesforce' AS link_system, 'lead' AS link_kind, link_id
          FROM {records} WHERE crm = 'hubspot' AND link_id IS NOT NULL
          UNION ALL
          SELECT 'hubspot', id, 'salesforce', 'contact', link_contact_id
          FROM {records} WHERE crm = 'hubspot' AND link_contact_id IS NOT NULL
          UNION ALL
          SELECT 'salesforce', id, 'hubspot', 'contact', link_id
          FROM {records} WHERE crm = 'salesforce' AND link_id IS NOT NULL) x ON x.crm = r.crm AND x.id = r.id
        WHERE r.live"""
    s.table(
        "bl_identity_conflicts",
        f"""SELECT 'shared_email|' || record_keys AS conflict_key, 'shared_email' AS kind, email AS email_normalized,
              record_keys, person_keys, CAST(people AS VARCHAR) || ' people share ' || email || '; not merged'
                AS detail
            FROM (SELECT email, string_agg(rkey, ',' ORDER BY rkey) AS record_keys,
                    string_agg(DISTINCT person_key, ',' ORDER BY person_key) AS person_keys,
                    count(DISTINCT person_key) AS people
                  FROM {s.t("bl_shared_emails")} GROUP BY email) e
            UNION ALL
            SELECT 'email_mismatch|hubspot:contact:' || h.id || ',' || i.crm || ':' || i.kind || ':' || i.id,
              'email_mismatch', h.email, 'hubspot:contact:' || h.id || ',' || i.crm || ':' || i.kind || ':' || i.id,
              i.person_key, 'hubspot:contact:' || h.id || ' has ' || h.email || ', ' || i.crm || ':' || i.kind || ':'
                || i.id || ' has ' || i.email || '; linked by id, both kept'
            FROM ({links}) l
            JOIN {ident} i ON i.crm = l.crm AND i.kind = l.kind AND i.id = l.id
            JOIN {ident} h ON h.crm = 'hubspot' AND h.id = l.link_id AND h.person_key IS NOT NULL
            WHERE l.crm = 'salesforce' AND i.email <> h.email
            UNION ALL
            SELECT 'link_target_missing|' || l.crm || ':' || l.kind || ':' || l.id || ',' || l.link_system || ':'
                || l.link_kind || ':' || l.link_id,
              'link_target_missing', NULL,
              l.crm || ':' || l.kind || ':' || l.id || ',' || l.link_system || ':' || l.link_kind || ':' || l.link_id,
              i.person_key, l.crm || ' ' || l.kind || ' ' || l.id || ': links ' || l.link_id || ' is not a live '
                || l.link_system || ' ' || l.link_kind
            FROM ({links}) l
            JOIN {ident} i ON i.crm = l.crm AND i.kind = l.kind AND i.id = l.id
            LEFT JOIN {ident} t ON t.crm = l.link_system AND t.kind = l.link_kind AND t.id = l.link_id
              AND t.person_key IS NOT NULL
            WHERE t.id IS NULL""",
    )


def _opportunities(s: _Sql) -> None:
    """Opportunities (person: the Lead converted into it, else its Contact) and deals (person: the lowest
    associated contact, else the linked Opportunity's; company: the lowest associated company)."""
    people, ident = s.t("bl_people"), s.t("bl_identity")
    s.table(
        "bl_opportunities",
        f"""WITH sf AS (
              SELECT 'salesforce' AS source_system, o.id AS source_id, 'salesforce:opportunity:' || o.id
                  AS opportunity_key,
                COALESCE(cv.person_key, pc.person_key) AS person_key, o.name, o.stagename AS stage_raw,
                {_map("o.stagename", SF_OPPORTUNITY_STAGES)} AS stage, o.isclosed AS is_closed, o.iswon AS is_won,
                o.amount, o.closedate AS close_date, o.loss_reason__c AS loss_reason, o.accountid AS account_source_id,
                o.campaignid AS campaign_source_id, o.ownerid AS owner_source_id, o.createddate AS created_at,
                o.lastmodifieddate AS updated_at, NOT {_live("o")} AS is_deleted
              FROM {s.t("raw_salesforce__opportunity")} o
              LEFT JOIN (SELECT converted_opportunity_id, max(person_key) AS person_key FROM {people}
                         WHERE source_object = 'lead' AND converted_opportunity_id IS NOT NULL
                         GROUP BY converted_opportunity_id) cv ON cv.converted_opportunity_id = o.id
              LEFT JOIN {ident} pc ON pc.crm = 'salesforce' AND pc.kind = 'contact' AND pc.id = o.contactid),
            edges AS (
              SELECT from_id, min(CASE WHEN to_type = 'contacts' THEN to_id END) AS contact_id,
                min(CASE WHEN to_type = 'companies' THEN to_id END) AS company_id
              FROM {s.t("raw_hubspot__associations")}
              WHERE from_type = 'deals' AND to_type IN ('contacts', 'companies') AND {_live()} GROUP BY from_id)
            SELECT *, '{DEFINITIONS_VERSION}' AS definitions_hash FROM sf
            UNION ALL
            SELECT 'hubspot', d.id,
              CASE WHEN d.salesforceopportunityid IS NOT NULL THEN 'salesforce:opportunity:' || d.salesforceopportunityid
                   ELSE 'hubspot:deal:' || d.id END,
              CASE WHEN e.contact_id IS NOT NULL THEN c.person_key ELSE o.person_key END, d.dealname, d.dealstage,
              {_map("d.dealstage", HS_DEAL_STAGES)}, d.hs_is_closed, d.hs_is_closed_won, d.amount,
              CAST(d.closedate AS DATE), d.closed_lost_reason, e.company_id, NULL, d.hubspot_owner_id,
              COALESCE(d.createdate, d.created_at), COALESCE(d.hs_lastmodifieddate, d.updated_at),
              NOT {_live("d")} OR COALESCE(d.archived, FALSE), '{DEFINITIONS_VERSION}'
            FROM {s.t("raw_hubspot__deals")} d
            LEFT JOIN edges e ON e.from_id = d.id
            LEFT JOIN {ident} c ON c.crm = 'hubspot' AND c.id = e.contact_id
            LEFT JOIN sf o ON o.source_id = d.salesforceopportunityid""",
    )


# HubSpot engagement types: (activity type, direction, status, subtype, subject, counts as a touch: sla.touches).
_HS_ACTIVITIES = {
    "calls": (
        "call",
        "hs_call_direction",
        "hs_call_status",
        None,
        "hs_call_title",
        "e.hs_call_direction = 'OUTBOUND' AND e.hs_call_status IN ('COMPLETED', 'NO_ANSWER', 'BUSY')",
    ),
    "emails": (
        "email",
        "hs_email_direction",
        "hs_email_status",
        None,
        "hs_email_subject",
        "e.hs_email_direction = 'EMAIL'",
    ),
    "meetings": (
        "meeting",
        None,
        "hs_meeting_outcome",
        None,
        "hs_meeting_title",
        "e.hs_meeting_outcome IN ('SCHEDULED', 'COMPLETED', 'RESCHEDULED')",
    ),
    "notes": ("note", None, None, None, "hs_body_preview", "FALSE"),
    "tasks": ("task", None, "hs_task_status", "hs_task_type", "hs_task_subject", "FALSE"),
}


def _activities(s: _Sql) -> None:
    """canonical_activities: one row per activity and contact it is associated with (HubSpot) or its WhoId
    (Salesforce), with its person, its deal and whether it touches the lead."""
    ident = s.t("bl_identity")
    engagements = _in("from_type", _HS_ACTIVITIES)
    parts = []
    for table, (kind, direction, status, subtype, subject, touch) in _HS_ACTIVITIES.items():
        deleted = f"(NOT {_live('e')} OR COALESCE(e.archived, FALSE))"
        parts.append(
            f"""SELECT 'hubspot:{table}:' || e.id || '>' || COALESCE(c.to_id, '-') AS activity_key,
                  'hubspot' AS source_system, '{table}' AS source_object, e.id AS source_id, '{kind}' AS activity_type,
                  COALESCE(e.hs_timestamp, e.hs_createdate, e.created_at) AS occurred_at,
                  e.hubspot_owner_id AS owner_source_id,
                  CASE WHEN c.to_id IS NOT NULL THEN 'contact' END AS who_source_object,
                  c.to_id AS who_source_id, i.person_key, d.deal_id AS opportunity_source_id,
                  {f"e.{direction}" if direction else "NULL"} AS direction,
                  {f"e.{status}" if status else "NULL"} AS status, {f"e.{subtype}" if subtype else "NULL"} AS subtype,
                  e.{subject} AS subject, ({touch}) AND NOT {deleted} AS counts_as_touch,
                  i.person_key IS NULL AS is_orphan, COALESCE(e.hs_createdate, e.created_at) AS created_at,
                  COALESCE(e.hs_lastmodifieddate, e.updated_at) AS updated_at, {deleted} AS is_deleted
                FROM {s.t("raw_hubspot__" + table)} e
                LEFT JOIN edges c ON c.from_type = '{table}' AND c.from_id = e.id AND c.to_type = 'contacts'
                LEFT JOIN deals d ON d.from_type = '{table}' AND d.from_id = e.id
                LEFT JOIN {ident} i ON i.crm = 'hubspot' AND i.id = c.to_id"""
        )
    who = "CASE substr(e.whoid, 1, 3) WHEN '00Q' THEN 'lead' WHEN '003' THEN 'contact' END"
    salesforce = f"""'salesforce:{{table}}:' || e.id || '>' || COALESCE(e.whoid, '-'), 'salesforce', '{{table}}', e.id,
          {{kind}}, {{occurred}}, e.ownerid, {who}, e.whoid, i.person_key,
          CASE WHEN substr(e.whatid, 1, 3) = '006' THEN e.whatid END, {{detail}}, e.subject,
          ({{touch}}) AND {_live("e")}, i.person_key IS NULL, e.createddate, e.lastmodifieddate, NOT {_live("e")}
        FROM {{source}} e LEFT JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = {who} AND i.id = e.whoid"""
    parts.append(
        "SELECT "
        + salesforce.format(
            table="task",
            kind="CASE e.tasksubtype WHEN 'Call' THEN 'call' WHEN 'Email' THEN 'email' ELSE 'task' END",
            occurred="COALESCE(e.completeddatetime, e.createddate)",
            detail="e.calltype, e.status, e.tasksubtype",
            touch="e.tasksubtype IN ('Call', 'Email') AND e.status = 'Completed' "
            "AND (e.tasksubtype <> 'Call' OR e.calltype IS NULL OR e.calltype = 'Outbound')",
            source=s.t("raw_salesforce__task"),
        )
    )
    # Events have no call type or status in Salesforce; every meeting counts as a touch.
    parts.append(
        "SELECT "
        + salesforce.format(
            table="event",
            kind="'meeting'",
            occurred="COALESCE(e.startdatetime, e.activitydatetime, e.createddate)",
            detail="NULL, NULL, e.eventsubtype",
            touch="TRUE",
            source=s.t("raw_salesforce__event"),
        )
    )
    s.table(
        "bl_activities",
        f"""WITH edges AS (
              SELECT from_type, from_id, to_type, to_id FROM {s.t("raw_hubspot__associations")}
              WHERE {engagements} AND to_type = 'contacts' AND {_live()}),
            deals AS (
              SELECT from_type, from_id, min(to_id) AS deal_id FROM {s.t("raw_hubspot__associations")}
              WHERE {engagements} AND to_type = 'deals' AND {_live()} GROUP BY from_type, from_id)
            SELECT *, '{DEFINITIONS_VERSION}' AS definitions_hash FROM ("""
        + " UNION ALL ".join(parts)
        + ") a",
    )


# -- stage 2: closed loop, SLA outcomes, analyst views --------------------------------------------------------


def closed_loop(s: _Sql) -> dict[str, Any]:
    """Stage evidence from both CRMs' records and histories, one closed-loop row per person with stage times,
    ids, firmographics, score, attribution, owner, touches and SLA outcomes through the business calendar, then
    the analyst views."""
    _evidence(s)
    _journeys(s)
    _person(s)
    _lead_facts(s)
    _activity_facts(s)
    _attribution(s)
    _calendar(s)
    _closed_loop_table(s)
    _views(s)
    row = s.rows(
        "SELECT count(*), count(mql_at), count(accepted_at), count(sql_at), count(opportunity_created_at), "
        f"count(won_at), count(lost_at) FROM {s.t('bl_closed_loop')}"
    )[0]
    funnel = dict(zip(("leads", "mql", "sal", "sql", "opportunity", "won", "lost"), map(int, row), strict=True))
    return {"rows": funnel["leads"], "funnel": funnel}


def _observation(signal: str, value: str, mappings: Mapping[str, Mapping[str, str | None]]) -> str:
    """signal, value, stage, rank and whether the value is one the definitions do not know, for a history whose
    ``signal`` column names which of ``mappings`` applies."""
    stage = f"CASE {signal} {' '.join(f'WHEN {_quote(k)} THEN {_map(value, m)}' for k, m in mappings.items())} END"
    rank = f"CASE {stage} {' '.join(f'WHEN {_quote(k)} THEN {v}' for k, v in RANKS.items())} END"
    known = f"CASE {signal} {' '.join(f'WHEN {_quote(k)} THEN {_in(value, m)}' for k, m in mappings.items())} END"
    unmapped = f"({value} <> '' AND NOT {known})"
    return f"{signal} AS signal, {value} AS value, {stage} AS stage, {rank} AS stage_rank, {unmapped} AS unmapped"


def _dated(stages: Mapping[str, str], column: str) -> tuple[str, str]:
    """(columns, join): one row per listed date of a record (signal, value, stage, rank, unmapped, instant)."""
    values = ", ".join(f"('{name}', '{stage}', {RANKS[stage]})" for name, stage in stages.items())
    pick = " ".join(f"WHEN '{name}' THEN {column.format(name=name)}" for name in stages)
    return (
        f"v.stage, NULL, v.stage, v.stage_rank, FALSE, CASE v.name {pick} END",
        f"CROSS JOIN (VALUES {values}) v(name, stage, stage_rank)",
    )


def _evidence(s: _Sql) -> None:
    """Every dated stage observation (and every CRM value the definitions do not map) per person. Records with
    several stage dates are unpivoted with a small VALUES list, so each table is read once."""
    ident, opps = s.t("bl_identity"), s.t("bl_opportunities")
    # HubSpot deals count only for people without a Salesforce Opportunity (the same deal, seen twice).
    opportunities = f"""FROM {opps} o WHERE NOT o.is_deleted AND (o.source_system = 'salesforce' OR o.person_key NOT IN (
        SELECT person_key FROM {opps} WHERE source_system = 'salesforce' AND person_key IS NOT NULL))"""
    # HubSpot dates every lifecycle stage it has (hs_lifecyclestage_<value>_date); only mapped ones are evidence.
    lifecycle_dates = {value: stage for value, stage in HS_LIFECYCLE.items() if stage is not None}
    hs_dates, hs_unpivot = _dated(lifecycle_dates, "c.hs_lifecyclestage_{name}_date")
    sf_dates, sf_unpivot = _dated({"createddate": "lead", "mql_date__c": "mql"}, "l.{name}")
    hs_signals = {"lifecyclestage": HS_LIFECYCLE, "hs_lead_status": HS_LEAD_STATUS}
    parts = [
        f"""SELECT i.person_key, {_observation("h.property", "h.value", hs_signals)}, h.changed_at AS ts
            FROM {s.t("raw_hubspot__contact_property_history")} h
            JOIN {ident} i ON i.crm = 'hubspot' AND i.id = h.contact_id WHERE {_in("h.property", hs_signals)}""",
        f"""SELECT i.person_key, {hs_dates} FROM {s.t("raw_hubspot__contacts")} c
            JOIN {ident} i ON i.crm = 'hubspot' AND i.id = c.id {hs_unpivot}""",
        f"""SELECT i.person_key, {sf_dates} FROM {s.t("raw_salesforce__lead")} l
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = l.id {sf_unpivot}""",
        f"""SELECT i.person_key, {_observation("h.field", "h.newvalue", {"Status": SF_LEAD_STATUS})}, h.createddate
            FROM {s.t("raw_salesforce__leadhistory")} h
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = h.leadid WHERE h.field = 'Status'""",
        f"SELECT o.person_key, 'opportunity', NULL, 'opportunity', 4, FALSE, o.created_at {opportunities}",
        f"""SELECT o.person_key, CASE WHEN o.is_won THEN 'won' ELSE 'lost' END, NULL,
              CASE WHEN o.is_won THEN 'won' ELSE 'lost' END, 5, FALSE,
              CASE WHEN o.source_system = 'salesforce' THEN o.updated_at ELSE CAST(o.close_date AS TIMESTAMP) END
            {opportunities} AND o.is_closed""",
        f"""SELECT person_key, CASE WHEN source_system = 'salesforce' THEN 'StageName' ELSE 'dealstage' END,
              stage_raw, NULL, NULL, TRUE, created_at
            FROM {opps} WHERE NOT is_deleted AND stage IS NULL AND stage_raw IS NOT NULL""",
    ]
    s.table(
        "bl_evidence",
        "SELECT * FROM (" + " UNION ALL ".join(parts) + ") e "
        "WHERE person_key IS NOT NULL AND ((stage IS NOT NULL AND ts IS NOT NULL) OR unmapped)",
    )


def _journeys(s: _Sql) -> None:
    """Per person: first time at each stage (reaching one implies the earlier ones), the first exit, the current
    stage (the highest stage seen after the last exit, else that exit), the latest step back down one signal,
    the unmapped values."""
    reached = {
        "mql_at": "stage_rank >= 1",
        "accepted_at": "stage_rank >= 2",
        "sql_at": "stage_rank >= 3",
        "opportunity_created_at": "stage_rank >= 4",
        "won_at": "stage = 'won'",
        "lost_at": "stage = 'lost'",
        "rejected_at": "stage IN ('disqualified', 'recycled')",
        "mql_seen_at": "stage = 'mql'",
    }
    evidence = s.t("bl_evidence")
    exits = f"""SELECT person_key, max(ts) AS last_exit_at FROM {evidence}
        WHERE stage IN ('disqualified', 'recycled') GROUP BY person_key"""
    # Only the columns the windows need: each window carries every column it is given through its sort.
    stepped = f"""SELECT e.person_key, e.stage, e.stage_rank, e.ts, x.last_exit_at,
          LAG(e.stage) OVER w AS prev_stage, LAG(e.stage_rank) OVER w AS prev_rank
        FROM {evidence} e LEFT JOIN ({exits}) x USING (person_key)
        WHERE e.stage IS NOT NULL WINDOW w AS (PARTITION BY e.person_key, e.signal ORDER BY e.ts)"""
    ranked = f"""SELECT r.*, COALESCE(prev_rank > stage_rank, FALSE) AS regressed,
          ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY
            CASE WHEN stage_rank IS NOT NULL AND (last_exit_at IS NULL OR ts > last_exit_at) THEN 0
                 WHEN stage_rank IS NULL AND ts = last_exit_at THEN 1 ELSE 2 END,
            COALESCE(stage_rank, -1) DESC, ts DESC, stage) AS current_pick,
          ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY COALESCE(prev_rank > stage_rank, FALSE) DESC, ts DESC)
            AS recent
        FROM ({stepped}) r"""
    s.table(
        "bl_journeys",
        "SELECT j.*, u.unmapped_values FROM (SELECT person_key, "
        + ", ".join(f"min(CASE WHEN {cond} THEN ts END) AS {col}" for col, cond in reached.items())
        + """, max(CASE WHEN current_pick = 1 THEN stage END) AS current_stage,
              bool_or(regressed) AS has_stage_regression,
              max(CASE WHEN regressed AND recent = 1 THEN prev_stage END) AS regression_from_stage,
              max(CASE WHEN regressed AND recent = 1 THEN stage END) AS regression_to_stage,
              max(CASE WHEN regressed AND recent = 1 THEN ts END) AS regressed_at"""
        + f""" FROM ({ranked}) x GROUP BY person_key) j
            LEFT JOIN (SELECT person_key, string_agg(DISTINCT signal || '=' || value, ',') AS unmapped_values
                       FROM {evidence} WHERE unmapped GROUP BY person_key) u USING (person_key)""",
    )


def _person(s: _Sql) -> None:
    """Per person: its record ids (the lowest of each kind), first creation and latest record update."""
    s.table(
        "bl_person",
        f"""SELECT person_key,
              min(CASE WHEN source_system = 'hubspot' THEN source_id END) AS hubspot_contact_id,
              min(CASE WHEN source_object = 'lead' THEN source_id END) AS salesforce_lead_id,
              min(CASE WHEN source_system = 'salesforce' AND source_object = 'contact' THEN source_id END)
                AS first_contact_id,
              min(created_at) AS created_at, max(updated_at) AS updated_at
            FROM {s.t("bl_people")} WHERE person_key IS NOT NULL GROUP BY person_key""",
    )


def _decay(at: str, instant: str, s: _Sql) -> str:
    """An action's weight at ``instant``: halves every HALF_LIFE_DAYS, nothing before it happened."""
    age = f"{s.seconds(at, instant)} / 86400.0 / {HALF_LIFE_DAYS}"
    return f"CASE WHEN {at} <= {instant} THEN power(0.5, {age}) ELSE 0 END"


def _score(s: _Sql, instant: str) -> str:
    """Fit plus faded engagement at ``instant`` (lead_score in the definitions), rounded like crm-loop's."""
    page_views = "1.0 * page_views * " + _decay("page_view_at", instant, s)
    engagement = (
        f"COALESCE({_capped(page_views, 15)}, 0)"
        f" + COALESCE(12.0 * form_fills * {_decay('form_fill_at', instant, s)}, 0)"
        f" + COALESCE(15.0 * {_decay('webinar_at', instant, s)}, 0)"
        f" + COALESCE(40.0 * {_decay('demo_request_at', instant, s)}, 0)"
        f" + COALESCE(10.0 * {_decay('email_reply_at', instant, s)}, 0)"
    )
    return _round(f"fit + {engagement}", 6)


def _capped(expr: str, cap: int) -> str:
    return f"CASE WHEN {expr} > {cap} THEN {cap} ELSE {expr} END"


def _round(expr: str, digits: int) -> str:
    """Rounded as crm-loop stores it (PostgreSQL rounds to digits only as NUMERIC), back to a float."""
    return f"CAST(CAST({expr} AS NUMERIC(24, {digits})) AS DOUBLE PRECISION)"


def _fit(s: _Sql, title: str, employees: str, industry: str) -> str:
    titles = " ".join(f"WHEN {s.has_word(title, words)} THEN {points}" for words, points in TITLE_POINTS)
    industries = " ".join(f"WHEN '{name}' THEN {points}" for name, points in INDUSTRY_POINTS.items())
    return f"""(CASE {titles} ELSE 0 END
        + CASE WHEN {employees} >= 1000 THEN 20 WHEN {employees} >= 200 THEN 15 WHEN {employees} >= 50 THEN 8
               ELSE 0 END
        + CASE {industry} {industries} ELSE 0 END)"""


def _band(score: str) -> str:
    whens = []
    for band, low, below in SCORE_BANDS:
        tests = [f"{score} >= {low}" if low is not None else "TRUE", f"{score} < {below}" if below else "TRUE"]
        whens.append(f"WHEN {' AND '.join(tests)} THEN '{band}'")
    return f"CASE {' '.join(whens)} END"


def _lead_facts(s: _Sql) -> None:
    """Per person: ids, the person record (its Lead, else its HubSpot contact, else its Salesforce Contact),
    account, e-mail, firmographics, score, campaign, owner and its assignment, opportunity amount, reason."""
    people, opps, accounts = s.t("bl_people"), s.t("bl_opportunities"), s.t("bl_accounts")
    reasons = {**{sf: key for key, (sf, _) in REASONS.items()}, **{hs: key for key, (_, hs) in REASONS.items()}}
    person_industry = _industry("pr.industry")
    inputs = f"""SELECT p.person_key, p.hubspot_contact_id, p.salesforce_lead_id,
          COALESCE(cc.source_id, p.first_contact_id) AS salesforce_contact_id, so.source_id AS salesforce_opportunity_id,
          po.hubspot_deal_id, ha.source_id AS hubspot_company_id, sa.source_id AS salesforce_account_id,
          COALESCE(l.email_normalized, h.email_normalized, c.email_normalized, pr.email) AS email,
          CASE WHEN l.email_normalized IS NULL AND h.email_normalized IS NOT NULL
               THEN NULLIF(c.email_normalized, h.email_normalized)
               ELSE NULLIF(h.email_normalized, COALESCE(l.email_normalized, c.email_normalized)) END AS email_other_crm,
          COALESCE(l.email_normalized, h.email_normalized, c.email_normalized) IS NOT NULL AS email_is_valid,
          COALESCE(NULLIF(COALESCE(sa.name, ha.name), ''), pr.company_name) AS company_name,
          CASE WHEN COALESCE(sa.source_id, ha.source_id) IS NOT NULL THEN COALESCE(sa.industry_canonical,
               ha.industry_canonical) ELSE {person_industry} END AS industry,
          CASE WHEN COALESCE(sa.source_id, ha.source_id) IS NOT NULL THEN COALESCE(sa.icp_tier, ha.icp_tier)
               ELSE {_icp_tier(person_industry, "pr.employees", "pr.annual_revenue", _country_code("pr.country"))}
               END AS icp_tier,
          {
        _fit(
            s,
            "pr.title",
            "COALESCE(NULLIF(COALESCE(sa.employees, ha.employees), 0), pr.employees)",
            f"COALESCE(sa.industry_canonical, ha.industry_canonical, {person_industry})",
        )
    } AS fit,
          h.page_views, h.form_fills,
          CASE WHEN h.page_views <> 0 THEN pr.created_at END AS page_view_at,
          CASE WHEN h.form_fills <> 0 THEN pr.created_at END AS form_fill_at,
          CASE WHEN h.webinar_attended THEN pr.created_at END AS webinar_at,
          CASE WHEN h.demo_requested THEN COALESCE(j.mql_at, pr.created_at) END AS demo_request_at,
          h.last_reply_at AS email_reply_at, pr.created_at AS record_created_at, j.mql_at,
          COALESCE(l.crm_score, h.crm_score) AS crm_score, COALESCE(h.original_source, l.original_source)
            AS original_source,
          COALESCE(oc.campaign_key, l.campaign_key, c.campaign_key, h.campaign_key) AS campaign_key,
          ow.owner_key, ow.name AS owner_name, ow.team AS owner_team,
          CASE WHEN COALESCE(l.owner_source_id, h.owner_source_id) IS NULL THEN 'unassigned'
               WHEN ow.source_id IS NULL THEN 'inactive' WHEN NULLIF(ow.team, '') IS NULL THEN 'unassigned'
               WHEN ow.is_active THEN 'assigned' ELSE 'inactive' END AS owner_status,
          CASE WHEN l.source_id IS NOT NULL THEN COALESCE(lh.last_change, l.created_at) ELSE hh.last_change END
            AS assigned_at,
          CASE WHEN l.source_id IS NOT NULL THEN l.created_at ELSE hh.first_change END AS first_assigned_at,
          COALESCE(so.amount, hd.amount) AS amount,
          COALESCE(l.disqualification_reason_raw, h.disqualification_reason_raw) AS disqualification_reason_raw,
          CASE WHEN COALESCE(l.disqualification_reason_raw, h.disqualification_reason_raw) IS NOT NULL
               THEN {
        _map("COALESCE(l.disqualification_reason_raw, h.disqualification_reason_raw)", reasons, "'unmapped'")
    }
               WHEN h.lead_status = 'BAD_TIMING' THEN 'bad_timing' END AS disqualification_reason,
          p.created_at, p.updated_at, po.deal_updated_at
        FROM {s.t("bl_person")} p
        LEFT JOIN {s.t("bl_journeys")} j USING (person_key)
        LEFT JOIN {people} l ON l.source_object = 'lead' AND l.source_id = p.salesforce_lead_id
        LEFT JOIN {people} h ON h.source_system = 'hubspot' AND h.source_id = p.hubspot_contact_id
        LEFT JOIN {people} c ON c.source_system = 'salesforce' AND c.source_object = 'contact'
          AND c.source_id = p.first_contact_id
        LEFT JOIN {people} cc ON cc.source_system = 'salesforce' AND cc.source_object = 'contact'
          AND cc.source_id = l.converted_contact_id AND cc.person_key = p.person_key
        LEFT JOIN {people} pr ON pr.source_system = CASE WHEN l.source_id IS NULL AND h.source_id IS NOT NULL
          THEN 'hubspot' ELSE 'salesforce' END
          AND pr.source_object = CASE WHEN l.source_id IS NOT NULL THEN 'lead' ELSE 'contact' END
          AND pr.source_id = COALESCE(p.salesforce_lead_id, p.hubspot_contact_id, p.first_contact_id)
        LEFT JOIN (SELECT person_key,
                     min(CASE WHEN source_system = 'salesforce' THEN source_id END) AS first_opportunity_id,
                     max(updated_at) AS deal_updated_at,
                     COALESCE(min(CASE WHEN source_system = 'hubspot' AND substr(opportunity_key, 1, 11) = 'salesforce:'
                                       THEN source_id END),
                              min(CASE WHEN source_system = 'hubspot' THEN source_id END)) AS hubspot_deal_id
                   FROM {opps} WHERE NOT is_deleted AND person_key IS NOT NULL GROUP BY person_key) po
          ON po.person_key = p.person_key
        LEFT JOIN {opps} so ON so.source_system = 'salesforce' AND NOT so.is_deleted
          AND so.source_id = COALESCE(l.converted_opportunity_id, po.first_opportunity_id)
        LEFT JOIN {opps} hd ON hd.source_system = 'hubspot' AND hd.source_id = po.hubspot_deal_id
        LEFT JOIN {accounts} sa ON sa.source_system = 'salesforce' AND NOT sa.is_deleted
          AND sa.source_id = COALESCE(l.account_source_id, c.account_source_id, so.account_source_id)
        LEFT JOIN {accounts} ha ON ha.source_system = 'hubspot' AND NOT ha.is_deleted
          AND ha.source_id = COALESCE(h.account_source_id, hd.account_source_id)
        LEFT JOIN (SELECT id, COALESCE(hubspot_campaign__c, name) AS campaign_key
                   FROM {s.t("raw_salesforce__campaign")}) oc ON oc.id = so.campaign_source_id
        LEFT JOIN {s.t("bl_owners")} ow ON ow.source_system = CASE WHEN l.owner_source_id IS NOT NULL
          THEN 'salesforce' ELSE 'hubspot' END AND ow.source_id = COALESCE(l.owner_source_id, h.owner_source_id)
        LEFT JOIN (SELECT leadid, max(createddate) AS last_change FROM {s.t("raw_salesforce__leadhistory")}
                   WHERE field = 'Owner' AND {_live()} GROUP BY leadid) lh ON lh.leadid = l.source_id
        LEFT JOIN (SELECT contact_id, min(changed_at) AS first_change, max(changed_at) AS last_change
                   FROM {s.t("raw_hubspot__contact_property_history")}
                   WHERE property = 'hubspot_owner_id' AND value IS NOT NULL AND {_live()} GROUP BY contact_id) hh
          ON hh.contact_id = h.source_id"""
    as_of = f"TIMESTAMP '{AS_OF}'"
    # The score peaks when the fit became known or an action happened: those instants are the only
    # candidates for when it first reached the MQL threshold.
    reached = ", ".join(
        f"CASE WHEN {at} <= {as_of} AND {_score(s, at)} >= {MQL_THRESHOLD} THEN {at} END"
        for at in ("record_created_at", "demo_request_at", "email_reply_at")
    )
    s.table(
        "bl_lead_facts",
        f"""SELECT f.*, {_score(s, as_of)} AS lead_score,
              CASE WHEN mql_at IS NOT NULL THEN {_score(s, "mql_at")} END AS score_at_mql,
              LEAST({reached}) AS score_mql_at
            FROM ({inputs}) f""",
    )


def _activity_facts(s: _Sql) -> None:
    """One pass over the activities per person: the first touch from the MQL (else creation) by as_of, the
    touches until the rejection (else as_of), and the latest activity change."""
    as_of = f"TIMESTAMP '{AS_OF}'"
    touch = f"a.counts_as_touch AND a.occurred_at >= COALESCE(j.mql_at, p.created_at) AND a.occurred_at <= {as_of}"
    s.table(
        "bl_activity_facts",
        f"""SELECT a.person_key, min(CASE WHEN {touch} THEN a.occurred_at END) AS first_touch_at,
              SUM(CASE WHEN {touch} AND a.occurred_at <= COALESCE(j.rejected_at, {as_of}) THEN 1 ELSE 0 END)
                AS contact_attempts,
              max(a.updated_at) AS updated_at, max(a.occurred_at) AS occurred_at
            FROM {s.t("bl_activities")} a JOIN {s.t("bl_person")} p USING (person_key)
            LEFT JOIN {s.t("bl_journeys")} j USING (person_key)
            GROUP BY a.person_key""",
    )


def _attribution(s: _Sql) -> None:
    """Campaign memberships (Salesforce CampaignMembers of the person's live Leads and Contacts when they joined,
    each live HubSpot contact's campaign at its creation): the first and last by the MQL (else as_of), and
    whether any came before the opportunity."""
    ident = s.t("bl_identity")
    members = s.t("raw_salesforce__campaignmember")
    key = "COALESCE(c.hubspot_campaign__c, c.name, c.id)"
    cutoff = f"CASE WHEN j.mql_at <= TIMESTAMP '{AS_OF}' THEN j.mql_at ELSE TIMESTAMP '{AS_OF}' END"
    s.table(
        "bl_attribution",
        f"""WITH memberships AS (
              SELECT i.person_key, {key} AS campaign_key, m.createddate AS joined_at FROM {members} m
              JOIN {s.t("raw_salesforce__campaign")} c ON c.id = m.campaignid
              JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = m.leadid
              WHERE {_live("m")} AND i.person_key IS NOT NULL
              UNION ALL
              SELECT i.person_key, {key}, m.createddate FROM {members} m
              JOIN {s.t("raw_salesforce__campaign")} c ON c.id = m.campaignid
              JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'contact' AND i.id = m.contactid
              WHERE {_live("m")} AND i.person_key IS NOT NULL
              UNION ALL
              SELECT person_key, campaign_key, created_at FROM {s.t("bl_people")}
              WHERE source_system = 'hubspot' AND person_key IS NOT NULL AND campaign_key IS NOT NULL),
            ranked AS (
              SELECT m.*, j.opportunity_created_at, m.joined_at <= {cutoff} AS in_window,
                ROW_NUMBER() OVER (PARTITION BY m.person_key, m.joined_at <= {cutoff}
                  ORDER BY m.joined_at, m.campaign_key) AS first_pick,
                ROW_NUMBER() OVER (PARTITION BY m.person_key, m.joined_at <= {cutoff}
                  ORDER BY m.joined_at DESC, m.campaign_key) AS last_pick
              FROM memberships m LEFT JOIN {s.t("bl_journeys")} j USING (person_key))
            SELECT person_key,
              max(CASE WHEN in_window AND first_pick = 1 THEN campaign_key END) AS first_touch_campaign_key,
              max(CASE WHEN in_window AND last_pick = 1 THEN campaign_key END) AS last_touch_campaign_key,
              CASE WHEN max(opportunity_created_at) IS NOT NULL THEN min(joined_at) < max(opportunity_created_at) END
                AS marketing_influenced
            FROM ranked GROUP BY person_key""",
    )


def _bminute(s: _Sql, instant: str, cal: str) -> str:
    """Business minutes from the calendar's first day to ``instant`` (local working hours only)."""
    return f"({cal}.open_before * {DAY_MIN} + CASE WHEN {cal}.is_open THEN LEAST(GREATEST({_minute(s, instant)} - {OPEN_MIN}, 0), {DAY_MIN}) ELSE 0 END)"


def _minute(s: _Sql, instant: str) -> str:
    """Minute of the local day, with seconds as a fraction."""
    local = s.local(instant)
    return f"(EXTRACT(HOUR FROM {local}) * 60 + EXTRACT(MINUTE FROM {local}) + EXTRACT(SECOND FROM {local}) / 60.0)"


def _calendar(s: _Sql) -> None:
    """One row per local day: open (Mon-Fri), open days before it, and the ordinal of open days (for deadlines)."""
    days = (
        "SELECT CAST(generate_series AS DATE) AS day FROM generate_series("
        "TIMESTAMP '2020-01-01', TIMESTAMP '2027-12-31', INTERVAL '1 day')"
    )
    s.table(
        "bl_calendar",
        f"""SELECT day, is_open, open_before, CASE WHEN is_open THEN open_before END AS open_ord FROM (
              SELECT day, is_open, COALESCE(SUM(CASE WHEN is_open THEN 1 ELSE 0 END) OVER (ORDER BY day
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS open_before
              FROM (SELECT day, EXTRACT(DOW FROM day) NOT IN (0, 6) AS is_open FROM ({days}) d) o) c""",
    )


def _closed_loop_table(s: _Sql) -> None:
    """closed_loop_leads: the facts, journey and touches per person, and the SLA outcomes on the business
    calendar (the first-touch clock starts at the later of the audited MQL and the first owner assignment)."""
    as_of = f"TIMESTAMP '{AS_OF}'"
    cal = s.t("bl_calendar")
    assigned = "f.owner_status <> 'unassigned' AND f.first_assigned_at IS NOT NULL"
    clock = f"CASE WHEN {assigned} AND f.first_assigned_at > j.mql_at THEN f.first_assigned_at ELSE j.mql_at END"
    audited = "j.mql_at IS NOT NULL AND j.mql_seen_at = j.mql_at"
    base = f"""SELECT f.*, j.mql_seen_at, j.accepted_at, j.rejected_at, j.sql_at,
          j.opportunity_created_at, j.won_at, j.lost_at, j.current_stage, j.has_stage_regression,
          j.regression_from_stage, j.regression_to_stage, j.regressed_at, j.unmapped_values,
          a.first_touch_at, COALESCE(a.contact_attempts, 0) AS contact_attempts,
          a.updated_at AS activity_updated_at, a.occurred_at AS activity_occurred_at,
          CASE WHEN {audited} THEN {clock} END AS clock_at,
          CASE WHEN {audited} THEN CASE WHEN {assigned} THEN 'assignment' ELSE 'mql' END END AS clock_from
        FROM {s.t("bl_lead_facts")} f LEFT JOIN {s.t("bl_journeys")} j USING (person_key)
        LEFT JOIN {s.t("bl_activity_facts")} a USING (person_key)"""
    timed = f"""SELECT b.*, {_bminute(s, "b.clock_at", "cc")} AS clock_bmin,
          {_bminute(s, "b.first_touch_at", "ct")} AS touch_bmin,
          cc.is_open AND {_minute(s, "b.clock_at")} >= {OPEN_MIN} AND {_minute(s, "b.clock_at")} < {OPEN_MIN + DAY_MIN}
            AS clock_in_hours
        FROM ({base}) b
        LEFT JOIN {cal} cc ON cc.day = CAST({s.local("b.clock_at")} AS DATE)
        LEFT JOIN {cal} ct ON ct.day = CAST({s.local("b.first_touch_at")} AS DATE)"""
    # Inside hours the deadline is FIRST_TOUCH_MIN business minutes on: the open day holding that business
    # minute (ordinal = ceil(minutes / DAY_MIN) - 1) and the rest of the minutes into it.
    due_minute = f"(t.clock_bmin + {FIRST_TOUCH_MIN})"
    due_ord = f"(CAST(ceil({due_minute} / {DAY_MIN}.0) AS INTEGER) - 1)"
    due = f"""SELECT t.*, CASE WHEN t.clock_in_hours
            THEN {s.utc(f"CAST(cd.day AS TIMESTAMP) + ({OPEN_MIN} + {due_minute} - cd.open_ord * {DAY_MIN}) * INTERVAL '1 minute'")}
            ELSE t.clock_at + INTERVAL '{FIRST_TOUCH_OUTSIDE_S} seconds' END AS first_touch_due_at,
          t.mql_at + INTERVAL '{ACCEPT_REJECT_S} seconds' AS accept_reject_due,
          CASE WHEN t.accepted_at IS NULL THEN t.rejected_at WHEN t.rejected_at IS NULL THEN t.accepted_at
               ELSE LEAST(t.accepted_at, t.rejected_at) END AS decided_at
        FROM ({timed}) t LEFT JOIN {cal} cd ON t.clock_in_hours AND cd.open_ord = {due_ord}"""
    s.table(
        "bl_closed_loop",
        f"""SELECT person_key, hubspot_contact_id, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id,
              hubspot_deal_id, hubspot_company_id, salesforce_account_id, email, email_other_crm, email_is_valid,
              company_name, industry, icp_tier, lead_score, {_band("lead_score")} AS score_band, score_at_mql,
              score_mql_at, crm_score, original_source, campaign_key, att.first_touch_campaign_key,
              att.last_touch_campaign_key,
              CASE WHEN opportunity_created_at IS NOT NULL THEN COALESCE(att.marketing_influenced, FALSE) END
                AS marketing_influenced, owner_key, owner_name, owner_team, owner_status,
              created_at, {s.month("created_at")} AS cohort_month, mql_at,
              {s.month("mql_at")} AS mql_month,
              mql_at IS NOT NULL AND mql_seen_at IS DISTINCT FROM mql_at AS mql_inferred,
              CASE WHEN owner_status <> 'unassigned' THEN assigned_at END AS assigned_at, first_touch_at,
              accepted_at, rejected_at, sql_at, opportunity_created_at, won_at, lost_at,
              {s.month("COALESCE(won_at, lost_at)")} AS closed_month,
              CASE WHEN won_at IS NOT NULL THEN 'won' WHEN lost_at IS NOT NULL THEN 'lost'
                   WHEN opportunity_created_at IS NOT NULL THEN 'open_opportunity'
                   WHEN current_stage IN ('disqualified', 'recycled') THEN current_stage ELSE 'open' END AS outcome,
              amount, disqualification_reason, disqualification_reason_raw, contact_attempts,
              {MIN_CONTACT_ATTEMPTS} AS contact_attempts_required,
              CASE WHEN clock_at IS NOT NULL AND first_touch_at IS NOT NULL
                   THEN {_round("GREATEST(touch_bmin - clock_bmin, 0)", 3)} END AS business_minutes_to_first_touch,
              clock_from AS first_touch_clock_from, clock_at AS first_touch_clock_at,
              CASE WHEN clock_at IS NULL THEN 'not_applicable'
                   WHEN first_touch_at <= first_touch_due_at THEN 'met'
                   WHEN first_touch_at IS NOT NULL OR {as_of} > first_touch_due_at THEN 'breached'
                   ELSE 'pending' END AS first_touch_sla_status,
              first_touch_due_at,
              CASE WHEN clock_at IS NULL THEN 'not_applicable' WHEN decided_at <= accept_reject_due THEN 'met'
                   WHEN decided_at IS NOT NULL OR {as_of} > accept_reject_due THEN 'breached'
                   ELSE 'pending' END AS accept_reject_sla_status,
              CASE WHEN clock_at IS NOT NULL THEN accept_reject_due END AS accept_reject_due_at,
              CASE WHEN rejected_at IS NULL THEN 'not_applicable'
                   WHEN disqualification_reason IS NOT NULL AND disqualification_reason <> 'unmapped' THEN 'met'
                   ELSE 'breached' END AS rejection_reason_sla_status,
              CASE WHEN rejected_at IS NULL THEN 'not_applicable'
                   WHEN contact_attempts >= {MIN_CONTACT_ATTEMPTS} THEN 'met' ELSE 'breached' END
                AS contact_attempts_sla_status,
              current_stage, COALESCE(has_stage_regression, FALSE) AS has_stage_regression, regression_from_stage,
              regression_to_stage, regressed_at, unmapped_values,
              person_key IN (SELECT person_key FROM {s.t("bl_shared_emails")}
                             UNION ALL SELECT person_keys FROM {s.t("bl_identity_conflicts")}
                             WHERE kind <> 'shared_email') AS has_identity_conflict,
              person_key NOT IN (SELECT person_key FROM {_later_duplicates(s)} d) AS counts_as_lead,
              GREATEST(updated_at, COALESCE(activity_updated_at, updated_at), COALESCE(activity_occurred_at,
                updated_at), COALESCE(deal_updated_at, updated_at)) AS last_updated_at,
              '{DEFINITIONS_VERSION}' AS definitions_hash
            FROM ({due}) x LEFT JOIN {s.t("bl_attribution")} att USING (person_key)""",
    )


def _later_duplicates(s: _Sql) -> str:
    """People of a shared e-mail other than its earliest created (unknown creation last, then person_key)."""
    return f"""(SELECT person_key FROM (
          SELECT e.person_key, ROW_NUMBER() OVER (PARTITION BY e.email ORDER BY p.created_at NULLS LAST,
            e.person_key) AS pick
          FROM (SELECT DISTINCT email, person_key FROM {s.t("bl_shared_emails")}) e
          JOIN {s.t("bl_person")} p USING (person_key)) r WHERE pick > 1)"""


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _rate(numerator: str, denominator: str) -> str:
    return f"1.0 * {_count(numerator)} / NULLIF({_count(denominator)}, 0)"


_STAGE_COUNTS = ", ".join(
    f"{_count(f'{column} IS NOT NULL')} AS {name}"
    for column, name in (
        ("mql_at", "mqls"),
        ("accepted_at", "sals"),
        ("sql_at", "sqls"),
        ("opportunity_created_at", "opportunities"),
        ("won_at", "won"),
        ("lost_at", "lost"),
    )
)


def _sla_counts() -> str:
    return f"""{_count("first_touch_sla_status <> 'not_applicable'")} AS mqls_audited,
        {_count("first_touch_sla_status = 'met'")} AS first_touch_met,
        {_count("first_touch_sla_status = 'breached'")} AS first_touch_breached,
        {_count("first_touch_sla_status = 'pending'")} AS first_touch_pending,
        {_rate("first_touch_sla_status = 'met'", "first_touch_sla_status IN ('met', 'breached')")}
          AS first_touch_compliance,
        avg(CASE WHEN first_touch_sla_status <> 'not_applicable' THEN business_minutes_to_first_touch END)
          AS avg_business_minutes_to_first_touch,
        {_count("accept_reject_sla_status = 'met'")} AS accept_reject_met,
        {_count("accept_reject_sla_status = 'breached'")} AS accept_reject_breached,
        {_count("rejection_reason_sla_status = 'breached'")} AS rejections_without_reason,
        {_count("contact_attempts_sla_status = 'breached'")} AS disqualified_too_few_attempts"""


def _views(s: _Sql) -> None:
    """crm-loop's eight analyst views over the counted leads (possible duplicates left out)."""
    leads = f"(SELECT * FROM {s.t('bl_closed_loop')} WHERE counts_as_lead) c"
    source, campaign = "COALESCE(original_source, '(none)')", "COALESCE(campaign_key, '(none)')"
    reason = "COALESCE(disqualification_reason, '(none)')"
    days = "EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0"
    views = {
        "funnel_conversion_by_month": f"""SELECT cohort_month, {source} AS original_source, {campaign} AS campaign_key,
            count(*) AS leads, {_STAGE_COUNTS}, {_count("rejected_at IS NOT NULL")} AS disqualified,
            1.0 * {_count("mql_at IS NOT NULL")} / count(*) AS lead_to_mql_rate,
            {_rate("accepted_at IS NOT NULL", "mql_at IS NOT NULL")} AS mql_to_sal_rate,
            {_rate("sql_at IS NOT NULL", "accepted_at IS NOT NULL")} AS sal_to_sql_rate,
            {_rate("opportunity_created_at IS NOT NULL", "sql_at IS NOT NULL")} AS sql_to_opportunity_rate,
            {_rate("won_at IS NOT NULL", "won_at IS NOT NULL OR lost_at IS NOT NULL")} AS win_rate,
            {_rate("sql_at IS NOT NULL", "mql_at IS NOT NULL")} AS mql_to_sql_rate,
            1.0 * {_count("won_at IS NOT NULL")} / count(*) AS lead_to_customer_rate
          FROM {leads} GROUP BY cohort_month, {source}, {campaign}""",
        "sla_compliance_by_owner": f"""SELECT COALESCE(owner_key, '(none)') AS owner_key, max(owner_name) AS owner_name,
            COALESCE(max(owner_team), '(none)') AS owner_team, {_sla_counts()}
          FROM {leads} WHERE mql_at IS NOT NULL GROUP BY COALESCE(owner_key, '(none)')""",
        "sla_compliance_by_team": f"""SELECT COALESCE(owner_team, '(none)') AS owner_team, {_sla_counts()}
          FROM {leads} WHERE mql_at IS NOT NULL GROUP BY COALESCE(owner_team, '(none)')""",
        "disqualification_reasons_by_campaign": f"""SELECT campaign_key, disqualification_reason, rejected_leads,
            1.0 * rejected_leads / SUM(rejected_leads) OVER (PARTITION BY campaign_key) AS share_of_campaign_rejections
          FROM (SELECT {campaign} AS campaign_key, {reason} AS disqualification_reason, count(*) AS rejected_leads
                FROM {leads} WHERE rejected_at IS NOT NULL GROUP BY {campaign}, {reason}) r""",
        "funnel_totals": f"""SELECT count(*) AS leads, {_STAGE_COUNTS},
            COALESCE(SUM(CASE WHEN won_at IS NOT NULL THEN amount END), 0) AS revenue,
            {_count("first_touch_sla_status = 'met'")} AS first_touch_met,
            {_count("first_touch_sla_status = 'breached'")} AS first_touch_breached,
            {_count("first_touch_sla_status = 'pending'")} AS first_touch_pending,
            {_count("first_touch_sla_status = 'breached' AND first_touch_at IS NULL")} AS ignored_mqls,
            {_count("accept_reject_sla_status = 'breached'")} AS accept_reject_breached,
            {_count("rejection_reason_sla_status = 'breached'")} AS rejections_without_reason,
            {_count("contact_attempts_sla_status = 'breached'")} AS disqualified_too_few_attempts,
            max(definitions_hash) AS definitions_hash,
            (SELECT count(*) FROM {s.t("bl_closed_loop")} WHERE NOT counts_as_lead) AS duplicates_excluded
          FROM {leads}""",
        "cycle_length_by_month": f"""SELECT month, original_source, measure, count(*) AS deals,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
            percentile_cont(0.75) WITHIN GROUP (ORDER BY days) AS p75_days
          FROM (SELECT closed_month AS month, {source} AS original_source, 'mql_to_won' AS measure,
                  {days.format(start="mql_at", end="won_at")} AS days
                FROM {leads} WHERE won_at IS NOT NULL AND mql_at IS NOT NULL
                UNION ALL
                SELECT closed_month, {source}, 'opportunity_to_close',
                  {days.format(start="opportunity_created_at", end="COALESCE(won_at, lost_at)")}
                FROM {leads} WHERE opportunity_created_at IS NOT NULL AND (won_at IS NOT NULL OR lost_at IS NOT NULL)
          ) cycles GROUP BY month, original_source, measure""",
        "revenue_by_campaign": f"""SELECT attribution, campaign_key, original_source, count(*) AS leads,
            {_count("opportunity_created_at IS NOT NULL")} AS opportunities, {_count("won_at IS NOT NULL")} AS won,
            COALESCE(SUM(CASE WHEN opportunity_created_at IS NOT NULL AND won_at IS NULL AND lost_at IS NULL
                              THEN amount END), 0) AS pipeline_amount,
            COALESCE(SUM(CASE WHEN won_at IS NOT NULL THEN amount END), 0) AS revenue
          FROM ("""
        + " UNION ALL ".join(
            f"""SELECT '{model}' AS attribution, COALESCE({model}_campaign_key, '(none)') AS campaign_key,
                  {source} AS original_source, opportunity_created_at, won_at, lost_at, amount FROM {leads}"""
            for model in ("first_touch", "last_touch")
        )
        + ") a GROUP BY attribution, campaign_key, original_source",
        "marketing_influenced_revenue": f"""SELECT closed_month AS month, count(*) AS won,
            COALESCE(SUM(amount), 0) AS revenue, {_count("marketing_influenced")} AS influenced_won,
            COALESCE(SUM(CASE WHEN marketing_influenced THEN amount END), 0) AS influenced_revenue,
            COALESCE(SUM(CASE WHEN marketing_influenced THEN amount END), 0) / NULLIF(SUM(amount), 0)
              AS influenced_share
          FROM {leads} WHERE won_at IS NOT NULL GROUP BY closed_month""",
    }
    for name, select in views.items():
        s.view(f"bl_{name}", select)


# -- stage 3: the data-quality suites as plain SQL ------------------------------------------------------------


@dataclass(frozen=True)
class _Expect:
    """One expectation: ``rows`` counts the source rows matching ``sql`` (the offending ones), ``unique`` the
    repeats of the key ``sql``, ``fresh`` whether the newest ``sql`` is older than the allowed age."""

    name: str
    kind: str
    sql: str


@dataclass(frozen=True)
class _Suite:
    name: str
    source: str  # FROM ... [WHERE ...]
    ids: str
    expectations: tuple[_Expect, ...]


def _offending(name: str, condition: str) -> _Expect:
    return _Expect(name, "rows", condition)


def _not_null(column: str) -> _Expect:
    return _offending(f"{column}_not_null", f"{column} IS NULL")


def _in_set(column: str, values: Iterable[str]) -> _Expect:
    return _offending(f"{column}_in_set", f"{column} IS NOT NULL AND NOT {_in(column, values)}")


def _true(column: str) -> _Expect:
    return _offending(column, f"NOT COALESCE({column}, FALSE)")


def _not_before(later: str, earlier: str) -> _Expect:
    return _offending(f"{later}_after_{earlier}", f"{later} < {earlier}")


def _email(s: _Sql, column: str = "email") -> _Expect:
    return _offending(f"{column}_format", f"{column} IS NOT NULL AND NOT {s.matches(column, CHECK_EMAIL_RE)}")


def _keys(table: str, *key: str) -> _Suite:
    """Every row has its key and no key twice."""
    unique = " || '|' || ".join(key)
    return _Suite(
        f"{table}__keys", table, unique, (*(_not_null(c) for c in key), _Expect("key_unique", "unique", unique))
    )


HS_OBJECTS = ("contacts", "companies", "deals", "calls", "emails", "meetings", "notes", "tasks")
HS_STREAMS = ("owners", "associations", "contact_property_history")
SF_OBJECTS = (
    "user",
    "account",
    "campaign",
    "lead",
    "leadhistory",
    "contact",
    "opportunity",
    "opportunityhistory",
    "campaignmember",
    "task",
    "event",
)


def _hubspot_suites(s: _Sql) -> list[_Suite]:
    contacts = s.t("raw_hubspot__contacts")
    edges = s.t("raw_hubspot__associations")
    live_contacts = f"{contacts} WHERE {_live()}"
    stage_dates = (
        "created_at",
        "hs_lifecyclestage_lead_date",
        "hs_lifecyclestage_marketingqualifiedlead_date",
        "hs_lifecyclestage_salesqualifiedlead_date",
        "hs_lifecyclestage_opportunity_date",
        "hs_lifecyclestage_customer_date",
    )
    ranks = {value: RANKS[stage] for value, stage in HS_LIFECYCLE.items() if stage}
    stepped = f"""(SELECT id, contact_id, rank_ < LAG(rank_) OVER (PARTITION BY contact_id ORDER BY changed_at, id)
          AS regressed FROM (SELECT id, contact_id, changed_at, {_map("value", {k: str(v) for k, v in ranks.items()})}
          AS rank_ FROM {s.t("raw_hubspot__contact_property_history")}
          WHERE property = 'lifecyclestage' AND {_in("value", ranks)}) r) h WHERE regressed IS NOT NULL"""
    suites = [_keys(s.t(f"raw_hubspot__{name}"), "id") for name in (*HS_OBJECTS, *HS_STREAMS)]
    suites += [
        _Suite(
            "raw_hubspot__contacts__freshness",
            contacts,
            "id",
            (_Expect("updated_at_fresh", "fresh", "updated_at"),),
        ),
        _Suite(
            "raw_hubspot__contacts__values",
            live_contacts,
            "id",
            (
                _email(s),
                _in_set("lifecyclestage", HS_LIFECYCLE),
                _in_set("hs_lead_status", HS_LEAD_STATUS),
                _in_set("disqualification_reason", [hs for _, hs in REASONS.values()]),
            ),
        ),
        _Suite(
            "raw_hubspot__contacts__stage_order",
            live_contacts,
            "id",
            tuple(_not_before(b, a) for a, b in zip(stage_dates, stage_dates[1:], strict=False)),
        ),
        _Suite(
            "raw_hubspot__contacts__duplicates",
            f"{live_contacts} AND email IS NOT NULL",
            "lower(trim(email))",
            (_Expect("email_unique", "unique", "lower(trim(email))"),),
        ),
        _Suite(
            "raw_hubspot__contacts__owners",
            f"""{contacts} c LEFT JOIN {s.t("raw_hubspot__owners")} o ON o.id = c.hubspot_owner_id
              WHERE {_live("c")} AND c.hs_lifecyclestage_marketingqualifiedlead_date IS NOT NULL""",
            "c.id",
            (
                _not_null("c.hubspot_owner_id"),
                _true(f"(o.id IS NOT NULL AND {_live('o')} AND NOT COALESCE(o.archived, FALSE))"),
            ),
        ),
        _Suite(
            "raw_hubspot__deals__values",
            f"{s.t('raw_hubspot__deals')} WHERE {_live()}",
            "id",
            (_in_set("dealstage", HS_DEAL_STAGES),),
        ),
        *(
            _Suite(
                f"raw_hubspot__associations__dangling_{kind}",
                f"""{edges} e LEFT JOIN {s.t("raw_hubspot__" + kind)} t ON t.id = e.to_id
                  WHERE {_live("e")} AND e.to_type = '{kind}'""",
                "e.id",
                (_true("t.id IS NOT NULL"),),
            )
            for kind in ("contacts", "deals")
        ),
        _Suite(
            "raw_hubspot__contact_property_history__stage_regressions",
            stepped,
            "contact_id",
            (_true("NOT regressed"),),
        ),
    ]
    for kind, targets in (*((t, ("contacts",)) for t in HS_OBJECTS[3:]), ("deals", ("contacts", "companies"))):
        linked = f"""SELECT from_id AS id FROM {edges} WHERE {_live()} AND from_type = '{kind}' AND {_in("to_type", targets)}
            UNION SELECT to_id FROM {edges} WHERE {_live()} AND to_type = '{kind}' AND {_in("from_type", targets)}"""
        suites.append(
            _Suite(
                f"raw_hubspot__associations__orphan_{kind}",
                f"{s.t('raw_hubspot__' + kind)} r LEFT JOIN ({linked}) l ON l.id = r.id WHERE {_live('r')}",
                "r.id",
                (_true("l.id IS NOT NULL"),),
            )
        )
    return suites


def _salesforce_suites(s: _Sql) -> list[_Suite]:
    lead, contact = s.t("raw_salesforce__lead"), s.t("raw_salesforce__contact")
    suites = [_keys(s.t(f"raw_salesforce__{name}"), "id") for name in SF_OBJECTS]
    suites += [
        _Suite(
            f"raw_salesforce__{name}__freshness",
            s.t(f"raw_salesforce__{name}"),
            "id",
            (_Expect("systemmodstamp_fresh", "fresh", "systemmodstamp"),),
        )
        for name in ("lead", "task")
    ]
    who = f"SELECT id FROM {lead} UNION ALL SELECT id FROM {contact}"
    suites += [
        _Suite(
            "raw_salesforce__lead__values",
            f"{lead} WHERE {_live()}",
            "id",
            (
                _email(s),
                _in_set("status", SF_LEAD_STATUS),
                _in_set("disqualification_reason__c", [sf for sf, _ in REASONS.values()]),
            ),
        ),
        _Suite(
            "raw_salesforce__lead__duplicates",
            f"{lead} WHERE {_live()} AND email IS NOT NULL",
            "lower(trim(email))",
            (_Expect("email_unique", "unique", "lower(trim(email))"),),
        ),
        _Suite(
            "raw_salesforce__lead__owners",
            f"{lead} l LEFT JOIN {s.t('raw_salesforce__user')} u ON u.id = l.ownerid WHERE {_live('l')}",
            "l.id",
            (
                _not_null("l.ownerid"),
                _true(f"(u.id IS NOT NULL AND {_live('u')} AND u.isactive AND u.team__c IS NOT NULL)"),
            ),
        ),
        _Suite("raw_salesforce__contact__values", f"{contact} WHERE {_live()}", "id", (_email(s),)),
        _Suite(
            "raw_salesforce__opportunity__values",
            f"{s.t('raw_salesforce__opportunity')} WHERE {_live()}",
            "id",
            (_in_set("stagename", SF_OPPORTUNITY_STAGES),),
        ),
        _Suite(
            "raw_salesforce__opportunity__orphans",
            f"""{s.t("raw_salesforce__opportunity")} o LEFT JOIN {s.t("raw_salesforce__account")} a
              ON a.id = o.accountid WHERE {_live("o")} AND o.accountid IS NOT NULL""",
            "o.id",
            (_true("a.id IS NOT NULL"),),
        ),
        *(
            _Suite(
                f"raw_salesforce__{kind}__orphans",
                f"""{s.t("raw_salesforce__" + kind)} t LEFT JOIN ({who}) w ON w.id = t.whoid
                  WHERE {_live("t")} AND t.whoid IS NOT NULL""",
                "t.id",
                (_true("w.id IS NOT NULL"),),
            )
            for kind in ("task", "event")
        ),
    ]
    return suites


def _canonical_suites(s: _Sql) -> list[_Suite]:
    people, accounts, owners = s.t("bl_people"), s.t("bl_accounts"), s.t("bl_owners")
    opps, activities = s.t("bl_opportunities"), s.t("bl_activities")
    record = ("source_system", "source_object", "source_id")
    record_id = " || ':' || ".join(record)
    systems = ("hubspot", "salesforce")
    live_people = f"SELECT DISTINCT person_key FROM {people} WHERE NOT is_deleted"
    split = f"""SELECT email_normalized FROM {people} WHERE NOT is_deleted AND person_key IS NOT NULL
        AND email_normalized IS NOT NULL GROUP BY email_normalized
        HAVING count(DISTINCT source_system) > 1 AND count(DISTINCT person_key) > 1"""
    return [
        _keys(owners, "source_system", "source_id"),
        _keys(accounts, "source_system", "source_id"),
        _keys(people, *record),
        _keys(s.t("bl_identity_conflicts"), "conflict_key"),
        _keys(opps, "source_system", "source_id"),
        _keys(activities, "activity_key"),
        _Suite(
            "canonical_people__values",
            f"{people} WHERE NOT is_deleted",
            record_id,
            (
                _not_null("person_key"),
                _in_set("source_system", systems),
                _in_set("source_object", ("contact", "lead")),
                _email(s),
                _in_set("lifecycle_stage", HS_LIFECYCLE),
                _in_set("lead_status", (*HS_LEAD_STATUS, *SF_LEAD_STATUS)),
                _in_set("disqualification_reason_raw", [v for pair in REASONS.values() for v in pair]),
            ),
        ),
        _Suite(
            "canonical_people__unmatched_across_crms",
            f"""{people} p LEFT JOIN ({split}) x ON x.email_normalized = p.email_normalized
              WHERE NOT p.is_deleted AND p.email_normalized IS NOT NULL""",
            "p." + " || ':' || p.".join(record),
            (_true("x.email_normalized IS NULL"),),
        ),
        _Suite("identity_conflicts__open", s.t("bl_identity_conflicts"), "conflict_key", (_true("FALSE"),)),
        _Suite(
            "canonical_owners__values",
            f"{owners} WHERE NOT is_deleted",
            "source_system || ':' || source_id",
            (_not_null("owner_key"), _in_set("source_system", systems)),
        ),
        _Suite(
            "canonical_accounts__values",
            f"{accounts} WHERE NOT is_deleted",
            "source_system || ':' || source_id",
            (_not_null("account_key"), _in_set("source_system", systems), _in_set("icp_tier", ("A", "B", "C"))),
        ),
        _Suite(
            "canonical_opportunities__values",
            f"{opps} WHERE NOT is_deleted",
            "source_system || ':' || source_id",
            (_not_null("stage"), _in_set("stage", ("opportunity", "won", "lost"))),
        ),
        _Suite(
            "canonical_opportunities__orphans",
            f"""{opps} o LEFT JOIN ({live_people}) p ON p.person_key = o.person_key
              LEFT JOIN (SELECT DISTINCT source_system, source_id FROM {accounts} WHERE NOT is_deleted) a
                ON a.source_system = o.source_system AND a.source_id = o.account_source_id
              WHERE NOT o.is_deleted""",
            "o.source_system || ':' || o.source_id",
            (_true("p.person_key IS NOT NULL OR a.source_id IS NOT NULL"),),
        ),
        _Suite(
            "canonical_activities__values",
            f"{activities} WHERE NOT is_deleted",
            record_id,
            (_in_set("activity_type", ("call", "email", "meeting", "note", "task")), _not_null("occurred_at")),
        ),
        _Suite(
            "canonical_activities__orphans",
            f"{activities} a LEFT JOIN ({live_people}) p ON p.person_key = a.person_key WHERE NOT a.is_deleted",
            "a." + " || ':' || a.".join(record),
            (_true("p.person_key IS NOT NULL"),),
        ),
    ]


def _closed_loop_suites(s: _Sql) -> list[_Suite]:
    leads = s.t("bl_closed_loop")
    timed, decided = ("met", "breached", "pending", "not_applicable"), ("met", "breached", "not_applicable")
    chains = (
        ("created_at", "mql_at", "sql_at", "opportunity_created_at", "won_at"),
        ("sql_at", "lost_at"),
        ("opportunity_created_at", "lost_at"),
        ("mql_at", "first_touch_at"),
        ("mql_at", "accepted_at"),
        ("mql_at", "rejected_at"),
    )
    return [
        _keys(leads, "person_key"),
        _Suite(
            "closed_loop_leads__values",
            leads,
            "person_key",
            (
                _in_set("current_stage", (*RANKS, "disqualified", "recycled")),
                _in_set("outcome", ("won", "lost", "open_opportunity", "disqualified", "recycled", "open")),
                _in_set("owner_status", ("assigned", "unassigned", "inactive")),
                _in_set("icp_tier", ("A", "B", "C")),
                _in_set("score_band", [band for band, _, _ in SCORE_BANDS]),
                _in_set("disqualification_reason", REASONS),
                _offending("unmapped_values_null", "unmapped_values IS NOT NULL"),
                _in_set("first_touch_sla_status", timed),
                _in_set("accept_reject_sla_status", timed),
                _in_set("rejection_reason_sla_status", decided),
                _in_set("contact_attempts_sla_status", decided),
            ),
        ),
        _Suite(
            "closed_loop_leads__stage_order",
            leads,
            "person_key",
            tuple(_not_before(b, a) for chain in chains for a, b in zip(chain, chain[1:], strict=False)),
        ),
        _Suite(
            "closed_loop_leads__owners",
            f"{leads} WHERE mql_at IS NOT NULL",
            "person_key",
            (_in_set("owner_status", ("assigned",)),),
        ),
        _Suite(
            "closed_loop_leads__stage_regressions",
            leads,
            "person_key",
            (_offending("has_stage_regression", "has_stage_regression"),),
        ),
    ]


def _measure(e: _Expect) -> str:
    if e.kind == "unique":
        return f"count({e.sql}) - count(DISTINCT {e.sql})"
    if e.kind == "fresh":
        return f"CASE WHEN max({e.sql}) >= TIMESTAMP '{AS_OF}' - INTERVAL '36 hours' THEN 0 ELSE 1 END"
    return _count(e.sql)


def _sample(suite: _Suite, e: _Expect) -> str | None:
    """The offending ids an analyst would look at (a stale table has none to name)."""
    if e.kind == "unique":
        return f"SELECT {e.sql} FROM {suite.source} GROUP BY {e.sql} HAVING count(*) > 1 LIMIT {SAMPLE}"
    if e.kind == "fresh":
        return None
    where = " AND " if " WHERE " in suite.source else " WHERE "
    return f"SELECT {suite.ids} FROM {suite.source}{where}({e.sql}) LIMIT {SAMPLE}"


def checks(s: _Sql) -> dict[str, Any]:
    """Each suite's expectations as one aggregate query of offending-row counts; then the ids behind each
    failing expectation. The sync audits (sync_runs) are checked only where the warehouse has that table."""
    suites = [*_hubspot_suites(s), *_salesforce_suites(s), *_canonical_suites(s), *_closed_loop_suites(s)]
    failed = sum(1 for suite in suites if _run_suite(s, suite))
    failed += _reconciliation(s)
    return {"suites": len(suites) + len(HS_OBJECTS) + len(HS_STREAMS) + len(SF_OBJECTS), "failed": failed}


def _run_suite(s: _Sql, suite: _Suite) -> bool:
    """Whether the suite fails; the offending ids of each failing expectation are read too."""
    query = ", ".join(f"{_measure(e)} AS e{n}" for n, e in enumerate(suite.expectations))
    counts = s.rows(f"SELECT {query} FROM {suite.source}")[0]
    failing = [e for e, count in zip(suite.expectations, counts, strict=True) if count]
    for e in failing:
        sample = _sample(suite, e)
        if sample:
            s.rows(sample)
    return bool(failing)


def _reconciliation(s: _Sql) -> int:
    """Failed sync audits: every extracted record of each object's latest sync loaded or quarantined. Without
    a sync_runs table (the bench loads raw tables directly) every audit fails, as crm-loop's do."""
    objects = [("hubspot", o) for o in (*HS_OBJECTS, *HS_STREAMS)] + [("salesforce", o) for o in SF_OBJECTS]
    found = s.rows(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sync_runs'"
        + (f" AND table_schema = '{s.schema}'" if s.schema else "")
    )[0][0]
    if not found:
        return len(objects)
    rows = s.rows(
        f"""SELECT source, lower(object), extracted = loaded + quarantined FROM (
              SELECT source, object, extracted, loaded, quarantined,
                ROW_NUMBER() OVER (PARTITION BY source, lower(object) ORDER BY started_at DESC) AS latest
              FROM {s.t("sync_runs")}) r WHERE latest = 1"""
    )
    balanced = {(source, name) for source, name, ok in rows if ok}
    return sum(1 for o in objects if o not in balanced)


# -- stage 4: SLA audit ---------------------------------------------------------------------------------------

SLA_RULES = {
    "first_touch": "first_touch_sla_status",
    "accept_reject": "accept_reject_sla_status",
    "rejection_reason": "rejection_reason_sla_status",
    "contact_attempts": "contact_attempts_sla_status",
}


def sla(s: _Sql) -> dict[str, Any]:
    """Per rule: met, breached and pending leads with a sample of the breaching ones; roll-ups per owner, team
    and MQL month; the ignored leads (untouched past their deadline); the monthly MQL commitment."""
    leads = s.t("bl_closed_loop")
    findings = " UNION ALL ".join(
        f"""SELECT person_key, '{rule}' AS rule, {column} AS status, COALESCE(owner_key, '(none)') AS owner,
              COALESCE(owner_team, '(none)') AS team, CAST(mql_month AS VARCHAR) AS month
            FROM {leads} WHERE {_in(column, ("met", "breached", "pending"))}"""
        for rule, column in SLA_RULES.items()
    )
    statuses = f"""{_count("status = 'met'")} AS met, {_count("status = 'breached'")} AS breached,
        {_count("status = 'pending'")} AS pending,
        1.0 * {_count("status = 'met'")} / NULLIF({_count("status IN ('met', 'breached')")}, 0) AS compliance"""
    s.table("bl_sla_findings", findings)
    found = s.t("bl_sla_findings")
    rules = s.rows(f"SELECT rule, {statuses} FROM {found} GROUP BY rule")
    for rule, *_ in rules:
        s.rows(f"SELECT person_key FROM {found} WHERE rule = '{rule}' AND status = 'breached' LIMIT {SAMPLE}")
    untouched = "mql_at IS NOT NULL AND first_touch_at IS NULL AND first_touch_sla_status = 'breached'"
    s.table(
        "bl_sla_rollup",
        " UNION ALL ".join(
            f"SELECT '{dimension}' AS dimension, rule, {dimension} AS member, count(*) AS leads, {statuses} "
            f"FROM {found} GROUP BY rule, {dimension}"
            for dimension in ("owner", "team", "month")
        )
        + f""" UNION ALL SELECT 'owner', 'ignored', COALESCE(owner_key, '(none)'), count(*), 0, count(*), 0, NULL
            FROM {leads} WHERE {untouched} GROUP BY COALESCE(owner_key, '(none)')""",
    )
    ignored, oldest = s.rows(f"SELECT count(*), min(mql_at) FROM {leads} WHERE {untouched}")[0]
    s.rows(
        f"SELECT person_key, owner_key, owner_team, mql_at FROM {leads} WHERE {untouched} "
        f"ORDER BY mql_at, person_key LIMIT {SAMPLE}"
    )
    target, min_score = MQL_COMMITMENT
    commitment = s.rows(
        f"""SELECT mql_month, {_count(f"COALESCE(score_at_mql, 0) >= {min_score}")} AS qualified
            FROM {leads} WHERE mql_at IS NOT NULL AND NOT mql_inferred GROUP BY mql_month ORDER BY mql_month"""
    )
    rollups = s.rows(f"SELECT count(*) FROM {s.t('bl_sla_rollup')}")[0][0]
    return {
        "rules": len(rules),
        "breached": sum(int(r[2]) for r in rules),
        "rollups": int(rollups),
        "ignored": int(ignored),
        "oldest_ignored": str(oldest),
        "commitment_months_short": sum(1 for _, qualified in commitment if qualified < target),
    }


_STAGES = {"canonical": canonical, "closed_loop": closed_loop, "checks": checks, "sla": sla}


def run_stage(stage: str, engine: sa.Engine, schema: str | None) -> dict[str, Any]:
    """Run one baseline stage in one transaction; a small summary of what it produced."""
    with engine.begin() as conn:
        return _STAGES[stage](_Sql(conn, schema))
