"""Business-time arithmetic, every figure worked out by hand in the comments.

Calendar unless said otherwise: America/New_York, Mon-Fri 09:00-17:00, US public holidays (2026: Independence
Day observed Fri 3 Jul, Thanksgiving Thu 26 Nov), DST starts Sun 8 Mar 2026 and ends Sun 1 Nov 2026.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pipelines.funnel.business_time import BusinessCalendar

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = ((time(9), time(17)),)
CAL = BusinessCalendar(NY, [NINE_TO_FIVE] * 5 + [(), ()], holiday_country="US")
ALL_DAY = BusinessCalendar(NY, [((time(0), time(0)),)] * 7)  # 24/7 desk: shows the raw DST day lengths


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


def test_friday_evening_to_monday_morning() -> None:
    # Fri 6 Mar 17:30 is after closing: nothing counts Friday; Sat/Sun closed; Mon 9 Mar 09:00-09:40 = 40 min.
    # (DST started on the Sunday in between; the 9-17 windows are wall-clock, so it changes nothing.)
    assert CAL.business_minutes_between(ny(2026, 3, 6, 17, 30), ny(2026, 3, 9, 9, 40)) == 40
    # 60 business minutes from Friday 17:30: the clock starts Monday 09:00 -> due Monday 10:00 EDT.
    assert CAL.add_business_minutes(ny(2026, 3, 6, 17, 30), 60) == ny(2026, 3, 9, 10, 0)


def test_evening_before_a_public_holiday() -> None:
    # Wed 25 Nov 18:00 is after hours and Thu 26 Nov is Thanksgiving (closed).
    # Next opening Fri 27 Nov 09:00; +60 min -> 10:00.
    assert CAL.add_business_minutes(ny(2026, 11, 25, 18), 60) == ny(2026, 11, 27, 10)
    # A rep answering on Thanksgiving itself: 0 business minutes have passed.
    assert CAL.business_minutes_between(ny(2026, 11, 25, 18), ny(2026, 11, 26, 12)) == 0
    # Thu 2 Jul 18:00, Fri 3 Jul is Independence Day (observed), weekend -> Mon 6 Jul 09:00 + 60 = 10:00.
    assert CAL.add_business_minutes(ny(2026, 7, 2, 18), 60) == ny(2026, 7, 6, 10)
    # 16:00 Thu to 10:00 Mon: 60 (Thu 16-17) + 0 (Fri holiday) + 60 (Mon 9-10) = 120.
    assert CAL.business_minutes_between(ny(2026, 7, 2, 16), ny(2026, 7, 6, 10)) == 120


def test_without_holidays_the_same_evening_is_due_on_the_holiday() -> None:
    plain = BusinessCalendar(NY, [NINE_TO_FIVE] * 5 + [(), ()])
    assert plain.add_business_minutes(ny(2026, 11, 25, 18), 60) == ny(2026, 11, 26, 10)


def test_march_dst_change() -> None:
    # 24/7 calendar: Sun 8 Mar 2026 00:00 -> Mon 00:00 is only 23 h (02:00 EST jumps to 03:00 EDT).
    assert ALL_DAY.business_minutes_between(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * 60
    # Adding 24 h of business time from Sun 00:00 lands on Mon 01:00 local, not midnight.
    assert ALL_DAY.add_business_minutes(ny(2026, 3, 8), 24 * 60) == ny(2026, 3, 9, 1)
    # 9-17 calendar: Fri 6 Mar 16:30 EST -> Mon 9 Mar 09:30 EDT = 30 + 30 = 60, although the UTC gap is
    # 2 days 16 h (21:30Z -> 13:30Z), one hour less than the wall-clock gap.
    assert CAL.business_minutes_between(ny(2026, 3, 6, 16, 30), ny(2026, 3, 9, 9, 30)) == 60


def test_november_dst_change() -> None:
    # Sun 1 Nov 2026 has 25 hours (01:00-02:00 happens twice).
    assert ALL_DAY.business_minutes_between(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * 60
    # Fri 30 Oct 16:00 EDT (20:00Z) -> Mon 2 Nov 10:00 EST (15:00Z): 60 + 60 = 120 business minutes.
    start = datetime(2026, 10, 30, 20, tzinfo=UTC)
    assert CAL.business_minutes_between(start, datetime(2026, 11, 2, 15, tzinfo=UTC)) == 120
    assert CAL.add_business_minutes(start, 120) == ny(2026, 11, 2, 10)


def test_lead_stamped_in_berlin_against_a_new_york_calendar() -> None:
    # Tue 10 Mar 2026 15:30 in Berlin: Berlin is still on CET (UTC+1, its DST starts 29 Mar) but New York is
    # already on EDT (UTC-4), so the gap is 5 h, not the usual 6: 14:30Z = 10:30 New York, inside hours.
    mql = datetime(2026, 3, 10, 15, 30, tzinfo=BERLIN)
    assert CAL.is_open(mql)
    assert CAL.business_minutes_between(mql, ny(2026, 3, 10, 11)) == 30
    assert CAL.add_business_minutes(mql, 60) == ny(2026, 3, 10, 11, 30)
    # 18:30 Berlin on Wed 4 Mar (CET vs EST, 6 h) = 12:30 New York.
    assert CAL.business_minutes_between(datetime(2026, 3, 4, 18, 30, tzinfo=BERLIN), ny(2026, 3, 4, 13)) == 30


def test_long_spans_and_edges() -> None:
    # A whole 2026 week of Mon 6 Jul .. Mon 13 Jul: 5 days x 480 = 2400 (no holiday that week).
    assert CAL.business_minutes_between(ny(2026, 7, 6), ny(2026, 7, 13)) == 2400
    # Reversed order is negative; identical instants are zero.
    assert CAL.business_minutes_between(ny(2026, 7, 13), ny(2026, 7, 6)) == -2400
    assert CAL.business_minutes_between(ny(2026, 7, 6, 10), ny(2026, 7, 6, 10)) == 0
    # A window used up exactly ends at closing, not the next morning; 17:00 itself is closed.
    assert CAL.add_business_minutes(ny(2026, 7, 6, 16), 60) == ny(2026, 7, 6, 17)
    assert not CAL.is_open(ny(2026, 7, 6, 17)) and CAL.is_open(ny(2026, 7, 6, 9))
    assert CAL.next_opening(ny(2026, 7, 6, 17)) == ny(2026, 7, 7, 9)
    # Seconds count exactly: 09:00:30 -> 09:01:00 is half a minute.
    assert CAL.business_minutes_between(ny(2026, 7, 6, 9, 0, 30), ny(2026, 7, 6, 9, 1)) == 0.5
    # A year of business time (250 days x 480 min) is computed day by day, not minute by minute.
    due = CAL.add_business_minutes(ny(2026, 1, 2, 9), 250 * 480)
    assert CAL.business_minutes_between(ny(2026, 1, 2, 9), due) == pytest.approx(250 * 480)


def test_split_days_and_extra_company_holidays() -> None:
    lunch = BusinessCalendar(
        NY, [((time(9), time(12)), (time(13), time(17)))] * 5 + [(), ()], extra_holidays=[ny(2026, 12, 24).date()]
    )
    # 11:30 + 60 min: 30 before lunch, 30 after -> 13:30.
    assert lunch.add_business_minutes(ny(2026, 7, 6, 11, 30), 60) == ny(2026, 7, 6, 13, 30)
    # Wed 23 Dec 16:30 + 60: 30 on Wednesday, Thu 24 Dec is a company holiday -> Fri 25 Dec 09:30
    # (no public holidays configured on this calendar, so Christmas is a working day here).
    assert lunch.add_business_minutes(ny(2026, 12, 23, 16, 30), 60) == ny(2026, 12, 25, 9, 30)


def test_naive_timestamps_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        CAL.business_minutes_between(datetime(2026, 7, 6, 9), ny(2026, 7, 6, 10))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_minutes(ny(2026, 7, 6, 9), -1)
    assert CAL.add_business_minutes(ny(2026, 7, 6, 9) - timedelta(hours=1), 0) == ny(2026, 7, 6, 9)
