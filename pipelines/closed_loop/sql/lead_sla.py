"""The SLA part of closed_loop_leads in SQL: stage times, touches, outcome, reason and the SLA outcomes per person.

The specification is ``leads.closed_loop_row`` with the rules of ``pipelines.funnel.sla`` and ``reasons``:
  - touches are ``canonical_activities.counts_as_touch`` rows known by ``as_of``, counted from the MQL (the
    creation when never an MQL); the first such touch answers the first-touch SLA;
  - SLAs run from the audited MQL (an inferred MQL was never handed over) on the business calendar: business
    minutes are differences of two business clocks and deadlines are clock look-ups (``sql.calendar``), so
    every step is an equality join on a date or a bucket, whatever the number of people;
  - the first-touch clock starts at the later of that MQL and the first (or, when reassignments restart it,
    the last) owner assignment known by ``as_of``: the first Lead's creation and Owner changes, else the
    HubSpot contact's hubspot_owner_id changes, none when the owner status is ``unassigned`` (``_assignments``);
  - the reason comes from the first Salesforce Lead that has one, else from the HubSpot contact.

Temp tables made here start with ``sla_``; the caller has created ``members`` (``members.create_members``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from connectors.warehouse.catalog.harmonised import CANONICAL_ACTIVITIES, CANONICAL_OWNERS, IDENTITY_CONFLICTS
from pipelines.closed_loop.sql.calendar import (
    BUCKET_MINUTES,
    OPEN_BUCKETS,
    clock,
    clock_join,
    create_calendar,
    deadline_at,
    deadline_join,
)
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.members import MEMBERS
from pipelines.closed_loop.sql.owner_history import owner_histories
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import EXIT_STAGES, STAGES, Duration, FunnelDefinitions
from pipelines.funnel.reasons import UNMAPPED


def lead_sla_sql(ctx: SqlContext, defs: FunnelDefinitions, as_of: datetime, journeys: str, scores: str) -> str:
    """One row per person of ``members``: person_key and the stage, touch, reason and SLA columns of
    closed_loop_leads. ``journeys``: one row per person (person_key, ``<stage>_at``, ``<stage>_inferred``,
    current_stage, regression_from_stage, regression_to_stage, regressed_at, unmapped_values), naive UTC;
    ``scores``: (person_key, score_mql_at), which ``sla.mql_source`` may run the clocks from."""
    now = _naive(as_of)
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    _create_reason_map(ctx, defs)
    _create_assignments(ctx, now)
    _create_base(ctx, defs, journeys, scores)
    _create_touch_counts(ctx, now)
    _create_conflicted(ctx)
    _create_range_calendar(ctx, defs, calendar, now)
    _create_clocks(ctx)
    return _final_select(ctx, defs, now)


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo is not None else instant


def _create_reason_map(ctx: SqlContext, defs: FunnelDefinitions) -> None:
    """``reasons._index`` as a table (source, folded value, reason key); later reasons win a shared value there,
    so the same overwrite order is applied here before writing."""
    index: dict[str, dict[str, str]] = {"salesforce": {}, "hubspot": {}, "hubspot_lead_status": {}}
    for key, reason in defs.reasons.items():
        index["salesforce"].update({v.strip().casefold(): key for v in (key, *reason.salesforce)})
        index["hubspot"].update({v.strip().casefold(): key for v in (key, *reason.hubspot)})
        index["hubspot_lead_status"].update({v.strip().casefold(): key for v in reason.hubspot_lead_status})
    rows = [(source, folded, key) for source, values in index.items() for folded, key in values.items()]
    ctx.values("sla_reason_map", {"source": "text", "folded": "text", "reason": "text"}, rows)


def _create_assignments(ctx: SqlContext, now: datetime) -> None:
    """``sla_assigned`` (person_key, first_assigned_at, last_assigned_at): the owner assignments known by
    ``as_of`` of the people whose owner status is not ``unassigned`` (``lead_facts``' owner and status)."""
    owner_id = "COALESCE(NULLIF(l1.owner_source_id, ''), NULLIF(hc.owner_source_id, ''))"
    owner_system = (
        "CASE WHEN NULLIF(l1.owner_source_id, '') IS NOT NULL THEN 'salesforce' "
        "WHEN NULLIF(hc.owner_source_id, '') IS NOT NULL THEN 'hubspot' END"
    )
    ctx.temp(
        "sla_owned",
        f"""
        SELECT p.person_key, l1.source_id AS lead_id, l1.created_at AS lead_created_at, hc.source_id AS contact_id
        FROM (SELECT person_key FROM {MEMBERS} GROUP BY person_key) p
        LEFT JOIN {MEMBERS} l1 ON l1.person_key = p.person_key AND l1.kind = 'salesforce_lead' AND l1.kind_rank = 1
        LEFT JOIN {MEMBERS} hc ON hc.person_key = p.person_key AND hc.kind = 'hubspot_contact' AND hc.kind_rank = 1
        LEFT JOIN {ctx.table(CANONICAL_OWNERS.name)} ow ON ow.source_system = {owner_system} AND ow.source_id = {owner_id}
        WHERE {owner_id} IS NOT NULL AND (ow.source_id IS NULL OR NULLIF(ow.team, '') IS NOT NULL)
        """,
    )
    lead_history, property_history = owner_histories(ctx)
    ctx.temp(
        "sla_assigned",
        f"""
        SELECT person_key, MIN(assigned) AS first_assigned_at, MAX(assigned) AS last_assigned_at FROM (
            SELECT person_key, lead_created_at AS assigned FROM sla_owned WHERE lead_id IS NOT NULL
            UNION ALL
            SELECT o.person_key, h.createddate FROM sla_owned o JOIN {lead_history} h ON h.leadid = o.lead_id
            WHERE h.field = 'Owner' AND NOT COALESCE(h._is_deleted, FALSE)
            UNION ALL
            SELECT o.person_key, h.changed_at FROM sla_owned o JOIN {property_history} h ON h.contact_id = o.contact_id
            WHERE o.lead_id IS NULL AND h.property = 'hubspot_owner_id' AND NULLIF(h.value, '') IS NOT NULL
              AND NOT COALESCE(h._is_deleted, FALSE)
        ) e
        WHERE assigned <= {literal(now)}
        GROUP BY person_key
        """,
    )


def _clock_start(defs: FunnelDefinitions, audited: str) -> tuple[str, str]:
    """(start, source) expressions of ``sla.first_touch_clock`` over ``audited`` and ``sla_assigned`` a."""
    policy = defs.sla.first_touch
    if policy.clock == "mql":
        return audited, f"CASE WHEN {audited} IS NOT NULL THEN 'mql' END"
    assigned = "a.last_assigned_at" if policy.reassignment_restarts_clock else "a.first_assigned_at"
    start = f"""CASE WHEN {audited} IS NULL THEN NULL WHEN {assigned} IS NULL OR {assigned} <= {audited}
        THEN {audited} ELSE {assigned} END"""
    source = f"""CASE WHEN {audited} IS NULL THEN NULL WHEN {assigned} IS NULL THEN 'mql' ELSE 'assignment' END"""
    return start, source


def _sla_mql(defs: FunnelDefinitions) -> str:
    """``sla.sla_mql_at`` over the journey ``j`` and the scores ``sc``."""
    crm = "CASE WHEN NOT COALESCE(j.mql_inferred, FALSE) THEN j.mql_at END"
    if defs.sla.mql_source == "crm":
        return crm
    if defs.sla.mql_source == "score":
        return "sc.score_mql_at"
    return f"CASE WHEN {crm} IS NULL OR sc.score_mql_at < {crm} THEN sc.score_mql_at ELSE {crm} END"


def _create_base(ctx: SqlContext, defs: FunnelDefinitions, journeys: str, scores: str) -> None:
    """Per person: creation, the reason inputs, the journey and the first-touch clock start (``members``
    decides who is a person)."""
    stage_cols = ", ".join(f"j.{s}_at" for s in STAGES)
    audited = _sla_mql(defs)
    start, source = _clock_start(defs, audited)
    reason_source = f"""
        SELECT person_key, disqualification_reason_raw AS raw,
               ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY kind_rank) AS rn
        FROM {MEMBERS}
        WHERE kind = 'salesforce_lead' AND disqualification_reason_raw IS NOT NULL
          AND disqualification_reason_raw <> ''
    """
    ctx.temp(
        "sla_base",
        f"""
        SELECT p.person_key, p.created_at,
               sf.raw AS sf_reason_raw, hs.disqualification_reason_raw AS hs_reason_raw,
               hs.lead_status AS hs_lead_status, hs.person_key IS NOT NULL AS has_contact,
               {stage_cols}, COALESCE(j.mql_inferred, FALSE) AS mql_inferred,
               j.current_stage, j.regression_from_stage, j.regression_to_stage, j.regressed_at, j.unmapped_values,
               LEAST(j.disqualified_at, j.recycled_at) AS rejected_at,
               LEAST(j.sal_at, j.disqualified_at, j.recycled_at) AS decided_at,
               COALESCE({audited}, j.mql_at, p.created_at) AS touch_from,
               {audited} AS audited_at, {start} AS ft_start_at, {source} AS ft_start_from
        FROM (SELECT person_key, MIN(created_at) AS created_at FROM {MEMBERS} GROUP BY person_key) p
        LEFT JOIN {journeys} j ON j.person_key = p.person_key
        LEFT JOIN {scores} sc ON sc.person_key = p.person_key
        LEFT JOIN sla_assigned a ON a.person_key = p.person_key
        LEFT JOIN ({reason_source}) sf ON sf.person_key = p.person_key AND sf.rn = 1
        LEFT JOIN {MEMBERS} hs ON hs.person_key = p.person_key AND hs.kind = 'hubspot_contact' AND hs.kind_rank = 1
        """,
    )


def _create_touch_counts(ctx: SqlContext, now: datetime) -> None:
    """First touch from ``touch_from`` and the attempts up to the rejection (else ``as_of``), touches known by
    ``as_of`` only: one hash join of the touches on the person and a conditional aggregate."""
    at = literal(now)
    counted = "t.occurred_at >= b.touch_from OR b.touch_from IS NULL"
    ctx.temp(
        "sla_touch_counts",
        f"""
        SELECT b.person_key,
               MIN(CASE WHEN {counted} THEN t.occurred_at END) AS first_touch_at,
               SUM(CASE WHEN ({counted}) AND t.occurred_at <= COALESCE(b.rejected_at, {at}) THEN 1 ELSE 0 END)
                   AS contact_attempts
        FROM sla_base b
        JOIN {ctx.table(CANONICAL_ACTIVITIES.name)} t ON t.person_key = b.person_key
        WHERE t.counts_as_touch AND t.occurred_at IS NOT NULL AND t.occurred_at <= {at}
        GROUP BY b.person_key
        """,
    )


def _create_conflicted(ctx: SqlContext) -> None:
    """People named in identity_conflicts.person_keys, split once (not a LIKE join per person)."""
    if not ctx.has_table(IDENTITY_CONFLICTS.name):
        ctx.temp("sla_conflicted", "SELECT CAST(NULL AS VARCHAR) AS person_key WHERE 1 = 0")
        return
    split = f"SELECT {ctx.split_list('person_keys')} AS person_key FROM {ctx.table(IDENTITY_CONFLICTS.name)}"
    ctx.temp("sla_conflicted", f"SELECT DISTINCT person_key FROM ({split}) s WHERE person_key <> ''")


def _business_minutes(durations: Iterable[Duration]) -> float:
    return max((d.minutes for d in durations if d.is_business), default=0.0)


def _create_range_calendar(ctx: SqlContext, defs: FunnelDefinitions, calendar: BusinessCalendar, now: datetime) -> None:
    """Segments covering every instant a clock or local day is taken of, through the latest deadline: the
    longest business duration added to the latest start on the reference calendar bounds them all."""
    instants = ("created_at", "mql_at", "audited_at", "ft_start_at")
    lows = ", ".join(f"MIN({c})" for c in instants)
    highs = ", ".join(f"MAX({c})" for c in instants)
    row = ctx.rows(
        f"SELECT {lows}, {highs}, MIN(first_touch_at), MAX(first_touch_at) "
        "FROM sla_base b LEFT JOIN sla_touch_counts t ON t.person_key = b.person_key"
    )[0]
    known = [v for v in row if v is not None] + [now]
    first, last = min(known), max(known)
    policy = defs.sla
    longest = _business_minutes(
        (policy.first_touch.inside_hours, policy.first_touch.outside_hours, policy.accept_reject.deadline)
    )
    latest_due = calendar.add_business_minutes(last.replace(tzinfo=UTC), longest)
    create_calendar(ctx, calendar, first, max(last, _naive(latest_due)))


def _create_clocks(ctx: SqlContext) -> None:
    """Business clocks of the SLA starts (the audited MQL, the first-touch clock) and the first touch; local
    days of creation and MQL. Minutes to ``as_of`` are never reported (only to a first touch), so ``as_of``
    needs no clock."""
    ctx.temp(
        "sla_clocked",
        f"""
        SELECT b.*, t.first_touch_at, COALESCE(t.contact_attempts, 0) AS contact_attempts,
               {clock(ctx, "sa", "b.audited_at")} AS audited_clock,
               {clock(ctx, "ss", "b.ft_start_at")} AS ft_start_clock, ss.is_open AS ft_start_open,
               {clock(ctx, "sf", "t.first_touch_at")} AS touch_clock,
               sc.local_date AS created_local, sm.local_date AS mql_local
        FROM sla_base b
        LEFT JOIN sla_touch_counts t ON t.person_key = b.person_key
        {clock_join("sa", "b.audited_at")}
        {clock_join("ss", "b.ft_start_at")}
        {clock_join("sf", "t.first_touch_at")}
        {clock_join("sc", "b.created_at")}
        {clock_join("sm", "b.mql_at")}
        """,
    )


def _opening_join(alias: str, target: str) -> str:
    """Like ``deadline_join`` but half-open the other way: a zero-minute deadline is the start itself when
    working, else the next opening (``add_business_minutes(start, 0)``), not the previous close."""
    return (
        f"LEFT JOIN {OPEN_BUCKETS} {alias} ON {alias}.bucket = CAST(FLOOR(({target}) / {BUCKET_MINUTES}) AS BIGINT) "
        f"AND ({target}) >= {alias}.cum_from AND ({target}) < {alias}.cum_to"
    )


def _deadline(ctx: SqlContext, duration: Duration, alias: str, start: str) -> tuple[str, str]:
    """(join clause, expression) of ``sla.deadline`` from ``c.<start>_at`` (its business clock
    ``c.<start>_clock``): a business duration is a clock look-up; a calendar duration is plain elapsed time."""
    if not duration.is_business:
        return "", ctx.plus_seconds(f"c.{start}_at", literal(float(duration.minutes * 60)))
    target = f"c.{start}_clock + {literal(float(duration.minutes))}"
    join = _opening_join(alias, target) if duration.minutes == 0 else deadline_join(alias, target)
    return join, deadline_at(ctx, alias, target)


def _month(local_day: str) -> str:
    return f"CAST(DATE_TRUNC('month', CAST({local_day} AS TIMESTAMP)) AS DATE)"


def _reason_expr() -> str:
    """``leads._reason``: Salesforce's first non-blank reason, else the HubSpot contact's property, else what
    its lead status implies; a value outside the map is ``unmapped``, a blank one no reason."""
    unmapped = literal(UNMAPPED)
    return f"""CASE
        WHEN d.sf_reason_raw IS NOT NULL THEN CASE WHEN d.sf_folded IS NULL THEN NULL
            ELSE COALESCE(rs.reason, {unmapped}) END
        WHEN d.has_contact THEN CASE
            WHEN d.hs_folded IS NOT NULL THEN COALESCE(rh.reason, {unmapped})
            ELSE rl.reason END
        END"""


def _final_select(ctx: SqlContext, defs: FunnelDefinitions, now: datetime) -> str:
    policy = defs.sla
    at = literal(now)
    inside_join, inside_due = _deadline(ctx, policy.first_touch.inside_hours, "sla_di", "ft_start")
    outside_join, outside_due = _deadline(ctx, policy.first_touch.outside_hours, "sla_do", "ft_start")
    ar_join, ar_due = _deadline(ctx, policy.accept_reject.deadline, "sla_dr", "audited")
    due = f"""
        SELECT c.*,
               CASE WHEN c.ft_start_at IS NOT NULL THEN
                   CASE WHEN c.ft_start_open THEN {inside_due} ELSE {outside_due} END END AS first_touch_due_at,
               CASE WHEN c.audited_at IS NOT NULL THEN {ar_due} END AS accept_reject_due_at,
               {ctx.fold("c.sf_reason_raw")} AS sf_folded, {ctx.fold("c.hs_reason_raw")} AS hs_folded,
               {ctx.fold("c.hs_lead_status")} AS status_folded
        FROM sla_clocked c
        {inside_join}
        {outside_join}
        {ar_join}
    """
    exempt = policy.disqualification.exempt_reasons
    applies = (
        "d.rejected_at IS NOT NULL"
        if not exempt
        else "d.rejected_at IS NOT NULL AND (reason IS NULL OR reason NOT IN ("
        + ", ".join(literal(r) for r in sorted(exempt))
        + "))"
    )
    minimum = policy.disqualification.min_attempts
    exits = ", ".join(literal(s) for s in EXIT_STAGES)
    reasoned = f"""
        SELECT d.*, {_reason_expr()} AS reason,
               CASE WHEN d.sf_reason_raw IS NOT NULL THEN d.sf_reason_raw
                    WHEN d.has_contact THEN d.hs_reason_raw END AS reason_raw
        FROM ({due}) d
        LEFT JOIN sla_reason_map rs ON rs.source = 'salesforce' AND rs.folded = d.sf_folded
        LEFT JOIN sla_reason_map rh ON rh.source = 'hubspot' AND rh.folded = d.hs_folded
        LEFT JOIN sla_reason_map rl ON rl.source = 'hubspot_lead_status' AND rl.folded = d.status_folded
    """
    if policy.accept_reject.reason_required:
        reason_status = f"""CASE WHEN d.rejected_at IS NULL THEN 'not_applicable'
            WHEN reason IS NULL OR reason = {literal(UNMAPPED)} THEN 'breached' ELSE 'met' END"""
    else:
        reason_status = "'not_applicable'"
    return f"""
        SELECT d.person_key,
               d.created_at, {_month("d.created_local")} AS cohort_month,
               d.mql_at, {_month("d.mql_local")} AS mql_month, d.mql_inferred,
               d.first_touch_at, d.sal_at AS accepted_at, d.rejected_at, d.sql_at,
               d.opportunity_at AS opportunity_created_at, d.won_at, d.lost_at,
               CASE WHEN d.won_at IS NOT NULL THEN 'won' WHEN d.lost_at IS NOT NULL THEN 'lost'
                    WHEN d.opportunity_at IS NOT NULL THEN 'open_opportunity'
                    WHEN d.current_stage IN ({exits}) THEN d.current_stage ELSE 'open' END AS outcome,
               reason AS disqualification_reason, reason_raw AS disqualification_reason_raw,
               d.contact_attempts, {minimum} AS contact_attempts_required,
               CASE WHEN d.ft_start_at IS NOT NULL AND d.first_touch_at IS NOT NULL
                    THEN {ctx.round("GREATEST(0.0, d.touch_clock - d.ft_start_clock)", 3)} END
                   AS business_minutes_to_first_touch,
               d.ft_start_from AS first_touch_clock_from, d.ft_start_at AS first_touch_clock_at,
               CASE WHEN d.ft_start_at IS NULL THEN 'not_applicable'
                    WHEN d.first_touch_at IS NOT NULL THEN
                        CASE WHEN d.first_touch_at <= d.first_touch_due_at THEN 'met' ELSE 'breached' END
                    WHEN {at} <= d.first_touch_due_at THEN 'pending' ELSE 'breached' END AS first_touch_sla_status,
               d.first_touch_due_at,
               CASE WHEN d.audited_at IS NULL THEN 'not_applicable'
                    WHEN d.decided_at IS NOT NULL AND d.decided_at <= {at} THEN
                        CASE WHEN d.decided_at <= d.accept_reject_due_at THEN 'met' ELSE 'breached' END
                    WHEN {at} <= d.accept_reject_due_at THEN 'pending' ELSE 'breached' END
                   AS accept_reject_sla_status,
               d.accept_reject_due_at,
               {reason_status} AS rejection_reason_sla_status,
               CASE WHEN NOT ({applies}) THEN 'not_applicable'
                    WHEN d.contact_attempts >= {minimum} THEN 'met' ELSE 'breached' END AS contact_attempts_sla_status,
               d.current_stage, d.regression_from_stage IS NOT NULL AS has_stage_regression,
               d.regression_from_stage, d.regression_to_stage, d.regressed_at, d.unmapped_values,
               k.person_key IS NOT NULL AS has_identity_conflict
        FROM ({reasoned}) d
        LEFT JOIN sla_conflicted k ON k.person_key = d.person_key
    """
