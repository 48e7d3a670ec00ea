"""SLA rules on the default definitions' calendar (America/New_York, Mon-Fri 09:00-17:00, US holidays).

Default policy: first touch within 1 business hour when the MQL arrives inside hours, 8 business hours
outside; accept/reject within 24 business hours with a reason; 3 touches before an "unresponsive"
disqualification; 150 MQLs scoring >= 60 per month.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import Duration, Escalation, FirstTouchPolicy
from pipelines.funnel.reasons import UNMAPPED
from pipelines.funnel.sla import (
    accept_reject_outcome,
    audited_mql_at,
    decision_at,
    disqualification_attempts_outcome,
    first_touch_due,
    first_touch_outcome,
    mql_commitment_outcome,
    needs_escalation,
    rejection_reason_outcome,
)
from pipelines.funnel.stages import Observed, StageObservation, derive_journey

NY = ZoneInfo("America/New_York")
DEFS = load_definitions()
CAL = BusinessCalendar.from_spec(DEFS.sla.calendar)
FIRST_TOUCH = DEFS.sla.first_touch
ONE_HOUR_ALWAYS = FirstTouchPolicy(Duration(1, "business_hours"), Duration(1, "business_hours"))


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


def test_friday_1730_mql_touched_monday_0940_meets_a_one_hour_target() -> None:
    # Outside hours -> the 1-business-hour clock starts Mon 09:00, due 10:00; touched 09:40 = 40 business min.
    outcome = first_touch_outcome(ny(2026, 3, 6, 17, 30), ny(2026, 3, 9, 9, 40), ny(2026, 3, 10), CAL, ONE_HOUR_ALWAYS)
    assert (outcome.status, outcome.due_at, outcome.business_minutes) == ("met", ny(2026, 3, 9, 10), 40)


def test_outside_hours_target_of_the_default_file() -> None:
    # Fri 17:30 with 8 business hours: the whole of Monday 09:00-17:00 -> due Mon 17:00.
    assert first_touch_due(ny(2026, 3, 6, 17, 30), CAL, FIRST_TOUCH) == ny(2026, 3, 9, 17)
    # Calendar units are elapsed time: 24 calendar hours from Fri 17:30 EST is Sat 17:30 EST.
    policy = replace(FIRST_TOUCH, outside_hours=Duration(24, "calendar_hours"))
    assert first_touch_due(ny(2026, 3, 6, 17, 30), CAL, policy) == ny(2026, 3, 7, 17, 30)
    # ... and across the DST change 24 h from Sat 7 Mar 12:00 EST is Sun 8 Mar 13:00 EDT.
    assert first_touch_due(ny(2026, 3, 7, 12), CAL, policy) == ny(2026, 3, 8, 13)


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


def test_accept_reject_deadline_and_reason() -> None:
    policy = DEFS.sla.accept_reject
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


def test_minimum_attempts_before_disqualification() -> None:
    policy = DEFS.sla.disqualification  # 3 attempts, only for "unresponsive"
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
