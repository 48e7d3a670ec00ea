"""The validated shared funnel definitions as frozen dataclasses (what ``definitions.yaml`` means once loaded).

Nothing here reads files: ``definitions.py`` builds these from the YAML, the pure functions of this package
(``icp``, ``scoring``, ``stages``, ``reasons``, ``touches``, ``business_time``, ``sla``) read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Literal

# The canonical funnel is the project's contract with its warehouse and dashboards, so it is fixed in code;
# the YAML only says how each CRM's values map onto it.
FUNNEL_STAGES: tuple[str, ...] = ("lead", "mql", "sal", "sql", "opportunity")
OUTCOME_STAGES: tuple[str, ...] = ("won", "lost")
# Exits leave the funnel without an outcome: sales rejected the lead (disqualified) or handed it back to
# marketing for nurture (recycled). They carry no rank: moving into one is not a regression.
EXIT_STAGES: tuple[str, ...] = ("disqualified", "recycled")
STAGES: tuple[str, ...] = FUNNEL_STAGES + OUTCOME_STAGES + EXIT_STAGES
STAGE_RANK: Mapping[str, int] = {**{s: i for i, s in enumerate(FUNNEL_STAGES)}, "won": 5, "lost": 5}

# Engagement kinds the pipeline knows how to derive from CRM data; the YAML gives their points.
ENGAGEMENT_KINDS: tuple[str, ...] = ("form_fill", "demo_request", "webinar", "email_reply", "page_view")
ICP_TIERS: tuple[str, ...] = ("A", "B", "C")
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DurationUnit = Literal["business_minutes", "business_hours", "calendar_minutes", "calendar_hours"]
DURATION_UNITS: tuple[str, ...] = ("business_minutes", "business_hours", "calendar_minutes", "calendar_hours")
ALERT_CHANNELS: tuple[str, ...] = ("slack", "email", "webhook")
FirstTouchClock = Literal["assignment", "mql"]
FIRST_TOUCH_CLOCKS: tuple[str, ...] = ("assignment", "mql")
# Which MQL instant the SLA clocks run from: the CRMs' (lifecycle/status dates), the shared score's
# (closed_loop_leads.score_mql_at), or the earlier of the two.
MqlSource = Literal["crm", "score", "earliest"]
MQL_SOURCES: tuple[str, ...] = ("crm", "score", "earliest")


@dataclass(frozen=True)
class NumberRange:
    """``min`` and ``max`` both inclusive; ``None`` leaves that side open (firmographic counts and amounts)."""

    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def overlaps(self, other: NumberRange) -> bool:
        lo = max(
            self.min if self.min is not None else float("-inf"), other.min if other.min is not None else float("-inf")
        )
        hi = min(
            self.max if self.max is not None else float("inf"), other.max if other.max is not None else float("inf")
        )
        return lo <= hi


@dataclass(frozen=True)
class Industry:
    """A canonical industry and the raw picklist values each CRM uses for it."""

    key: str
    salesforce: tuple[str, ...]
    hubspot: tuple[str, ...]


@dataclass(frozen=True)
class IcpTier:
    """All constrained attributes must match (AND); a list matches any of its values (OR); ``None`` = any."""

    tier: str
    industries: frozenset[str] | None
    employees: NumberRange | None
    annual_revenue: NumberRange | None
    countries: frozenset[str] | None


@dataclass(frozen=True)
class TitleRule:
    keywords: tuple[str, ...]
    points: float


@dataclass(frozen=True)
class SizeBand:
    employees: NumberRange
    points: float


@dataclass(frozen=True)
class ScoreBand:
    """``min`` inclusive, ``below`` exclusive, so decayed (fractional) scores always land in exactly one band."""

    name: str
    min: float | None
    below: float | None

    def contains(self, score: float) -> bool:
        return (self.min is None or score >= self.min) and (self.below is None or score < self.below)


@dataclass(frozen=True)
class LeadScoreDefs:
    title_rules: tuple[TitleRule, ...]
    size_bands: tuple[SizeBand, ...]
    industry_points: Mapping[str, float]
    engagement_points: Mapping[str, float]
    engagement_caps: Mapping[str, float]
    half_life_days: float
    mql_threshold: float
    bands: tuple[ScoreBand, ...]


@dataclass(frozen=True)
class StageMappings:
    """Raw CRM value -> canonical stage; ``None`` means "says nothing about the funnel" (e.g. subscriber)."""

    hubspot_lifecycle: Mapping[str, str | None]
    hubspot_lead_status: Mapping[str, str | None]
    hubspot_deal_stages: Mapping[str, str | None]
    salesforce_lead_status: Mapping[str, str | None]
    salesforce_converted: str
    salesforce_opportunity_stages: Mapping[str, str | None]


@dataclass(frozen=True)
class Reason:
    key: str
    label: str
    salesforce: tuple[str, ...]
    hubspot: tuple[str, ...]
    hubspot_lead_status: tuple[str, ...]


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: DurationUnit

    @property
    def minutes(self) -> float:
        return self.amount * (60 if self.unit.endswith("_hours") else 1)

    @property
    def is_business(self) -> bool:
        return self.unit.startswith("business_")


@dataclass(frozen=True)
class CalendarSpec:
    """``weekly[0]`` is Monday; each day holds sorted, non-overlapping (open, close) local wall times.

    A close of ``time(0)`` stands for 24:00 (the end of that day).
    """

    timezone: str
    weekly: tuple[tuple[tuple[time, time], ...], ...]
    holiday_country: str | None
    holiday_subdivision: str | None
    extra_holidays: frozenset[date]


@dataclass(frozen=True)
class FirstTouchPolicy:
    """``clock``: where the first-touch clock starts. ``assignment`` is when the MQL reached its owner (the
    later of the MQL and the owner assignment; the latest assignment when ``reassignment_restarts_clock``,
    else the first), ``mql`` the MQL itself. ``inside_hours`` applies when the clock started while the team
    was working, else ``outside_hours``."""

    inside_hours: Duration
    outside_hours: Duration
    clock: FirstTouchClock = "assignment"
    reassignment_restarts_clock: bool = False


@dataclass(frozen=True)
class AcceptRejectPolicy:
    deadline: Duration
    reason_required: bool


@dataclass(frozen=True)
class DisqualificationPolicy:
    """Every disqualification or rejection needs ``min_attempts`` touches, except for ``exempt_reasons``."""

    min_attempts: int
    exempt_reasons: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SalesforceTouchRules:
    task_subtypes: frozenset[str]
    task_statuses: frozenset[str]
    call_types: frozenset[str]
    events: bool


@dataclass(frozen=True)
class HubSpotTouchRules:
    call_directions: frozenset[str]
    call_statuses: frozenset[str]
    email_directions: frozenset[str]
    meeting_outcomes: frozenset[str]


@dataclass(frozen=True)
class TouchRules:
    salesforce: SalesforceTouchRules
    hubspot: HubSpotTouchRules


@dataclass(frozen=True)
class MqlCommitment:
    monthly_count: int
    min_score: float


@dataclass(frozen=True)
class Escalation:
    consecutive_breaches: int
    channel: str


@dataclass(frozen=True)
class SlaPolicy:
    calendar: CalendarSpec
    first_touch: FirstTouchPolicy
    accept_reject: AcceptRejectPolicy
    disqualification: DisqualificationPolicy
    touches: TouchRules
    mql_commitment: MqlCommitment
    escalation: Escalation
    mql_source: MqlSource = "crm"


# What crm-loop may write back into the CRMs: value key -> (closed_loop_leads column, kind). The definitions
# file maps CRM field names onto these keys; a key's value comes from that one column, formatted per its kind.
WritebackKind = Literal["text", "number", "date", "datetime"]
HUBSPOT_WRITEBACK_VALUES: Mapping[str, tuple[str, WritebackKind]] = {
    "current_stage": ("current_stage", "text"),
    "disqualification_reason": ("disqualification_reason", "text"),
    "sql_date": ("sql_at", "date"),
    "opportunity_date": ("opportunity_created_at", "date"),
    "won_date": ("won_at", "date"),
    "amount_won": ("amount", "number"),  # only when outcome = won (see pipelines.writeback.values)
    "first_touch_sla_status": ("first_touch_sla_status", "text"),
    "first_touch_business_minutes": ("business_minutes_to_first_touch", "number"),
    "icp_tier": ("icp_tier", "text"),
}
SALESFORCE_WRITEBACK_VALUES: Mapping[str, tuple[str, WritebackKind]] = {
    "lead_score": ("lead_score", "number"),
    "score_band": ("score_band", "text"),
    "score_mql_at": ("score_mql_at", "datetime"),
    "icp_tier": ("icp_tier", "text"),
    "hubspot_source": ("original_source", "text"),
    "hubspot_campaign": ("campaign_key", "text"),
}


@dataclass(frozen=True)
class WritebackField:
    """One CRM field crm-loop owns: ``field`` on ``object`` of ``system`` gets the value ``value``."""

    system: str
    object: str
    field: str
    value: str

    @property
    def kind(self) -> WritebackKind:
        values = HUBSPOT_WRITEBACK_VALUES if self.system == "hubspot" else SALESFORCE_WRITEBACK_VALUES
        return values[self.value][1]


@dataclass(frozen=True)
class WritebackDefs:
    """The only fields write-back ever writes; HubSpot properties it creates go into ``hubspot_group``."""

    hubspot_group: str
    fields: tuple[WritebackField, ...]

    def of(self, system: str, object: str) -> tuple[WritebackField, ...]:
        return tuple(f for f in self.fields if f.system == system and f.object == object)


@dataclass(frozen=True, eq=False)
class FunnelDefinitions:
    """Compared and hashed by identity (lookup indexes are cached per loaded file); compare
    ``content_sha256`` to know whether two loads mean the same thing."""

    version: str
    content_sha256: str
    source: str
    industries: Mapping[str, Industry]
    countries: Mapping[str, tuple[str, ...]]
    icp_tiers: tuple[IcpTier, ...]
    lead_score: LeadScoreDefs
    stages: StageMappings
    reasons: Mapping[str, Reason]
    sla: SlaPolicy
    # None when the file has no writeback section: write-back is then off (nothing may be written).
    writeback: WritebackDefs | None = None

    @property
    def content_hash(self) -> str:
        """Short form for run metadata and dashboards; ``content_sha256`` is the full digest."""
        return self.content_sha256[:12]
