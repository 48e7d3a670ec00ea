"""Canonical funnel stages from each CRM's values and histories: first reach, current stage, regressions.

Each CRM adapter (``hubspot_contact``, ``hubspot_deal``, ``salesforce_lead``, ``salesforce_opportunity``) turns
raw values into ``Observed``: timestamped canonical stage observations, each from a *signal* (one CRM field
whose successive values form a sequence), plus the raw values the definitions do not map. ``derive_journey``
merges any number of them (a Salesforce lead and its converted opportunity form one journey) by these rules:

First reach. A funnel stage (lead, mql, sal, sql, opportunity) counts as reached no later than the first time
any later stage was reached: a lead that went straight to SQL also passed MQL and SAL, so waterfall
conversion rates stay consistent. Such a stage is marked ``inferred`` when it was *skipped* (never observed),
observed only after a later stage, or *backfilled*: written by the same signal at the very instant of a later
stage, as CRMs do when they fill in skipped lifecycle dates (one field cannot really hold two values at once;
two signals can, e.g. a Salesforce conversion and the opportunity it creates). SLA audits skip inferred
MQLs: marketing never handed those over. Outcomes (won, lost) and exits (disqualified, recycled) are never
inferred.

Regressions. Within one signal, a move to a lower-ranked funnel stage is a regression (HubSpot lifecycle
SQL -> lead; a reopened Closed Won opportunity). Moves into or out of an exit are not regressions, but an
exit does not reset the comparison: SQL -> recycled -> lead reports SQL -> lead. Signals are compared only
with themselves because they legitimately disagree: HubSpot's lead status stays "CONNECTED" (SAL) long after
the lifecycle stage reached SQL.

Current stage. Observations are replayed in time order (same instant: lower rank first, exits last). An exit
always becomes current; after an exit any stage does. Otherwise the signal that set the current stage may
move it either way, and any other signal only forward.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pipelines.funnel.model import FUNNEL_STAGES, STAGE_RANK, STAGES, FunnelDefinitions

_EXIT_SORT = len(STAGES)  # exits sort after every ranked stage observed at the same instant


@dataclass(frozen=True)
class StageObservation:
    stage: str
    at: datetime
    signal: str


@dataclass(frozen=True)
class Observed:
    observations: tuple[StageObservation, ...]
    unmapped: tuple[str, ...] = ()  # "signal=value" for raw values the definitions file does not map


@dataclass(frozen=True)
class StageReach:
    stage: str
    at: datetime
    inferred: bool


@dataclass(frozen=True)
class Regression:
    from_stage: str
    to_stage: str
    at: datetime
    signal: str


@dataclass(frozen=True)
class Journey:
    reached: Mapping[str, StageReach]  # canonical order; only stages reached
    current: str | None
    regressions: tuple[Regression, ...]
    unmapped: tuple[str, ...] = field(default=())

    def reached_at(self, stage: str) -> datetime | None:
        reach = self.reached.get(stage)
        return reach.at if reach else None

    @property
    def inferred(self) -> tuple[str, ...]:
        return tuple(s for s, r in self.reached.items() if r.inferred)


# --- merging -----------------------------------------------------------------------------------------------
def _sort_key(indexed: tuple[int, StageObservation]) -> tuple[datetime, int, int]:
    i, obs = indexed
    return obs.at, STAGE_RANK.get(obs.stage, _EXIT_SORT), i


def derive_journey(*observed: Observed, as_of: datetime | None = None) -> Journey:
    """Times in the journey are UTC: comparing aware datetimes that share a zone ignores DST folds.

    With ``as_of`` the journey is the one known then: observations after it have not happened yet (no reach,
    no current stage, no regression from them); unmapped values are listed whenever they were written."""
    utc = (
        replace(o, at=o.at.astimezone(UTC))
        for obs in observed
        for o in obs.observations
        if as_of is None or o.at <= as_of
    )
    ordered = [o for _, o in sorted(enumerate(utc), key=_sort_key)]
    return Journey(
        reached=_first_reach(ordered),
        current=_current(ordered),
        regressions=_regressions(ordered),
        unmapped=tuple(dict.fromkeys(u for obs in observed for u in obs.unmapped)),
    )


def _first_reach(ordered: Sequence[StageObservation]) -> dict[str, StageReach]:
    first: dict[str, datetime] = {}
    signals_at_first: dict[str, set[str]] = {}
    for obs in ordered:
        if obs.stage not in first:
            first[obs.stage] = obs.at
        if obs.at == first[obs.stage]:
            signals_at_first.setdefault(obs.stage, set()).add(obs.signal)
    reached: dict[str, StageReach] = {}
    for stage in STAGES:
        seen = first.get(stage)
        later = [s for s in first if STAGE_RANK.get(s, -1) > STAGE_RANK.get(stage, len(STAGES))]
        if stage in FUNNEL_STAGES and later:
            bound = min(first[s] for s in later)
            backfilled = seen == bound and any(
                first[s] == bound and signals_at_first[s] & signals_at_first[stage] for s in later
            )
            if seen is None or seen > bound or backfilled:
                reached[stage] = StageReach(stage, bound, inferred=True)
                continue
        if seen is not None:
            reached[stage] = StageReach(stage, seen, inferred=False)
    return reached


def _current(ordered: Sequence[StageObservation]) -> str | None:
    current: str | None = None
    setter = ""
    for obs in ordered:
        rank = STAGE_RANK.get(obs.stage)
        if (
            rank is None
            or current is None
            or current not in STAGE_RANK
            or obs.signal == setter
            or rank >= STAGE_RANK[current]
        ):
            current, setter = obs.stage, obs.signal
    return current


def _regressions(ordered: Sequence[StageObservation]) -> tuple[Regression, ...]:
    last: dict[str, str] = {}  # signal -> last ranked stage
    out = []
    for obs in ordered:
        rank = STAGE_RANK.get(obs.stage)
        if rank is None:
            continue
        previous = last.get(obs.signal)
        if previous is not None and rank < STAGE_RANK[previous]:
            out.append(Regression(previous, obs.stage, obs.at, obs.signal))
        last[obs.signal] = obs.stage
    return tuple(out)


# --- adapters ----------------------------------------------------------------------------------------------
class _Collector:
    def __init__(self) -> None:
        self.observations: list[StageObservation] = []
        self.unmapped: list[str] = []

    def add(self, mapping: Mapping[str, str | None], value: str | None, at: datetime | None, signal: str) -> None:
        """Map one raw value; blanks are ignored, values mapped to ``null`` say nothing, unknown ones are kept."""
        if value is None or str(value).strip() == "" or at is None:
            return
        if value not in mapping:
            self.unmapped.append(f"{signal}={value}")
            return
        stage = mapping[value]
        if stage is not None:
            self.observations.append(StageObservation(stage, at, signal))

    def stage(self, stage: str, at: datetime | None, signal: str) -> None:
        if at is not None:
            self.observations.append(StageObservation(stage, at, signal))

    def result(self) -> Observed:
        return Observed(tuple(self.observations), tuple(dict.fromkeys(self.unmapped)))


def hubspot_lifecycle_date_property(value: str) -> str:
    return f"hs_lifecyclestage_{value}_date"


def hubspot_contact(
    defs: FunnelDefinitions,
    *,
    lifecycle_history: Iterable[tuple[str, datetime]] = (),
    lifecycle_dates: Mapping[str, datetime | None] | None = None,
    lead_status_history: Iterable[tuple[str, datetime]] = (),
) -> Observed:
    """A HubSpot contact: ``lifecyclestage`` history (value, timestamp), the ``hs_lifecyclestage_<value>_date``
    properties keyed by property name, and ``hs_lead_status`` history.

    The date properties and the history are one signal (both tell the lifecycle), so a stage found in both
    is not mistaken for a repeat; the lead status is a signal of its own.
    """
    out = _Collector()
    mapping = defs.stages.hubspot_lifecycle
    for value, at in lifecycle_history:
        out.add(mapping, value, at, "hubspot.lifecyclestage")
    for value in mapping:
        out.add(
            mapping,
            value,
            (lifecycle_dates or {}).get(hubspot_lifecycle_date_property(value)),
            "hubspot.lifecyclestage",
        )
    for value, at in lead_status_history:
        out.add(defs.stages.hubspot_lead_status, value, at, "hubspot.hs_lead_status")
    return out.result()


def hubspot_deal(defs: FunnelDefinitions, *, stage_history: Iterable[tuple[str, datetime]]) -> Observed:
    out = _Collector()
    for value, at in stage_history:
        out.add(defs.stages.hubspot_deal_stages, value, at, "hubspot.dealstage")
    return out.result()


@dataclass(frozen=True)
class FieldChange:
    """One Salesforce field-history row (LeadHistory): ``Field``, ``OldValue``, ``NewValue``, ``CreatedDate``."""

    field: str
    old: str | None
    new: str | None
    at: datetime


def salesforce_lead(
    defs: FunnelDefinitions,
    *,
    created_at: datetime,
    status: str | None,
    history: Iterable[FieldChange] = (),
    is_converted: bool = False,
    converted_date: date | None = None,
    mql_at: datetime | None = None,
    status_since: datetime | None = None,
) -> Observed:
    """A Salesforce Lead. Rules:
    - every Lead record is at least a ``lead`` from ``CreatedDate``;
    - the status it was created with is the first Status row's ``OldValue``; each row's ``NewValue`` holds
      from that row's time. Without Status rows (field history off) the current ``status`` is assumed to
      hold since ``status_since`` (default ``created_at``; pass LastModifiedDate for a conservative bound);
    - a conversion (a ``leadConverted`` row, else ``ConvertedDate`` at the start of that day in the SLA
      calendar's zone, since Salesforce stores only the date) means ``stages.salesforce.converted``;
    - ``mql_at`` (``MQL_Date__c``) marks the MQL.
    """
    out = _Collector()
    mapping, signal = defs.stages.salesforce_lead_status, "salesforce.Lead.Status"
    out.stage("lead", created_at, "salesforce.Lead")
    rows = sorted((h for h in history if h.field in ("Status", "leadConverted")), key=lambda h: h.at.astimezone(UTC))
    status_rows = [h for h in rows if h.field == "Status"]
    if status_rows:
        out.add(mapping, status_rows[0].old, created_at, signal)
    else:
        out.add(mapping, status, status_since or created_at, signal)
    converted_at: datetime | None = None
    for row in rows:
        if row.field == "Status":
            out.add(mapping, row.new, row.at, signal)
        elif converted_at is None:
            converted_at = row.at
    if converted_at is None and is_converted and converted_date is not None:
        converted_at = _start_of(converted_date, defs)
    out.stage(defs.stages.salesforce_converted, converted_at, signal)
    out.stage("mql", mql_at, "salesforce.Lead.MQL_Date__c")
    return out.result()


def salesforce_opportunity(
    defs: FunnelDefinitions,
    *,
    created_at: datetime,
    stage_name: str | None,
    stage_history: Iterable[tuple[str, datetime]] = (),
    is_closed: bool = False,
    is_won: bool = False,
    close_date: date | None = None,
) -> Observed:
    """A Salesforce Opportunity from OpportunityHistory (StageName, CreatedDate) rows.

    Without history the current ``StageName`` holds since ``created_at``. ``IsClosed``/``IsWon`` are the
    truth about the outcome whatever the stage is called: a closed opportunity whose history never showed
    won/lost gets that outcome at the start of ``CloseDate`` (calendar zone).
    """
    out = _Collector()
    mapping, signal = defs.stages.salesforce_opportunity_stages, "salesforce.Opportunity.StageName"
    rows = sorted(stage_history, key=lambda r: r[1].astimezone(UTC))
    for value, at in rows or [(stage_name or "", created_at)]:
        out.add(mapping, value, at, signal)
    outcome = ("won" if is_won else "lost") if is_closed else None
    if outcome and not any(o.stage == outcome for o in out.observations):
        out.stage(outcome, _start_of(close_date, defs) if close_date else (rows[-1][1] if rows else created_at), signal)
    return out.result()


def _start_of(day: date, defs: FunnelDefinitions) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(defs.sla.calendar.timezone))
