"""SLA rules on the default definitions' calendar (America/New_York, Mon-Fri 09:00-17:00, US holidays).

Shipped policy (the agreement): first touch within 1 business hour of assignment when the clock starts inside
hours, 24 calendar hours outside; accept/reject within 24 calendar hours of the MQL with a reason; 3 touches
before any disqualification; 150 MQLs scoring >= 60 per month. Tests written for the earlier file (8 business
hours outside, 24 business hours to decide, attempts for "unresponsive" only) pin those settings (``OLD_*``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import (
    AcceptRejectPolicy,
    DisqualificationPolicy,
    Duration,
    Escalation,
    FirstTouchPolicy,
)
from pipelines.funnel.reasons import UNMAPPED
from pipelines.funnel.sla import (
    accept_reject_outcome,
    audited_mql_at,
    decision_at,
    disqualification_attempts_outcome,
    first_touch_clock,
    first_touch_due,
    first_touch_outcome,
    mql_commitment_outcome,
    needs_escalation,
    rejection_reason_outcome,
    sla_mql_at,
)
from pipelines.funnel.stages import Observed, StageObservation, derive_journey

NY = ZoneInfo("America/New_York")
DEFS = load_definitions()
CAL = BusinessCalendar.from_spec(DEFS.sla.calendar)
FIRST_TOUCH = DEFS.sla.first_touch
ONE_HOUR_ALWAYS = FirstTouchPolicy(Duration(1, "business_hours"), Duration(1, "business_hours"))
OLD_FIRST_TOUCH = FirstTouchPolicy(Duration(1, "business_hours"), Duration(8, "business_hours"), clock="mql")
OLD_ACCEPT_REJECT = AcceptRejectPolicy(Duration(24, "business_hours"), reason_required=True)
OLD_DISQUALIFICATION = DisqualificationPolicy(3, exempt_reasons=frozenset(DEFS.reasons) - {"unresponsive"})


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


def test_friday_1730_mql_touched_monday_0940_meets_a_one_hour_target() -> None:
    # Outside hours -> the 1-business-hour clock starts Mon 09:00, due 10:00; touched 09:40 = 40 business min.
    outcome = first_touch_outcome(ny(2026, 3, 6, 17, 30), ny(2026, 3, 9, 9, 40), ny(2026, 3, 10), CAL, ONE_HOUR_ALWAYS)
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("met", ny(2026, 3, 9, 10), 40)


def test_outside_hours_target_of_the_earlier_file() -> None:
    # Fri 17:30 with 8 business hours: the whole of Monday 09:00-17:00 -> due Mon 17:00.
    assert first_touch_due(ny(2026, 3, 6, 17, 30), CAL, OLD_FIRST_TOUCH) == ny(2026, 3, 9, 17)


def test_outside_hours_target_of_the_shipped_file_is_24_calendar_hours() -> None:
    assert FIRST_TOUCH.outside_hours == Duration(24, "calendar_hours")
    # Calendar units are elapsed time: 24 calendar hours from Fri 17:30 EST is Sat 17:30 EST.
    assert first_touch_due(ny(2026, 3, 6, 17, 30), CAL, FIRST_TOUCH) == ny(2026, 3, 7, 17, 30)
    # ... and across the DST change 24 h from Sat 7 Mar 12:00 EST is Sun 8 Mar 13:00 EDT.
    assert first_touch_due(ny(2026, 3, 7, 12), CAL, FIRST_TOUCH) == ny(2026, 3, 8, 13)


def test_friday_1800_mql_touched_monday_1600_is_breached_under_the_shipped_defaults() -> None:
    # Due Sat 18:00 (24 calendar hours); Monday 09:00-16:00 = 420 business minutes to the touch.
    mql, touch = ny(2026, 10, 16, 18), ny(2026, 10, 19, 16)
    outcome = first_touch_outcome(mql, touch, ny(2026, 10, 20), CAL, FIRST_TOUCH)
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("breached", ny(2026, 10, 17, 18), 420)
    # The earlier file's 8 business hours allowed until Mon 17:00.
    assert first_touch_outcome(mql, touch, ny(2026, 10, 20), CAL, OLD_FIRST_TOUCH).status == "met"


def test_first_touch_clock_starts_at_assignment() -> None:
    mql = ny(2026, 10, 20, 10)
    # Assigned five hours after the MQL: the clock starts then.
    later = first_touch_clock(mql, [ny(2026, 10, 20, 15)], FIRST_TOUCH)
    assert (later.at, later.source) == (ny(2026, 10, 20, 15), "assignment")
    # The owner already held the lead (created Monday): answerable from the MQL, still "assignment".
    held = first_touch_clock(mql, [ny(2026, 10, 19, 10), ny(2026, 10, 20, 14)], FIRST_TOUCH)
    assert (held.at, held.source) == (mql, "assignment")
    # ... unless reassignments restart the clock: then the latest assignment (Tue 14:00) counts.
    restart = replace(FIRST_TOUCH, reassignment_restarts_clock=True)
    assert first_touch_clock(mql, [ny(2026, 10, 19, 10), ny(2026, 10, 20, 14)], restart).at == ny(2026, 10, 20, 14)
    # No assignment recorded: the MQL, and the source says so; the mql clock ignores assignments.
    assert first_touch_clock(mql, [], FIRST_TOUCH) == first_touch_clock(mql, [ny(2026, 10, 20, 15)], OLD_FIRST_TOUCH)
    assert first_touch_clock(mql, [], FIRST_TOUCH).source == "mql"
    # Assigned Tue 15:00, touched 15:45: 45 business minutes, met; from the MQL it would be 345, breached.
    start = first_touch_clock(mql, [ny(2026, 10, 20, 15)], FIRST_TOUCH).at
    met = first_touch_outcome(start, ny(2026, 10, 20, 15, 45), ny(2026, 10, 21), CAL, FIRST_TOUCH)
    assert (met.status, met.due_at, met.business_minutes) == ("met", ny(2026, 10, 20, 16), 45)
    late = first_touch_outcome(mql, ny(2026, 10, 20, 15, 45), ny(2026, 10, 21), CAL, FIRST_TOUCH)
    assert (late.status, late.business_minutes) == ("breached", 345)


def test_mql_evening_before_a_public_holiday() -> None:
    # Wed 25 Nov 2026 18:00, Thanksgiving Thu closed: 1-hour clock starts Fri 09:00, due 10:00.
    mql = ny(2026, 11, 25, 18)
    met = first_touch_outcome(mql, ny(2026, 11, 27, 9, 55), ny(2026, 11, 30), CAL, ONE_HOUR_ALWAYS)
    assert (met.status, met.due_at, met.business_minutes) == ("met", ny(2026, 11, 27, 10), 55)
    late = first_touch_outcome(mql, ny(2026, 11, 27, 10, 5), ny(2026, 11, 30), CAL, ONE_HOUR_ALWAYS)
    assert (late.status, late.business_minutes) == ("breached", 65)


def test_mql_inside_hours_breached_after_61_business_minutes() -> None:
    # Tue 7 Jul 10:00 (inside) -> due 11:00; touched 11:01 = 61 business minutes, one too many.
    outcome = first_touch_outcome(ny(2026, 7, 7, 10), ny(2026, 7, 7, 11, 1), ny(2026, 7, 8), CAL, FIRST_TOUCH)
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("breached", ny(2026, 7, 7, 11), 61)
    # Exactly at the deadline is still met.
    assert first_touch_outcome(ny(2026, 7, 7, 10), ny(2026, 7, 7, 11), ny(2026, 7, 8), CAL, FIRST_TOUCH).status == "met"


def test_mql_late_afternoon_rolls_into_next_morning() -> None:
    # Tue 16:30 inside hours: 30 min Tuesday + 30 min Wednesday -> due Wed 09:30.
    assert first_touch_due(ny(2026, 7, 7, 16, 30), CAL, FIRST_TOUCH) == ny(2026, 7, 8, 9, 30)


def test_pending_while_untouched_before_due_then_breached() -> None:
    mql = ny(2026, 7, 7, 10)
    pending = first_touch_outcome(mql, None, ny(2026, 7, 7, 10, 45), CAL, FIRST_TOUCH)
    assert (pending.status, pending.due_at, pending.business_minutes) == ("pending", ny(2026, 7, 7, 11), 45)
    # A touch that happened after as_of was not known then: still pending at 10:45.
    assert (
        first_touch_outcome(mql, ny(2026, 7, 7, 10, 50), ny(2026, 7, 7, 10, 45), CAL, FIRST_TOUCH).status == "pending"
    )
    overdue = first_touch_outcome(mql, None, ny(2026, 7, 7, 13), CAL, FIRST_TOUCH)
    assert (overdue.status, overdue.business_minutes) == ("breached", 180)


def test_not_applicable_when_never_an_mql_or_the_mql_was_skipped() -> None:
    assert first_touch_outcome(None, ny(2026, 7, 7, 10), ny(2026, 7, 8), CAL, FIRST_TOUCH).status == "not_applicable"
    # lead -> SQL directly: MQL is inferred, so no first-touch SLA runs from it.
    journey = derive_journey(
        Observed((StageObservation("lead", ny(2026, 7, 6, 9), "s"), StageObservation("sql", ny(2026, 7, 7, 9), "s")))
    )
    assert journey.reached["mql"].inferred and audited_mql_at(journey) is None


def test_accepted_48_calendar_hours_after_the_mql_is_breached() -> None:
    policy = DEFS.sla.accept_reject
    assert policy.deadline == Duration(24, "calendar_hours")
    mql = ny(2026, 10, 20, 10)  # Tue 10:00 -> due Wed 10:00
    outcome = accept_reject_outcome(mql, ny(2026, 10, 22, 10), ny(2026, 10, 23), CAL, policy)
    # Tue 10-17 (420) + Wed (480) + Thu 9-10 (60) business minutes.
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("breached", ny(2026, 10, 21, 10), 960)
    assert accept_reject_outcome(mql, ny(2026, 10, 21, 10), ny(2026, 10, 23), CAL, policy).status == "met"
    # The earlier 24 business hours (three working days) allowed until Fri 10:00.
    assert accept_reject_outcome(mql, ny(2026, 10, 22, 10), ny(2026, 10, 23), CAL, OLD_ACCEPT_REJECT).status == "met"


def test_accept_reject_deadline_and_reason() -> None:
    policy = OLD_ACCEPT_REJECT
    mql = ny(2026, 7, 6, 10)  # Mon 10:00 + 24 business hours = 3 working days -> Thu 9 Jul 10:00
    journey = derive_journey(
        Observed((StageObservation("mql", mql, "s"), StageObservation("disqualified", ny(2026, 7, 8, 15), "s")))
    )
    decided = decision_at(journey)
    outcome = accept_reject_outcome(mql, decided, ny(2026, 7, 10), CAL, policy)
    # Mon 10-17 (420) + Tue (480) + Wed 9-15 (360) = 1260 business minutes.
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("met", ny(2026, 7, 9, 10), 1260)
    assert accept_reject_outcome(mql, None, ny(2026, 7, 9, 10, 1), CAL, policy).status == "breached"
    assert rejection_reason_outcome(True, None, policy).status == "breached"
    assert rejection_reason_outcome(True, UNMAPPED, policy).status == "breached"
    assert rejection_reason_outcome(True, "no_budget", policy).status == "met"
    assert rejection_reason_outcome(False, None, policy).status == "not_applicable"
    assert rejection_reason_outcome(True, None, replace(policy, reason_required=False)).status == "not_applicable"


def test_rejected_after_one_call_for_no_need_is_an_attempts_breach() -> None:
    policy = DEFS.sla.disqualification  # 3 attempts before any disqualification, no exempt reason
    mql, call, dq = ny(2026, 10, 20, 11), ny(2026, 10, 20, 11, 30), ny(2026, 10, 20, 12)
    outcome = disqualification_attempts_outcome(dq, "no_need", [call], policy, since=mql)
    assert (outcome.status, outcome.attempts, outcome.required) == ("breached", 1, 3)
    # Without a reason (or with one outside the list) the attempts are needed all the same.
    assert disqualification_attempts_outcome(dq, None, [call], policy, since=mql).status == "breached"
    assert disqualification_attempts_outcome(dq, UNMAPPED, [call], policy, since=mql).status == "breached"
    exempt = replace(policy, exempt_reasons=frozenset({"bad_data", "not_icp"}))
    assert disqualification_attempts_outcome(dq, "bad_data", [call], exempt, since=mql).status == "not_applicable"
    assert disqualification_attempts_outcome(dq, "no_need", [call], exempt, since=mql).status == "breached"
    assert disqualification_attempts_outcome(dq, "no_need", [call], OLD_DISQUALIFICATION).status == "not_applicable"


def test_minimum_attempts_before_disqualification() -> None:
    policy = OLD_DISQUALIFICATION  # 3 attempts, only for "unresponsive"
    mql, dq = ny(2026, 7, 6, 10), ny(2026, 7, 10, 12)
    touches = [ny(2026, 7, 6, 9), ny(2026, 7, 6, 11), ny(2026, 7, 8, 11), ny(2026, 7, 13, 9)]
    # Only 2 touches fall between the MQL and the disqualification (one before, one after).
    short = disqualification_attempts_outcome(dq, "unresponsive", touches, policy, since=mql)
    assert (short.status, short.attempts, short.required) == ("breached", 2, 3)
    assert disqualification_attempts_outcome(dq, "unresponsive", touches, policy).status == "met"
    assert disqualification_attempts_outcome(dq, "no_budget", touches, policy, since=mql).status == "not_applicable"
    assert disqualification_attempts_outcome(None, "unresponsive", touches, policy).status == "not_applicable"


def test_monthly_mql_commitment() -> None:
    policy = replace(DEFS.sla.mql_commitment, monthly_count=3, min_score=60)
    mqls = [
        (ny(2026, 7, 1, 0, 30), 70.0),
        (ny(2026, 7, 10), 59.9),
        (ny(2026, 7, 15), 60.0),
        (datetime(2026, 8, 1, 3, tzinfo=ZoneInfo("UTC")), 80.0),  # 31 Jul 23:00 in New York: July
        (ny(2026, 8, 1, 0, 30), 90.0),
        (ny(2026, 6, 30, 23), 90.0),
    ]
    mid = mql_commitment_outcome(date(2026, 7, 20), mqls, ny(2026, 7, 20), CAL, policy)
    assert (mid.status, mid.month, mid.count) == ("pending", date(2026, 7, 1), 2)
    done = mql_commitment_outcome(date(2026, 7, 1), mqls, ny(2026, 8, 2), CAL, policy)
    assert (done.status, done.count) == ("met", 3)
    short = mql_commitment_outcome(date(2026, 7, 1), mqls, ny(2026, 8, 2), CAL, replace(policy, monthly_count=4))
    assert (short.status, short.count) == ("breached", 3)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (["breached", "breached", "breached"], True),
        (["breached", "pending", "breached", "not_applicable", "breached"], True),
        (["breached", "met", "breached", "breached"], False),
        (["breached", "breached"], False),
    ],
)
def test_escalation_after_consecutive_breaches(history: list[str], expected: bool) -> None:
    assert needs_escalation(history, Escalation(3, "email")) is expected  # type: ignore[arg-type]


def test_sla_mql_source_picks_the_crm_the_score_or_the_earlier_mql() -> None:
    crm, score = datetime(2026, 10, 6, 14, tzinfo=UTC), datetime(2026, 10, 2, 9, tzinfo=UTC)
    assert sla_mql_at(crm, score, "crm") == crm
    assert sla_mql_at(crm, score, "score") == score
    assert sla_mql_at(crm, score, "earliest") == score
    assert sla_mql_at(score, crm, "earliest") == score
    # A score that never reached the threshold leaves the CRM's MQL; no CRM MQL leaves the score's.
    assert sla_mql_at(crm, None, "earliest") == crm and sla_mql_at(None, score, "earliest") == score
    assert sla_mql_at(crm, None, "score") is None and sla_mql_at(None, None, "earliest") is None
