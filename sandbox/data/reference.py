"""The org's standing data, made before any person: the sales team, the campaign calendar and the companies.

Everything here is a pure function of (seed, size, anchor) and an index, so the people generator can look a
company or a rep up by index without the generator holding every company in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sandbox.data.names import COUNTRIES, company_name, person_name
from sandbox.model.ids import sf_id

COMPANY_ID_BASE = 9_000_000_001  # [?] recent portals hand out company ids around 10^10
OWNER_ID_BASE = 61_000_001
HUBSPOT_USER_ID_BASE = 9_100_001
TEAM_IDS = {"SDR East": "5001", "SDR West": "5002", "AE Enterprise": "5003", "AE Mid-Market": "5004"}
ORG_DOMAIN = "crmloop-demo.com"
ENTERPRISE_EMPLOYEES = 1_000


@dataclass(frozen=True)
class Rep:
    """A Salesforce user, and (for people who work deals) the HubSpot owner standing for the same person."""

    index: int
    sf_id: str
    first: str
    last: str
    role: str  # integration | admin | manager | sdr | ae
    team: str | None
    active: bool
    owner_id: int | None
    hubspot_user_id: int | None
    manager: Rep | None = None

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@{ORG_DOMAIN}".lower()


@dataclass(frozen=True)
class Team:
    reps: tuple[Rep, ...]
    integration: Rep
    admin: Rep
    sdrs: dict[str, tuple[Rep, ...]]  # "SDR East" / "SDR West" -> active SDRs
    aes: dict[str, tuple[Rep, ...]]  # "AE Enterprise" / "AE Mid-Market" -> active AEs
    inactive_sdr: Rep
    deactivated_at: datetime


def build_team(size: int, anchor: datetime) -> Team:
    per_region = max(3, min(25, size // 4_000))
    per_segment = max(2, min(15, size // 8_000))
    reps: list[Rep] = []

    def add(
        first: str,
        last: str,
        role: str,
        team: str | None,
        *,
        active: bool = True,
        owner: bool = True,
        manager: Rep | None = None,
    ) -> Rep:
        n = len(reps)
        rep = Rep(
            n,
            sf_id("005", n),
            first,
            last,
            role,
            team,
            active,
            OWNER_ID_BASE + n if owner else None,
            HUBSPOT_USER_ID_BASE + n if owner else None,
            manager,
        )
        reps.append(rep)
        return rep

    # Index 0 is the integration user: the Salesforce side stamps API writes with sf_id("005", 0).
    integration = add("HubSpot", "Integration", "integration", None, owner=False)
    admin = add("Rita", "Ops", "admin", None)
    name_index = 0

    def staff(role: str, team: str, count: int, manager: Rep) -> tuple[Rep, ...]:
        nonlocal name_index
        out = []
        for _ in range(count):
            name = person_name(39_000 + name_index, 0)
            name_index += 1
            out.append(add(name.first, name.last, role, team, manager=manager))
        return tuple(out)

    sdrs, aes = {}, {}
    for team_name in ("SDR East", "SDR West"):
        lead = staff("manager", team_name, 1, admin)[0]
        sdrs[team_name] = staff("sdr", team_name, per_region, lead)
    for team_name in ("AE Enterprise", "AE Mid-Market"):
        lead = staff("manager", team_name, 1, admin)[0]
        aes[team_name] = staff("ae", team_name, per_segment, lead)
    gone = person_name(39_000 + name_index, 0)
    inactive = add(gone.first, gone.last, "sdr", "SDR East", active=False, manager=sdrs["SDR East"][0].manager)
    return Team(tuple(reps), integration, admin, sdrs, aes, inactive, anchor - timedelta(days=60))


@dataclass(frozen=True)
class Campaign:
    index: int
    sf_id: str
    key: str  # HubSpot's crm_loop_campaign value and Salesforce's HubSpot_Campaign__c
    name: str
    type: str  # Salesforce Campaign.Type
    start: date
    end: date


CAMPAIGN_TOPICS = {
    "Webinar": "webinar",
    "Email": "newsletter",
    "Advertisement": "paid",
    "Conference": "event",
}


def build_campaigns(anchor: datetime, history_days: int) -> tuple[Campaign, ...]:
    """One campaign per type per calendar month of the history window."""
    first = (anchor - timedelta(days=history_days)).date().replace(day=1)
    out: list[Campaign] = []
    month = first
    while month <= anchor.date():
        nxt = (month + timedelta(days=32)).replace(day=1)
        for type_, topic in CAMPAIGN_TOPICS.items():
            n = len(out)
            key = f"{month:%Y-%m}-{topic}"
            out.append(
                Campaign(
                    n,
                    sf_id("701", n + 1),
                    key,
                    f"{month:%Y-%m} {type_}: {topic.title()}",
                    type_,
                    month,
                    nxt - timedelta(days=1),
                )
            )
        month = nxt
    return tuple(out)


def campaign_for(
    campaigns: tuple[Campaign, ...], anchor: datetime, history_days: int, when: datetime, type_: str
) -> Campaign | None:
    first = (anchor - timedelta(days=history_days)).date().replace(day=1)
    months = (when.year - first.year) * 12 + when.month - first.month
    index = months * len(CAMPAIGN_TOPICS) + list(CAMPAIGN_TOPICS).index(type_)
    return campaigns[index] if 0 <= index < len(campaigns) else None


@dataclass(frozen=True)
class Company:
    index: int
    hubspot_id: int
    sf_id: str
    name: str
    domain: str
    industry: int  # index into the aligned Salesforce / HubSpot industry tuples
    employees: int
    annual_revenue: float
    country: str
    tier: str
    created_at: datetime
    ae: Rep

    @property
    def segment(self) -> str:
        return "AE Enterprise" if self.employees >= ENTERPRISE_EMPLOYEES else "AE Mid-Market"


_EMPLOYEE_BANDS = ((3, 20, 10), (21, 200, 35), (201, 999, 30), (1_000, 5_000, 18), (5_001, 60_000, 7))


def company_count(size: int) -> int:
    return max(10, size // 4)


def build_company(index: int, seed: int, anchor: datetime, team: Team) -> Company:
    rng = random.Random(f"{seed}/company/{index}")
    name = company_name(index, seed)
    low, high, _ = rng.choices(_EMPLOYEE_BANDS, weights=[b[2] for b in _EMPLOYEE_BANDS])[0]
    employees = rng.randint(low, high)
    industry = rng.randrange(12)
    country = rng.choices([c for c, _ in COUNTRIES], weights=[w for _, w in COUNTRIES])[0]
    # ICP: mid-size and larger software, finance and healthcare buyers.
    tier = "A" if employees >= 200 and industry in (0, 1, 2) else ("B" if employees >= 50 else "C")
    segment = "AE Enterprise" if employees >= ENTERPRISE_EMPLOYEES else "AE Mid-Market"
    aes = team.aes[segment]
    return Company(
        index=index,
        hubspot_id=COMPANY_ID_BASE + index,
        sf_id=sf_id("001", index + 1),
        name=name.name,
        domain=name.domain,
        industry=industry,
        employees=employees,
        annual_revenue=float(round(employees * rng.uniform(80_000, 250_000), -3)),
        country=country,
        tier=tier,
        created_at=anchor - timedelta(days=rng.uniform(200, 1_500)),
        ae=aes[index % len(aes)],
    )
