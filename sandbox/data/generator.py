"""Deterministic B2B funnel data for both CRMs, streamed in chunks, with a manifest of what was planted.

Order of chunks: the sales team and campaigns, then companies/accounts, then people (``chunk_size`` per
chunk) with everything hanging off them. Every person draws from a random generator seeded by (seed, index),
so output depends only on the config, and memory stays flat however large ``size`` is.

The funnel, by default: 35% of people become MQLs; sales accepts 60% of the MQLs it touches and rejects the
rest; 40% of accepted leads convert (SQL); of conversions 55% open an opportunity at once, 25% open one days
later (a median of about five days, at most a month) and 20% never do (SQL without an opportunity); 25% of
opportunities are won. SLA timing follows ``calendar`` (by default the shipped definitions' sla.calendar: New
York, Mon-Fri 9-17, US holidays and the company days off): clean MQLs are first touched within
``sla_business_minutes`` of the MQL (within ``outside_hours`` calendar hours when the clock starts outside
working hours) and accepted or rejected within ``decide_hours`` calendar hours of the MQL, so the shipped
definitions flag only what the manifest lists.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sandbox.data import hubspot as render_hubspot
from sandbox.data import salesforce as render_salesforce
from sandbox.data.allocate import IdAllocator, PersonIds
from sandbox.data.funnel import FunnelParams, Rates, Story, new_story, simulate
from sandbox.data.manifest import Manifest
from sandbox.data.names import person_name
from sandbox.data.reference import (
    Company,
    Team,
    build_campaigns,
    build_company,
    build_team,
    campaign_for,
    company_count,
)
from sandbox.data.worktime import SHIPPED_CALENDAR, WorkCalendar
from sandbox.model.dataset import DatasetChunk
from sandbox.model.salesforce import DISQUALIFICATION_REASONS

PlantedRates = Rates


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int
    size: int  # people (HubSpot contacts)
    anchor: datetime  # aware; nothing generated happens after it
    rates: Rates = field(default_factory=Rates)
    history_days: int = 182
    mql_rate: float = 0.35
    accept_rate: float = 0.60
    sql_rate: float = 0.40  # of accepted leads
    win_rate: float = 0.25  # of opportunities
    min_attempts: int = 3  # contact attempts a rejection needs (fewer is the too_few_attempts problem)
    sla_business_minutes: int = 60
    outside_hours: int = 24  # first touch when the clock starts outside working hours, calendar hours
    decide_hours: int = 24  # accept or reject within this many calendar hours of the MQL
    opportunity_at_conversion: float = 0.55  # of conversions
    opportunity_later: float = 0.25  # of conversions; the rest stay SQLs without an opportunity
    calendar: WorkCalendar = SHIPPED_CALENDAR  # pass WorkCalendar.from_mapping(sla.calendar) for other definitions
    chunk_size: int = 5_000
    facts_limit: int = 20_000  # per-person facts for everyone up to this size, an even sample above

    def __post_init__(self) -> None:
        if self.anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
        if self.size < 0 or self.chunk_size < 1:
            raise ValueError("size must be >= 0 and chunk_size >= 1")
        if self.sla_business_minutes < 10:
            raise ValueError("sla_business_minutes below 10 leaves no room for on-time touches")
        if self.decide_hours < 8 or self.outside_hours < self.decide_hours * 0.8:
            raise ValueError("decide_hours below 8 (or outside_hours below 80% of it) leaves no room to decide in time")
        if (
            self.opportunity_at_conversion < 0
            or self.opportunity_later < 0
            or (self.opportunity_at_conversion + self.opportunity_later > 1)
        ):
            raise ValueError("opportunity_at_conversion and opportunity_later are shares of conversions (sum <= 1)")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["anchor"] = self.anchor.astimezone(UTC)
        out["calendar"] = self.calendar.to_dict()
        return out


def generate(config: GeneratorConfig) -> tuple[Iterator[DatasetChunk], Manifest]:
    """The dataset as a chunk iterator, and its manifest (complete once the iterator is exhausted)."""
    manifest = Manifest(config=config.to_dict(), definitions=_definitions(config))
    return _Generator(config, manifest).chunks(), manifest


def _definitions(config: GeneratorConfig) -> dict[str, Any]:
    return {
        "touch": "an outbound call, outbound e-mail or meeting by a sales user, in either CRM: Salesforce Task "
        "(TaskSubtype Call, or Email without 'Re:') / Event, HubSpot call / EMAIL / meeting; first touch at "
        "CompletedDateTime / ActivityDateTime / hs_timestamp",
        "sla_business_minutes": config.sla_business_minutes,
        "first_touch_outside_hours": f"{config.outside_hours} calendar hours when the clock (the Lead's "
        "assignment, else the MQL) starts outside working hours; on-time and late touches classify the same "
        "whether the clock starts at the assignment or the MQL",
        "accept_reject": f"accepted or rejected within {config.decide_hours} calendar hours of the MQL; a late "
        "decision is late in calendar and business hours alike",
        "calendar": config.calendar.to_dict(),
        "min_attempts_before_disqualification": config.min_attempts,
        "accepted": "Salesforce Lead Status 'Working - Contacted' / HubSpot hs_lead_status CONNECTED",
        "rejected": "closed without acceptance: 'Closed - Not Converted' straight from 'Open - Not Contacted'",
        "disqualified": "closed after acceptance: 'Working - Contacted' -> 'Closed - Not Converted'",
        "converted_activities": "activities of converted leads point at the new Contact (WhoId) and Opportunity",
        "as_of": "the anchor: leads touched after it are pending, not late",
        "stage_regression": "HubSpot clears lifecyclestage (value '') then sets 'lead'; stage dates keep first values",
    }


class _Generator:
    def __init__(self, config: GeneratorConfig, manifest: Manifest) -> None:
        self.c, self.manifest = config, manifest
        self.anchor = config.anchor.astimezone(UTC)
        self.team: Team = build_team(config.size, self.anchor)
        self.campaigns = build_campaigns(self.anchor, config.history_days)
        self.n_companies = company_count(config.size)
        self.params = FunnelParams(
            self.anchor,
            config.history_days,
            config.mql_rate,
            config.accept_rate,
            config.sql_rate,
            config.win_rate,
            config.min_attempts,
            config.sla_business_minutes,
            config.rates,
            config.calendar,
            config.outside_hours,
            config.decide_hours,
            config.opportunity_at_conversion,
            config.opportunity_later,
        )
        self.alloc = IdAllocator()
        self.company = lru_cache(maxsize=8_192)(self._company)
        stride = max(1, -(-config.size // config.facts_limit)) if config.facts_limit else 0
        self.facts_stride = stride

    def _company(self, index: int) -> Company:
        return build_company(index, self.c.seed, self.anchor, self.team)

    def _emit(self, chunk: DatasetChunk) -> DatasetChunk:
        self.manifest.count(chunk)
        return chunk

    def chunks(self) -> Iterator[DatasetChunk]:
        yield self._emit(self._reference_chunk())
        for start in range(0, self.n_companies, self.c.chunk_size):
            chunk = DatasetChunk()
            for index in range(start, min(start + self.c.chunk_size, self.n_companies)):
                company = self.company(index)
                chunk.salesforce.records.setdefault("Account", []).append(
                    render_salesforce.account(company, self.team, self.anchor)
                )
                chunk.hubspot.objects.setdefault("companies", []).append(render_hubspot.company(company, self.anchor))
            yield self._emit(chunk)
        for start in range(0, self.c.size, self.c.chunk_size):
            chunk = DatasetChunk()
            sf = render_salesforce.SalesforceRenderer(chunk.salesforce, self.alloc, self.team)
            hs = render_hubspot.HubSpotRenderer(chunk.hubspot, self.alloc, self.team)
            for index in range(start, min(start + self.c.chunk_size, self.c.size)):
                story = self._story(index)
                ids = self.alloc.person(story)
                hs_orphans = hs.person(story, ids)
                sf_orphans = sf.person(story, ids)
                self._record(story, ids, {**hs_orphans, **sf_orphans})
            yield self._emit(chunk)

    def _reference_chunk(self) -> DatasetChunk:
        chunk = DatasetChunk()
        chunk.salesforce.records["User"] = render_salesforce.users(self.team)
        chunk.salesforce.records["Campaign"] = [
            render_salesforce.campaign(c, self.team, self.anchor) for c in self.campaigns
        ]
        chunk.hubspot.owners = render_hubspot.owners(self.team)
        return chunk

    def _story(self, index: int) -> Story:
        rng = random.Random(f"{self.c.seed}/person/{index}")
        company = self.company(int(self.n_companies * rng.random() ** 1.5))  # a few companies have many people

        def campaigns_for(when: datetime, type_: str) -> Any:
            return campaign_for(self.campaigns, self.anchor, self.c.history_days, when, type_)

        story = new_story(rng, self.params, index, person_name(index, self.c.seed), company, campaigns_for)
        return simulate(rng, self.params, self.team, story)

    # -- manifest --------------------------------------------------------------------------------------------
    def _record(self, s: Story, ids: PersonIds, orphans: dict[str, Any]) -> None:
        who = {"person": s.index, "hubspot_contact_id": ids.contact, "salesforce_lead_id": ids.lead, "email": s.email}
        kind = s.planted
        if kind == "never_contacted":
            self.manifest.plant(kind, **who, mql_at=s.mql_at, owner_id=s.owner.sf_id if s.owner else None)
        elif kind == "late_first_touch":
            assert s.mql_at is not None and s.first_touch_at is not None
            self.manifest.plant(
                kind,
                **who,
                mql_at=s.mql_at,
                first_touch_at=s.first_touch_at,
                business_minutes=round(self.c.calendar.business_minutes_between(s.mql_at, s.first_touch_at), 1),
                accept_reject_breached=s.accept_reject_late,
            )
        elif kind == "late_accept_reject":
            assert s.mql_at is not None
            self.manifest.plant(
                kind,
                **who,
                mql_at=s.mql_at,
                due_at=s.mql_at + timedelta(hours=self.c.decide_hours),
                decided_at=s.accepted_at or s.closed_at,
            )
        elif kind == "rejected_without_reason":
            self.manifest.plant(kind, **who, outcome=s.outcome, closed_at=s.closed_at)
        elif kind == "too_few_attempts":
            self.manifest.plant(
                kind,
                **who,
                attempts=s.attempts_before_close,
                min_attempts=self.c.min_attempts,
                closed_at=s.closed_at,
                reason=_reason(s),
            )
        elif kind == "missing_owner":
            owner = s.owner
            self.manifest.plant(
                kind,
                **who,
                **s.planted_detail,
                mql_at=s.mql_at,
                salesforce_owner_id=(owner or self.team.integration).sf_id if ids.lead else None,
                hubspot_owner_id=owner.owner_id if owner else None,
            )
        elif kind == "stage_regression":
            self.manifest.plant(kind, **who, **s.planted_detail)
        elif kind == "duplicate":
            self.manifest.plant(
                kind,
                **who,
                **s.planted_detail,
                duplicate_at=s.duplicate_at,
                duplicate_hubspot_contact_id=ids.duplicate_contact,
                duplicate_salesforce_lead_id=ids.duplicate_lead,
            )
        elif kind == "orphan_activity":
            for activity_id, missing in orphans.items():
                crm = "hubspot" if isinstance(missing, int) else "salesforce"
                self.manifest.plant(
                    kind,
                    **who,
                    crm=crm,
                    activity_id=int(activity_id) if crm == "hubspot" else activity_id,
                    missing_id=missing,
                )
        elif kind == "malformed_email":
            self.manifest.plant(kind, **who, **s.planted_detail)
        if self.facts_stride and s.index % self.facts_stride == 0:
            self.manifest.people.append(self._facts(s, ids))

    def _facts(self, s: Story, ids: PersonIds) -> dict[str, Any]:
        touches = [a for a in s.activities if a.is_touch and not a.orphan]
        return {
            "person": s.index,
            "hubspot_contact_id": ids.contact,
            "salesforce_lead_id": ids.lead,
            "salesforce_contact_id": ids.sf_contact,
            "salesforce_opportunity_id": ids.opportunity,
            "hubspot_deal_id": ids.deal,
            "email": s.email,
            "created_at": s.created_at,
            "lifecyclestage": s.lifecycle[-1][0],
            "mql_at": s.mql_at,
            "first_touch_at": s.first_touch_at,
            "touches": len(touches),
            "accepted_at": s.accepted_at,
            "closed_at": s.closed_at,
            "reason": _reason(s),
            "outcome": s.outcome,
            "converted_at": s.converted_at,
            "opportunity_at": s.opportunity_at,
            "amount": s.amount if s.opportunity_at else None,
            "accept_reject_late": s.accept_reject_late,
            "planted": s.planted,
        }


def _reason(s: Story) -> str | None:
    return DISQUALIFICATION_REASONS[s.reason] if s.reason is not None else None
