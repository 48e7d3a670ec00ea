"""The journey of every person (``leads.journey_of`` + ``funnel.stages.derive_journey``) as warehouse SQL.

Every value the reference adapters hand to ``_Collector.add``/``stage`` becomes one row of ``jr_calls``
(person, position, instant, mapping, raw value or fixed stage, signal). The position ``(blk, mrank, sub, pos)``
reproduces the order the reference concatenates observations in (HubSpot contact; Salesforce Leads, earliest
first; Opportunities, earliest first; HubSpot deals only without an Opportunity), which breaks ties in the
replay and orders the unmapped values. Joining the calls to the definitions' mapping tables yields the stage
observations (``jr_obs``) and the unmapped values; the journey is then:
  - first reach and inference: per-stage minima and a self-join of the signals seen at each first instant;
  - regressions: LAG over (person, signal) among ranked stages;
  - current stage: only observations after the person's last exit matter (an exit is always accepted and
    anything follows one), and the replay restarts at the last of them whose rank reaches every earlier one
    (accepted whatever the state); what follows it is replayed by a recursive CTE that advances every such
    person one observation per iteration.

Histories are ordered as the reference sees them: HubSpot property history by (changed_at, id) compared as
Python compares text; Salesforce histories stably by instant, i.e. in the order ``raw.read_frame`` reads rows
(``ORDER BY`` the id column, database collation).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from connectors.warehouse.logical_types import LogicalType
from pipelines.closed_loop.sql.context import SqlContext, Want, is_textual, literal
from pipelines.closed_loop.sql.members import MEMBERS, PERSON_DEALS
from pipelines.closed_loop.values import naive_utc
from pipelines.funnel.model import FUNNEL_STAGES, STAGE_RANK, STAGES, FunnelDefinitions
from pipelines.funnel.stages import hubspot_lifecycle_date_property

# Output columns (name -> logical type), the journeys contract.
JOURNEY_COLUMNS: Mapping[str, LogicalType] = {
    "person_key": "string",
    **{f"{s}_at": "timestamp" for s in STAGES},
    **{f"{s}_inferred": "boolean" for s in FUNNEL_STAGES},
    "current_stage": "string",
    "regression_from_stage": "string",
    "regression_to_stage": "string",
    "regressed_at": "timestamp",
    "unmapped_values": "string",
}

_LIFECYCLE = "hubspot.lifecyclestage"
_LEAD_STATUS = "hubspot.hs_lead_status"
_SF_STATUS = "salesforce.Lead.Status"
_OPP_STAGE = "salesforce.Opportunity.StageName"
_EXIT_SORT = len(STAGES)  # exits sort after every ranked stage observed at the same instant


def journeys_sql(ctx: SqlContext, defs: FunnelDefinitions, as_of: datetime | None = None) -> str:
    """One row per person in ``members`` with the columns of ``JOURNEY_COLUMNS``, as known at ``as_of`` (stage
    observations after it are left out, as ``derive_journey`` leaves them out).

    Reads the temp tables ``members`` and ``person_deals`` (``members.create_members``/``create_deals``, made
    once per build by the caller and shared with other models), the canonical tables through them and the raw
    histories; creates temp tables prefixed ``jr_``."""
    _create_mappings(ctx, defs)
    _create_calls(ctx, defs)
    _create_observations(ctx, as_of)
    _create_reach(ctx)
    _create_regressions(ctx)
    _create_current(ctx)
    _create_unmapped(ctx)
    return _select(ctx)


# --- inputs ------------------------------------------------------------------------------------------------
def _create_mappings(ctx: SqlContext, defs: FunnelDefinitions) -> None:
    """Raw value -> stage per mapping (NULL stage: mapped to "says nothing"), and the rank of each stage."""
    maps = {
        "lifecycle": defs.stages.hubspot_lifecycle,
        "lead_status": defs.stages.hubspot_lead_status,
        "deal": defs.stages.hubspot_deal_stages,
        "sf_status": defs.stages.salesforce_lead_status,
        "opp": defs.stages.salesforce_opportunity_stages,
    }
    ctx.values(
        "jr_maps",
        {"mapping": "text", "value": "text", "stage": "text"},
        [(name, value, stage) for name, mapping in maps.items() for value, stage in mapping.items()],
    )
    ctx.values(
        "jr_stages",
        {"stage": "text", "rnk": "integer", "sort_rank": "integer"},
        [(s, STAGE_RANK.get(s), STAGE_RANK.get(s, _EXIT_SORT)) for s in STAGES],
    )


def _verbatim(ctx: SqlContext, table: str, column: str) -> str:
    """A text column exactly as stored: the reference keys and compares some raw cells without trimming."""
    source = ctx.source_types(table).get(column)
    if is_textual(source):
        return f'"{column}"'
    return ctx.convert(column, source, "text")


def _history(ctx: SqlContext, table: str, verbatim: tuple[str, ...], converted: Mapping[str, Want]) -> str:
    """Live rows of a raw history table with an instant; ``verbatim`` text columns as stored."""
    if not ctx.has_table(table):
        return ctx.raw(table, {**dict.fromkeys(verbatim, "text"), **converted})
    types = ctx.source_types(table)
    parts = [f"{_verbatim(ctx, table, c)} AS {c}" for c in verbatim]
    parts += [f"{ctx.convert(c, types.get(c), want)} AS {c}" for c, want in converted.items()]
    deleted = ctx.convert("_is_deleted", types.get("_is_deleted"), "boolean")
    return f"(SELECT {', '.join(parts)} FROM {ctx.table(table)} WHERE {deleted} IS NOT TRUE)"


def _local_midnight(day: str, zone: str) -> str:
    """The UTC instant (naive) of local midnight starting ``day`` in ``zone`` (``stages._start_of``); the same
    syntax on both engines (DuckDB's through its bundled ICU extension)."""
    return f"((CAST({day} AS TIMESTAMP) AT TIME ZONE {literal(zone)}) AT TIME ZONE 'UTC')"


def _create_calls(ctx: SqlContext, defs: FunnelDefinitions) -> None:
    """``jr_calls``: every dated value the reference adapters would map or stage, with its position."""
    _create_hubspot_inputs(ctx)
    _create_lead_inputs(ctx)
    _create_opportunity_inputs(ctx)
    parts = [*_hubspot_calls(ctx, defs), *_lead_calls(defs), *_opportunity_calls(), *_deal_calls(defs)]
    # Both readers (observations, unmapped values) take only dated calls: an undated one (most contacts' stage
    # date properties are empty) would be written and read for nothing.
    ctx.temp("jr_calls", f"SELECT * FROM ({' UNION ALL '.join(parts)}) calls WHERE ts IS NOT NULL")
    _insert_outcomes(ctx, defs)


def _create_hubspot_inputs(ctx: SqlContext) -> None:
    """The person's HubSpot contact (lowest id) with its lifecycle and lead-status history rows."""
    ctx.temp(
        "jr_contact",
        f"SELECT person_key, source_id, lead_status, updated_at FROM {MEMBERS} "
        "WHERE kind = 'hubspot_contact' AND kind_rank = 1",
    )
    history = _history(
        ctx,
        "raw_hubspot__contact_property_history",
        ("id", "contact_id", "property", "value"),
        {"changed_at": "timestamp"},
    )
    ctx.temp(
        "jr_hs_history",
        f"""
        SELECT c.person_key, h.property, h.value, h.changed_at,
               ROW_NUMBER() OVER (PARTITION BY c.person_key, h.property
                                  ORDER BY h.changed_at, {ctx.sortable("h.id")}) AS pos
        FROM jr_contact c JOIN {history} h ON h.contact_id = c.source_id
        WHERE h.property IN ('lifecyclestage', 'hs_lead_status') AND h.changed_at IS NOT NULL
        """,
    )


def _hubspot_calls(ctx: SqlContext, defs: FunnelDefinitions) -> list[str]:
    contacts = "raw_hubspot__contacts"
    history = (
        "SELECT person_key, 1 AS blk, 0 AS mrank, CASE WHEN property = 'lifecyclestage' THEN 1 ELSE 3 END AS sub, "
        "pos, changed_at AS ts, CASE WHEN property = 'lifecyclestage' THEN 'lifecycle' ELSE 'lead_status' END "
        f"AS mapping, value, CAST(NULL AS VARCHAR) AS stage, CASE WHEN property = 'lifecyclestage' THEN "
        f"{literal(_LIFECYCLE)} ELSE {literal(_LEAD_STATUS)} END AS signal FROM jr_hs_history"
    )
    # Without any lead-status history the contact's current status holds since its last change.
    fallback = (
        "SELECT c.person_key, 1, 0, 3, 0, c.updated_at, 'lead_status', c.lead_status, CAST(NULL AS VARCHAR), "
        f"{literal(_LEAD_STATUS)} FROM jr_contact c "
        "WHERE c.lead_status IS NOT NULL AND c.lead_status <> '' AND c.updated_at IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM jr_hs_history h WHERE h.person_key = c.person_key AND h.property = 'hs_lead_status')"
    )
    parts = [history, fallback]
    types = ctx.source_types(contacts)
    dated = [
        (index, column, stage)
        for index, (value, stage) in enumerate(defs.stages.hubspot_lifecycle.items())
        if stage is not None and (column := hubspot_lifecycle_date_property(value)) in types
    ]
    if not dated:
        return parts
    # One join of the contact to its raw record carries every stage-date property; each stage's calls then
    # read that narrow table instead of joining the raw contacts once per stage.
    raw_id = ctx.convert("id", types.get("id"), "text")
    dates = ", ".join(f"{ctx.convert(column, types[column], 'timestamp')} AS d{index}" for index, column, _ in dated)
    ctx.temp(
        "jr_contact_dates",
        f"SELECT c.person_key, r.* FROM jr_contact c "
        f"JOIN (SELECT {raw_id} AS id, {dates} FROM {ctx.table(contacts)}) r ON r.id = c.source_id",
    )
    for index, _, stage in dated:
        parts.append(
            f"SELECT person_key, 1, 0, 2, {index}, d{index}, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), "
            f"{literal(stage)}, {literal(_LIFECYCLE)} FROM jr_contact_dates WHERE d{index} IS NOT NULL"
        )
    return parts


def _create_lead_inputs(ctx: SqlContext) -> None:
    """Live Leads with a creation instant, their LeadHistory rows and what each Lead's rows add up to."""
    ctx.temp(
        "jr_lead",
        f"SELECT person_key, kind_rank AS mrank, source_id, created_at, lead_status, updated_at, mql_at, "
        f"is_converted, converted_date FROM {MEMBERS} WHERE kind = 'salesforce_lead' AND created_at IS NOT NULL",
    )
    history = _history(
        ctx,
        "raw_salesforce__leadhistory",
        ("id", "leadid"),
        {"field": "text", "oldvalue": "text", "newvalue": "text", "createddate": "timestamp"},
    )
    ctx.temp(
        "jr_lead_history",
        f"""
        SELECT l.source_id AS lead_id, h.field, h.oldvalue, h.newvalue, h.createddate AS ts,
               ROW_NUMBER() OVER (PARTITION BY l.source_id, h.field ORDER BY h.createddate, h.id) AS pos
        FROM jr_lead l JOIN {history} h ON h.leadid = l.source_id
        WHERE h.createddate IS NOT NULL
        """,
    )
    ctx.temp(
        "jr_lead_summary",
        """
        SELECT lead_id,
               MAX(CASE WHEN field = 'Status' AND pos = 1 THEN 1 ELSE 0 END) AS has_status,
               MAX(CASE WHEN field = 'Status' AND pos = 1 THEN oldvalue END) AS first_old,
               MIN(CASE WHEN field = 'leadConverted' THEN ts END) AS converted_at
        FROM jr_lead_history GROUP BY lead_id
        """,
    )


def _lead_calls(defs: FunnelDefinitions) -> list[str]:
    null = "CAST(NULL AS VARCHAR)"
    converted_day = _local_midnight("l.converted_date", defs.sla.calendar.timezone)
    joined = "FROM jr_lead l LEFT JOIN jr_lead_summary s ON s.lead_id = l.source_id"
    return [
        f"SELECT person_key, 2, mrank, 0, 0, created_at, {null}, {null}, 'lead', 'salesforce.Lead' FROM jr_lead",
        # The status a Lead was created with: the first Status change's old value; without Status rows the
        # current status, since the last modification only when field history is off altogether.
        f"SELECT l.person_key, 2, l.mrank, 1, 0, CASE WHEN s.has_status = 1 THEN l.created_at "
        "ELSE COALESCE(CASE WHEN s.lead_id IS NULL THEN l.updated_at END, l.created_at) END, 'sf_status', "
        f"CASE WHEN s.has_status = 1 THEN s.first_old ELSE l.lead_status END, {null}, {literal(_SF_STATUS)} {joined}",
        f"SELECT l.person_key, 2, l.mrank, 2, h.pos, h.ts, 'sf_status', h.newvalue, {null}, {literal(_SF_STATUS)} "
        "FROM jr_lead l JOIN jr_lead_history h ON h.lead_id = l.source_id WHERE h.field = 'Status'",
        f"SELECT l.person_key, 2, l.mrank, 3, 0, COALESCE(s.converted_at, CASE WHEN l.is_converted THEN "
        f"{converted_day} END), {null}, {null}, {literal(defs.stages.salesforce_converted)}, "
        f"{literal(_SF_STATUS)} {joined}",
        f"SELECT person_key, 2, mrank, 4, 0, mql_at, {null}, {null}, 'mql', 'salesforce.Lead.MQL_Date__c' FROM jr_lead",
    ]


def _create_opportunity_inputs(ctx: SqlContext) -> None:
    """Live Opportunities with a creation instant and their stage rows (history, else the current stage)."""
    ctx.temp(
        "jr_opp",
        f"SELECT person_key, kind_rank AS mrank, source_id, created_at, stage_raw, is_closed, is_won, close_date "
        f"FROM {PERSON_DEALS} WHERE kind = 'salesforce_opportunity' AND created_at IS NOT NULL",
    )
    history = _history(
        ctx,
        "raw_salesforce__opportunityhistory",
        ("id", "opportunityid"),
        {"stagename": "text", "createddate": "timestamp"},
    )
    ctx.temp(
        "jr_opp_rows",
        f"""
        SELECT o.source_id AS opp_id, h.stagename AS value, h.createddate AS ts,
               ROW_NUMBER() OVER (PARTITION BY o.source_id ORDER BY h.createddate, h.id) AS pos
        FROM jr_opp o JOIN {history} h ON h.opportunityid = o.source_id
        WHERE h.createddate IS NOT NULL
        """,
    )
    ctx.execute(
        "INSERT INTO jr_opp_rows (opp_id, value, ts, pos) "
        "SELECT o.source_id, o.stage_raw, o.created_at, 0 FROM jr_opp o "
        "WHERE NOT EXISTS (SELECT 1 FROM jr_opp_rows r WHERE r.opp_id = o.source_id)"
    )


def _opportunity_calls() -> list[str]:
    return [
        f"SELECT o.person_key, 3, o.mrank, 1, r.pos, r.ts, 'opp', r.value, CAST(NULL AS VARCHAR), "
        f"{literal(_OPP_STAGE)} FROM jr_opp o JOIN jr_opp_rows r ON r.opp_id = o.source_id"
    ]


def _deal_calls(defs: FunnelDefinitions) -> list[str]:
    """HubSpot deals count only for people without any live Opportunity; a closed deal's stage is dated at local
    midnight of its close date, as a closed Opportunity's is."""
    close_day = _local_midnight("d.close_date", defs.sla.calendar.timezone)
    deals = (
        f"FROM {PERSON_DEALS} d WHERE d.kind = 'hubspot_deal' AND d.created_at IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM {PERSON_DEALS} o WHERE o.person_key = d.person_key AND o.kind = 'salesforce_opportunity')"
    )
    null = "CAST(NULL AS VARCHAR)"
    return [
        f"SELECT d.person_key, 4, d.kind_rank, 1, 0, COALESCE(CASE WHEN d.is_closed THEN {close_day} END, "
        f"d.created_at), 'deal', d.stage_raw, {null}, 'hubspot.dealstage' " + deals,
        f"SELECT d.person_key, 4, d.kind_rank, 2, 0, d.created_at, {null}, {null}, 'opportunity', "
        "'hubspot.deal.createdate' " + deals,
    ]


def _insert_outcomes(ctx: SqlContext, defs: FunnelDefinitions) -> None:
    """IsClosed/IsWon are the truth about the outcome when an Opportunity's stage rows never showed it."""
    close_day = _local_midnight("o.close_date", defs.sla.calendar.timezone)
    ctx.execute(
        f"""
        INSERT INTO jr_calls (person_key, blk, mrank, sub, pos, ts, mapping, value, stage, signal)
        SELECT o.person_key, 3, o.mrank, 2, 0, COALESCE({close_day}, r.last_at), NULL, NULL,
               CASE WHEN o.is_won THEN 'won' ELSE 'lost' END, {literal(_OPP_STAGE)}
        FROM jr_opp o
        JOIN (SELECT r.opp_id, MAX(r.ts) AS last_at,
                     MAX(CASE WHEN m.stage = 'won' THEN 1 ELSE 0 END) AS has_won,
                     MAX(CASE WHEN m.stage = 'lost' THEN 1 ELSE 0 END) AS has_lost
              FROM jr_opp_rows r LEFT JOIN jr_maps m ON m.mapping = 'opp' AND m.value = r.value
              GROUP BY r.opp_id) r ON r.opp_id = o.source_id
        WHERE o.is_closed AND (CASE WHEN o.is_won THEN r.has_won ELSE r.has_lost END) = 0
        """
    )


# --- the journey -------------------------------------------------------------------------------------------
def _create_observations(ctx: SqlContext, as_of: datetime | None) -> None:
    """``jr_obs``: the calls that name a stage by ``as_of``, numbered in replay order (``seq``)."""
    known = "" if as_of is None else f"AND c.ts <= {literal(naive_utc(as_of))}"
    ctx.temp(
        "jr_obs",
        f"""
        SELECT c.person_key, c.ts, s.stage, c.signal, s.rnk,
               ROW_NUMBER() OVER (PARTITION BY c.person_key
                                  ORDER BY c.ts, s.sort_rank, c.blk, c.mrank, c.sub, c.pos) AS seq
        FROM jr_calls c
        LEFT JOIN jr_maps m ON m.mapping = c.mapping AND m.value = c.value
        JOIN jr_stages s ON s.stage = COALESCE(c.stage, m.stage)
        WHERE c.ts IS NOT NULL {known}
        """,
    )


def _create_reach(ctx: SqlContext) -> None:
    """``jr_reach``: per person, first instant of every stage, the bound set by later stages and backfills."""
    ctx.temp(
        "jr_at_first",
        # A grouped minimum joined back: a window over (person, stage) would sort every observation.
        """
        SELECT DISTINCT o.person_key, o.stage, o.signal, o.rnk, o.ts
        FROM jr_obs o
        JOIN (SELECT person_key, stage, MIN(ts) AS first_at FROM jr_obs GROUP BY person_key, stage) f
          ON f.person_key = o.person_key AND f.stage = o.stage AND f.first_at = o.ts
        """,
    )
    # A funnel stage written by the same signal at the very instant of a later stage's first reach.
    ctx.temp(
        "jr_backfill",
        """
        SELECT DISTINCT a.person_key, a.stage
        FROM jr_at_first a JOIN jr_at_first b
          ON b.person_key = a.person_key AND b.signal = a.signal AND b.ts = a.ts AND b.rnk > a.rnk
        """,
    )
    firsts = [f"MIN(CASE WHEN f.stage = {literal(s)} THEN f.ts END) AS first_{s}" for s in STAGES]
    bounds = [
        f"MIN(CASE WHEN f.rnk > {STAGE_RANK[s]} THEN f.ts END) AS bound_{s}"
        for s in FUNNEL_STAGES  # ranks only grow along the funnel, so "later" is rank > this one's
    ]
    backfills = [f"MAX(CASE WHEN b.stage = {literal(s)} THEN 1 ELSE 0 END) AS backfill_{s}" for s in FUNNEL_STAGES]
    ctx.temp(
        "jr_reach",
        f"""
        SELECT f.person_key, {", ".join(firsts + bounds)} FROM jr_at_first f GROUP BY f.person_key
        """,
    )
    ctx.temp(
        "jr_backfills",
        f"SELECT b.person_key, {', '.join(backfills)} FROM jr_backfill b GROUP BY b.person_key",
    )


def _create_regressions(ctx: SqlContext) -> None:
    """``jr_regression``: each person's last move to a lower rank within one signal (exits skipped)."""
    moves = """
        SELECT person_key, stage, ts, rnk, seq,
               LAG(stage) OVER (PARTITION BY person_key, signal ORDER BY seq) AS from_stage,
               LAG(rnk) OVER (PARTITION BY person_key, signal ORDER BY seq) AS from_rnk
        FROM jr_obs WHERE rnk IS NOT NULL
    """
    latest = "-seq"  # seq is unique per person: the latest move has the smallest negated seq
    ctx.temp(
        "jr_regression",
        f"""
        SELECT person_key, {ctx.first_by("from_stage", latest)} AS from_stage,
               {ctx.first_by("stage", latest)} AS to_stage, {ctx.first_by("ts", latest)} AS ts
        FROM ({moves}) moves
        WHERE rnk < from_rnk
        GROUP BY person_key
        """,
    )


def _create_current(ctx: SqlContext) -> None:
    """``jr_current``: the replay's final stage.

    After the last exit (accepted, and accepting anything next) only ranked observations follow. One whose rank
    reaches every earlier rank of that stretch is accepted whatever the state (the current stage is one of
    those earlier ones), so the state after it does not depend on the history: the replay restarts at the last
    such observation, and only people with observations after it need the recursive replay."""
    ctx.temp(
        "jr_segment",
        """
        SELECT person_key, MAX(seq) AS last_seq, MAX(CASE WHEN rnk IS NULL THEN seq END) AS last_exit
        FROM jr_obs GROUP BY person_key
        """,
    )
    ctx.temp(
        "jr_tail",
        """
        SELECT o.person_key, o.seq, o.stage, o.rnk, o.signal,
               MAX(o.rnk) OVER (PARTITION BY o.person_key ORDER BY o.seq
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior_max
        FROM jr_obs o JOIN jr_segment g ON g.person_key = o.person_key
        WHERE o.seq > COALESCE(g.last_exit, 0)
        """,
    )
    ctx.temp(
        "jr_start",
        """
        SELECT t.person_key, MAX(t.seq) AS start_seq
        FROM jr_tail t JOIN jr_segment g ON g.person_key = t.person_key
        WHERE t.prior_max IS NULL OR t.rnk >= t.prior_max
        GROUP BY t.person_key HAVING MAX(t.seq) < MAX(g.last_seq)
        """,
    )
    ctx.temp(
        "jr_replay_rows",
        "SELECT t.person_key, t.seq, t.stage, t.rnk, t.signal FROM jr_tail t "
        "JOIN jr_start s ON s.person_key = t.person_key WHERE t.seq >= s.start_seq",
    )
    ctx.temp(
        "jr_replayed",
        """
        WITH RECURSIVE replay (person_key, seq, stage, rnk, signal) AS (
            SELECT r.person_key, r.seq, r.stage, r.rnk, r.signal
            FROM jr_replay_rows r JOIN jr_start s ON s.person_key = r.person_key AND r.seq = s.start_seq
            UNION ALL
            SELECT p.person_key, n.seq,
                   CASE WHEN n.signal = p.signal OR n.rnk >= p.rnk THEN n.stage ELSE p.stage END,
                   CASE WHEN n.signal = p.signal OR n.rnk >= p.rnk THEN n.rnk ELSE p.rnk END,
                   CASE WHEN n.signal = p.signal OR n.rnk >= p.rnk THEN n.signal ELSE p.signal END
            FROM replay p JOIN jr_replay_rows n ON n.person_key = p.person_key AND n.seq = p.seq + 1
        )
        SELECT r.person_key, r.stage FROM replay r
        JOIN jr_segment g ON g.person_key = r.person_key AND r.seq = g.last_seq
        """,
    )
    ctx.temp(
        "jr_current",
        """
        SELECT g.person_key, COALESCE(r.stage, o.stage) AS stage
        FROM jr_segment g
        JOIN jr_obs o ON o.person_key = g.person_key AND o.seq = g.last_seq
        LEFT JOIN jr_replayed r ON r.person_key = g.person_key
        """,
    )


def _create_unmapped(ctx: SqlContext) -> None:
    """``jr_unmapped``: "signal=value" for raw values the definitions do not map, in first-appearance order."""
    ctx.temp(
        "jr_unmapped_items",
        f"""
        SELECT c.person_key, c.signal || '=' || c.value AS item,
               ROW_NUMBER() OVER (PARTITION BY c.person_key, c.signal || '=' || c.value
                                  ORDER BY c.blk, c.mrank, c.sub, c.pos) AS occurrence,
               c.blk, c.mrank, c.sub, c.pos
        FROM jr_calls c LEFT JOIN jr_maps m ON m.mapping = c.mapping AND m.value = c.value
        WHERE c.mapping IS NOT NULL AND c.ts IS NOT NULL AND {ctx.clean("c.value")} IS NOT NULL
          AND m.mapping IS NULL
        """,
    )
    ctx.temp(
        "jr_unmapped",
        f"SELECT person_key, {ctx.string_agg('item', ',', 'blk, mrank, sub, pos')} AS unmapped_values "
        "FROM jr_unmapped_items WHERE occurrence = 1 GROUP BY person_key",
    )


def _select(ctx: SqlContext) -> str:
    reached = []
    for s in STAGES:
        if s not in FUNNEL_STAGES:
            reached.append(f"r.first_{s} AS {s}_at")
            continue
        inferred = (
            f"(r.bound_{s} IS NOT NULL AND (r.first_{s} IS NULL OR r.first_{s} > r.bound_{s} "
            f"OR (r.first_{s} = r.bound_{s} AND COALESCE(b.backfill_{s}, 0) = 1)))"
        )
        reached.append(f"CASE WHEN {inferred} THEN r.bound_{s} ELSE r.first_{s} END AS {s}_at")
        reached.append(f"COALESCE({inferred}, FALSE) AS {s}_inferred")
    return f"""
        SELECT p.person_key, {", ".join(reached)}, c.stage AS current_stage,
               g.from_stage AS regression_from_stage, g.to_stage AS regression_to_stage, g.ts AS regressed_at,
               u.unmapped_values
        FROM (SELECT DISTINCT person_key FROM {MEMBERS}) p
        LEFT JOIN jr_reach r ON r.person_key = p.person_key
        LEFT JOIN jr_backfills b ON b.person_key = p.person_key
        LEFT JOIN jr_current c ON c.person_key = p.person_key
        LEFT JOIN jr_regression g ON g.person_key = p.person_key
        LEFT JOIN jr_unmapped u ON u.person_key = p.person_key
    """
