"""One person's path through the funnel, as CRM-neutral events: the story both CRMs' records are drawn from.

A story is simulated forward from the person's creation and cut at the anchor, so whatever would happen later
simply has not happened yet (open leads, open opportunities). Planted problems are decided while simulating
and kept only when they fully happened before the anchor, so the manifest never lists a problem the data
does not show.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sandbox.data.names import JOB_TITLES, US_STATES_EAST, US_STATES_WEST, PersonName
from sandbox.data.reference import Campaign, Company, Rep, Team
from sandbox.data.worktime import WorkCalendar, local_date

# Salesforce and HubSpot disqualification reasons are index-aligned in the two schema modules.
EARLY_REJECT_REASONS = (4, 5, 6, 7, 2)  # Competitor, Unresponsive, Bad Data, Not ICP, No Need
LATE_REJECT_REASONS = (0, 1, 2, 3, 4)  # No Budget, No Authority, No Need, Bad Timing, Competitor
BAD_TIMING = 3
OPEN_STAGES = ("Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote", "Negotiation/Review")
LOSS_REASONS = ("Price", "Competitor", "No Decision", "Timing", "Product Gap")
SOURCES = (  # (HubSpot original source, weight, campaign type that explains it or None)
    ("ORGANIC_SEARCH", 24, None),
    ("PAID_SEARCH", 14, "Advertisement"),
    ("EMAIL_MARKETING", 10, "Email"),
    ("SOCIAL_MEDIA", 8, None),
    ("REFERRALS", 8, None),
    ("OTHER_CAMPAIGNS", 12, "Webinar"),
    ("DIRECT_TRAFFIC", 12, None),
    ("OFFLINE", 7, "Conference"),
    ("PAID_SOCIAL", 5, "Advertisement"),
)
DRILL_DOWNS = {
    "ORGANIC_SEARCH": (("google", "bing", "duckduckgo"), ("crm analytics", "lead sla", "revops dashboard", None)),
    "PAID_SEARCH": (("google", "bing"), ("crm funnel tool", "lead routing software")),
    "EMAIL_MARKETING": (("Monthly newsletter", "Product update"), (None,)),
    "SOCIAL_MEDIA": (("LinkedIn", "Twitter", "YouTube"), (None,)),
    "REFERRALS": (("g2.com", "capterra.com", "partner.example.org"), (None,)),
    "OTHER_CAMPAIGNS": (("webinar",), (None,)),
    "DIRECT_TRAFFIC": ((None,), (None,)),
    "OFFLINE": (("IMPORT", "CRM_UI"), ("trade show list", "event scan", None)),
    "PAID_SOCIAL": (("LinkedIn", "Facebook"), ("lead gen form", None)),
}
CampaignLookup = Callable[[datetime, str], "Campaign | None"]
FORMS = ("Contact us", "Demo request", "Ebook download", "Webinar registration", "Newsletter signup", "Pricing page")


@dataclass(frozen=True)
class Rates:
    """Planted-problem rates. Each is the chance that a person the problem can apply to gets it; a person gets
    at most one problem, so realised rates run slightly below the configured ones.

    Applies to: every person (malformed_email, duplicate, orphan_activity); MQLs (missing_owner,
    never_contacted, late_first_touch, stage_regression); MQLs touched in time (late_accept_reject); leads
    rejected without being accepted (too_few_attempts); rejected or disqualified leads (rejected_without_reason).
    """

    never_contacted: float = 0.03
    late_first_touch: float = 0.10
    late_accept_reject: float = 0.05
    rejected_without_reason: float = 0.06
    too_few_attempts: float = 0.08
    missing_owner: float = 0.03
    stage_regression: float = 0.03
    duplicate: float = 0.02
    orphan_activity: float = 0.01
    malformed_email: float = 0.01

    @classmethod
    def none(cls) -> Rates:
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class FunnelParams:
    anchor: datetime
    history_days: int
    mql_rate: float
    accept_rate: float
    sql_rate: float
    win_rate: float
    min_attempts: int
    sla_minutes: int
    rates: Rates
    calendar: WorkCalendar
    outside_hours: int  # first touch: calendar hours when the clock starts outside working hours
    decide_hours: int  # accept or reject within this many calendar hours of the MQL
    opportunity_at_conversion: float  # of conversions: the opportunity is created by the conversion itself
    opportunity_later: float  # of conversions: created days later; the rest never get one (SQL, no opportunity)


@dataclass
class Activity:
    at: datetime
    channel: str  # call | email | reply | meeting | note | todo
    crm: str  # salesforce | hubspot
    rep: Rep
    result: str = ""  # calls: connected | voicemail | no_answer | busy; meetings: completed | no_show
    phase: str = "lead"  # lead | opportunity (activities logged against the opportunity's contact)
    seconds: int = 0
    subject: str = ""
    orphan: bool = False

    @property
    def is_touch(self) -> bool:
        """Outbound sales contact: what an SLA's first touch and a minimum-attempts rule count."""
        return self.channel in ("call", "email", "meeting")


@dataclass
class Story:
    index: int
    name: PersonName
    email: str
    title: str
    phone: str
    country: str
    state: str | None
    company: Company
    source: str
    drill_down: tuple[str | None, str | None]
    campaign: Campaign | None
    created_at: datetime
    lifecycle: list[tuple[str, datetime, str]] = field(default_factory=list)  # (stage, at, sourceType)
    lead_status: list[tuple[str, datetime, Rep | None]] = field(default_factory=list)
    sf_status: list[tuple[str, datetime, Rep]] = field(default_factory=list)  # changes after creation
    activities: list[Activity] = field(default_factory=list)
    page_views: int = 0
    form_submissions: int = 0
    forms: tuple[str, ...] = ()
    score: int = 0
    demo_requested: bool = False
    webinar_attended: bool = False
    mql_at: datetime | None = None
    owner: Rep | None = None  # record owner from the MQL hand-off (None: assignment failed)
    worker: Rep | None = None  # the SDR who actually works the lead
    reassigned_from: tuple[Rep, datetime] | None = None
    lead_created_at: datetime | None = None  # Salesforce lead created by the sync
    first_touch_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None  # rejected (never accepted) or disqualified (after acceptance)
    reason: int | None = None
    attempts_before_close: int = 0
    converted_at: datetime | None = None
    opportunity_at: datetime | None = None  # None: converted without an opportunity (or none by the anchor)
    accept_reject_late: bool = False  # decided after the accept/reject deadline, or undecided past it
    ae: Rep | None = None
    opp_stages: list[tuple[str, datetime]] = field(default_factory=list)
    amount: float = 0.0
    expected_close: date | None = None
    loss_reason: str | None = None
    planted: str | None = None
    planted_detail: dict[str, object] = field(default_factory=dict)
    duplicate_at: datetime | None = None

    @property
    def clean_email(self) -> str:
        return f"{self.name.local_part}@{self.company.domain}"

    @property
    def opened_by_conversion(self) -> bool:
        """The conversion itself created the opportunity (Salesforce's ConvertedOpportunityId), rather than an AE
        days later."""
        return self.opportunity_at is not None and self.opportunity_at == self.converted_at

    @property
    def outcome(self) -> str:
        if self.opp_stages:
            last = self.opp_stages[-1][0]
            return "won" if last == "Closed Won" else ("lost" if last == "Closed Lost" else "open_opportunity")
        if self.converted_at is not None:
            return "sql"
        if self.closed_at is not None:
            return "disqualified" if self.accepted_at else "rejected"
        if self.accepted_at is not None:
            return "working"
        if self.mql_at is not None:
            return "contacted" if self.first_touch_at else "not_contacted"
        return "not_mql"


class _Sim:
    """Simulates one person. Methods return False once the story has run into the anchor."""

    def __init__(self, rng: random.Random, params: FunnelParams, team: Team, story: Story) -> None:
        self.rng, self.p, self.team, self.s = rng, params, team, story
        self.anchor = params.anchor

    def draw(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def plant(self, kind: str, rate: float) -> bool:
        """Decide a funnel problem for this person, at most one per person."""
        if self.s.planted is None and self.draw(rate):
            self.s.planted = kind
            return True
        return False

    def later(self, start: datetime, minutes: float) -> datetime:
        """Working time: sales activity follows the team's calendar (the SLA's), holidays and days off."""
        return self.p.calendar.add_business_minutes(start, minutes)

    def crm_for(self, channel: str) -> str:
        share = {"call": 0.75, "email": 0.5, "reply": 0.5, "meeting": 0.6}.get(channel, 0.0)
        return "salesforce" if self.rng.random() < share else "hubspot"

    def act(self, at: datetime, channel: str, rep: Rep, result: str = "", phase: str = "lead") -> bool:
        if at > self.anchor:
            return False
        seconds = 0
        if channel == "call":
            seconds = self.rng.randint(120, 1_800) if result == "connected" else self.rng.randint(15, 60)
        elif channel == "meeting":
            seconds = self.rng.choice((1_800, 2_700, 3_600))
            if at + timedelta(seconds=seconds) > self.anchor:  # a meeting still running has not been logged yet
                return False
        self.s.activities.append(Activity(at, channel, self.crm_for(channel), rep, result, phase, seconds))
        return True

    def stage(self, stage: str, at: datetime, source: str) -> bool:
        if at > self.anchor:
            return False
        self.s.lifecycle.append((stage, at, source))
        return True

    # -- the funnel ------------------------------------------------------------------------------------------
    def run(self) -> None:
        s, rng, p = self.s, self.rng, self.p
        created_stage = "subscriber" if rng.random() < 0.3 else "lead"
        self.stage(created_stage, s.created_at, "IMPORT" if s.source == "OFFLINE" else "FORM")
        lead_at = s.created_at
        if created_stage == "subscriber":
            lead_at = s.created_at + timedelta(seconds=int(86_400 * rng.lognormvariate(math.log(7), 1.0)))
            if not self.stage("lead", lead_at, "AUTOMATION"):
                return
        if not self.draw(p.mql_rate):
            return
        fast = rng.random() < 0.4  # demo requests qualify at once; the rest cross the score threshold later
        delay = timedelta(
            seconds=rng.randint(60, 21_600) if fast else int(86_400 * rng.lognormvariate(math.log(5), 0.8))
        )
        mql_at = lead_at + delay
        if not self.stage("marketingqualifiedlead", mql_at, "AUTOMATION"):
            return
        s.mql_at = mql_at
        s.demo_requested = fast or rng.random() < 0.2
        s.lead_status.append(("NEW", mql_at, None))
        self.assign(mql_at)
        s.lead_created_at = mql_at + timedelta(seconds=rng.randint(20, 90))
        if s.lead_created_at > self.anchor:
            s.lead_created_at = None  # the sync has not run yet: no Salesforce lead
            return
        if self.never_contacted():
            return
        if not self.first_touch():
            return
        late_at = self.late_decision()
        if rng.random() < p.accept_rate:
            self.accepted_path(late_at)
        else:
            self.rejected_path(late_at)

    def assign(self, at: datetime) -> None:
        s, rng, team = self.s, self.rng, self.team
        region = "SDR West" if s.state in US_STATES_WEST else "SDR East"
        s.worker = rng.choice(team.sdrs[region])
        s.owner = s.worker
        if self.plant("missing_owner", self.p.rates.missing_owner):
            variant = "unassigned" if rng.random() < 0.5 else "inactive_owner"
            s.owner = None if variant == "unassigned" else team.inactive_sdr
            s.planted_detail = {"variant": variant}
        elif rng.random() < 0.08:
            # Round-robin corrections: the first owner hands the lead to a colleague before touching it.
            other = rng.choice(team.sdrs[region])
            if other is not s.worker:
                s.reassigned_from = (other, at)

    def never_contacted(self) -> bool:
        # Only MQLs well past their SLA by the anchor are planted; a fresh MQL without a touch is merely pending.
        if self.s.mql_at is not None and self.anchor - self.s.mql_at > timedelta(days=3):
            if self.plant("never_contacted", self.p.rates.never_contacted):
                self.s.reassigned_from = None
                return True
        return False

    def first_touch(self) -> bool:
        s, rng, p, cal = self.s, self.rng, self.p, self.p.calendar
        assert s.mql_at is not None and s.worker is not None and s.lead_created_at is not None
        # The shipped definitions run the clock from the assignment (the Lead's creation, a minute after the MQL;
        # the MQL itself for an unassigned lead) and give ``outside_hours`` calendar hours when it starts outside
        # working hours. Touches are placed so they classify the same whichever of the two starts the clock, and
        # under ``sla_minutes`` from the MQL whenever it arrived (the tests' aligned definitions).
        assigned = s.lead_created_at
        outside = not (cal.is_open(s.mql_at) and cal.is_open(assigned))
        within_a_day = assigned + timedelta(hours=p.outside_hours)
        touch_at = None
        if self.plant("late_first_touch", p.rates.late_first_touch):
            candidate = cal.add_business_minutes(s.mql_at, rng.uniform(p.sla_minutes * 1.5, p.sla_minutes * 24))
            if outside:
                candidate = max(candidate, cal.add_business_minutes(within_a_day, rng.uniform(5, 120)))
            if candidate <= self.anchor:
                touch_at = candidate
            else:
                s.planted = None
        if touch_at is None:
            # Within SLA; the lower bound keeps the touch after the lead exists in Salesforce (the sync lags up
            # to 90 s). A touch that business time would push past ``limit`` leaves no room to decide within the
            # accept/reject deadline: the rep on call touches the lead sooner, when the few business minutes
            # before ``limit`` (under ``sla_minutes``, or none) keep it within the first-touch SLA too.
            touch_at = cal.add_business_minutes(s.mql_at, rng.uniform(3, p.sla_minutes - 5))
            limit = s.mql_at + timedelta(hours=p.decide_hours) * 0.8
            if touch_at > limit:
                span = (limit - assigned).total_seconds()
                touch_at = (assigned + timedelta(seconds=rng.uniform(180, span))).replace(microsecond=0)
        if s.reassigned_from is not None:
            assert s.lead_created_at is not None
            previous, _ = s.reassigned_from
            when = (s.lead_created_at + (touch_at - s.lead_created_at) * rng.uniform(0.2, 0.8)).replace(microsecond=0)
            s.reassigned_from = (previous, when) if when <= self.anchor else None
        if touch_at > self.anchor:
            return False
        s.first_touch_at = touch_at
        return True

    def attempt(self, at: datetime, channel: str, connected: bool = False) -> bool:
        result = ""
        if channel == "call":
            result = "connected" if connected else self.rng.choice(("no_answer", "no_answer", "voicemail", "busy"))
        assert self.s.worker is not None
        return self.act(at, channel, self.s.worker, result)

    def late_decision(self) -> datetime | None:
        """When a lead decided late must be accepted or rejected at the earliest, or None for a clean one.

        Late means past ``decide_hours`` calendar hours AND as many business hours after the MQL, so either unit
        of the agreement judges it late. A lead touched too close to the deadline to decide in time (a planted
        late touch) is late too; any other lead is planted late_accept_reject at its rate.
        """
        s, rng, p = self.s, self.rng, self.p
        assert s.mql_at is not None and s.first_touch_at is not None
        due = s.mql_at + timedelta(hours=p.decide_hours)
        late_at = p.calendar.add_business_minutes(s.mql_at, p.decide_hours * 60 + rng.uniform(30, 600))
        if s.planted == "late_first_touch":
            if s.first_touch_at <= due - timedelta(hours=3):
                return None
            s.accept_reject_late = self.anchor > due  # else the lead is still pending at the anchor
            return late_at
        if late_at <= self.anchor and self.plant("late_accept_reject", p.rates.late_accept_reject):
            s.accept_reject_late = True
            return late_at
        return None

    def steps(self, start: datetime, gaps: list[float], late_at: datetime | None) -> list[datetime]:
        """Instants ``gaps`` business minutes apart after ``start``; the last is the accept/reject decision.

        A clean lead's steps are squeezed into calendar time before the deadline (the rep works on after hours)
        when business time would miss it; a late lead's decision waits until ``late_at``.
        """
        s, rng, p = self.s, self.rng, self.p
        assert s.mql_at is not None
        out, at = [], start
        for gap in gaps:
            at = self.later(at, gap)
            out.append(at)
        if late_at is not None:
            out[-1] = max(out[-1], late_at)
            return out
        by = s.mql_at + timedelta(hours=p.decide_hours) - timedelta(minutes=rng.uniform(10, 60))
        if out[-1] > by:
            span = by - start
            out = [(start + span * (n + 1) / len(gaps)).replace(microsecond=0) for n in range(len(gaps))]
        return out

    def rejected_path(self, late_at: datetime | None) -> None:
        s, rng, p = self.s, self.rng, self.p
        assert s.first_touch_at is not None and s.worker is not None
        attempts = p.min_attempts + rng.randint(0, 2)
        if p.min_attempts > 1 and self.plant("too_few_attempts", p.rates.too_few_attempts):
            attempts = rng.randint(1, p.min_attempts - 1)
        s.lead_status.append(("ATTEMPTED_TO_CONTACT", s.first_touch_at, s.worker))
        gaps = [rng.uniform(25, 110) for _ in range(attempts - 1)] + [rng.uniform(5, 60)]  # the last: to the close
        *later_attempts, closed_at = self.steps(s.first_touch_at, gaps, late_at)
        for n, at in enumerate([s.first_touch_at, *later_attempts]):
            if not self.attempt(at, "call" if n % 2 == 0 else "email"):
                self.unplant("too_few_attempts")
                return
        self.close(closed_at, EARLY_REJECT_REASONS, attempts)

    def unplant(self, *kinds: str) -> None:
        if self.s.planted in kinds:
            self.s.planted, self.s.planted_detail = None, {}

    def close(self, at: datetime, reasons: tuple[int, ...], attempts: int) -> None:
        s, rng = self.s, self.rng
        assert s.worker is not None
        if at > self.anchor:
            self.unplant("too_few_attempts")
            return
        s.closed_at, s.attempts_before_close = at, attempts
        s.reason = rng.choice(reasons)
        if self.plant("rejected_without_reason", self.p.rates.rejected_without_reason):
            s.reason = None
        status = "BAD_TIMING" if s.reason == BAD_TIMING else "UNQUALIFIED"
        s.lead_status.append((status, at, s.worker))
        s.sf_status.append(("Closed - Not Converted", at, s.worker))

    def accepted_path(self, late_at: datetime | None) -> None:
        s, rng, p = self.s, self.rng, self.p
        assert s.first_touch_at is not None and s.worker is not None
        misses = max(rng.randint(0, 2), 1 if late_at else 0)  # a late acceptance: the first call went unanswered
        if misses:
            s.lead_status.append(("ATTEMPTED_TO_CONTACT", s.first_touch_at, s.worker))
        calls = [s.first_touch_at]
        if misses:
            calls += self.steps(s.first_touch_at, [rng.uniform(20, 120) for _ in range(misses)], late_at)
        for n, at in enumerate(calls):
            if not self.attempt(at, "call", connected=n == misses):
                return
        s.accepted_at = at
        s.lead_status.append(("CONNECTED", at, s.worker))
        s.sf_status.append(("Working - Contacted", at, s.worker))
        touches = misses + 1
        if rng.random() < 0.3:
            self.act(at + timedelta(minutes=rng.randint(2, 20)), "note", s.worker)
        meeting_at = self.later(at, rng.uniform(1, 5) * 480)
        meeting_at = meeting_at.replace(minute=meeting_at.minute // 30 * 30, second=0, microsecond=0)
        if not self.act(at + timedelta(minutes=5), "todo", s.worker):
            return
        if not self.act(meeting_at, "meeting", s.worker, "completed" if rng.random() < 0.85 else "no_show"):
            return
        touches += 1
        at = meeting_at
        for _ in range(rng.randint(2, 5)):
            at = self.later(at, rng.uniform(1, 3) * 480)
            channel = rng.choice(("email", "email", "call"))
            if not self.attempt(at, channel, connected=rng.random() < 0.5):
                return
            touches += 1
            if rng.random() < 0.35 and not self.act(self.later(at, rng.uniform(30, 400)), "reply", s.worker):
                return
        decided = self.later(at, rng.uniform(60, 960))
        if rng.random() < p.sql_rate:
            self.convert(decided)
        else:
            self.close(decided, LATE_REJECT_REASONS, touches)

    def convert(self, at: datetime) -> None:
        s, rng, p = self.s, self.rng, self.p
        assert s.worker is not None
        if not self.stage("salesqualifiedlead", at, "CRM_UI"):
            return
        s.converted_at = at
        s.ae = s.company.ae
        if s.planted == "missing_owner":
            # Converting hands the person to an AE, which would repair the planted owner: keep this one clean.
            self.unplant("missing_owner")
            s.owner = s.worker
        s.sf_status.append(("Closed - Converted", at, s.worker))
        # Not every conversion opens an opportunity at once: some wait for the AE's discovery call days later,
        # and some SQLs never become one (converted to a contact only).
        draw = rng.random()
        if draw < p.opportunity_at_conversion:
            opened = at
        elif draw < p.opportunity_at_conversion + p.opportunity_later:
            opened = self.later(
                at + timedelta(days=min(30.0, rng.lognormvariate(math.log(5), 0.6))), rng.uniform(0, 480)
            )
        else:
            opened = None
        s.lead_status.append(("OPEN_DEAL" if opened == at else "IN_PROGRESS", at, s.worker))
        assert s.ae is not None
        if opened != at:
            self.discovery(at, opened)
        if opened is None or opened > self.anchor:
            return
        if opened != at:
            s.lead_status.append(("OPEN_DEAL", opened, s.ae))
        s.opportunity_at = at = opened
        base = 60_000 if s.company.segment == "AE Enterprise" else 15_000
        s.amount = float(round(base * rng.lognormvariate(0, 0.5), -2))
        cycle_days = rng.uniform(14, 90)
        won = rng.random() < p.win_rate
        reached = len(OPEN_STAGES) if won else rng.randint(1, len(OPEN_STAGES))
        steps = [*OPEN_STAGES[:reached], "Closed Won" if won else "Closed Lost"]
        planned_close = at + timedelta(days=cycle_days)
        s.expected_close = local_date(min(planned_close, self.anchor))
        if not won:
            s.loss_reason = rng.choice(LOSS_REASONS)
        self.stage("opportunity", at + timedelta(minutes=rng.randint(1, 10)), "AUTOMATION")
        for n, name in enumerate(steps):
            when = at if n == 0 else self.later(at + timedelta(days=cycle_days * n / len(steps)), rng.uniform(0, 240))
            if s.opp_stages:  # weekends can pull two planned steps onto one morning: keep them in order
                when = max(when, s.opp_stages[-1][1] + timedelta(minutes=rng.randint(5, 90)))
            if when > self.anchor:
                break
            s.opp_stages.append((name, when))
        cursor = at
        for _ in range(rng.randint(6, 16)):
            cursor = self.later(cursor, rng.uniform(0.5, 2.5) * 480 * cycle_days / 30)
            if s.opp_stages[-1][0].startswith("Closed") and cursor > s.opp_stages[-1][1]:
                break
            channel = rng.choice(("call", "email", "email", "meeting"))
            result = (
                ("connected" if rng.random() < 0.6 else "voicemail")
                if channel == "call"
                else ("completed" if channel == "meeting" else "")
            )
            if not self.act(cursor, channel, s.ae, result, phase="opportunity"):
                break
        last_stage, closed_at = s.opp_stages[-1]
        if last_stage == "Closed Won":
            self.stage("customer", closed_at + timedelta(minutes=rng.randint(1, 30)), "AUTOMATION")

    def discovery(self, start: datetime, opened: datetime | None) -> None:
        """The AE qualifies a new SQL before opening an opportunity, or tries a few times before it stalls."""
        s, rng = self.s, self.rng
        assert s.ae is not None
        at = start
        for _ in range(rng.randint(2, 4) if opened is None else rng.randint(1, 3)):
            at = self.later(at, rng.uniform(120, 1_440))
            if opened is not None and at >= opened:
                return
            channel = rng.choice(("call", "email", "meeting"))
            result = {"call": "connected" if rng.random() < 0.5 else "voicemail", "meeting": "completed"}.get(
                channel, ""
            )
            if not self.act(at, channel, s.ae, result):
                return

    def regress(self) -> None:
        """A bulk import or a misfiring workflow sets the stage back to 'lead' (HubSpot needs a clear first)."""
        s, rng = self.s, self.rng
        if s.mql_at is None or not self.plant("stage_regression", self.p.rates.stage_regression):
            return
        _, last_at, _ = s.lifecycle[-1]
        at = last_at + timedelta(seconds=rng.randint(86_400, 20 * 86_400))
        if at + timedelta(seconds=1) > self.anchor:
            self.unplant("stage_regression")
            return
        s.planted_detail = {
            "from_stage": s.lifecycle[-1][0],
            "to_stage": "lead",
            "regressed_at": at + timedelta(seconds=1),
        }
        s.lifecycle.append(("", at, "IMPORT"))
        s.lifecycle.append(("lead", at + timedelta(seconds=1), "IMPORT"))

    def data_problem(self) -> None:
        """Record-quality problems, decided before the funnel so they exclude the funnel problems."""
        r = self.p.rates
        for kind, rate in (
            ("malformed_email", r.malformed_email),
            ("duplicate", r.duplicate),
            ("orphan_activity", r.orphan_activity),
        ):
            if self.plant(kind, rate):
                return

    def finish_data_problem(self) -> None:
        s, rng = self.s, self.rng
        if s.planted == "malformed_email":
            s.email = malformed(s.clean_email, rng)
            s.planted_detail = {"clean_email": s.clean_email}
        elif s.planted == "duplicate":
            variant = "salesforce_lead" if s.lead_created_at and rng.random() < 0.5 else "hubspot_contact"
            at = (s.lead_created_at or s.created_at) + timedelta(seconds=rng.randint(86_400, 45 * 86_400))
            if at > self.anchor:
                self.unplant("duplicate")
                return
            s.duplicate_at, s.planted_detail = at, {"variant": variant}
        elif s.planted == "orphan_activity":
            region = "SDR West" if s.state in US_STATES_WEST else "SDR East"
            at = self.later(s.created_at, rng.uniform(60, 4_800))
            if at > self.anchor:
                self.unplant("orphan_activity")
                return
            crm = "salesforce" if rng.random() < 0.5 else "hubspot"
            s.activities.append(
                Activity(
                    at,
                    "call",
                    crm,
                    rng.choice(self.team.sdrs[region]),
                    "no_answer",
                    seconds=rng.randint(15, 60),
                    orphan=True,
                )
            )
            s.planted_detail = {"crm": crm}


def malformed(email: str, rng: random.Random) -> str:
    local, domain = email.split("@")
    return rng.choice(
        (
            f"{local}{domain}",  # the @ lost
            f"{local}@{domain.rsplit('.', 1)[0]}",  # no top-level domain
            f"{local}@@{domain}",
            f"{local} @{domain}",
            f"{local}@{domain}.",
        )
    )


def simulate(rng: random.Random, params: FunnelParams, team: Team, story: Story) -> Story:
    sim = _Sim(rng, params, team, story)
    sim.data_problem()
    sim.run()
    sim.regress()
    sim.finish_data_problem()
    story.score = rng.randint(60, 100) if story.mql_at else rng.randint(0, 59)
    story.activities.sort(key=lambda a: a.at)
    return story


def new_story(
    rng: random.Random,
    params: FunnelParams,
    index: int,
    name: PersonName,
    company: Company,
    campaigns_for: CampaignLookup,
) -> Story:
    """The person as marketing first sees them: identity, firmographics, source and engagement."""
    anchor = params.anchor
    created_at = (anchor - timedelta(seconds=rng.randint(600, params.history_days * 86_400))).replace(microsecond=0)
    source, _, campaign_type = rng.choices(SOURCES, weights=[w for _, w, _ in SOURCES])[0]
    first_options, second_options = DRILL_DOWNS[source]
    campaign = campaigns_for(created_at, campaign_type) if campaign_type else None
    drill = (rng.choice(first_options), rng.choice(second_options))
    if campaign is not None and source in ("OTHER_CAMPAIGNS", "EMAIL_MARKETING"):
        drill = (campaign.key, drill[1])
    us = company.country == "United States"
    state = rng.choice(US_STATES_EAST + US_STATES_WEST) if us else None
    story = Story(
        index=index,
        name=name,
        email="",
        title=rng.choice(JOB_TITLES),
        phone=f"+1 {rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"
        if us
        else f"+44 20 7946 {rng.randint(0, 9999):04d}",
        country=company.country,
        state=state,
        company=company,
        source=source,
        drill_down=drill,
        campaign=campaign,
        created_at=created_at,
    )
    story.email = story.clean_email
    story.page_views = int(rng.lognormvariate(math.log(6), 0.9))
    story.form_submissions = rng.randint(1, 4)
    story.forms = tuple(rng.choice(FORMS) for _ in range(story.form_submissions))
    story.webinar_attended = campaign is not None and campaign.type == "Webinar" and rng.random() < 0.7
    return story
