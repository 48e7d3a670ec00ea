"""canonical_people rows (before identity resolution): HubSpot contacts, Salesforce Leads and Contacts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import flag, integer, normalize_email, number, records, text

MQL_DATE_PROPERTY = "hs_lifecyclestage_marketingqualifiedlead_date"


def employee_band_floor(band: Any) -> int | None:
    """HubSpot's numemployees is a band ("100-500", "1000+"): its lower bound is the only safe number."""
    value = text(band)
    if value is None:
        return None
    return integer(value.split("-")[0].rstrip("+").replace(",", ""))


def campaign_by_member(raw: Frames) -> dict[str, tuple[str, str | None]]:
    """Lead/Contact Id -> (Campaign Id, campaign key) of the campaign it first responded to (else joined)."""
    campaigns = {
        text(c["id"]): text(c.get("hubspot_campaign__c")) or text(c.get("name")) for c in records(raw.sf("campaign"))
    }
    members = raw.sf("campaignmember")
    if members.empty:
        return {}
    live = members[~members["_is_deleted"].astype(bool)].copy()
    live["_first"] = live["firstrespondeddate"].astype(str).where(live["firstrespondeddate"].notna(), "9999")
    live = live.sort_values(["_first", "createddate", "id"])
    out: dict[str, tuple[str, str | None]] = {}
    for m in records(live):
        campaign_id = text(m.get("campaignid"))
        if campaign_id is None:
            continue
        for member in (text(m.get("leadid")), text(m.get("contactid"))):
            if member is not None and member not in out:
                out[member] = (campaign_id, campaigns.get(campaign_id))
    return out


def _base(system: str, obj: str, source_id: str, email: Any, deleted: bool) -> dict[str, Any]:
    normalized, valid = normalize_email(email)
    return {
        "source_system": system,
        "source_object": obj,
        "source_id": source_id,
        "email": text(email),
        "email_normalized": normalized,
        "email_is_valid": valid,
        "is_deleted": deleted,
    }


def build_people(raw: Frames) -> pd.DataFrame:
    """Every person record; ``person_key`` is filled in by ``identity.resolve``."""
    campaigns = campaign_by_member(raw)
    merged_into = {
        text(m["merged_id"]): text(m["survivor_id"])
        for m in records(raw.hs("merged_records"))
        if text(m.get("object_type")) == "contacts"
    }
    rows: list[dict[str, Any]] = []
    for c in records(raw.hs("contacts")):
        cid = text(c["id"])
        assert cid is not None
        rows.append(
            {
                **_base(
                    "hubspot",
                    "contact",
                    cid,
                    c.get("email"),
                    bool(flag(c.get("_is_deleted"))) or bool(flag(c.get("archived"))),
                ),
                "first_name": text(c.get("firstname")),
                "last_name": text(c.get("lastname")),
                "title": text(c.get("jobtitle")),
                "company_name": text(c.get("company")),
                "country": text(c.get("country")),
                "industry": text(c.get("industry")),
                "employees": employee_band_floor(c.get("numemployees")),
                "annual_revenue": number(c.get("annualrevenue")),
                "owner_source_id": text(c.get("hubspot_owner_id")),
                "account_source_id": text(c.get("associatedcompanyid")),
                "lifecycle_stage": text(c.get("lifecyclestage")),
                "lead_status": text(c.get("hs_lead_status")),
                "original_source": text(c.get("hs_analytics_source")),
                "campaign_key": text(c.get("crm_loop_campaign")),
                "salesforce_campaign_id": None,
                "crm_score": number(c.get("hubspotscore")),
                "mql_at": c.get(MQL_DATE_PROPERTY),
                "disqualification_reason_raw": text(c.get("disqualification_reason")),
                "page_views": integer(c.get("hs_analytics_num_page_views")),
                "form_fills": integer(c.get("num_conversion_events")),
                "demo_requested": flag(c.get("demo_requested")),
                "webinar_attended": flag(c.get("webinar_attended")),
                "last_reply_at": c.get("hs_email_last_reply_date"),
                "linked_salesforce_lead_id": text(c.get("salesforceleadid")),
                "linked_salesforce_contact_id": text(c.get("salesforcecontactid")),
                "linked_hubspot_contact_id": None,
                "is_converted": None,
                "converted_date": None,
                "converted_contact_id": None,
                "converted_opportunity_id": None,
                "merged_into_source_id": merged_into.get(cid),
                "created_at": c.get("createdate") or c.get("created_at"),
                "updated_at": c.get("lastmodifieddate") or c.get("updated_at"),
            }
        )
    for lead in records(raw.sf("lead")):
        lid = text(lead["id"])
        assert lid is not None
        campaign = campaigns.get(lid, (None, None))
        rows.append(
            {
                **_base("salesforce", "lead", lid, lead.get("email"), bool(flag(lead.get("_is_deleted")))),
                "first_name": text(lead.get("firstname")),
                "last_name": text(lead.get("lastname")),
                "title": text(lead.get("title")),
                "company_name": text(lead.get("company")),
                "country": text(lead.get("country")),
                "industry": text(lead.get("industry")),
                "employees": integer(lead.get("numberofemployees")),
                "annual_revenue": number(lead.get("annualrevenue")),
                "owner_source_id": text(lead.get("ownerid")),
                "account_source_id": text(lead.get("convertedaccountid")),
                "lifecycle_stage": None,
                "lead_status": text(lead.get("status")),
                "original_source": text(lead.get("leadsource")),
                "campaign_key": campaign[1],
                "salesforce_campaign_id": campaign[0],
                "crm_score": number(lead.get("lead_score__c")),
                "mql_at": lead.get("mql_date__c"),
                "disqualification_reason_raw": text(lead.get("disqualification_reason__c")),
                "page_views": None,
                "form_fills": None,
                "demo_requested": None,
                "webinar_attended": None,
                "last_reply_at": None,
                "linked_salesforce_lead_id": None,
                "linked_salesforce_contact_id": None,
                "linked_hubspot_contact_id": text(lead.get("hubspot_contact_id__c")),
                "is_converted": flag(lead.get("isconverted")),
                "converted_date": lead.get("converteddate"),
                "converted_contact_id": text(lead.get("convertedcontactid")),
                "converted_opportunity_id": text(lead.get("convertedopportunityid")),
                "merged_into_source_id": None,
                "created_at": lead.get("createddate"),
                "updated_at": lead.get("lastmodifieddate"),
            }
        )
    for contact in records(raw.sf("contact")):
        kid = text(contact["id"])
        assert kid is not None
        campaign = campaigns.get(kid, (None, None))
        rows.append(
            {
                **_base("salesforce", "contact", kid, contact.get("email"), bool(flag(contact.get("_is_deleted")))),
                "first_name": text(contact.get("firstname")),
                "last_name": text(contact.get("lastname")),
                "title": text(contact.get("title")),
                "company_name": None,
                "country": text(contact.get("mailingcountry")),
                "industry": None,
                "employees": None,
                "annual_revenue": None,
                "owner_source_id": text(contact.get("ownerid")),
                "account_source_id": text(contact.get("accountid")),
                "lifecycle_stage": None,
                "lead_status": None,
                "original_source": text(contact.get("leadsource")),
                "campaign_key": campaign[1],
                "salesforce_campaign_id": campaign[0],
                "crm_score": None,
                "mql_at": None,
                "disqualification_reason_raw": None,
                "page_views": None,
                "form_fills": None,
                "demo_requested": None,
                "webinar_attended": None,
                "last_reply_at": None,
                "linked_salesforce_lead_id": None,
                "linked_salesforce_contact_id": None,
                "linked_hubspot_contact_id": text(contact.get("hubspot_contact_id__c")),
                "is_converted": None,
                "converted_date": None,
                "converted_contact_id": None,
                "converted_opportunity_id": None,
                "merged_into_source_id": None,
                "created_at": contact.get("createddate"),
                "updated_at": contact.get("lastmodifieddate"),
            }
        )
    return pd.DataFrame(rows)
