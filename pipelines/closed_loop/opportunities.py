"""canonical_opportunities: HubSpot deals and Salesforce Opportunities, with their person and canonical stage."""

from __future__ import annotations

from typing import Any

import pandas as pd

from connectors.warehouse.catalog.harmonised import CANONICAL_OPPORTUNITIES
from pipelines.closed_loop.links import hubspot_edges, person_index
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import day, flag, number, record_key, records, text
from pipelines.funnel.model import FunnelDefinitions


def build_opportunities(raw: Frames, people: pd.DataFrame, defs: FunnelDefinitions) -> pd.DataFrame:
    persons = person_index(people)
    converted_from: dict[str, str] = {}  # Opportunity Id -> the Lead that converted into it
    if not people.empty:
        leads = people[(people["source_object"] == "lead") & people["converted_opportunity_id"].notna()]
        converted_from = dict(zip(leads["converted_opportunity_id"], leads["source_id"]))
    rows: list[dict[str, Any]] = []
    for o in records(raw.sf("opportunity")):
        oid = text(o["id"])
        assert oid is not None
        lead = converted_from.get(oid)
        person = (persons.get(record_key("salesforce", "lead", lead)) if lead else None) or persons.get(
            record_key("salesforce", "contact", text(o.get("contactid")) or "")
        )
        stage_raw = text(o.get("stagename"))
        rows.append(
            {
                "source_system": "salesforce",
                "source_id": oid,
                "opportunity_key": f"salesforce:opportunity:{oid}",
                "person_key": person,
                "name": text(o.get("name")),
                "stage_raw": stage_raw,
                "stage": defs.stages.salesforce_opportunity_stages.get(stage_raw or ""),
                "is_closed": flag(o.get("isclosed")),
                "is_won": flag(o.get("iswon")),
                "amount": number(o.get("amount")),
                "close_date": day(o.get("closedate")),
                "loss_reason": text(o.get("loss_reason__c")),
                "account_source_id": text(o.get("accountid")),
                "campaign_source_id": text(o.get("campaignid")),
                "owner_source_id": text(o.get("ownerid")),
                "created_at": o.get("createddate"),
                "updated_at": o.get("lastmodifieddate"),
                "is_deleted": bool(flag(o.get("_is_deleted"))),
            }
        )
    sf_person = {r["source_id"]: r["person_key"] for r in rows}
    deal_contacts = hubspot_edges(raw, "deals", "contacts")
    deal_companies = hubspot_edges(raw, "deals", "companies")
    for d in records(raw.hs("deals")):
        did = text(d["id"])
        assert did is not None
        linked = text(d.get("salesforceopportunityid"))
        contacts = deal_contacts.get(did, [])
        person = next((p for c in contacts if (p := persons.get(record_key("hubspot", "contact", c)))), None)
        stage_raw = text(d.get("dealstage"))
        companies = deal_companies.get(did, [])
        rows.append(
            {
                "source_system": "hubspot",
                "source_id": did,
                "opportunity_key": f"salesforce:opportunity:{linked}" if linked else f"hubspot:deal:{did}",
                "person_key": person or (sf_person.get(linked) if linked else None),
                "name": text(d.get("dealname")),
                "stage_raw": stage_raw,
                "stage": defs.stages.hubspot_deal_stages.get(stage_raw or ""),
                "is_closed": flag(d.get("hs_is_closed")),
                "is_won": flag(d.get("hs_is_closed_won")),
                "amount": number(d.get("amount")),
                "close_date": day(d.get("closedate")),
                "loss_reason": text(d.get("closed_lost_reason")),
                "account_source_id": companies[0] if companies else None,
                "campaign_source_id": None,
                "owner_source_id": text(d.get("hubspot_owner_id")),
                "created_at": d.get("createdate") or d.get("created_at"),
                "updated_at": d.get("hs_lastmodifieddate") or d.get("updated_at"),
                "is_deleted": bool(flag(d.get("_is_deleted"))) or bool(flag(d.get("archived"))),
            }
        )
    for row in rows:
        row["definitions_hash"] = defs.content_hash
    return pd.DataFrame(rows, columns=CANONICAL_OPPORTUNITIES.column_names)
