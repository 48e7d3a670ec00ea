"""Record ids for generated people, handed out in generation order so both CRMs can cross-reference them.

HubSpot contact ids step by 50 from 51 as in newer portals [?]; other HubSpot types get their own ranges so
an id alone tells a reader which type it is. Salesforce ids come from ``ids.sf_id`` per key prefix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sandbox.data.funnel import Story
from sandbox.model.ids import sf_id

CONTACT_ID_START, CONTACT_ID_STEP = 51, 50
DEAL_ID_BASE = 14_000_000_001  # [?]
ENGAGEMENT_ID_BASE = 40_000_000_001  # [?] engagements share one id space in HubSpot
ORPHAN_SF_COUNTER = 62**9  # far beyond any counter a dataset reaches, so these ids never exist
ORPHAN_CONTACT_OFFSET = 26  # contact ids are 51 + 50k: an id ≡ 26 (mod 50) is never handed out


@dataclass(frozen=True)
class PersonIds:
    contact: int
    lead: str | None = None
    sf_contact: str | None = None
    opportunity: str | None = None
    deal: int | None = None
    duplicate_contact: int | None = None
    duplicate_lead: str | None = None


class IdAllocator:
    def __init__(self) -> None:
        self._n: Counter[str] = Counter()

    def sf(self, key_prefix: str) -> str:
        self._n[key_prefix] += 1
        return sf_id(key_prefix, self._n[key_prefix])

    def contact(self) -> int:
        self._n["contacts"] += 1
        return CONTACT_ID_START + CONTACT_ID_STEP * (self._n["contacts"] - 1)

    def deal(self) -> int:
        self._n["deals"] += 1
        return DEAL_ID_BASE + self._n["deals"] - 1

    def engagement(self) -> int:
        self._n["engagements"] += 1
        return ENGAGEMENT_ID_BASE + self._n["engagements"] - 1

    def orphan_lead(self) -> str:
        self._n["orphan_leads"] += 1
        return sf_id("00Q", ORPHAN_SF_COUNTER + self._n["orphan_leads"])

    def orphan_contact(self) -> int:
        self._n["orphan_contacts"] += 1
        return ORPHAN_CONTACT_OFFSET + CONTACT_ID_STEP * (10_000_000 + self._n["orphan_contacts"])

    def person(self, story: Story) -> PersonIds:
        duplicate = story.planted_detail.get("variant") if story.planted == "duplicate" else None
        converted, opened = story.converted_at is not None, story.opportunity_at is not None
        return PersonIds(
            contact=self.contact(),
            lead=self.sf("00Q") if story.lead_created_at else None,
            sf_contact=self.sf("003") if converted else None,
            opportunity=self.sf("006") if opened else None,
            deal=self.deal() if opened else None,
            duplicate_contact=self.contact() if duplicate == "hubspot_contact" else None,
            duplicate_lead=self.sf("00Q") if duplicate == "salesforce_lead" else None,
        )
