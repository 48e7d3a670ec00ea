"""Service-level rules between marketing and sales, each a pure function of timestamps and the policy.

Statuses: ``met`` (done in time), ``breached`` (done late, or not done and the deadline has passed),
``pending`` (not done, deadline not passed at ``as_of``), ``not_applicable`` (the rule does not apply, e.g.
never an MQL). A response stamped after ``as_of`` was not knowable then and counts as "not done yet", so an
audit replayed at any past instant gives what a live audit would have said.

``business_minutes`` is the working time from the start to the response, or to ``as_of`` while none came;
a response before the start counts as 0. The start is the MQL, except for the first touch, whose clock starts
at the assignment by default (``first_touch_clock``). Deadlines: a duration in business units is added on the
business calendar (outside hours the clock starts at the next opening); calendar units are plain elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import (
    AcceptRejectPolicy,
    DisqualificationPolicy,
    Duration,
    Escalation,
    FirstTouchPolicy,
    MqlCommitment,
    MqlSource,
)
from pipelines.funnel.reasons import UNMAPPED
from pipelines.funnel.stages import Journey

Status = Literal["met", "breached", "pending", "not_applicable"]


@dataclass(frozen=True)
class SlaOutcome:
    status: Status
    due_at: datetime | None
    business_minutes: float | None


NOT_APPLICABLE = SlaOutcome("not_applicable", None, None)


@dataclass(frozen=True)
class RuleOutcome:
    status: Status
    detail: str


@dataclass(frozen=True)
class AttemptsOutcome:
    status: Status
    attempts: int
    required: int


@dataclass(frozen=True)
class CommitmentOutcome:
    status: Status
    month: date  # first day of the month, in the calendar's zone
    count: int
    target: int
    min_score: float


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def deadline(start: datetime, duration: Duration, calendar: BusinessCalendar) -> datetime:
    if duration.is_business:
        return calendar.add_business_minutes(start, duration.minutes)
    return (_utc(start) + timedelta(minutes=duration.minutes)).astimezone(calendar.tz)


def _outcome(
    start: datetime, response_at: datetime | None, as_of: datetime, due: datetime, calendar: BusinessCalendar
) -> SlaOutcome:
    if response_at is not None and _utc(response_at) <= _utc(as_of):
        minutes = max(0.0, calendar.business_minutes_between(start, response_at))
        return SlaOutcome("met" if _utc(response_at) <= _utc(due) else "breached", due, minutes)
    minutes = max(0.0, calendar.business_minutes_between(start, as_of))
    return SlaOutcome("pending" if _utc(as_of) <= _utc(due) else "breached", due, minutes)


# --- first touch -------------------------------------------------------------------------------------------
def audited_mql_at(journey: Journey) -> datetime | None:
    """The MQL instant the SLAs run from; ``None`` when never an MQL or the MQL was inferred (skipped stage)."""
    reach = journey.reached.get("mql")
    return reach.at if reach is not None and not reach.inferred else None


def sla_mql_at(crm_mql_at: datetime | None, score_mql_at: datetime | None, source: MqlSource) -> datetime | None:
    """The MQL instant the SLA clocks run from (``sla.mql_source``): the CRMs' audited MQL (``audited_mql_at``),
    the instant the shared score reached the threshold, or the earlier of the two that exist."""
    if source == "crm":
        return crm_mql_at
    if source == "score":
        return score_mql_at
    known = [t for t in (crm_mql_at, score_mql_at) if t is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class ClockStart:
    at: datetime
    source: Literal["assignment", "mql"]  # "mql" also when the policy's clock is assignment but none is recorded


def first_touch_clock(mql_at: datetime, assignments: Iterable[datetime], policy: FirstTouchPolicy) -> ClockStart:
    """Where the first-touch clock starts. ``assignments``: the instants the lead's owner was assigned (known
    by the audit instant). With the ``assignment`` clock: the later of the MQL and the first assignment (the
    latest when ``reassignment_restarts_clock``), so an owner who already held the lead at the MQL is
    answerable from the MQL on; with no assignment recorded, the MQL."""
    known = sorted(assignments, key=_utc)
    if policy.clock == "mql" or not known:
        return ClockStart(mql_at, "mql")
    assigned = known[-1] if policy.reassignment_restarts_clock else known[0]
    return ClockStart(max(mql_at, assigned, key=_utc), "assignment")


def first_touch_due(start: datetime, calendar: BusinessCalendar, policy: FirstTouchPolicy) -> datetime:
    """``inside_hours`` applies when the clock started while the team was working, else ``outside_hours``."""
    target = policy.inside_hours if calendar.is_open(start) else policy.outside_hours
    return deadline(start, target, calendar)


def first_touch_outcome(
    start: datetime | None,
    first_touch_at: datetime | None,
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: FirstTouchPolicy,
) -> SlaOutcome:
    """``start``: the clock start (``first_touch_clock``), ``None`` when no SLA runs (no audited MQL);
    ``first_touch_at``: the first touch (see ``touches``) at or after the MQL."""
    if start is None:
        return NOT_APPLICABLE
    return _outcome(start, first_touch_at, as_of, first_touch_due(start, calendar, policy), calendar)


# --- accept / reject ---------------------------------------------------------------------------------------
def decision_at(journey: Journey) -> datetime | None:
    """When sales accepted (reached SAL, which a later stage implies) or rejected (disqualified/recycled)."""
    times = [journey.reached_at(s) for s in ("sal", "disqualified", "recycled")]
    known = [t for t in times if t is not None]
    return min(known, key=_utc) if known else None


def accept_reject_outcome(
    mql_at: datetime | None,
    decided_at: datetime | None,
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: AcceptRejectPolicy,
) -> SlaOutcome:
    if mql_at is None:
        return NOT_APPLICABLE
    return _outcome(mql_at, decided_at, as_of, deadline(mql_at, policy.deadline, calendar), calendar)


def rejection_reason_outcome(rejected: bool, reason: str | None, policy: AcceptRejectPolicy) -> RuleOutcome:
    """``reason`` as ``reasons`` maps it: ``None`` (blank) and ``UNMAPPED`` (not an agreed reason) breach."""
    if not rejected or not policy.reason_required:
        return RuleOutcome("not_applicable", "not rejected" if not rejected else "no reason required")
    if reason is None:
        return RuleOutcome("breached", "rejected without a reason")
    if reason == UNMAPPED:
        return RuleOutcome("breached", "rejected with a reason outside the agreed list")
    return RuleOutcome("met", reason)


# --- contact attempts before disqualification --------------------------------------------------------------
def disqualification_attempts_outcome(
    disqualified_at: datetime | None,
    reason: str | None,
    touch_times: Iterable[datetime],
    policy: DisqualificationPolicy,
    since: datetime | None = None,
) -> AttemptsOutcome:
    """Touches in [``since`` (the MQL, if given), ``disqualified_at``] against ``min_contact_attempts``.

    Every disqualification or rejection needs them (one without a reason, or with an unmapped one, too),
    except for the policy's ``exempt_reasons``.
    """
    if disqualified_at is None or (reason is not None and reason in policy.exempt_reasons):
        return AttemptsOutcome("not_applicable", 0, policy.min_attempts)
    end = _utc(disqualified_at)
    start = _utc(since) if since is not None else None
    attempts = sum(1 for t in touch_times if _utc(t) <= end and (start is None or _utc(t) >= start))
    return AttemptsOutcome("met" if attempts >= policy.min_attempts else "breached", attempts, policy.min_attempts)


# --- marketing's monthly MQL commitment --------------------------------------------------------------------
def mql_commitment_outcome(
    month: date,
    mqls: Iterable[tuple[datetime, float]],
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: MqlCommitment,
) -> CommitmentOutcome:
    """``mqls``: (MQL instant, score when it became an MQL). The month runs midnight to midnight in the
    calendar's zone; MQLs known by ``as_of`` with score >= ``min_score`` count. Met as soon as the target is
    reached, breached once the month ended short of it, pending before that."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = _utc(datetime.combine(first, time(0), calendar.tz))
    end = _utc(datetime.combine(following, time(0), calendar.tz))
    known = _utc(as_of)
    count = sum(1 for at, score in mqls if start <= _utc(at) < end and _utc(at) <= known and score >= policy.min_score)
    if count >= policy.monthly_count:
        status: Status = "met"
    else:
        status = "breached" if known >= end else "pending"
    return CommitmentOutcome(status, first, count, policy.monthly_count, policy.min_score)


# --- escalation --------------------------------------------------------------------------------------------
def needs_escalation(recent: Sequence[Status], policy: Escalation) -> bool:
    """True when the latest ``consecutive_breaches`` decided outcomes (oldest first; pending and
    not-applicable skipped) are all breaches."""
    decided = [s for s in recent if s in ("met", "breached")]
    n = policy.consecutive_breaches
    return n > 0 and len(decided) >= n and all(s == "breached" for s in decided[-n:])
