"""Service-level rules between marketing and sales, each a pure function of timestamps and the policy.

Statuses: ``met`` (done in time), ``breached`` (done late, or not done and the deadline has passed),
``pending`` (not done, deadline not passed at ``as_of``), ``not_applicable`` (the rule does not apply, e.g.
never an MQL). A response stamped after ``as_of`` was not knowable then and counts as "not done yet", so an
audit replayed at any past instant gives what a live audit would have said.

``business_minutes`` is the working time from the start (the MQL) to the response, or to ``as_of`` while
none came; a response before the start counts as 0. Deadlines: a duration in business units is added on the
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


def first_touch_due(mql_at: datetime, calendar: BusinessCalendar, policy: FirstTouchPolicy) -> datetime:
    """``inside_hours`` applies when the MQL arrived while the team was working, else ``outside_hours``."""
    target = policy.inside_hours if calendar.is_open(mql_at) else policy.outside_hours
    return deadline(mql_at, target, calendar)


def first_touch_outcome(
    mql_at: datetime | None,
    first_touch_at: datetime | None,
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: FirstTouchPolicy,
) -> SlaOutcome:
    """``first_touch_at``: the first touch (see ``touches``) at or after the MQL."""
    if mql_at is None:
        return NOT_APPLICABLE
    return _outcome(mql_at, first_touch_at, as_of, first_touch_due(mql_at, calendar, policy), calendar)


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

    Not applicable when not disqualified or when the policy names reasons and this one is not among them.
    """
    if disqualified_at is None or (policy.reasons is not None and reason not in policy.reasons):
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
