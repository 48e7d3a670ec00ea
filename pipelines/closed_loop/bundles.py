"""Everything known about one resolved person, gathered from the canonical tables and the raw histories.

Grouping is done once per table (dicts keyed by person or record id), so assembling all bundles is linear in
the number of rows; ``leads.closed_loop_row`` then works on one bundle at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from pipelines.closed_loop.canonical import CanonicalFrames
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import flag, instant, records, text
from pipelines.funnel.stages import FieldChange

Record = dict[str, Any]
LIFECYCLE_DATE_PREFIX = "hs_lifecyclestage_"
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass
class PersonBundle:
    person_key: str
    hubspot_contacts: list[Record] = field(default_factory=list)  # live, lowest id first
    salesforce_leads: list[Record] = field(default_factory=list)  # live, earliest first
    salesforce_contacts: list[Record] = field(default_factory=list)  # live, lowest id first
    all_records: list[Record] = field(default_factory=list)  # including merged-away ones (for last update)
    lifecycle_history: list[tuple[str, datetime]] = field(default_factory=list)
    lead_status_history: list[tuple[str, datetime]] = field(default_factory=list)
    owner_history: list[tuple[str, datetime]] = field(default_factory=list)  # HubSpot hubspot_owner_id changes
    lifecycle_dates: dict[str, datetime | None] = field(default_factory=dict)
    lead_history: dict[str, list[FieldChange]] = field(default_factory=dict)  # Lead Id -> rows
    opportunities: list[Record] = field(default_factory=list)  # live Salesforce, earliest first
    opportunity_history: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    deals: list[Record] = field(default_factory=list)  # live HubSpot, earliest first
    touches: list[datetime] = field(default_factory=list)  # live touches, sorted
    activity_updated_at: datetime | None = None
    accounts: list[Record] = field(default_factory=list)  # live canonical account rows, Salesforce first
    owners: dict[tuple[str, str], Record] = field(default_factory=dict)  # (system, source id) -> owner row
    has_identity_conflict: bool = False
    # Campaign memberships (when, campaign key): live Salesforce CampaignMembers of the live Leads and Contacts
    # at their CreatedDate, live HubSpot contacts' crm_loop_campaign at the contact's creation.
    campaign_memberships: list[tuple[datetime, str]] = field(default_factory=list)
    counts_as_lead: bool = True  # false for a possible duplicate of another person (``_duplicates``)


def _by(rows: list[Record], key: str) -> dict[Any, list[Record]]:
    out: dict[Any, list[Record]] = defaultdict(list)
    for r in rows:
        if r.get(key) is not None:
            out[r[key]].append(r)
    return out


def _created(r: Record) -> tuple[datetime, str]:
    return instant(r.get("created_at")) or _NEVER, str(r.get("source_id"))


Memberships = dict[str, list[tuple[datetime, str]]]


def _campaign_memberships(raw: Frames) -> tuple[Memberships, Memberships]:
    """(Lead Id -> memberships, Contact Id -> memberships) of the live CampaignMembers with a campaign and a
    CreatedDate; the campaign is keyed as ``people.campaign_by_member`` keys it, else by its Id."""
    campaigns = {
        text(c["id"]): text(c.get("hubspot_campaign__c")) or text(c.get("name")) for c in records(raw.sf("campaign"))
    }
    by_lead: Memberships = defaultdict(list)
    by_contact: Memberships = defaultdict(list)
    for m in records(raw.sf("campaignmember")):
        campaign_id, at = text(m.get("campaignid")), instant(m.get("createddate"))
        if flag(m.get("_is_deleted")) or campaign_id is None or at is None:
            continue
        membership = (at, campaigns.get(campaign_id) or campaign_id)
        for member, out in ((text(m.get("leadid")), by_lead), (text(m.get("contactid")), by_contact)):
            if member is not None:
                out[member].append(membership)
    return by_lead, by_contact


def _duplicates(canonical: CanonicalFrames, by_person: dict[Any, list[Record]]) -> set[str]:
    """People who do not count as leads: in each shared_email conflict (records of several people share one
    e-mail and were not merged: a possible duplicate), every person but the earliest created (first creation
    over its live records, unknown last; then person_key)."""
    conflicts = canonical.identity_conflicts
    if conflicts.empty:
        return set()

    def created(person_key: str) -> tuple[datetime, str]:
        live = [t for m in by_person.get(person_key, []) if not m["is_deleted"] and (t := instant(m.get("created_at")))]
        return min(live, default=_NEVER), person_key

    out: set[str] = set()
    for c in records(conflicts):
        if c["kind"] == "shared_email":
            people = sorted((p for p in str(c.get("person_keys") or "").split(",") if p), key=created)
            out.update(people[1:])
    return out


def _created_after(live: list[Record], as_of: datetime) -> bool:
    """Whether every live record with a known creation was created after ``as_of`` (at least one known): the
    person did not exist yet then. Unknown creations do not prove anything either way."""
    created = [t for m in live if (t := instant(m.get("created_at")))]
    return bool(created) and min(created) > as_of


def bundles(canonical: CanonicalFrames, raw: Frames, as_of: datetime | None = None) -> Iterator[PersonBundle]:
    """Every resolved person, in person_key order; with ``as_of`` only those who existed then."""
    people = list(records(canonical.people))
    by_person = _by(people, "person_key")
    contacts_raw = {text(c["id"]): c for c in records(raw.hs("contacts"))}
    history = _by([h for h in records(raw.hs("contact_property_history")) if not h.get("_is_deleted")], "contact_id")
    lead_history = _by([h for h in records(raw.sf("leadhistory")) if not h.get("_is_deleted")], "leadid")
    opp_history = _by([h for h in records(raw.sf("opportunityhistory")) if not h.get("_is_deleted")], "opportunityid")
    opps = _by([o for o in records(canonical.opportunities) if not o["is_deleted"]], "person_key")
    activities = list(records(canonical.activities))
    touches = _by([a for a in activities if a["counts_as_touch"]], "person_key")
    activity_updates = _by(activities, "person_key")
    accounts = _by([a for a in records(canonical.accounts) if not a["is_deleted"]], "source_id")
    owners = {(o["source_system"], o["source_id"]): o for o in records(canonical.owners)}
    conflicted = {
        p
        for keys in canonical.identity_conflicts.get("person_keys", pd.Series(dtype=object)).dropna()
        for p in str(keys).split(",")
        if p
    }
    duplicates = _duplicates(canonical, by_person)
    lead_campaigns, contact_campaigns = _campaign_memberships(raw)
    for person_key in sorted(by_person):
        members = by_person[person_key]
        live = [m for m in members if not m["is_deleted"]]
        if as_of is not None and _created_after(live, as_of):
            continue
        b = PersonBundle(
            person_key,
            all_records=members,
            has_identity_conflict=person_key in conflicted,
            owners=owners,
            counts_as_lead=person_key not in duplicates,
        )
        b.hubspot_contacts = sorted(
            (m for m in live if m["source_system"] == "hubspot"), key=lambda m: (len(m["source_id"]), m["source_id"])
        )
        b.salesforce_leads = sorted((m for m in live if m["source_object"] == "lead"), key=_created)
        b.salesforce_contacts = sorted(
            (m for m in live if m["source_system"] == "salesforce" and m["source_object"] == "contact"),
            key=lambda m: m["source_id"],
        )
        b.campaign_memberships = [
            *(x for lead in b.salesforce_leads for x in lead_campaigns.get(lead["source_id"], [])),
            *(x for c in b.salesforce_contacts for x in contact_campaigns.get(c["source_id"], [])),
            *(
                (at, key)
                for c in b.hubspot_contacts
                if (key := text(c.get("campaign_key"))) and (at := instant(c.get("created_at")))
            ),
        ]
        if b.hubspot_contacts:
            cid = b.hubspot_contacts[0]["source_id"]
            rows = sorted(history.get(cid, []), key=lambda h: (instant(h["changed_at"]), h["id"]))
            b.lifecycle_history = [
                (h["value"] or "", at)
                for h in rows
                if h["property"] == "lifecyclestage" and (at := instant(h["changed_at"]))
            ]
            b.lead_status_history = [
                (h["value"] or "", at)
                for h in rows
                if h["property"] == "hs_lead_status" and (at := instant(h["changed_at"]))
            ]
            b.owner_history = [
                (h["value"] or "", at)
                for h in rows
                if h["property"] == "hubspot_owner_id" and (at := instant(h["changed_at"]))
            ]
            raw_contact = contacts_raw.get(cid, {})
            b.lifecycle_dates = {k: instant(v) for k, v in raw_contact.items() if k.startswith(LIFECYCLE_DATE_PREFIX)}
        for lead in b.salesforce_leads:
            b.lead_history[lead["source_id"]] = [
                FieldChange(text(h.get("field")) or "", text(h.get("oldvalue")), text(h.get("newvalue")), at)
                for h in lead_history.get(lead["source_id"], [])
                if (at := instant(h.get("createddate")))
            ]
        person_opps = sorted(opps.get(person_key, []), key=_created)
        b.opportunities = [o for o in person_opps if o["source_system"] == "salesforce"]
        b.deals = [o for o in person_opps if o["source_system"] == "hubspot"]
        for o in b.opportunities:
            b.opportunity_history[o["source_id"]] = [
                (text(h.get("stagename")) or "", at)
                for h in opp_history.get(o["source_id"], [])
                if (at := instant(h.get("createddate")))
            ]
        b.touches = sorted(t for a in touches.get(person_key, []) if (t := instant(a["occurred_at"])))
        stamps = [
            t
            for a in activity_updates.get(person_key, [])
            for t in (instant(a["updated_at"]), instant(a["occurred_at"]))
            if t
        ]
        b.activity_updated_at = max(stamps) if stamps else None
        account_ids = [i for m in live for i in [m.get("account_source_id")] if i] + [
            o["account_source_id"] for o in person_opps if o.get("account_source_id")
        ]
        found = [a for i in dict.fromkeys(account_ids) for a in accounts.get(i, [])]
        b.accounts = sorted(found, key=lambda a: a["source_system"] != "salesforce")
        yield b
