"""Links from a check's sample of offending ids to the records in the CRM, so whoever reads the alert can open
them: Salesforce's Lightning record page and HubSpot's record page. A CRM whose address the settings do not know
gets no links (never a guessed one)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.hubspot.catalog import raw_table_name as hubspot_table
from connectors.salesforce.catalog import OBJECTS
from connectors.salesforce.catalog import raw_table_name as salesforce_table
from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
)

MAX_LINKS = 5

# HubSpot's object type ids in record URLs (contacts 0-1, companies 0-2, deals 0-3).
HUBSPOT_TYPES = {
    "contacts": "0-1",
    "contact": "0-1",
    "companies": "0-2",
    "company": "0-2",
    "deals": "0-3",
    "deal": "0-3",
}
# Objects with a record page of their own (history rows and junctions have none worth opening).
SALESFORCE_PAGES = {o.lower(): o for o in OBJECTS if not o.endswith("History") and o != "CampaignMember"}
_SALESFORCE_TABLES = {salesforce_table(o): o for o in SALESFORCE_PAGES.values()}
_HUBSPOT_TABLES = {hubspot_table(t): t for t in ("contacts", "companies", "deals")}
# Canonical tables keyed (source_system, source_id): which record each CRM's row is.
_KEYED_BY_SYSTEM = {
    CANONICAL_ACCOUNTS.name: {"salesforce": "account", "hubspot": "companies"},
    CANONICAL_OPPORTUNITIES.name: {"salesforce": "opportunity", "hubspot": "deals"},
    CANONICAL_OWNERS.name: {"salesforce": "user"},
}
_SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_HUBSPOT_ID = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class CrmAddresses:
    salesforce_url: str = ""  # the org's instance, e.g. https://acme.my.salesforce.com
    hubspot_portal_id: str = ""

    def salesforce(self, object_name: str, record_id: str) -> Link | None:
        name = SALESFORCE_PAGES.get(object_name.lower())
        if not self.salesforce_url or name is None or not _SALESFORCE_ID.match(record_id):
            return None
        return Link(record_id, f"{self.salesforce_url.rstrip('/')}/lightning/r/{name}/{record_id}/view")

    def hubspot(self, object_type: str, record_id: str) -> Link | None:
        type_id = HUBSPOT_TYPES.get(object_type.lower())
        if not self.hubspot_portal_id.isdigit() or type_id is None or not _HUBSPOT_ID.match(record_id):
            return None
        return Link(
            record_id, f"https://app.hubspot.com/contacts/{self.hubspot_portal_id}/record/{type_id}/{record_id}"
        )

    def record(self, system: str, object_name: str, record_id: str) -> Link | None:
        if system == "salesforce":
            return self.salesforce(object_name, record_id)
        if system == "hubspot":
            return self.hubspot(object_name, record_id)
        return None


# A resolved person's records in each CRM (from closed_loop_leads), for findings sampled by person_key.
PersonRecords = Mapping[str, Sequence[tuple[str, str, str]]]  # person_key -> (system, object, id), preferred first


def record_links(
    crm: CrmAddresses,
    asset: str,
    id_columns: Sequence[str],
    sample_ids: Sequence[str],
    people: PersonRecords | None = None,
) -> tuple[Link, ...]:
    """Up to ``MAX_LINKS`` links for the ids a check on ``asset`` sampled (each made of ``id_columns``); ids
    that name no CRM record the settings can address are left out."""
    out: list[Link] = []
    for sample in sample_ids:
        for system, object_name, record_id in _records(asset, tuple(id_columns), sample, people or {}):
            link = crm.record(system, object_name, record_id)
            if link is not None:
                out.append(link)
                break
        if len(out) == MAX_LINKS:
            break
    return tuple(out)


def _records(
    asset: str, id_columns: tuple[str, ...], sample: str, people: PersonRecords
) -> Sequence[tuple[str, str, str]]:
    if id_columns == ("id",) and asset in _SALESFORCE_TABLES:
        return [("salesforce", _SALESFORCE_TABLES[asset], sample)]
    if id_columns == ("id",) and asset in _HUBSPOT_TABLES:
        return [("hubspot", _HUBSPOT_TABLES[asset], sample)]
    if id_columns == ("contact_id",):  # HubSpot contact property history
        return [("hubspot", "contacts", sample)]
    if id_columns == ("person_key",):
        return people.get(sample, ())
    parts = sample.split("|")
    if id_columns == ("source_system", "source_object", "source_id") and len(parts) == 3:
        return [(parts[0], parts[1], parts[2])]
    if id_columns == ("source_system", "source_id") and len(parts) == 2:
        object_name = _KEYED_BY_SYSTEM.get(asset, {}).get(parts[0])
        return [(parts[0], object_name, parts[1])] if object_name else []
    return []
