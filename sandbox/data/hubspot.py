"""A story, a company or the sales team as HubSpot records: properties, associations and property history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.data.allocate import IdAllocator, PersonIds
from sandbox.data.funnel import Activity, Story
from sandbox.data.reference import TEAM_IDS, Company, Team
from sandbox.model.dataset import Association, HubSpotData, HubSpotOwner, HubSpotRecord, PropertyChange
from sandbox.model.hubspot import ASSOCIATION_TYPES, DISQUALIFICATION_REASONS, INDUSTRIES
from sandbox.model.salesforce import INDUSTRIES as SF_INDUSTRIES

# HubSpot's default call dispositions are GUIDs; these are the portal-wide defaults [?].
CALL_DISPOSITIONS = {
    "connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "no_answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
}
CALL_STATUS = {"connected": "COMPLETED", "voicemail": "COMPLETED", "no_answer": "NO_ANSWER", "busy": "BUSY"}
DEAL_STAGES = {
    "Qualification": "qualifiedtobuy",
    "Needs Analysis": "presentationscheduled",
    "Value Proposition": "presentationscheduled",
    "Proposal/Price Quote": "decisionmakerboughtin",
    "Negotiation/Review": "contractsent",
    "Closed Won": "closedwon",
    "Closed Lost": "closedlost",
}
ENGAGEMENT_TYPE = {
    "call": "calls",
    "email": "emails",
    "reply": "emails",
    "meeting": "meetings",
    "note": "notes",
    "todo": "tasks",
}


def employee_band(employees: int) -> str:
    for limit, band in ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000")):
        if employees <= limit:
            return band
    return "1000+"


def owners(team: Team) -> list[HubSpotOwner]:
    out = []
    for rep in team.reps:
        if rep.owner_id is None or rep.hubspot_user_id is None:
            continue
        created = team.deactivated_at - timedelta(days=300 + rep.index * 3)
        teams = [{"id": TEAM_IDS[rep.team], "name": rep.team, "primary": True}] if rep.team else []
        # A deactivated user's owner is archived: it disappears from the default owners listing.
        updated = team.deactivated_at if not rep.active else created
        out.append(
            HubSpotOwner(
                rep.owner_id,
                rep.email,
                rep.first,
                rep.last,
                rep.hubspot_user_id,
                created,
                updated,
                archived=not rep.active,
                teams=teams,
            )
        )
    return out


def company(c: Company, anchor: datetime) -> HubSpotRecord:
    modified = min(anchor, c.created_at + timedelta(days=30 + c.index % 90))
    props: dict[str, Any] = {
        "createdate": c.created_at,
        "hs_lastmodifieddate": modified,
        "name": c.name,
        "domain": c.domain,
        "industry": INDUSTRIES[c.industry],
        "numberofemployees": c.employees,
        "annualrevenue": c.annual_revenue,
        "country": c.country,
        "salesforceaccountid": c.sf_id,
        "icp_tier": c.tier,
        "hubspot_owner_id": str(c.ae.owner_id),
    }
    return HubSpotRecord(c.hubspot_id, props, c.created_at, modified)


class HubSpotRenderer:
    def __init__(self, data: HubSpotData, alloc: IdAllocator, team: Team) -> None:
        self.data, self.alloc, self.team = data, alloc, team

    def add(
        self, object_type: str, record_id: int, props: dict[str, Any], created: datetime, updated: datetime
    ) -> None:
        self.data.objects.setdefault(object_type, []).append(HubSpotRecord(record_id, props, created, updated))

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        # One direction per pair: the HubSpot side stores the reverse with its own type id.
        self.data.associations.append(
            Association(from_type, from_id, to_type, to_id, ASSOCIATION_TYPES[(from_type, to_type)])
        )

    def person(self, s: Story, ids: PersonIds) -> dict[str, int]:
        """Render one person; returns the ids of orphaned engagements (engagement id -> missing contact id)."""
        orphans: dict[str, int] = {}
        touches = [a for a in s.activities if a.is_touch and not a.orphan]
        replies = [a for a in s.activities if a.channel == "reply"]
        owner = s.owner
        if s.converted_at is not None and s.ae is not None:
            owner = s.ae
        props: dict[str, Any] = {
            "createdate": s.created_at,
            "email": s.email,
            "firstname": s.name.first,
            "lastname": s.name.last,
            "jobtitle": s.title,
            "phone": s.phone,
            "company": s.company.name,
            "country": s.country,
            "industry": SF_INDUSTRIES[s.company.industry],
            "numemployees": employee_band(s.company.employees),
            "hs_analytics_source": s.source,
            "hs_analytics_source_data_1": s.drill_down[0],
            "hs_analytics_source_data_2": s.drill_down[1],
            "hs_analytics_num_page_views": s.page_views,
            "num_conversion_events": s.form_submissions,
            "first_conversion_event_name": s.forms[0],
            "recent_conversion_event_name": s.forms[-1],
            "hubspotscore": s.score,
            "demo_requested": s.demo_requested,
            "webinar_attended": s.webinar_attended,
            "crm_loop_campaign": s.campaign.key if s.campaign else None,
            "associatedcompanyid": s.company.hubspot_id,
            "hubspot_owner_id": str(owner.owner_id) if owner is not None and owner.owner_id is not None else None,
            "salesforceleadid": ids.lead,
            "salesforcecontactid": ids.sf_contact,
            "num_contacted_notes": len(touches),
            "notes_last_contacted": touches[-1].at if touches else None,
            "hs_email_last_reply_date": replies[-1].at if replies else None,
            "disqualification_reason": DISQUALIFICATION_REASONS[s.reason] if s.reason is not None else None,
        }
        stage_set = [(stage, at) for stage, at, _ in s.lifecycle if stage]
        props["lifecyclestage"] = s.lifecycle[-1][0]
        for stage, at in stage_set:
            props.setdefault(f"hs_lifecyclestage_{stage}_date", at)  # the first time a stage was reached
        if s.lead_status:
            props["hs_lead_status"] = s.lead_status[-1][0]
        stamps = [
            s.created_at,
            *(at for _, at, _ in s.lifecycle),
            *(at for _, at, _ in s.lead_status),
            *(a.at for a in touches),
            *(a.at for a in replies),
        ]
        modified = max(stamps)
        props["lastmodifieddate"] = modified
        self.add("contacts", ids.contact, {k: v for k, v in props.items() if v is not None}, s.created_at, modified)
        self.associate("contacts", ids.contact, "companies", s.company.hubspot_id)
        for stage, at, source in s.lifecycle:
            self.data.history.append(PropertyChange("contacts", ids.contact, "lifecyclestage", stage, at, source))
        for status, at, rep in s.lead_status:
            user = rep.hubspot_user_id if rep is not None else None
            source = "CRM_UI" if rep is not None else "AUTOMATION"
            self.data.history.append(
                PropertyChange(
                    "contacts",
                    ids.contact,
                    "hs_lead_status",
                    status,
                    at,
                    source,
                    f"userId:{user}" if user else None,
                    user,
                )
            )
        if ids.deal is not None:
            self.deal(s, ids)
        for activity in s.activities:
            if activity.crm != "hubspot":
                continue
            engagement_id = self.engagement(activity, s)
            if activity.orphan:
                missing = self.alloc.orphan_contact()
                self.associate(ENGAGEMENT_TYPE[activity.channel], engagement_id, "contacts", missing)
                orphans[str(engagement_id)] = missing
                continue
            self.associate(ENGAGEMENT_TYPE[activity.channel], engagement_id, "contacts", ids.contact)
            if activity.phase == "opportunity" and ids.deal is not None:
                self.associate(ENGAGEMENT_TYPE[activity.channel], engagement_id, "deals", ids.deal)
        if ids.duplicate_contact is not None:
            self.duplicate(s, ids.duplicate_contact)
        return orphans

    def deal(self, s: Story, ids: PersonIds) -> None:
        assert ids.deal is not None and s.opportunity_at is not None and s.ae is not None
        created = s.opportunity_at + timedelta(seconds=45)  # synced from the Salesforce opportunity
        stage, stage_at = s.opp_stages[-1]
        closed = stage.startswith("Closed")
        props: dict[str, Any] = {
            "createdate": created,
            "hs_lastmodifieddate": max(created, stage_at),
            "dealname": f"{s.company.name} - New Business",
            "dealstage": DEAL_STAGES[stage],
            "pipeline": "default",
            "amount": s.amount,
            "closedate": stage_at
            if closed
            else datetime.combine(s.expected_close, datetime.min.time(), tzinfo=created.tzinfo)
            if s.expected_close
            else None,
            "hs_is_closed": closed,
            "hs_is_closed_won": stage == "Closed Won",
            "closed_lost_reason": s.loss_reason if stage == "Closed Lost" else None,
            "hs_analytics_source": s.source,
            "salesforceopportunityid": ids.opportunity,
            "hubspot_owner_id": str(s.ae.owner_id),
        }
        self.add(
            "deals", ids.deal, {k: v for k, v in props.items() if v is not None}, created, props["hs_lastmodifieddate"]
        )
        self.associate("deals", ids.deal, "contacts", ids.contact)
        self.associate("deals", ids.deal, "companies", s.company.hubspot_id)

    def engagement(self, a: Activity, s: Story) -> int:
        engagement_id = self.alloc.engagement()
        object_type = ENGAGEMENT_TYPE[a.channel]
        props: dict[str, Any] = {
            "hs_timestamp": a.at,
            "hs_createdate": a.at,
            "hs_lastmodifieddate": a.at,
            "hubspot_owner_id": str(a.rep.owner_id) if a.rep.owner_id else None,
        }
        who = f"{s.name.first} {s.name.last}"
        if a.channel == "call":
            props.update(
                hs_call_title=f"Call with {who}",
                hs_call_direction="OUTBOUND",
                hs_call_status=CALL_STATUS[a.result],
                hs_call_duration=a.seconds * 1000,
                hs_call_disposition=CALL_DISPOSITIONS[a.result],
                hs_body_preview=a.result.replace("_", " "),
            )
        elif a.channel in ("email", "reply"):
            subject = f"{s.company.name} x crm-loop"
            props.update(
                hs_email_subject=subject if a.channel == "email" else f"Re: {subject}",
                hs_email_direction="EMAIL" if a.channel == "email" else "INCOMING_EMAIL",
                hs_email_status="SENT",
            )
        elif a.channel == "meeting":
            props.update(
                hs_meeting_title="Demo" if a.phase == "opportunity" else "Discovery call",
                hs_meeting_outcome="COMPLETED" if a.result == "completed" else "NO_SHOW",
                hs_meeting_start_time=a.at,
                hs_meeting_end_time=a.at + timedelta(seconds=a.seconds),
            )
        elif a.channel == "note":
            props.update(hs_note_body=f"Spoke with {who}; interested, sending recap.")
        else:
            props.update(
                hs_task_subject=f"Send recap to {who}",
                hs_task_status="COMPLETED",
                hs_task_type="TODO",
                hs_task_priority="MEDIUM",
            )
        self.add(object_type, engagement_id, {k: v for k, v in props.items() if v is not None}, a.at, a.at)
        return engagement_id

    def duplicate(self, s: Story, contact_id: int) -> None:
        """The same person again, from a list import that bypassed de-duplication."""
        assert s.duplicate_at is not None
        at = s.duplicate_at
        props = {
            "createdate": at,
            "lastmodifieddate": at,
            "email": s.email,
            "firstname": s.name.first,
            "lastname": s.name.last,
            "company": s.company.name,
            "country": s.country,
            "lifecyclestage": "lead",
            "hs_lifecyclestage_lead_date": at,
            "hs_analytics_source": "OFFLINE",
            "hs_analytics_source_data_1": "IMPORT",
            "hs_analytics_source_data_2": "trade show list",
            "associatedcompanyid": s.company.hubspot_id,
        }
        self.add("contacts", contact_id, props, at, at)
        self.associate("contacts", contact_id, "companies", s.company.hubspot_id)
        self.data.history.append(PropertyChange("contacts", contact_id, "lifecyclestage", "lead", at, "IMPORT"))
