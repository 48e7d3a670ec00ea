"""Synthetic raw CRM tables at benchmark scale (1M people / 10M activities), generated as set-based SQL in DuckDB.

The sandbox generator (``sandbox/data``) simulates one person at a time in Python and serves the records over
HTTP: right for tests, far too slow for a million people. This module draws the same funnel shape with
hash-seeded pseudo-random columns over ``range(N)``, so every table is one INSERT ... SELECT and the data depends
only on (seed, people, activities). Tables, columns and types are the ones the real extractors land (the
``RAW_SCHEMA`` below was read from an extracted sandbox warehouse); for PostgreSQL the DuckDB tables are
bulk-copied with COPY.

Approximations of the sandbox (documented so nobody reads more into the numbers): working time is calendar
time scaled to roughly business time, the sales team and campaigns are fixed (16 people, 7 months x 4
campaigns), HubSpot ``hs_lead_status`` history and Salesforce LeadHistory carry Status changes but no owner
reassignments, and activities beyond the funnel's own touches are spread evenly over people so that their
total is exactly ``activities``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import sqlalchemy as sa

RAW_SCHEMA: dict[str, str] = {
    "raw_hubspot__associations": (
        "id VARCHAR, from_type VARCHAR, from_id VARCHAR, to_type VARCHAR, to_id VARCHAR, type_id BIGINT, "
        "category VARCHAR, label VARCHAR "
    ),
    "raw_hubspot__calls": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_timestamp TIMESTAMP, hs_body_preview VARCHAR, "
        "hs_call_title VARCHAR, hs_call_direction VARCHAR, hs_call_status VARCHAR, hs_call_duration DOUBLE, "
        "hs_call_disposition VARCHAR "
    ),
    "raw_hubspot__companies": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, createdate TIMESTAMP, name VARCHAR, domain VARCHAR, industry "
        "VARCHAR, numberofemployees DOUBLE, annualrevenue DOUBLE, country VARCHAR, lifecyclestage VARCHAR, "
        "salesforceaccountid VARCHAR, icp_tier VARCHAR "
    ),
    "raw_hubspot__contact_property_history": (
        "id VARCHAR, contact_id VARCHAR, property VARCHAR, value VARCHAR, changed_at TIMESTAMP, source_type "
        "VARCHAR, source_id VARCHAR, source_label VARCHAR, updated_by_user_id BIGINT "
    ),
    "raw_hubspot__contacts": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_lifecyclestage_subscriber_date TIMESTAMP, "
        "hs_lifecyclestage_lead_date TIMESTAMP, hs_lifecyclestage_marketingqualifiedlead_date TIMESTAMP, "
        "hs_lifecyclestage_salesqualifiedlead_date TIMESTAMP, hs_lifecyclestage_opportunity_date TIMESTAMP, "
        "hs_lifecyclestage_customer_date TIMESTAMP, hs_lifecyclestage_evangelist_date TIMESTAMP, "
        "hs_lifecyclestage_other_date TIMESTAMP, createdate TIMESTAMP, lastmodifieddate TIMESTAMP, email "
        "VARCHAR, firstname VARCHAR, lastname VARCHAR, jobtitle VARCHAR, phone VARCHAR, company VARCHAR, "
        "country VARCHAR, industry VARCHAR, numemployees VARCHAR, annualrevenue VARCHAR, lifecyclestage "
        "VARCHAR, hs_lead_status VARCHAR, hs_analytics_source VARCHAR, hs_analytics_source_data_1 VARCHAR, "
        "hs_analytics_source_data_2 VARCHAR, hs_analytics_num_page_views DOUBLE, num_conversion_events "
        "DOUBLE, recent_conversion_event_name VARCHAR, first_conversion_event_name VARCHAR, hubspotscore "
        "DOUBLE, hs_email_last_reply_date TIMESTAMP, notes_last_contacted TIMESTAMP, num_contacted_notes "
        "DOUBLE, salesforceleadid VARCHAR, salesforcecontactid VARCHAR, associatedcompanyid DOUBLE, "
        "demo_requested BOOLEAN, webinar_attended BOOLEAN, disqualification_reason VARCHAR, crm_loop_campaign "
        "VARCHAR "
    ),
    "raw_hubspot__deal_pipeline_stages": (
        "id VARCHAR, pipeline_id VARCHAR, pipeline_label VARCHAR, pipeline_display_order BIGINT, stage_id "
        "VARCHAR, stage_label VARCHAR, display_order BIGINT, is_closed BOOLEAN, probability DOUBLE, archived "
        "BOOLEAN, updated_at TIMESTAMP "
    ),
    "raw_hubspot__deals": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, createdate TIMESTAMP, dealname VARCHAR, dealstage VARCHAR, "
        "pipeline VARCHAR, amount DOUBLE, closedate TIMESTAMP, hs_is_closed BOOLEAN, hs_is_closed_won "
        "BOOLEAN, closed_lost_reason VARCHAR, hs_analytics_source VARCHAR, salesforceopportunityid VARCHAR "
    ),
    "raw_hubspot__emails": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_timestamp TIMESTAMP, hs_body_preview VARCHAR, "
        "hs_email_subject VARCHAR, hs_email_direction VARCHAR, hs_email_status VARCHAR "
    ),
    "raw_hubspot__meetings": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_timestamp TIMESTAMP, hs_body_preview VARCHAR, "
        "hs_meeting_title VARCHAR, hs_meeting_outcome VARCHAR, hs_meeting_start_time TIMESTAMP, "
        "hs_meeting_end_time TIMESTAMP "
    ),
    "raw_hubspot__merged_records": (
        "id VARCHAR, object_type VARCHAR, merged_id VARCHAR, survivor_id VARCHAR, seen_at TIMESTAMP "
    ),
    "raw_hubspot__notes": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_timestamp TIMESTAMP, hs_body_preview VARCHAR, hs_note_body "
        "VARCHAR "
    ),
    "raw_hubspot__owners": (
        "id VARCHAR, email VARCHAR, type VARCHAR, first_name VARCHAR, last_name VARCHAR, user_id BIGINT, "
        "created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, teams JSON "
    ),
    "raw_hubspot__tasks": (
        "id VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, archived BOOLEAN, archived_at TIMESTAMP, "
        "hs_object_id BIGINT, hs_createdate TIMESTAMP, hs_lastmodifieddate TIMESTAMP, hubspot_owner_id "
        "VARCHAR, hs_merged_object_ids VARCHAR, hs_timestamp TIMESTAMP, hs_body_preview VARCHAR, "
        "hs_task_subject VARCHAR, hs_task_status VARCHAR, hs_task_type VARCHAR, hs_task_priority VARCHAR "
    ),
    "raw_salesforce__account": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, name VARCHAR, type "
        "VARCHAR, industry VARCHAR, numberofemployees BIGINT, annualrevenue DOUBLE, billingcountry VARCHAR, "
        "website VARCHAR, icp_tier__c VARCHAR "
    ),
    "raw_salesforce__campaign": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, name VARCHAR, type "
        "VARCHAR, status VARCHAR, startdate DATE, enddate DATE, isactive BOOLEAN, budgetedcost DOUBLE, "
        "actualcost DOUBLE, hubspot_campaign__c VARCHAR "
    ),
    "raw_salesforce__campaignmember": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, campaignid VARCHAR, leadid VARCHAR, "
        "contactid VARCHAR, status VARCHAR, hasresponded BOOLEAN, firstrespondeddate DATE "
    ),
    "raw_salesforce__contact": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, accountid VARCHAR, "
        "lastname VARCHAR, firstname VARCHAR, name VARCHAR, title VARCHAR, email VARCHAR, phone VARCHAR, "
        "mailingcountry VARCHAR, leadsource VARCHAR, department VARCHAR, lastactivitydate DATE, "
        "hubspot_contact_id__c VARCHAR "
    ),
    "raw_salesforce__event": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, whoid VARCHAR, "
        "whatid VARCHAR, subject VARCHAR, activitydate DATE, description VARCHAR, startdatetime TIMESTAMP, "
        "enddatetime TIMESTAMP, activitydatetime TIMESTAMP, durationinminutes BIGINT, eventsubtype VARCHAR, "
        "location VARCHAR "
    ),
    "raw_salesforce__lead": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, lastname VARCHAR, "
        "firstname VARCHAR, name VARCHAR, title VARCHAR, company VARCHAR, email VARCHAR, phone VARCHAR, "
        "country VARCHAR, state VARCHAR, city VARCHAR, leadsource VARCHAR, status VARCHAR, rating VARCHAR, "
        "industry VARCHAR, numberofemployees BIGINT, annualrevenue DOUBLE, isconverted BOOLEAN, converteddate "
        "DATE, convertedaccountid VARCHAR, convertedcontactid VARCHAR, convertedopportunityid VARCHAR, "
        "lastactivitydate DATE, disqualification_reason__c VARCHAR, lead_score__c DOUBLE, mql_date__c "
        "TIMESTAMP, hubspot_contact_id__c VARCHAR "
    ),
    "raw_salesforce__leadhistory": (
        "id VARCHAR, isdeleted BOOLEAN, leadid VARCHAR, createdbyid VARCHAR, createddate TIMESTAMP, field "
        "VARCHAR, datatype VARCHAR, oldvalue VARCHAR, newvalue VARCHAR "
    ),
    "raw_salesforce__opportunity": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, accountid VARCHAR, "
        "name VARCHAR, stagename VARCHAR, amount DOUBLE, probability DOUBLE, closedate DATE, isclosed "
        "BOOLEAN, iswon BOOLEAN, leadsource VARCHAR, campaignid VARCHAR, type VARCHAR, contactid VARCHAR, "
        "loss_reason__c VARCHAR "
    ),
    "raw_salesforce__opportunityhistory": (
        "id VARCHAR, isdeleted BOOLEAN, opportunityid VARCHAR, createdbyid VARCHAR, createddate TIMESTAMP, "
        "stagename VARCHAR, amount DOUBLE, probability DOUBLE, closedate DATE, systemmodstamp TIMESTAMP "
    ),
    "raw_salesforce__task": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, ownerid VARCHAR, whoid VARCHAR, "
        "whatid VARCHAR, subject VARCHAR, activitydate DATE, description VARCHAR, status VARCHAR, priority "
        "VARCHAR, tasksubtype VARCHAR, calltype VARCHAR, calldurationinseconds BIGINT, calldisposition "
        "VARCHAR, isclosed BOOLEAN, completeddatetime TIMESTAMP "
    ),
    "raw_salesforce__user": (
        "id VARCHAR, isdeleted BOOLEAN, createddate TIMESTAMP, createdbyid VARCHAR, lastmodifieddate "
        "TIMESTAMP, lastmodifiedbyid VARCHAR, systemmodstamp TIMESTAMP, username VARCHAR, firstname VARCHAR, "
        "lastname VARCHAR, name VARCHAR, email VARCHAR, isactive BOOLEAN, title VARCHAR, department VARCHAR, "
        "userroleid VARCHAR, managerid VARCHAR, timezonesidkey VARCHAR, team__c VARCHAR "
    ),
}

ANCHOR = datetime(2026, 11, 2, 15, 0)  # naive UTC, the as_of the reference warehouses were built with
HISTORY_DAYS = 182
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SYNC_ID = "scale"

# (user number, first, last, team, title, active); user 0 is the HubSpot integration user (Salesforce only).
TEAM: tuple[tuple[int, str, str, str | None, str, bool], ...] = (
    (0, "HubSpot", "Integration", None, "Integration User", True),
    (1, "Rita", "Ops", None, "RevOps Admin", True),
    (2, "Jose", "Graham", "SDR East", "SDR East Manager", True),
    (3, "Andrea", "Torres", "SDR East", "Sales Development Rep", True),
    (4, "Jordan", "Holmes", "SDR East", "Sales Development Rep", True),
    (5, "Beverly", "Mendoza", "SDR East", "Sales Development Rep", True),
    (6, "Ingrid", "Jones", "SDR West", "SDR West Manager", True),
    (7, "Lisa", "Owens", "SDR West", "Sales Development Rep", True),
    (8, "George", "Cruz", "SDR West", "Sales Development Rep", True),
    (9, "Brenda", "Soto", "SDR West", "Sales Development Rep", True),
    (10, "Dennis", "Butler", "AE Enterprise", "AE Enterprise Manager", True),
    (11, "Joan", "Harris", "AE Enterprise", "Account Executive", True),
    (12, "Arthur", "Porter", "AE Enterprise", "Account Executive", True),
    (13, "Amber", "Ramos", "AE Mid-Market", "AE Mid-Market Manager", True),
    (14, "Philip", "Elliott", "AE Mid-Market", "Account Executive", True),
    (15, "Susan", "Bryant", "AE Mid-Market", "Account Executive", True),
    (16, "Joshua", "Hall", "SDR East", "Sales Development Rep", False),
)
TEAM_IDS = {"SDR East": 5001, "SDR West": 5002, "AE Enterprise": 5003, "AE Mid-Market": 5004}
INACTIVE_SDR = 16
# (canonical industry, Salesforce value, HubSpot value): the definitions map these pairs.
INDUSTRIES = (
    ("Technology", "COMPUTER_SOFTWARE"),
    ("Financial Services", "FINANCIAL_SERVICES"),
    ("Healthcare", "HOSPITAL_HEALTH_CARE"),
    ("Manufacturing", "MACHINERY"),
    ("Retail", "RETAIL"),
    ("Education", "EDUCATION_MANAGEMENT"),
    ("Media", "MEDIA_PRODUCTION"),
    ("Telecommunications", "TELECOMMUNICATIONS"),
    ("Energy", "OIL_ENERGY"),
    ("Consulting", "MANAGEMENT_CONSULTING"),
)
COUNTRIES = ("United States",) * 6 + ("Canada", "United Kingdom", "Germany", "France", "Netherlands", "Australia")
FIRST = (
    "James",
    "Mary",
    "Robert",
    "Linda",
    "Sara",
    "Thomas",
    "Amber",
    "Carl",
    "Diana",
    "Evelyn",
    "Frank",
    "Grace",
    "Henry",
    "Irene",
    "Jack",
    "Karen",
    "Laura",
    "Mark",
    "Nina",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Steve",
)
LAST = (
    "Smith",
    "Young",
    "Boyd",
    "Perez",
    "Hunter",
    "Brown",
    "Stevens",
    "Marshall",
    "Peterson",
    "Daniels",
    "Soto",
    "Lee",
    "Black",
    "Baker",
    "Dunn",
    "Robinson",
    "Armstrong",
    "Patterson",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
)
WORD1 = (
    "Echo",
    "Nimbus",
    "Vista",
    "Silverline",
    "Keystone",
    "Wayne",
    "Polaris",
    "Tundra",
    "Lattice",
    "Wonka",
    "Willow",
    "Indigo",
    "Prairie",
    "Onyx",
    "Stark",
    "Horizon",
    "Xenon",
    "Pied Piper",
    "Soylent",
    "Aurora",
)
WORD2 = (
    "Energy",
    "Media",
    "Software",
    "Partners",
    "Labs",
    "Learning",
    "Industries",
    "Systems",
    "Robotics",
    "Bank",
    "Capital",
    "Insurance",
    "Networks",
    "Health",
    "Retail",
    "Consulting",
    "Foods",
    "Logistics",
)
TITLES = (
    "CEO",
    "CMO",
    "VP Marketing",
    "Head of Growth",
    "Marketing Director",
    "IT Director",
    "Marketing Manager",
    "Team Lead",
    "Data Analyst",
    "Consultant",
    "Marketing Specialist",
    "Student",
    "Intern",
    "Engineer",
)
# HubSpot original source, cumulative weight out of 100 (the sandbox's SOURCES weights).
SOURCES = (
    ("ORGANIC_SEARCH", 24),
    ("PAID_SEARCH", 38),
    ("EMAIL_MARKETING", 48),
    ("SOCIAL_MEDIA", 56),
    ("REFERRALS", 64),
    ("OTHER_CAMPAIGNS", 76),
    ("DIRECT_TRAFFIC", 88),
    ("OFFLINE", 95),
    ("PAID_SOCIAL", 100),
)
SF_REASONS = ("No Budget", "No Authority", "No Need", "Bad Timing", "Competitor", "Unresponsive", "Bad Data", "Not ICP")
HS_REASONS = ("NO_BUDGET", "NO_AUTHORITY", "NO_NEED", "BAD_TIMING", "COMPETITOR", "UNRESPONSIVE", "BAD_DATA", "NOT_ICP")
OPP_STAGES = ("Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote", "Negotiation/Review")
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
LOSS_REASONS = ("Price", "Competitor", "No Decision", "Timing", "Product Gap")


@dataclass(frozen=True)
class ScaleConfig:
    people: int
    activities: int
    seed: int = 11

    @property
    def companies(self) -> int:
        return max(10, self.people // 4)  # the sandbox's company_count


def sf_id_sql(prefix: str, counter: str) -> str:
    """An 18-character Salesforce id for integer SQL expression ``counter``, exactly as ``sandbox.model.ids.sf_id``
    builds it (key prefix, pod '5g', 10 base-62 digits, checksum), but as one SQL expression."""
    head = prefix + "5g"
    bits = sum(1 << i for i, ch in enumerate(head) if "A" <= ch <= "Z")
    digit = [f"(({counter}) // {62**k}) % 62" for k in range(10)]  # digit[k] is the k-th from the right
    chars = " || ".join(f"substr('{_ALPHABET}', ({digit[k]})::INTEGER + 1, 1)" for k in range(9, -1, -1))

    def checksum(ks: Iterable[tuple[int, int]]) -> str:
        weight = " + ".join(f"(CASE WHEN {digit[k]} BETWEEN 10 AND 35 THEN {1 << pos} ELSE 0 END)" for pos, k in ks)
        return f"substr('{_SUFFIX}', ({weight})::INTEGER + 1, 1)"

    # Characters 5..9 are digits 9..5, characters 10..14 digits 4..0 (most significant first).
    middle = checksum(enumerate(range(9, 4, -1)))
    tail = checksum(enumerate(range(4, -1, -1)))
    return f"('{head}' || {chars} || '{_SUFFIX[bits]}' || {middle} || {tail})"


def _pick(options: tuple[str, ...], u: str) -> str:
    """A SQL expression choosing one of ``options`` uniformly by the uniform ``u``."""
    array = "[" + ", ".join("'" + o.replace("'", "''") + "'" for o in options) + "]"
    return f"{array}[1 + floor({u} * {len(options)})::INTEGER]"


def _macros(seed: int) -> list[str]:
    return [
        f"CREATE OR REPLACE MACRO u(i, k) AS (hash(i, k, {seed}) % 1000000007) / 1000000007.0",
        "CREATE OR REPLACE MACRO z(i, k) AS sqrt(-2 * ln(greatest(u(i, k), 1e-12))) * cos(2 * pi() * u(i, k + 500))",
        "CREATE OR REPLACE MACRO sec(x) AS to_seconds(CAST(x AS BIGINT))",
        f"CREATE OR REPLACE MACRO cut(t) AS CASE WHEN t <= TIMESTAMP '{ANCHOR}' THEN t END",
    ]


def _people_sql(cfg: ScaleConfig) -> list[str]:
    """One row per person with the whole story as columns: the sandbox's ``_Sim`` as a chain of derived columns.
    Every later instant is cut at the anchor (NULL when it would happen after it), and planted problems are
    decided in the sandbox's order (data problems first, at most one per person)."""
    a = f"TIMESTAMP '{ANCHOR}'"
    src = "CASE " + " ".join(f"WHEN u(i, 3) * 100 < {w} THEN '{s}'" for s, w in SOURCES) + " END"
    p0 = f"""
    CREATE TABLE gen_p0 AS SELECT i, 51 + 50 * i AS contact_id,
      floor({cfg.companies} * pow(u(i, 1), 1.5))::BIGINT AS company,
      {a} - sec(600 + u(i, 2) * ({HISTORY_DAYS} * 86400 - 600)) AS created_at,
      {src} AS source, u(i, 4) < 0.3 AS subscriber,
      CASE WHEN u(i, 5) < 0.01 THEN 'malformed_email' WHEN u(i, 5) < 0.0298 THEN 'duplicate'
           WHEN u(i, 5) < 0.0396 THEN 'orphan_activity' END AS data_problem,
      u(i, 8) < 0.35 AS mql_draw, u(i, 9) < 0.4 AS fast, u(i, 12) < 0.4 AS west,
      floor(u(i, 11) * 3)::INTEGER AS sdr_slot,
      {_pick(FIRST, "u(i, 30)")} AS firstname, {_pick(LAST, "u(i, 31)")} AS lastname,
      {_pick(TITLES, "u(i, 32)")} AS title, floor(exp(ln(6) + 0.9 * z(i, 33)))::BIGINT AS page_views,
      1 + floor(u(i, 34) * 4)::BIGINT AS forms, u(i, 35) < 0.7 AS webinar_draw
    FROM range({cfg.people}) t(i)"""
    p1 = """
    CREATE TABLE gen_p1 AS SELECT *,
      cut(created_at + sec(CASE WHEN subscriber THEN 86400 * exp(ln(7) + z(i, 6)) ELSE 0 END)) AS lead_at
    FROM gen_p0"""
    p2 = """
    CREATE TABLE gen_p2 AS SELECT *,
      CASE WHEN mql_draw AND lead_at IS NOT NULL THEN cut(lead_at + sec(CASE WHEN fast THEN 60 + u(i, 10) * 21540
           ELSE 86400 * exp(ln(5) + 0.8 * z(i, 10)) END)) END AS mql_at
    FROM gen_p1"""
    # Business time is approximated: one business minute ~ 3 calendar minutes (8 of 24 hours, 5 of 7 days).
    p3 = """
    CREATE TABLE gen_p3 AS SELECT *,
      cut(mql_at + sec(20 + u(i, 13) * 70)) AS lead_created_at,
      CASE WHEN data_problem IS NULL AND mql_at IS NOT NULL AND u(i, 14) < 0.03 THEN
        CASE WHEN u(i, 15) < 0.5 THEN 'unassigned' ELSE 'inactive_owner' END END AS missing_owner
    FROM gen_p2"""
    p4 = f"""
    CREATE TABLE gen_p4 AS SELECT *,
      lead_created_at IS NOT NULL AND data_problem IS NULL AND missing_owner IS NULL
        AND {a} - mql_at > INTERVAL 3 DAY AND u(i, 16) < 0.03 AS never_contacted,
      data_problem IS NULL AND missing_owner IS NULL AND u(i, 17) < 0.10 AS late_draw
    FROM gen_p3"""
    p5 = """
    CREATE TABLE gen_p5 AS SELECT *,
      CASE WHEN lead_created_at IS NOT NULL AND NOT never_contacted THEN cut(CASE WHEN late_draw
        THEN mql_at + sec(180 * (90 + u(i, 18) * 1350)) ELSE lead_created_at + sec(60 * (3 + u(i, 18) * 52)) END)
      END AS first_touch_at,
      u(i, 19) < 0.6 AS accept_draw, floor(u(i, 20) * 3)::INTEGER AS misses,
      data_problem IS NULL AND missing_owner IS NULL AND NOT late_draw AND u(i, 21) < 0.08 AS too_few_draw
    FROM gen_p4"""
    p6 = """
    CREATE TABLE gen_p6 AS SELECT *,
      CASE WHEN accept_draw THEN cut(first_touch_at + sec(misses * 180 * (20 + u(i, 22) * 100))) END AS accepted_at,
      CASE WHEN NOT accept_draw THEN CASE WHEN too_few_draw THEN 1 + floor(u(i, 23) * 2) ELSE 3 + floor(u(i, 23) * 3)
        END END::INTEGER AS attempts
    FROM gen_p5"""
    p7 = """
    CREATE TABLE gen_p7 AS SELECT *,
      CASE WHEN accepted_at IS NOT NULL THEN cut(accepted_at + sec(86400 * (3 + u(i, 24) * 12))) END AS decided_at,
      CASE WHEN first_touch_at IS NOT NULL AND NOT accept_draw
        THEN cut(first_touch_at + sec(180 * ((attempts - 1) * (25 + u(i, 25) * 85) + 5 + u(i, 26) * 55))) END
        AS rejected_at,
      u(i, 27) < 0.4 AS sql_draw, u(i, 28) < 0.25 AS won_draw, 14 + u(i, 29) * 76 AS cycle_days
    FROM gen_p6"""
    p8 = """
    CREATE TABLE gen_p8 AS SELECT *,
      CASE WHEN sql_draw THEN decided_at END AS sql_at,
      COALESCE(rejected_at, CASE WHEN NOT sql_draw THEN decided_at END) AS closed_at,
      CASE WHEN won_draw THEN 5 ELSE 1 + floor(u(i, 36) * 5)::INTEGER END AS opp_reached
    FROM gen_p7"""
    # Reasons: early rejections (never accepted) and late ones (after acceptance) draw from different lists;
    # rejected_without_reason blanks it. The last opportunity stage is the last step reached by the anchor.
    p9 = f"""
    CREATE TABLE gen_people AS SELECT *,
      CASE WHEN closed_at IS NOT NULL AND NOT (data_problem IS NULL AND missing_owner IS NULL AND NOT late_draw
                AND NOT too_few_draw AND u(i, 37) < 0.06)
        THEN CASE WHEN rejected_at IS NOT NULL THEN [4, 5, 6, 7, 2][1 + floor(u(i, 38) * 5)::INTEGER]
                  ELSE [0, 1, 2, 3, 4][1 + floor(u(i, 38) * 5)::INTEGER] END END AS reason,
      CASE WHEN sql_at IS NOT NULL THEN round((CASE WHEN company % 5 = 0 THEN 60000 ELSE 15000 END)
        * exp(0.5 * z(i, 39)), -2) END AS amount,
      CASE WHEN sql_at IS NOT NULL THEN least(opp_reached, floor(date_diff('second', sql_at, {a})
        / (86400 * cycle_days / (opp_reached + 1)))) END::INTEGER AS opp_step,
      CASE WHEN sql_at IS NOT NULL THEN cut(sql_at + sec(86400 * cycle_days * opp_reached / (opp_reached + 1))) END
        AS opp_closed_at,
      data_problem IS NULL AND missing_owner IS NULL AND NOT never_contacted AND NOT late_draw AND NOT too_few_draw
        AND mql_at IS NOT NULL AND u(i, 40) < 0.03 AS regression_draw,
      CASE WHEN data_problem = 'duplicate' THEN cut(COALESCE(lead_created_at, created_at)
        + sec(86400 * (1 + u(i, 41) * 44))) END AS duplicate_at,
      data_problem = 'duplicate' AND lead_created_at IS NOT NULL AND u(i, 42) < 0.5 AS duplicate_is_lead
    FROM gen_p8"""
    return [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9]


def _ids_sql() -> str:
    """Per-person record numbers, handed out in person order like the sandbox's IdAllocator: Salesforce counters
    for leads, converted contacts/opportunities and deals; duplicates come after every regular record."""
    return f"""
    CREATE TABLE gen_ids AS SELECT i,
      CASE WHEN lead_created_at IS NOT NULL THEN
        {sf_id_sql("00Q", "ROW_NUMBER() OVER (PARTITION BY lead_created_at IS NOT NULL ORDER BY i)")} END AS lead_id,
      CASE WHEN sql_at IS NOT NULL THEN ROW_NUMBER() OVER (PARTITION BY sql_at IS NOT NULL ORDER BY i) END AS conv_n,
      CASE WHEN duplicate_at IS NOT NULL THEN ROW_NUMBER() OVER (PARTITION BY duplicate_at IS NOT NULL ORDER BY i)
        END AS dup_n,
      count(lead_created_at) OVER () AS leads_total
    FROM gen_people"""


def _person_view() -> str:
    """Everything the record renderers need about a person, joined once."""
    west = "p.west"
    return f"""
    CREATE TABLE gen_pv AS SELECT p.*, g.lead_id, g.conv_n, g.dup_n, g.leads_total,
      c.hs_id AS company_hs_id, c.sf_id AS account_id, c.name AS company_name, c.domain, c.sf_industry,
      c.country, c.employees, c.revenue, c.enterprise,
      CASE WHEN {west} THEN 7 ELSE 3 END + p.sdr_slot AS worker_n,
      CASE WHEN p.missing_owner = 'unassigned' THEN NULL WHEN p.missing_owner = 'inactive_owner' THEN {INACTIVE_SDR}
           WHEN p.mql_at IS NOT NULL THEN CASE WHEN {west} THEN 7 ELSE 3 END + p.sdr_slot END AS owner_n,
      CASE WHEN c.enterprise THEN 11 ELSE 14 END + p.company % 2 AS ae_n,
      lower(p.firstname || '.' || p.lastname || p.i::VARCHAR) AS local_part,
      CASE WHEN p.sql_at IS NOT NULL THEN {sf_id_sql("003", "g.conv_n")} END AS sf_contact_id,
      CASE WHEN p.sql_at IS NOT NULL THEN {sf_id_sql("006", "g.conv_n")} END AS opp_id,
      CASE WHEN p.sql_at IS NOT NULL THEN (14000000000 + g.conv_n)::VARCHAR END AS deal_id,
      CASE WHEN p.sql_at IS NOT NULL THEN p.sql_at + sec(60 + u(p.i, 43) * 540) END AS opp_created_at,
      CASE WHEN p.opp_step = p.opp_reached AND p.won_draw THEN p.opp_closed_at END AS won_at,
      CASE WHEN p.opp_step = p.opp_reached AND NOT p.won_draw THEN p.opp_closed_at END AS lost_at,
      CASE WHEN p.sql_at IS NULL THEN NULL WHEN p.opp_step = p.opp_reached
           THEN CASE WHEN p.won_draw THEN 'Closed Won' ELSE 'Closed Lost' END
           ELSE {_pick(OPP_STAGES, "(p.opp_step + 0.5) / 5")} END AS opp_stage,
      CASE WHEN p.sql_at IS NULL THEN NULL WHEN p.opp_step = p.opp_reached
           THEN CASE WHEN p.won_draw THEN 'closedwon' ELSE 'closedlost' END
           ELSE {_pick(DEAL_STAGES, "(p.opp_step + 0.5) / 5")} END AS deal_stage,
      CASE WHEN p.sql_at IS NOT NULL THEN 'Closed - Converted' WHEN p.closed_at IS NOT NULL
           THEN 'Closed - Not Converted' WHEN p.accepted_at IS NOT NULL THEN 'Working - Contacted'
           ELSE 'Open - Not Contacted' END AS sf_status,
      CASE WHEN p.sql_at IS NOT NULL THEN 'OPEN_DEAL' WHEN p.closed_at IS NOT NULL
           THEN CASE WHEN p.reason = 3 THEN 'BAD_TIMING' ELSE 'UNQUALIFIED' END
           WHEN p.accepted_at IS NOT NULL THEN 'CONNECTED'
           WHEN p.first_touch_at IS NOT NULL AND (NOT p.accept_draw OR p.misses > 0) THEN 'ATTEMPTED_TO_CONTACT'
           WHEN p.mql_at IS NOT NULL THEN 'NEW' END AS hs_status,
      strftime(p.created_at, '%Y-%m') || CASE p.source WHEN 'OTHER_CAMPAIGNS' THEN '-webinar'
        WHEN 'EMAIL_MARKETING' THEN '-newsletter' WHEN 'PAID_SEARCH' THEN '-paid' WHEN 'PAID_SOCIAL' THEN '-paid'
        WHEN 'OFFLINE' THEN '-event' END AS campaign_key
    FROM gen_people p JOIN gen_ids g USING (i) JOIN gen_companies c ON c.n = p.company"""


def _lifecycle_sql() -> str:
    """HubSpot lifecycle changes, one row per change, plus the planted regression (a clear, then 'lead')."""
    return f"""
    CREATE TABLE gen_lifecycle AS
    WITH steps AS (
      SELECT i, contact_id, 'subscriber' AS value, created_at AS ts,
             CASE WHEN source = 'OFFLINE' THEN 'IMPORT' ELSE 'FORM' END AS src, 0 AS ord FROM gen_pv WHERE subscriber
      UNION ALL SELECT i, contact_id, 'lead', lead_at, CASE WHEN subscriber THEN 'AUTOMATION' WHEN source = 'OFFLINE'
             THEN 'IMPORT' ELSE 'FORM' END, 1 FROM gen_pv WHERE lead_at IS NOT NULL
      UNION ALL SELECT i, contact_id, 'marketingqualifiedlead', mql_at, 'AUTOMATION', 2 FROM gen_pv
             WHERE mql_at IS NOT NULL
      UNION ALL SELECT i, contact_id, 'salesqualifiedlead', sql_at, 'CRM_UI', 3 FROM gen_pv WHERE sql_at IS NOT NULL
      UNION ALL SELECT i, contact_id, 'opportunity', cut(opp_created_at), 'AUTOMATION', 4 FROM gen_pv
             WHERE cut(opp_created_at) IS NOT NULL
      UNION ALL SELECT i, contact_id, 'customer', cut(won_at + sec(60 + u(i, 44) * 1740)), 'AUTOMATION', 5
             FROM gen_pv WHERE cut(won_at + sec(60 + u(i, 44) * 1740)) IS NOT NULL
    ), last AS (
      SELECT i, max(ts) AS last_at FROM steps GROUP BY i
    ), regressed AS (
      SELECT p.i, p.contact_id, cut(l.last_at + sec(86400 + u(p.i, 45) * 19 * 86400)) AS ts
      FROM gen_pv p JOIN last l USING (i) WHERE p.regression_draw
    )
    SELECT * FROM steps
    UNION ALL SELECT i, contact_id, '', ts, 'IMPORT', 6 FROM regressed WHERE ts + INTERVAL 1 SECOND <= TIMESTAMP '{ANCHOR}'
    UNION ALL SELECT i, contact_id, 'lead', ts + INTERVAL 1 SECOND, 'IMPORT', 7 FROM regressed
      WHERE ts + INTERVAL 1 SECOND <= TIMESTAMP '{ANCHOR}'"""


def _lead_status_sql() -> str:
    return """
    CREATE TABLE gen_lead_status AS
    SELECT i, contact_id, 'NEW' AS value, mql_at AS ts, 'AUTOMATION' AS src, worker_n FROM gen_pv
      WHERE mql_at IS NOT NULL
    UNION ALL SELECT i, contact_id, 'ATTEMPTED_TO_CONTACT', first_touch_at, 'CRM_UI', worker_n FROM gen_pv
      WHERE first_touch_at IS NOT NULL AND (NOT accept_draw OR misses > 0)
    UNION ALL SELECT i, contact_id, 'CONNECTED', accepted_at, 'CRM_UI', worker_n FROM gen_pv
      WHERE accepted_at IS NOT NULL
    UNION ALL SELECT i, contact_id, CASE WHEN reason = 3 THEN 'BAD_TIMING' ELSE 'UNQUALIFIED' END, closed_at,
      'CRM_UI', worker_n FROM gen_pv WHERE closed_at IS NOT NULL AND sql_at IS NULL
    UNION ALL SELECT i, contact_id, 'OPEN_DEAL', sql_at, 'CRM_UI', worker_n FROM gen_pv WHERE sql_at IS NOT NULL"""


def _activities_sql(cfg: ScaleConfig) -> list[str]:
    """Exactly ``activities`` rows, round-robin over people (activity j belongs to person j mod N). A person's
    first activity is their first touch (a call) when they were touched; later ones follow it in time. People
    never touched only get non-touch activity (notes, to-dos, inbound replies), so no touch precedes an MQL.
    A person with the orphan_activity problem and no touch gets one call logged against a record that does not
    exist."""
    a = f"TIMESTAMP '{ANCHOR}'"
    n = max(cfg.people, 1)
    kind = f"""CASE WHEN p.first_touch_at IS NOT NULL AND j // {n} = 0 THEN 'call'
      WHEN p.data_problem = 'orphan_activity' AND p.first_touch_at IS NULL AND j // {n} = 0 THEN 'orphan'
      WHEN p.first_touch_at IS NULL THEN ['note', 'todo', 'reply'][1 + floor(u(j, 51) * 3)::INTEGER]
      ELSE ['email', 'email', 'email', 'email', 'call', 'call', 'call', 'meeting', 'note', 'todo', 'reply',
            'email'][1 + floor(u(j, 51) * 12)::INTEGER] END"""
    base = "COALESCE(p.first_touch_at, p.created_at)"
    ts = f"""CASE WHEN p.first_touch_at IS NOT NULL AND j // {n} = 0 THEN p.first_touch_at
      WHEN {base} + sec((j // {n}) * 86400 * (0.5 + u(j, 52) * 1.5)) <= {a}
        THEN {base} + sec((j // {n}) * 86400 * (0.5 + u(j, 52) * 1.5))
      ELSE {base} + sec(u(j, 53) * date_diff('second', {base}, {a})) END"""
    step1 = f"""
    CREATE TABLE gen_act0 AS SELECT j, j % {n} AS i, {kind} AS kind, {ts} AS ts FROM range({cfg.activities}) t(j)
    JOIN gen_pv p ON p.i = j % {n}"""
    # Salesforce when the channel's CRM share says so and a Salesforce record exists to log it against.
    step2 = """
    CREATE TABLE gen_act AS SELECT a.j, a.i, a.kind, a.ts,
      p.sql_at IS NOT NULL AND a.ts >= p.sql_at AS opp_phase,
      CASE WHEN p.sql_at IS NOT NULL AND a.ts >= p.sql_at THEN p.ae_n ELSE p.worker_n END AS rep_n,
      (p.lead_id IS NOT NULL OR a.kind = 'orphan') AND u(a.j, 54) < CASE a.kind WHEN 'call' THEN 0.75
        WHEN 'email' THEN 0.5 WHEN 'reply' THEN 0.5 WHEN 'meeting' THEN 0.6 WHEN 'orphan' THEN 0.5 ELSE 0 END
        AS on_sf,
      u(a.j, 55) < 0.5 AS connected,
      p.contact_id, p.lead_id, p.sf_contact_id, p.opp_id, p.deal_id, p.firstname || ' ' || p.lastname AS who,
      p.company_name
    FROM gen_act0 a JOIN gen_pv p USING (i)"""
    return [step1, step2]


def _companies_sql(cfg: ScaleConfig) -> str:
    words = len(WORD1) * len(WORD2)
    return f"""
    CREATE TABLE gen_companies AS SELECT n, (9000000001 + n)::VARCHAR AS hs_id, {sf_id_sql("001", "n + 1")} AS sf_id,
      name, lower(replace(name, ' ', '')) || '.com' AS domain, sf_industry, hs_industry, country,
      employees, revenue, enterprise,
      TIMESTAMP '{ANCHOR}' - sec(86400 * (700 + u(n, 63) * 700)) AS created_at
    FROM (SELECT n,
      {_pick(WORD1, f"((n % {len(WORD1)}) + 0.5) / {len(WORD1)}")} || ' '
        || {_pick(WORD2, f"(((n // {len(WORD1)}) % {len(WORD2)}) + 0.5) / {len(WORD2)}")}
        || CASE WHEN n >= {words} THEN ' ' || (n // {words})::VARCHAR ELSE '' END AS name,
      {_pick(tuple(s for s, _ in INDUSTRIES), "u(n, 60)")} AS sf_industry,
      {_pick(COUNTRIES, "u(n, 61)")} AS country, n % 5 = 0 AS enterprise,
      CASE WHEN n % 5 = 0 THEN 1000 + floor(u(n, 62) * 9000) ELSE 5 + floor(exp(ln(80) + 1.2 * z(n, 62))) END::BIGINT
        AS employees,
      round((CASE WHEN n % 5 = 0 THEN 1000 + floor(u(n, 62) * 9000) ELSE 5 + floor(exp(ln(80) + 1.2 * z(n, 62)))
        END) * (80000 + u(n, 64) * 200000), -3) AS revenue
      FROM range({cfg.companies}) t(n)) c
    JOIN (SELECT * FROM (VALUES {", ".join(f"('{s}', '{h}')" for s, h in INDUSTRIES)}) v(sf_industry, hs_industry))
      USING (sf_industry)"""


def _user_id(n: str) -> str:
    return sf_id_sql("005", n)


def _owner_id(n: str) -> str:
    return f"CASE WHEN {n} IS NOT NULL THEN (61000001 + {n})::VARCHAR END"


def _renders() -> dict[str, str]:
    """Each raw table as a SELECT over the generated people, companies and activities (columns by name; the
    columns a SELECT leaves out stay NULL, as fields the sandbox never sets)."""
    a = f"TIMESTAMP '{ANCHOR}'"
    team = ", ".join(
        f"({n}, '{f}', '{last}', {repr(t) if t else 'NULL'}, '{title}', {str(active).upper()})"
        for n, f, last, t, title, active in TEAM
    )
    team_json = " ".join(
        f'WHEN \'{t}\' THEN \'[{{"id": "{i}", "name": "{t}", "primary": true}}]\'' for t, i in TEAM_IDS.items()
    )
    hs_reason = "[" + ", ".join(f"'{r}'" for r in HS_REASONS) + "]"
    sf_reason = "[" + ", ".join(f"'{r}'" for r in SF_REASONS) + "]"
    email = """CASE WHEN data_problem = 'malformed_email' THEN CASE floor(u(i, 70) * 5)::INTEGER
        WHEN 0 THEN local_part || domain WHEN 1 THEN local_part || '@' || split_part(domain, '.', 1)
        WHEN 2 THEN local_part || '@@' || domain WHEN 3 THEN local_part || ' @' || domain
        ELSE local_part || '@' || domain || '.' END ELSE local_part || '@' || domain END"""
    last_change = """greatest(created_at, lead_at, mql_at, first_touch_at, accepted_at, closed_at, sql_at,
        cut(opp_created_at))"""
    return {
        "raw_salesforce__user": f"""SELECT {_user_id("n")} AS id, FALSE AS isdeleted,
            {a} - sec(86400 * (360 + n)) AS createddate, {_user_id("1")} AS createdbyid,
            {a} - sec(86400 * (360 + n)) AS lastmodifieddate, {_user_id("1")} AS lastmodifiedbyid,
            {a} - sec(86400 * (360 + n)) AS systemmodstamp, lower(f || '.' || l) || '@crmloop-demo.com.crmloop'
            AS username, f AS firstname, l AS lastname, f || ' ' || l AS name,
            lower(f || '.' || l) || '@crmloop-demo.com' AS email, active AS isactive, title,
            CASE WHEN n = 0 THEN 'Operations' ELSE 'Sales' END AS department, 'America/New_York' AS timezonesidkey,
            team AS team__c FROM (VALUES {team}) t(n, f, l, team, title, active)""",
        "raw_hubspot__owners": f"""SELECT {_owner_id("n")} AS id, lower(f || '.' || l) || '@crmloop-demo.com' AS email,
            'PERSON' AS type, f AS first_name, l AS last_name, 9100001 + n AS user_id,
            {a} - sec(86400 * (360 + n)) AS created_at, {a} - sec(86400 * (360 + n)) AS updated_at,
            FALSE AS archived, CASE team {team_json} ELSE '[]' END AS teams
            FROM (VALUES {team}) t(n, f, l, team, title, active) WHERE n > 0 AND active""",
        "raw_hubspot__deal_pipeline_stages": f"""SELECT 'default:' || s AS id, 'default' AS pipeline_id,
            'Sales Pipeline' AS pipeline_label, 0 AS pipeline_display_order, s AS stage_id, s AS stage_label,
            k AS display_order, k >= 5 AS is_closed, [0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 0.0][k + 1] AS probability,
            FALSE AS archived, {a} - INTERVAL 365 DAY AS updated_at
            FROM (SELECT k, {_pick(DEAL_STAGES + ("closedwon", "closedlost"), "(k + 0.5) / 7")} AS s
                  FROM range(7) t(k))""",
        "raw_salesforce__campaign": f"""SELECT {sf_id_sql("701", "k")} AS id, FALSE AS isdeleted,
            m - INTERVAL 14 DAY AS createddate, {_user_id("1")} AS createdbyid, m - INTERVAL 14 DAY AS lastmodifieddate,
            {_user_id("1")} AS lastmodifiedbyid, m - INTERVAL 14 DAY AS systemmodstamp, {_user_id("1")} AS ownerid,
            strftime(m, '%Y-%m') || ' ' || type || ': ' || label AS name, type,
            CASE WHEN m + INTERVAL 1 MONTH < {a} THEN 'Completed' ELSE 'In Progress' END AS status,
            m::DATE AS startdate, (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS enddate,
            m + INTERVAL 1 MONTH >= {a} AS isactive, 35000.0 AS budgetedcost, 31500.0 AS actualcost,
            strftime(m, '%Y-%m') || '-' || suffix AS hubspot_campaign__c
            FROM (SELECT k, date_trunc('month', {a}) - to_months(6 - k // 4) AS m,
                         ['Webinar', 'Email', 'Advertisement', 'Conference'][1 + k % 4] AS type,
                         ['Webinar', 'Newsletter', 'Paid', 'Event'][1 + k % 4] AS label,
                         ['webinar', 'newsletter', 'paid', 'event'][1 + k % 4] AS suffix FROM range(28) t(k))""",
        "raw_salesforce__account": f"""SELECT sf_id AS id, FALSE AS isdeleted, created_at AS createddate,
            {_user_id("1")} AS createdbyid, created_at + INTERVAL 40 DAY AS lastmodifieddate,
            {_user_id("CASE WHEN enterprise THEN 11 ELSE 14 END + n % 2")} AS ownerid, name, 'Prospect' AS type,
            created_at + INTERVAL 40 DAY AS systemmodstamp, sf_industry AS industry, employees AS numberofemployees,
            revenue AS annualrevenue, country AS billingcountry, 'https://www.' || domain AS website
            FROM gen_companies""",
        "raw_hubspot__companies": f"""SELECT hs_id AS id, created_at, created_at + INTERVAL 40 DAY AS updated_at,
            FALSE AS archived, hs_id::BIGINT AS hs_object_id, created_at AS hs_createdate,
            created_at + INTERVAL 40 DAY AS hs_lastmodifieddate,
            {_owner_id("CASE WHEN enterprise THEN 11 ELSE 14 END + n % 2")} AS hubspot_owner_id,
            created_at AS createdate, name, domain, hs_industry AS industry, employees AS numberofemployees,
            revenue AS annualrevenue, country, sf_id AS salesforceaccountid FROM gen_companies""",
        "raw_hubspot__contacts": f"""SELECT contact_id::VARCHAR AS id, created_at, {last_change} AS updated_at,
            FALSE AS archived, contact_id AS hs_object_id, created_at AS hs_createdate,
            {last_change} AS hs_lastmodifieddate, {_owner_id("owner_n")} AS hubspot_owner_id,
            CASE WHEN subscriber THEN created_at END AS hs_lifecyclestage_subscriber_date,
            lead_at AS hs_lifecyclestage_lead_date, mql_at AS hs_lifecyclestage_marketingqualifiedlead_date,
            sql_at AS hs_lifecyclestage_salesqualifiedlead_date, cut(opp_created_at) AS hs_lifecyclestage_opportunity_date,
            cut(won_at + sec(60 + u(i, 44) * 1740)) AS hs_lifecyclestage_customer_date,
            created_at AS createdate, {last_change} AS lastmodifieddate, {email} AS email,
            firstname, lastname, title AS jobtitle, '+1 ' || (201 + i % 700)::VARCHAR || '-555-'
            || lpad((i % 10000)::VARCHAR, 4, '0') AS phone, company_name AS company, country, sf_industry AS industry,
            CASE WHEN employees < 100 THEN '1-100' WHEN employees < 500 THEN '100-500' ELSE '500+' END AS numemployees,
            CASE WHEN regression_draw AND mql_at IS NOT NULL THEN 'lead'
                 WHEN won_at IS NOT NULL THEN 'customer' WHEN opp_created_at IS NOT NULL THEN 'opportunity'
                 WHEN sql_at IS NOT NULL THEN 'salesqualifiedlead' WHEN mql_at IS NOT NULL THEN 'marketingqualifiedlead'
                 WHEN lead_at IS NOT NULL THEN 'lead' ELSE 'subscriber' END AS lifecyclestage,
            hs_status AS hs_lead_status, source AS hs_analytics_source, page_views AS hs_analytics_num_page_views,
            forms AS num_conversion_events, 'Contact us' AS first_conversion_event_name,
            CASE WHEN mql_at IS NOT NULL THEN 60 + floor(u(i, 71) * 41) ELSE floor(u(i, 71) * 60) END AS hubspotscore,
            0 AS num_contacted_notes, lead_id AS salesforceleadid, sf_contact_id AS salesforcecontactid,
            company_hs_id::DOUBLE AS associatedcompanyid, fast AND mql_at IS NOT NULL AS demo_requested,
            webinar_draw AND source = 'OTHER_CAMPAIGNS' AS webinar_attended,
            CASE WHEN sql_at IS NULL AND reason IS NOT NULL THEN {hs_reason}[reason + 1] END AS disqualification_reason,
            campaign_key AS crm_loop_campaign FROM gen_pv
            UNION ALL
            SELECT (51 + 50 * (i + 1 + (SELECT max(i) FROM gen_people)))::VARCHAR, duplicate_at, duplicate_at, FALSE,
            51 + 50 * (i + 1 + (SELECT max(i) FROM gen_people)), duplicate_at, duplicate_at, NULL, NULL, duplicate_at,
            NULL, NULL, NULL, NULL, duplicate_at, duplicate_at, local_part || '@' || domain, firstname, lastname,
            title, NULL, company_name, country, NULL, NULL, 'lead', NULL, 'OFFLINE', 0, 1, 'Contact us', 0, 0, NULL,
            NULL, company_hs_id::DOUBLE, FALSE, FALSE, NULL, NULL
            FROM gen_pv WHERE duplicate_at IS NOT NULL AND NOT duplicate_is_lead""",
        "raw_hubspot__contact_property_history": """SELECT contact_id::VARCHAR || '|' || prop || '|'
            || epoch_ms(ts)::VARCHAR || '|' || src || '|' || value AS id, contact_id::VARCHAR AS contact_id,
            prop AS property, value, ts AS changed_at, src AS source_type,
            CASE WHEN src = 'CRM_UI' THEN 'userId:' || (9100001 + worker_n)::VARCHAR END AS source_id,
            CASE WHEN src = 'CRM_UI' THEN 9100001 + worker_n END AS updated_by_user_id
            FROM (SELECT contact_id, 'lifecyclestage' AS prop, value, ts, src, NULL AS worker_n FROM gen_lifecycle
                  UNION ALL SELECT contact_id, 'hs_lead_status', value, ts, src, worker_n FROM gen_lead_status
                  UNION ALL SELECT contact_id, 'hubspot_owner_id', (61000001 + owner_n)::VARCHAR, mql_at, 'CRM_UI',
                    owner_n FROM gen_pv WHERE owner_n IS NOT NULL AND owner_n <> """
        + str(INACTIVE_SDR)
        + ")",
        "raw_salesforce__lead": f"""SELECT lead_id AS id, FALSE AS isdeleted, lead_created_at AS createddate,
            {_user_id("0")} AS createdbyid, greatest(lead_created_at, accepted_at, closed_at) AS lastmodifieddate,
            {_user_id("COALESCE(owner_n, 0)")} AS lastmodifiedbyid,
            greatest(lead_created_at, accepted_at, closed_at) AS systemmodstamp, {_user_id("COALESCE(owner_n, 0)")}
            AS ownerid, lastname, firstname, firstname || ' ' || lastname AS name, title, company_name AS company,
            {email} AS email, country, CASE source WHEN 'OFFLINE' THEN 'Trade Show' WHEN 'REFERRALS'
            THEN 'Partner Referral' WHEN 'OTHER_CAMPAIGNS' THEN 'Webinar' ELSE 'Web' END AS leadsource,
            sf_status AS status, sf_industry AS industry, employees AS numberofemployees, revenue AS annualrevenue,
            sql_at IS NOT NULL AS isconverted, sql_at::DATE AS converteddate,
            CASE WHEN sql_at IS NOT NULL THEN account_id END AS convertedaccountid,
            sf_contact_id AS convertedcontactid, opp_id AS convertedopportunityid,
            CASE WHEN sql_at IS NULL AND reason IS NOT NULL THEN {sf_reason}[reason + 1] END
              AS disqualification_reason__c,
            60 + floor(u(i, 71) * 41) AS lead_score__c, mql_at AS mql_date__c,
            contact_id::VARCHAR AS hubspot_contact_id__c FROM gen_pv WHERE lead_id IS NOT NULL
            UNION ALL
            SELECT {sf_id_sql("00Q", "leads_total + dup_n")}, FALSE, duplicate_at, {_user_id("1")}, duplicate_at,
            {_user_id("1")}, duplicate_at, {_user_id("1")}, lastname, firstname, firstname || ' ' || lastname, title,
            company_name, local_part || '@' || domain, country, 'Trade Show', 'Open - Not Contacted', sf_industry,
            employees, revenue, FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM gen_pv WHERE duplicate_at IS NOT NULL AND duplicate_is_lead""",
        "raw_salesforce__leadhistory": f"""SELECT {sf_id_sql("017", "ROW_NUMBER() OVER (ORDER BY lead_id, ts, k)")}
            AS id, FALSE AS isdeleted, lead_id AS leadid, {_user_id("by_n")} AS createdbyid, ts AS createddate,
            field, 'Text' AS datatype, old AS oldvalue, new AS newvalue
            FROM (SELECT lead_id, lead_created_at AS ts, 0 AS k, 0 AS by_n, 'created' AS field, NULL AS old,
                    NULL AS new FROM gen_pv WHERE lead_id IS NOT NULL
                  UNION ALL SELECT lead_id, accepted_at, 1, worker_n, 'Status', 'Open - Not Contacted',
                    'Working - Contacted' FROM gen_pv WHERE lead_id IS NOT NULL AND accepted_at IS NOT NULL
                  UNION ALL SELECT lead_id, closed_at, 2, worker_n, 'Status', CASE WHEN accepted_at IS NULL
                    THEN 'Open - Not Contacted' ELSE 'Working - Contacted' END, 'Closed - Not Converted'
                    FROM gen_pv WHERE lead_id IS NOT NULL AND closed_at IS NOT NULL AND sql_at IS NULL
                  UNION ALL SELECT lead_id, sql_at, 3, worker_n, 'Status', 'Working - Contacted', 'Closed - Converted'
                    FROM gen_pv WHERE lead_id IS NOT NULL AND sql_at IS NOT NULL
                  UNION ALL SELECT lead_id, sql_at, 4, worker_n, 'leadConverted', NULL, NULL
                    FROM gen_pv WHERE lead_id IS NOT NULL AND sql_at IS NOT NULL)""",
        "raw_salesforce__contact": f"""SELECT sf_contact_id AS id, FALSE AS isdeleted, sql_at AS createddate,
            {_user_id("worker_n")} AS createdbyid, sql_at AS lastmodifieddate, {_user_id("worker_n")}
            AS lastmodifiedbyid, sql_at AS systemmodstamp, {_user_id("ae_n")} AS ownerid, account_id AS accountid,
            lastname, firstname, firstname || ' ' || lastname AS name, title, {email} AS email, country AS mailingcountry,
            'Web' AS leadsource, contact_id::VARCHAR AS hubspot_contact_id__c FROM gen_pv WHERE sql_at IS NOT NULL""",
        "raw_salesforce__opportunity": f"""SELECT opp_id AS id, FALSE AS isdeleted, sql_at AS createddate,
            {_user_id("worker_n")} AS createdbyid, COALESCE(won_at, lost_at, sql_at) AS lastmodifieddate,
            {_user_id("ae_n")} AS lastmodifiedbyid, COALESCE(won_at, lost_at, sql_at) AS systemmodstamp,
            {_user_id("ae_n")} AS ownerid, account_id AS accountid, company_name || ' - New Business' AS name,
            opp_stage AS stagename, amount, CASE WHEN won_at IS NOT NULL THEN 100.0 WHEN lost_at IS NOT NULL THEN 0.0
            ELSE 10.0 + 15 * opp_step END AS probability,
            COALESCE(won_at, lost_at, least(sql_at + sec(86400 * cycle_days), {a}))::DATE AS closedate,
            won_at IS NOT NULL OR lost_at IS NOT NULL AS isclosed, won_at IS NOT NULL AS iswon, 'Web' AS leadsource,
            'New Business' AS type, sf_contact_id AS contactid,
            CASE WHEN lost_at IS NOT NULL THEN {_pick(LOSS_REASONS, "u(i, 72)")} END AS loss_reason__c
            FROM gen_pv WHERE sql_at IS NOT NULL""",
        "raw_salesforce__opportunityhistory": f"""SELECT {sf_id_sql("008", "ROW_NUMBER() OVER (ORDER BY opp_id, k)")}
            AS id, FALSE AS isdeleted, opp_id AS opportunityid, {_user_id("ae_n")} AS createdbyid,
            sql_at + sec(86400 * cycle_days * k / (opp_reached + 1)) AS createddate,
            CASE WHEN k < opp_reached THEN {_pick(OPP_STAGES, "(k + 0.5) / 5")}
                 WHEN won_draw THEN 'Closed Won' ELSE 'Closed Lost' END AS stagename, amount,
            (sql_at + sec(86400 * cycle_days))::DATE AS closedate,
            sql_at + sec(86400 * cycle_days * k / (opp_reached + 1)) AS systemmodstamp
            FROM gen_pv JOIN range(6) t(k) ON k <= opp_step WHERE sql_at IS NOT NULL""",
        "raw_hubspot__deals": f"""SELECT deal_id AS id, cut(opp_created_at) AS created_at,
            COALESCE(won_at, lost_at, cut(opp_created_at)) AS updated_at, FALSE AS archived,
            deal_id::BIGINT AS hs_object_id, cut(opp_created_at) AS hs_createdate,
            COALESCE(won_at, lost_at, cut(opp_created_at)) AS hs_lastmodifieddate, {_owner_id("ae_n")}
            AS hubspot_owner_id, cut(opp_created_at) AS createdate, company_name || ' - New Business' AS dealname,
            deal_stage AS dealstage, 'default' AS pipeline, amount,
            COALESCE(won_at, lost_at, date_trunc('day', least(sql_at + sec(86400 * cycle_days), {a}))) AS closedate,
            won_at IS NOT NULL OR lost_at IS NOT NULL AS hs_is_closed, won_at IS NOT NULL AS hs_is_closed_won,
            source AS hs_analytics_source, opp_id AS salesforceopportunityid
            FROM gen_pv WHERE cut(opp_created_at) IS NOT NULL""",
        "raw_salesforce__campaignmember": f"""SELECT {sf_id_sql("00v", "ROW_NUMBER() OVER (ORDER BY p.i)")} AS id,
            FALSE AS isdeleted, p.lead_created_at AS createddate, {_user_id("0")} AS createdbyid,
            p.lead_created_at AS lastmodifieddate, {_user_id("0")} AS lastmodifiedbyid,
            p.lead_created_at AS systemmodstamp, c.id AS campaignid, p.lead_id AS leadid, 'Responded' AS status,
            TRUE AS hasresponded, p.created_at::DATE AS firstrespondeddate
            FROM gen_pv p JOIN raw_salesforce__campaign c ON c.hubspot_campaign__c = p.campaign_key
            WHERE p.lead_id IS NOT NULL""",
    }


def _activity_renders() -> dict[str, str]:
    """Activities split across the CRMs: Salesforce Task (calls, e-mails, replies) and Event (meetings), HubSpot
    calls, emails, meetings, notes and tasks with their associations. After conversion Salesforce activity
    points at the new Contact and Opportunity, HubSpot's also at the deal."""
    sf_who = f"""CASE WHEN kind = 'orphan' THEN {sf_id_sql("00Q", f"{62**9} + j")}
        WHEN opp_phase THEN sf_contact_id ELSE lead_id END"""
    hs_common = f"""(40000000001 + j)::VARCHAR AS id, ts AS created_at, ts AS updated_at, FALSE AS archived,
        40000000001 + j AS hs_object_id, ts AS hs_createdate, ts AS hs_lastmodifieddate,
        {_owner_id("rep_n")} AS hubspot_owner_id, ts AS hs_timestamp"""
    sf_common = f"""FALSE AS isdeleted, ts AS createddate, {_user_id("rep_n")} AS createdbyid, ts AS lastmodifieddate,
        {_user_id("rep_n")} AS lastmodifiedbyid, ts AS systemmodstamp, {_user_id("rep_n")} AS ownerid,
        {sf_who} AS whoid, CASE WHEN opp_phase THEN opp_id END AS whatid, ts::DATE AS activitydate"""
    hs_type = {
        "call": "calls",
        "orphan": "calls",
        "email": "emails",
        "reply": "emails",
        "meeting": "meetings",
        "note": "notes",
        "todo": "tasks",
    }
    type_case = "CASE kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in hs_type.items()) + " END"
    assoc_id = {
        "calls": (194, 206),
        "emails": (198, 210),
        "meetings": (200, 212),
        "notes": (202, 214),
        "tasks": (204, 216),
    }
    to_contact = "CASE t " + " ".join(f"WHEN '{k}' THEN {v[0]}" for k, v in assoc_id.items()) + " END"
    to_deal = "CASE t " + " ".join(f"WHEN '{k}' THEN {v[1]}" for k, v in assoc_id.items()) + " END"
    orphan_contact = "(26 + 50 * (10000000 + j))::VARCHAR"
    return {
        "raw_salesforce__task": f"""SELECT {sf_id_sql("00T", "j + 1")} AS id, {sf_common},
            CASE kind WHEN 'reply' THEN 'Email: Re: ' || company_name || ' x crm-loop'
                 WHEN 'email' THEN 'Email: ' || company_name || ' x crm-loop' ELSE 'Call: ' || who END AS subject,
            'Completed' AS status, 'Normal' AS priority, CASE WHEN kind IN ('call', 'orphan') THEN 'Call'
            ELSE 'Email' END AS tasksubtype, CASE WHEN kind IN ('call', 'orphan') THEN 'Outbound' END AS calltype,
            CASE WHEN kind IN ('call', 'orphan') THEN CASE WHEN connected AND kind = 'call'
              THEN 120 + j % 1680 ELSE 15 + j % 45 END END AS calldurationinseconds,
            CASE WHEN kind IN ('call', 'orphan') THEN CASE WHEN connected AND kind = 'call' THEN 'Connected'
              ELSE 'No Answer' END END AS calldisposition, TRUE AS isclosed, ts AS completeddatetime
            FROM gen_act WHERE on_sf AND kind IN ('call', 'orphan', 'email', 'reply')""",
        "raw_salesforce__event": f"""SELECT {sf_id_sql("00U", "j + 1")} AS id, {sf_common},
            CASE WHEN opp_phase THEN 'Demo: ' ELSE 'Discovery call: ' END || who AS subject,
            CASE WHEN connected OR u(j, 56) < 0.7 THEN 'Held' ELSE 'No-show' END AS description,
            ts AS startdatetime, ts + INTERVAL 30 MINUTE AS enddatetime, ts AS activitydatetime,
            30 AS durationinminutes, 'Event' AS eventsubtype, 'Zoom' AS location
            FROM gen_act WHERE on_sf AND kind = 'meeting'""",
        "raw_hubspot__calls": f"""SELECT {hs_common},
            CASE WHEN connected AND kind = 'call' THEN 'connected' ELSE 'no answer' END AS hs_body_preview,
            'Call with ' || who AS hs_call_title, 'OUTBOUND' AS hs_call_direction,
            CASE WHEN connected AND kind = 'call' THEN 'COMPLETED' ELSE 'NO_ANSWER' END AS hs_call_status,
            (CASE WHEN connected AND kind = 'call' THEN 120 + j % 1680 ELSE 15 + j % 45 END) * 1000.0
              AS hs_call_duration,
            CASE WHEN connected AND kind = 'call' THEN 'f240bbac-87c9-4f6e-bf70-924b57d47db7'
              ELSE '73a0d17f-1163-4015-bdd5-ec830791da20' END AS hs_call_disposition
            FROM gen_act WHERE NOT on_sf AND kind IN ('call', 'orphan')""",
        "raw_hubspot__emails": f"""SELECT {hs_common},
            CASE WHEN kind = 'reply' THEN 'Re: ' ELSE '' END || company_name || ' x crm-loop' AS hs_email_subject,
            CASE WHEN kind = 'reply' THEN 'INCOMING_EMAIL' ELSE 'EMAIL' END AS hs_email_direction,
            'SENT' AS hs_email_status FROM gen_act WHERE NOT on_sf AND kind IN ('email', 'reply')""",
        "raw_hubspot__meetings": f"""SELECT {hs_common},
            CASE WHEN opp_phase THEN 'Demo' ELSE 'Discovery call' END AS hs_meeting_title,
            CASE WHEN connected OR u(j, 56) < 0.7 THEN 'COMPLETED' ELSE 'NO_SHOW' END AS hs_meeting_outcome,
            ts AS hs_meeting_start_time, ts + INTERVAL 30 MINUTE AS hs_meeting_end_time
            FROM gen_act WHERE NOT on_sf AND kind = 'meeting'""",
        "raw_hubspot__notes": f"""SELECT {hs_common}, 'Spoke with ' || who || '; interested, sending recap.'
            AS hs_note_body FROM gen_act WHERE NOT on_sf AND kind = 'note'""",
        "raw_hubspot__tasks": f"""SELECT {hs_common}, 'Send recap to ' || who AS hs_task_subject,
            'COMPLETED' AS hs_task_status, 'TODO' AS hs_task_type, 'MEDIUM' AS hs_task_priority
            FROM gen_act WHERE NOT on_sf AND kind = 'todo'""",
        "raw_hubspot__associations": f"""
            SELECT t || ':' || (40000000001 + j)::VARCHAR || '>contacts:' || cid || '#' || {to_contact}::VARCHAR AS id,
              t AS from_type, (40000000001 + j)::VARCHAR AS from_id, 'contacts' AS to_type, cid AS to_id,
              {to_contact} AS type_id, 'HUBSPOT_DEFINED' AS category
            FROM (SELECT j, {type_case} AS t, CASE WHEN kind = 'orphan' THEN {orphan_contact}
                  ELSE contact_id::VARCHAR END AS cid FROM gen_act WHERE NOT on_sf)
            UNION ALL
            SELECT t || ':' || (40000000001 + j)::VARCHAR || '>deals:' || deal_id || '#' || {to_deal}::VARCHAR,
              t, (40000000001 + j)::VARCHAR, 'deals', deal_id, {to_deal}, 'HUBSPOT_DEFINED'
            FROM (SELECT j, {type_case} AS t, deal_id FROM gen_act WHERE NOT on_sf AND opp_phase AND kind <> 'orphan')
            UNION ALL
            SELECT 'contacts:' || contact_id::VARCHAR || '>companies:' || company_hs_id || '#279', 'contacts',
              contact_id::VARCHAR, 'companies', company_hs_id, 279, 'HUBSPOT_DEFINED' FROM gen_pv
            UNION ALL
            SELECT 'contacts:' || contact_id::VARCHAR || '>deals:' || deal_id || '#4', 'contacts',
              contact_id::VARCHAR, 'deals', deal_id, 4, 'HUBSPOT_DEFINED' FROM gen_pv
              WHERE cut(opp_created_at) IS NOT NULL
            UNION ALL
            SELECT 'deals:' || deal_id || '>companies:' || company_hs_id || '#341', 'deals', deal_id, 'companies',
              company_hs_id, 341, 'HUBSPOT_DEFINED' FROM gen_pv WHERE cut(opp_created_at) IS NOT NULL""",
    }


_META = "_sync_id VARCHAR, _extracted_at TIMESTAMP, _is_deleted BOOLEAN, _deleted_at TIMESTAMP"
_STEPS = ("gen_p0", "gen_p1", "gen_p2", "gen_p3", "gen_p4", "gen_p5", "gen_p6", "gen_p7", "gen_p8")
_SCRATCH = (
    "gen_people",
    "gen_companies",
    "gen_ids",
    "gen_pv",
    "gen_lifecycle",
    "gen_lead_status",
    "gen_act0",
    "gen_act",
)


def generate_duckdb(con: duckdb.DuckDBPyConnection, cfg: ScaleConfig) -> dict[str, int]:
    """Create every raw table in the connection's current schema; rows per table. Scratch tables are dropped."""
    for sql in (
        *_macros(cfg.seed),
        _companies_sql(cfg),
        *_people_sql(cfg),
        _ids_sql(),
        _person_view(),
        _lifecycle_sql(),
        _lead_status_sql(),
        *_activities_sql(cfg),
    ):
        con.execute(sql)
    for step in _STEPS:
        con.execute(f"DROP TABLE {step}")
    renders = {**_renders(), **_activity_renders()}
    extracted = datetime.now().replace(microsecond=0)
    for table, columns in RAW_SCHEMA.items():
        con.execute(f"CREATE OR REPLACE TABLE {table} ({columns}, {_META})")
        if table in renders:
            con.execute(
                f"INSERT INTO {table} BY NAME SELECT *, '{SYNC_ID}' AS _sync_id, TIMESTAMP '{extracted}' AS "
                f"_extracted_at, FALSE AS _is_deleted FROM ({renders[table]})"
            )
    for table in _SCRATCH:
        con.execute(f"DROP TABLE {table}")
    return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in RAW_SCHEMA}  # type: ignore[index]


_PG_TYPES = {
    "VARCHAR": "TEXT",
    "DOUBLE": "DOUBLE PRECISION",
    "JSON": "JSONB",
    "TIMESTAMP": "TIMESTAMP",
    "BIGINT": "BIGINT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
}


def _pg_columns(columns: str) -> str:
    out = []
    for column in f"{columns}, {_META}".split(", "):
        name, kind = column.split()
        out.append(f'"{name}" {_PG_TYPES[kind]}')
    return ", ".join(out)


def copy_to_postgres(con: duckdb.DuckDBPyConnection, engine: sa.Engine, schema: str) -> None:
    """Bulk-copy every raw table from DuckDB into ``schema`` with the types the extractors use on PostgreSQL.
    Rows stream as CSV through ``COPY ... FROM STDIN`` in slices, so memory stays bounded at any size."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for table, columns in RAW_SCHEMA.items():
            cur.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
            cur.execute(f'CREATE TABLE "{schema}"."{table}" ({_pg_columns(columns)})')
            total = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for offset in range(0, total, _COPY_SLICE):
                buffer = _csv_slice(con, table, offset)
                cur.copy_expert(f'COPY "{schema}"."{table}" FROM STDIN WITH (FORMAT csv, HEADER true)', buffer)
            # Planner statistics now, as after any bulk load: without them PostgreSQL plans joins for empty tables.
            cur.execute(f'ANALYZE "{schema}"."{table}"')
        raw.commit()
    finally:
        raw.close()


_COPY_SLICE = 1_000_000


def _csv_slice(con: duckdb.DuckDBPyConnection, table: str, offset: int) -> io.BytesIO:
    """A slice of ``table`` as CSV bytes; DuckDB writes the CSV (fast, typed), Python only moves the bytes."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        con.execute(
            f"COPY (SELECT * FROM {table} ORDER BY rowid LIMIT {_COPY_SLICE} OFFSET {offset}) TO '{handle.name}' "
            "(FORMAT csv, HEADER true, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f')"
        )
        with open(handle.name, "rb") as data:
            return io.BytesIO(data.read())


def activity_total(counts: dict[str, int]) -> int:
    """Generated activities (engagements and Task/Event rows): equals the requested count by construction."""
    tables = ("calls", "emails", "meetings", "notes", "tasks")
    return (
        sum(counts[f"raw_hubspot__{t}"] for t in tables)
        + counts["raw_salesforce__task"]
        + counts["raw_salesforce__event"]
    )
