"""The hand-written SQL baseline for ``bench/scale.py``: what a competent analyst would write for crm-loop's
post-extract outputs, straight against the raw tables, on DuckDB or PostgreSQL.

It deliberately skips crm-loop's edge rules (link disagreements, merged-away contacts, holiday calendars,
inferred stage times, mapping tables from the definitions: the CRM values are written into the SQL) but must
reach the same funnel stage counts on the generated data, which ``bench/scale.py`` checks. Tables it writes are
prefixed ``bl_`` so they never touch crm-loop's own.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

AS_OF = "2026-11-02 15:00:00"
TZ = "America/New_York"
FIRST_TOUCH_MIN = 60  # definitions: first_touch inside_hours = 1 business hour
ACCEPT_REJECT_S = 24 * 3600  # definitions: accept_reject deadline = 24 calendar hours
OPEN_MIN, DAY_MIN = 9 * 60, 8 * 60  # the working day: 09:00-17:00 local, Monday to Friday
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


class _Sql:
    """Qualified names and the handful of expressions the two engines spell differently."""

    def __init__(self, conn: sa.Connection, schema: str | None) -> None:
        self.conn, self.schema, self.pg = conn, schema, conn.dialect.name == "postgresql"

    def t(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    def email_ok(self, expr: str) -> str:
        return f"({expr} ~ '{EMAIL_RE}')" if self.pg else f"regexp_matches({expr}, '{EMAIL_RE}')"

    def seconds(self, start: str, end: str) -> str:
        return f"EXTRACT(EPOCH FROM ({end}) - ({start}))" if self.pg else f"date_diff('second', {start}, {end})"

    def local(self, expr: str) -> str:
        return f"(({expr}) AT TIME ZONE 'UTC') AT TIME ZONE '{TZ}'"

    def utc(self, local: str) -> str:
        return f"(({local}) AT TIME ZONE '{TZ}') AT TIME ZONE 'UTC'"

    def minutes(self, n: str) -> str:
        return f"({n}) * INTERVAL '1 minute'"

    def table(self, name: str, select: str) -> None:
        self.conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.t(name)}"))
        self.conn.execute(sa.text(f"CREATE TABLE {self.t(name)} AS {select}"))
        if self.pg:  # fresh tables have no statistics: the next join would be planned as if they were empty
            self.conn.execute(sa.text(f"ANALYZE {self.t(name)}"))

    def view(self, name: str, select: str) -> None:
        self.conn.execute(sa.text(f"DROP VIEW IF EXISTS {self.t(name)}"))
        self.conn.execute(sa.text(f"CREATE VIEW {self.t(name)} AS {select}"))

    def rows(self, select: str) -> list[Any]:
        return list(self.conn.execute(sa.text(select)).all())


# -- stage 1: canonical tables and identity -------------------------------------------------------------------


def canonical(s: _Sql) -> dict[str, Any]:
    """People (one row per CRM record, with its person), accounts, opportunities and activities."""
    live = "NOT COALESCE(_is_deleted, FALSE)"
    email = "lower(trim(email))"
    s.table(
        "bl_records",
        f"""SELECT 'hubspot' AS crm, 'contact' AS kind, id, {email} AS email, {s.email_ok(email)} AS email_ok,
              salesforceleadid AS link_id, hubspot_owner_id AS owner_id, created_at, updated_at
            FROM {s.t("raw_hubspot__contacts")} WHERE {live} AND NOT COALESCE(archived, FALSE)
            UNION ALL
            SELECT 'salesforce', 'lead', id, {email}, {s.email_ok(email)}, hubspot_contact_id__c, ownerid,
              createddate, lastmodifieddate FROM {s.t("raw_salesforce__lead")} WHERE {live}
            UNION ALL
            SELECT 'salesforce', 'contact', id, {email}, {s.email_ok(email)}, hubspot_contact_id__c, ownerid,
              createddate, lastmodifieddate FROM {s.t("raw_salesforce__contact")} WHERE {live}""",
    )
    # Identity: cross-CRM ids first; an unlinked Lead joins the one HubSpot contact with its e-mail when that
    # contact has no Lead of its own and nobody else shares the address.
    s.table(
        "bl_email_counts",
        f"""SELECT email, SUM(CASE WHEN crm = 'hubspot' THEN 1 ELSE 0 END) AS hs_n,
              SUM(CASE WHEN kind = 'lead' AND link_id IS NULL THEN 1 ELSE 0 END) AS lead_n
            FROM {s.t("bl_records")} WHERE email_ok GROUP BY email""",
    )
    s.table(
        "bl_identity",
        f"""SELECT r.crm, r.kind, r.id,
              CASE WHEN r.crm = 'hubspot' THEN 'hubspot:contact:' || r.id
                   WHEN hc.id IS NOT NULL THEN 'hubspot:contact:' || hc.id
                   WHEN em.id IS NOT NULL THEN 'hubspot:contact:' || em.id
                   ELSE 'salesforce:' || r.kind || ':' || r.id END AS person_key
            FROM {s.t("bl_records")} r
            LEFT JOIN {s.t("bl_records")} hc ON r.crm = 'salesforce' AND hc.crm = 'hubspot' AND hc.id = r.link_id
            LEFT JOIN (
              SELECT c.id, c.email FROM {s.t("bl_records")} c JOIN {s.t("bl_email_counts")} n USING (email)
              WHERE c.crm = 'hubspot' AND n.hs_n = 1 AND n.lead_n = 1 AND NOT EXISTS (
                SELECT 1 FROM {s.t("bl_records")} l WHERE l.crm = 'salesforce' AND l.link_id = c.id)
            ) em ON r.crm = 'salesforce' AND r.kind = 'lead' AND r.email_ok AND r.link_id IS NULL
              AND em.email = r.email""",
    )
    s.table(
        "bl_accounts",
        f"""SELECT 'salesforce' AS crm, id, name, lower(industry) AS industry, numberofemployees AS employees,
              annualrevenue, billingcountry AS country FROM {s.t("raw_salesforce__account")} WHERE {live}
            UNION ALL
            SELECT 'hubspot', id, name, lower(industry), CAST(numberofemployees AS BIGINT), annualrevenue, country
            FROM {s.t("raw_hubspot__companies")} WHERE {live} AND NOT COALESCE(archived, FALSE)""",
    )
    s.table(
        "bl_opportunities",
        f"""SELECT 'salesforce' AS crm, o.id, i.person_key, o.stagename AS stage, o.isclosed AS is_closed,
              o.iswon AS is_won, o.amount, o.closedate AS close_date, o.createddate AS created_at,
              o.lastmodifieddate AS updated_at
            FROM {s.t("raw_salesforce__opportunity")} o
            LEFT JOIN {s.t("bl_identity")} i ON i.kind = 'contact' AND i.crm = 'salesforce' AND i.id = o.contactid
            WHERE NOT COALESCE(o._is_deleted, FALSE)
            UNION ALL
            SELECT 'hubspot', d.id, 'hubspot:contact:' || a.from_id, d.dealstage, d.hs_is_closed, d.hs_is_closed_won,
              d.amount, CAST(d.closedate AS DATE), d.createdate, d.updated_at
            FROM {s.t("raw_hubspot__deals")} d
            LEFT JOIN {s.t("raw_hubspot__associations")} a ON a.from_type = 'contacts' AND a.to_type = 'deals'
              AND a.to_id = d.id AND NOT COALESCE(a._is_deleted, FALSE)
            WHERE NOT COALESCE(d._is_deleted, FALSE) AND NOT COALESCE(d.archived, FALSE)""",
    )
    _activities(s)
    counts = {
        name: int(s.rows(f"SELECT count(*) FROM {s.t(name)}")[0][0])
        for name in ("bl_records", "bl_accounts", "bl_opportunities", "bl_activities")
    }
    return {"rows": counts}


def _activities(s: _Sql) -> None:
    """Every activity with its person and whether it is a touch (outbound call, e-mail or meeting)."""
    hs_person = f"""LEFT JOIN {s.t("raw_hubspot__associations")} a ON a.from_type = '{{t}}' AND a.from_id = e.id
        AND a.to_type = 'contacts' LEFT JOIN {s.t("bl_identity")} i ON i.crm = 'hubspot' AND i.id = a.to_id"""
    hs = [
        ("calls", "'call'", "TRUE"),
        ("emails", "'email'", "e.hs_email_direction = 'EMAIL'"),
        ("meetings", "'meeting'", "TRUE"),
        ("notes", "'note'", "FALSE"),
        ("tasks", "'task'", "FALSE"),
    ]
    parts = [
        f"""SELECT 'hubspot' AS crm, e.id, {kind} AS activity_type, e.hs_timestamp AS occurred_at,
              i.person_key, {touch} AS is_touch, e.hubspot_owner_id AS owner_id
            FROM {s.t("raw_hubspot__" + table)} e {hs_person.format(t=table)}
            WHERE NOT COALESCE(e._is_deleted, FALSE) AND NOT COALESCE(e.archived, FALSE)"""
        for table, kind, touch in hs
    ]
    sf_person = f"LEFT JOIN {s.t('bl_identity')} i ON i.crm = 'salesforce' AND i.id = e.whoid"
    parts.append(
        f"""SELECT 'salesforce', e.id, lower(e.tasksubtype), COALESCE(e.completeddatetime, e.createddate),
              i.person_key, e.tasksubtype = 'Call' OR (e.tasksubtype = 'Email' AND e.subject NOT LIKE '%Re:%'),
              e.ownerid FROM {s.t("raw_salesforce__task")} e {sf_person} WHERE NOT COALESCE(e._is_deleted, FALSE)"""
    )
    parts.append(
        f"""SELECT 'salesforce', e.id, 'meeting', e.activitydatetime, i.person_key, TRUE, e.ownerid
            FROM {s.t("raw_salesforce__event")} e {sf_person} WHERE NOT COALESCE(e._is_deleted, FALSE)"""
    )
    s.table("bl_activities", " UNION ALL ".join(parts))


# -- stage 2: closed loop, SLA outcomes, KPI views ------------------------------------------------------------

# Stage ranks: lead 0, mql 1, sal 2, sql 3, opportunity 4, won/lost 5; reaching a stage implies the earlier ones.
_HS_LIFECYCLE = {
    "lead": ("lead", 0),
    "marketingqualifiedlead": ("mql", 1),
    "salesqualifiedlead": ("sql", 3),
    "opportunity": ("opportunity", 4),
    "customer": ("won", 5),
    "evangelist": ("won", 5),
}
_HS_STATUS = {"CONNECTED": ("sal", 2), "IN_PROGRESS": ("sal", 2), "OPEN_DEAL": ("sal", 2)}
_SF_STATUS = {"Open - Not Contacted": ("lead", 0), "Working - Contacted": ("sal", 2), "Closed - Converted": ("sql", 3)}


def _case(expr: str, mapping: dict[str, tuple[str, int]], part: int) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {repr(v[part]) if part == 0 else v[part]}" for k, v in mapping.items())
    return f"CASE {expr} {whens} END"


def closed_loop(s: _Sql) -> dict[str, Any]:
    """Stage evidence from both CRMs' records and histories, one closed-loop row per person with stage times,
    first touch, SLA outcomes through the business calendar, then the KPI views."""
    ident = s.t("bl_identity")
    evidence = [
        f"""SELECT i.person_key, {_case("h.value", _HS_LIFECYCLE, 0)} AS stage,
              {_case("h.value", _HS_LIFECYCLE, 1)} AS stage_rank, h.changed_at AS ts
            FROM {s.t("raw_hubspot__contact_property_history")} h JOIN {ident} i ON i.crm = 'hubspot'
              AND i.id = h.contact_id WHERE h.property = 'lifecyclestage'""",
        f"""SELECT i.person_key, {_case("h.value", _HS_STATUS, 0)}, {_case("h.value", _HS_STATUS, 1)}, h.changed_at
            FROM {s.t("raw_hubspot__contact_property_history")} h JOIN {ident} i ON i.crm = 'hubspot'
              AND i.id = h.contact_id WHERE h.property = 'hs_lead_status'""",
        *(
            f"""SELECT i.person_key, '{stage}', {rank}, c.hs_lifecyclestage_{value}_date
            FROM {s.t("raw_hubspot__contacts")} c JOIN {ident} i ON i.crm = 'hubspot' AND i.id = c.id"""
            for value, (stage, rank) in _HS_LIFECYCLE.items()
        ),
        f"""SELECT i.person_key, 'lead', 0, l.createddate FROM {s.t("raw_salesforce__lead")} l
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = l.id""",
        f"""SELECT i.person_key, 'mql', 1, l.mql_date__c FROM {s.t("raw_salesforce__lead")} l
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = l.id""",
        f"""SELECT i.person_key, {_case("h.newvalue", _SF_STATUS, 0)}, {_case("h.newvalue", _SF_STATUS, 1)},
              h.createddate FROM {s.t("raw_salesforce__leadhistory")} h
            JOIN {ident} i ON i.crm = 'salesforce' AND i.kind = 'lead' AND i.id = h.leadid WHERE h.field = 'Status'""",
        f"""SELECT person_key, 'opportunity', 4, created_at FROM {s.t("bl_opportunities")}
            WHERE crm = 'salesforce' OR person_key NOT IN (SELECT person_key FROM {s.t("bl_opportunities")}
              WHERE crm = 'salesforce' AND person_key IS NOT NULL)""",
        f"""SELECT person_key, CASE WHEN is_won THEN 'won' ELSE 'lost' END, 5,
              CASE WHEN crm = 'salesforce' THEN updated_at ELSE CAST(close_date AS TIMESTAMP) END
            FROM {s.t("bl_opportunities")} WHERE is_closed AND (crm = 'salesforce' OR person_key NOT IN (
              SELECT person_key FROM {s.t("bl_opportunities")} WHERE crm = 'salesforce' AND person_key IS NOT NULL))""",
    ]
    s.table(
        "bl_evidence",
        "SELECT * FROM (" + " UNION ALL ".join(evidence) + ") e WHERE stage IS NOT NULL AND ts IS NOT NULL",
    )
    stage_at = {
        "mql_at": "stage_rank >= 1",
        "accepted_at": "stage_rank >= 2",
        "sql_at": "stage_rank >= 3",
        "opportunity_created_at": "stage_rank >= 4",
        "won_at": "stage = 'won'",
        "lost_at": "stage = 'lost'",
    }
    s.table(
        "bl_stages",
        "SELECT person_key, "
        + ", ".join(f"min(CASE WHEN {cond} THEN ts END) AS {col}" for col, cond in stage_at.items())
        + f" FROM {s.t('bl_evidence')} GROUP BY person_key",
    )
    _calendar(s)
    s.table(
        "bl_first_touch",
        f"""SELECT a.person_key, min(a.occurred_at) AS first_touch_at, count(*) AS touches
            FROM {s.t("bl_activities")} a JOIN {s.t("bl_stages")} st USING (person_key)
            WHERE a.is_touch AND a.occurred_at >= st.mql_at AND a.occurred_at <= TIMESTAMP '{AS_OF}'
            GROUP BY a.person_key""",
    )
    people = f"SELECT DISTINCT person_key FROM {s.t('bl_identity')}"
    s.table(
        "bl_closed_loop_base",
        f"""SELECT p.person_key, st.mql_at, st.accepted_at, st.sql_at, st.opportunity_created_at, st.won_at,
              st.lost_at, ft.first_touch_at, COALESCE(ft.touches, 0) AS touches,
              {_bminute(s, "st.mql_at", "cm")} AS mql_bmin, {_bminute(s, "ft.first_touch_at", "cf")} AS touch_bmin,
              {_bminute(s, f"TIMESTAMP '{AS_OF}'", "ca")} AS as_of_bmin
            FROM ({people}) p LEFT JOIN {s.t("bl_stages")} st USING (person_key)
            LEFT JOIN {s.t("bl_first_touch")} ft USING (person_key)
            LEFT JOIN {s.t("bl_calendar")} cm ON cm.day = CAST({s.local("st.mql_at")} AS DATE)
            LEFT JOIN {s.t("bl_calendar")} cf ON cf.day = CAST({s.local("ft.first_touch_at")} AS DATE)
            LEFT JOIN {s.t("bl_calendar")} ca ON ca.day = CAST({s.local(f"TIMESTAMP '{AS_OF}'")} AS DATE)""",
    )
    s.table(
        "bl_closed_loop",
        f"""SELECT b.*, b.touch_bmin - b.mql_bmin AS business_minutes_to_first_touch, due.due_at AS first_touch_due_at,
              CASE WHEN b.mql_at IS NULL THEN 'not_applicable'
                   WHEN b.first_touch_at IS NOT NULL AND b.touch_bmin - b.mql_bmin <= {FIRST_TOUCH_MIN} THEN 'met'
                   WHEN b.first_touch_at IS NOT NULL OR b.as_of_bmin - b.mql_bmin > {FIRST_TOUCH_MIN}
                     THEN 'breached' ELSE 'pending' END AS first_touch_sla_status,
              CASE WHEN b.mql_at IS NULL THEN 'not_applicable'
                   WHEN b.accepted_at IS NOT NULL THEN 'decided'
                   WHEN {s.seconds("b.mql_at", f"TIMESTAMP '{AS_OF}'")} > {ACCEPT_REJECT_S} THEN 'breached'
                   ELSE 'pending' END
                AS accept_reject_sla_status,
              CASE WHEN b.won_at IS NOT NULL THEN 'won' WHEN b.lost_at IS NOT NULL THEN 'lost'
                   WHEN b.opportunity_created_at IS NOT NULL THEN 'open_opportunity' ELSE 'open' END AS outcome
            FROM {s.t("bl_closed_loop_base")} b
            LEFT JOIN (
              SELECT b2.person_key, {s.utc(f"CAST(c.day AS TIMESTAMP) + {s.minutes(f'{OPEN_MIN} + r.rest')}")}
                AS due_at
              FROM {s.t("bl_closed_loop_base")} b2
              JOIN (SELECT person_key, (mql_bmin + {FIRST_TOUCH_MIN}) / {DAY_MIN} AS ord,
                           (mql_bmin + {FIRST_TOUCH_MIN}) % {DAY_MIN} AS rest
                    FROM {s.t("bl_closed_loop_base")} WHERE mql_bmin IS NOT NULL) r USING (person_key)
              JOIN {s.t("bl_calendar")} c ON c.open_ord = r.ord
            ) due USING (person_key)""",
    )
    month = "date_trunc('month', mql_at)"
    s.view(
        "bl_kpi_funnel_by_month",
        f"""SELECT {month} AS month, count(*) AS mqls, count(accepted_at) AS sals, count(sql_at) AS sqls,
              count(opportunity_created_at) AS opportunities, count(won_at) AS won, count(lost_at) AS lost
            FROM {s.t("bl_closed_loop")} WHERE mql_at IS NOT NULL GROUP BY {month}""",
    )
    s.view(
        "bl_kpi_sla",
        f"""SELECT first_touch_sla_status, count(*) AS leads, avg(business_minutes_to_first_touch) AS avg_minutes
            FROM {s.t("bl_closed_loop")} GROUP BY first_touch_sla_status""",
    )
    row = s.rows(
        "SELECT count(*), count(mql_at), count(accepted_at), count(sql_at), count(opportunity_created_at), "
        f"count(won_at), count(lost_at) FROM {s.t('bl_closed_loop')}"
    )[0]
    funnel = dict(zip(("leads", "mql", "sal", "sql", "opportunity", "won", "lost"), map(int, row), strict=True))
    s.rows(f"SELECT count(*) FROM {s.t('bl_kpi_funnel_by_month')}")
    return {"rows": funnel["leads"], "funnel": funnel}


def _bminute(s: _Sql, instant: str, cal: str) -> str:
    """Business minutes from the calendar's first day to ``instant`` (local working hours only)."""
    local = s.local(instant)
    minute = f"(EXTRACT(HOUR FROM {local}) * 60 + EXTRACT(MINUTE FROM {local}) + EXTRACT(SECOND FROM {local}) / 60.0)"
    within = f"CASE WHEN {cal}.is_open THEN LEAST(GREATEST({minute} - {OPEN_MIN}, 0), {DAY_MIN}) ELSE 0 END"
    return f"({cal}.open_before * {DAY_MIN} + {within})"


def _calendar(s: _Sql) -> None:
    """One row per local day: open (Mon-Fri), open days before it, and the ordinal of open days (for deadlines)."""
    days = (
        "SELECT CAST(generate_series AS DATE) AS day FROM generate_series("
        "TIMESTAMP '2025-01-01', TIMESTAMP '2027-12-31', INTERVAL '1 day')"
    )
    s.table(
        "bl_calendar",
        f"""SELECT day, is_open, open_before, CASE WHEN is_open THEN open_before END AS open_ord FROM (
              SELECT day, is_open, COALESCE(SUM(CASE WHEN is_open THEN 1 ELSE 0 END) OVER (ORDER BY day
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS open_before
              FROM (SELECT day, EXTRACT(DOW FROM day) NOT IN (0, 6) AS is_open FROM ({days}) d) o) c""",
    )


# -- stage 3: data-quality checks as plain counts -------------------------------------------------------------


def checks(s: _Sql) -> dict[str, Any]:
    """The same kinds of checks crm-loop's suites make, as counts of offending rows."""
    queries = {
        "contacts_bad_email": f"SELECT count(*) FROM {s.t('bl_records')} WHERE email IS NOT NULL AND NOT email_ok",
        "duplicate_ids": f"SELECT count(*) FROM (SELECT crm, kind, id FROM {s.t('bl_records')} GROUP BY crm, kind, id "
        "HAVING count(*) > 1) d",
        "shared_email": f"SELECT count(*) FROM (SELECT email FROM {s.t('bl_records')} WHERE email_ok "
        "GROUP BY email HAVING count(DISTINCT crm || kind || id) > 1 AND count(DISTINCT crm) = 1) d",
        "orphan_activities": f"SELECT count(*) FROM {s.t('bl_activities')} WHERE person_key IS NULL",
        "opportunity_without_person": f"SELECT count(*) FROM {s.t('bl_opportunities')} WHERE person_key IS NULL",
        "lead_without_owner": f"SELECT count(*) FROM {s.t('bl_records')} r LEFT JOIN {s.t('raw_salesforce__user')} u "
        "ON u.id = r.owner_id WHERE r.kind = 'lead' AND (u.id IS NULL OR NOT u.isactive OR u.team__c IS NULL)",
        "contact_owner_unknown": f"SELECT count(*) FROM {s.t('bl_records')} r LEFT JOIN "
        f"{s.t('raw_hubspot__owners')} o ON o.id = r.owner_id WHERE r.crm = 'hubspot' AND r.owner_id IS NOT NULL "
        "AND o.id IS NULL",
        "stage_order": f"SELECT count(*) FROM {s.t('bl_closed_loop')} WHERE sql_at < mql_at OR won_at < sql_at",
        "mql_without_owner_touch": f"SELECT count(*) FROM {s.t('bl_closed_loop')} WHERE mql_at IS NOT NULL "
        "AND first_touch_at IS NULL",
        "negative_amounts": f"SELECT count(*) FROM {s.t('bl_opportunities')} WHERE amount < 0",
        "future_activity": f"SELECT count(*) FROM {s.t('bl_activities')} WHERE occurred_at > TIMESTAMP '{AS_OF}'",
    }
    counts = {name: int(s.rows(sql)[0][0]) for name, sql in queries.items()}
    return {"checks": len(counts), "failed": sum(1 for v in counts.values() if v)}


# -- stage 4: SLA audit rollups -------------------------------------------------------------------------------


def sla(s: _Sql) -> dict[str, Any]:
    """SLA compliance per owner, team and MQL month, and the leads nobody touched."""
    s.table(
        "bl_sla_owner",
        f"""SELECT i.person_key, COALESCE(u.name, 'unassigned') AS owner, COALESCE(u.team__c, 'unassigned') AS team
            FROM (SELECT person_key, min(id) AS id FROM {s.t("bl_identity")} WHERE kind = 'lead' GROUP BY person_key) i
            JOIN {s.t("bl_records")} r ON r.kind = 'lead' AND r.id = i.id
            LEFT JOIN {s.t("raw_salesforce__user")} u ON u.id = r.owner_id""",
    )
    s.table(
        "bl_sla_rollup",
        f"""SELECT 'team' AS dimension, o.team AS value, count(*) AS leads,
              SUM(CASE WHEN c.first_touch_sla_status = 'breached' THEN 1 ELSE 0 END) AS breached
            FROM {s.t("bl_closed_loop")} c JOIN {s.t("bl_sla_owner")} o USING (person_key)
            WHERE c.mql_at IS NOT NULL GROUP BY o.team
            UNION ALL
            SELECT 'owner', o.owner, count(*), SUM(CASE WHEN c.first_touch_sla_status = 'breached' THEN 1 ELSE 0 END)
            FROM {s.t("bl_closed_loop")} c JOIN {s.t("bl_sla_owner")} o USING (person_key)
            WHERE c.mql_at IS NOT NULL GROUP BY o.owner
            UNION ALL
            SELECT 'month', CAST(date_trunc('month', c.mql_at) AS VARCHAR), count(*),
              SUM(CASE WHEN c.first_touch_sla_status = 'breached' THEN 1 ELSE 0 END)
            FROM {s.t("bl_closed_loop")} c WHERE c.mql_at IS NOT NULL GROUP BY date_trunc('month', c.mql_at)""",
    )
    ignored = s.rows(
        f"SELECT count(*) FROM {s.t('bl_closed_loop')} WHERE mql_at IS NOT NULL AND first_touch_at IS NULL "
        f"AND {s.seconds('mql_at', f'TIMESTAMP {AS_OF!r}')} > 3 * 86400"
    )[0][0]
    rollups = s.rows(f"SELECT count(*) FROM {s.t('bl_sla_rollup')}")[0][0]
    return {"rollups": int(rollups), "ignored": int(ignored)}


_STAGES = {"canonical": canonical, "closed_loop": closed_loop, "checks": checks, "sla": sla}


def run_stage(stage: str, engine: sa.Engine, schema: str | None) -> dict[str, Any]:
    """Run one baseline stage in one transaction; a small summary of what it produced."""
    with engine.begin() as conn:
        return _STAGES[stage](_Sql(conn, schema))
