"""A story, a company, a campaign or the sales team as Salesforce rows (field names as in salesforce/schema.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.data.allocate import IdAllocator, PersonIds
from sandbox.data.funnel import Activity, Story
from sandbox.data.names import US_STATES_WEST
from sandbox.data.reference import Campaign, Company, Rep, Team
from sandbox.data.worktime import local_date
from sandbox.model.dataset import SalesforceData
from sandbox.model.ids import sf_id
from sandbox.model.salesforce import DISQUALIFICATION_REASONS, INDUSTRIES

LEAD_SOURCES = {
    "ORGANIC_SEARCH": "Web",
    "PAID_SEARCH": "Advertisement",
    "EMAIL_MARKETING": "Web",
    "SOCIAL_MEDIA": "Web",
    "REFERRALS": "Partner Referral",
    "OTHER_CAMPAIGNS": "Webinar",
    "DIRECT_TRAFFIC": "Web",
    "OFFLINE": "Trade Show",
    "PAID_SOCIAL": "Advertisement",
}
PROBABILITY = {
    "Qualification": 10.0,
    "Needs Analysis": 20.0,
    "Value Proposition": 50.0,
    "Proposal/Price Quote": 75.0,
    "Negotiation/Review": 90.0,
    "Closed Won": 100.0,
    "Closed Lost": 0.0,
}
CALL_RESULTS = {"connected": "Connected", "voicemail": "Left Voicemail", "no_answer": "No Answer", "busy": "Busy"}


def _system(
    record_id: str, created: datetime, created_by: Rep, modified: datetime | None = None, modified_by: Rep | None = None
) -> dict[str, Any]:
    modified = modified or created
    return {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": created,
        "CreatedById": created_by.sf_id,
        "LastModifiedDate": modified,
        "LastModifiedById": (modified_by or created_by).sf_id,
        "SystemModstamp": modified,
    }


def users(team: Team) -> list[dict[str, Any]]:
    rows = []
    for rep in team.reps:
        created = team.deactivated_at - timedelta(days=300 + rep.index * 3)
        modified = team.deactivated_at if not rep.active else created
        rows.append(
            {
                **_system(
                    rep.sf_id, created, team.admin if rep.index else rep, modified, team.admin if rep.index else rep
                ),
                "Username": rep.email + ".crmloop",
                "FirstName": rep.first,
                "LastName": rep.last,
                "Name": f"{rep.first} {rep.last}",
                "Email": rep.email,
                "IsActive": rep.active,
                "Title": {
                    "integration": "Integration User",
                    "admin": "RevOps Admin",
                    "manager": f"{rep.team} Manager",
                    "sdr": "Sales Development Rep",
                    "ae": "Account Executive",
                }[rep.role],
                "Department": "Sales" if rep.team else "Operations",
                "UserRoleId": sf_id("00E", rep.index + 1),
                "ManagerId": rep.manager.sf_id if rep.manager else None,
                "TimeZoneSidKey": "America/New_York",
                "Team__c": rep.team,
            }
        )
    return rows


def campaign(c: Campaign, team: Team, anchor: datetime) -> dict[str, Any]:
    created = min(anchor, datetime.combine(c.start, datetime.min.time(), tzinfo=anchor.tzinfo) - timedelta(days=14))
    budget = {"Webinar": 5_000.0, "Email": 1_500.0, "Advertisement": 20_000.0, "Conference": 35_000.0}[c.type]
    finished = c.end < anchor.date()
    return {
        **_system(c.sf_id, created, team.admin),
        "OwnerId": team.admin.sf_id,
        "Name": c.name,
        "Type": c.type,
        "Status": "Completed" if finished else "In Progress",
        "StartDate": c.start,
        "EndDate": c.end,
        "IsActive": not finished,
        "BudgetedCost": budget,
        "ActualCost": budget * (0.9 if finished else 0.5),
        "HubSpot_Campaign__c": c.key,
    }


def account(c: Company, team: Team, anchor: datetime) -> dict[str, Any]:
    modified = min(anchor, c.created_at + timedelta(days=30 + c.index % 90))
    return {
        **_system(c.sf_id, c.created_at, team.admin, modified, c.ae),
        "OwnerId": c.ae.sf_id,
        "Name": c.name,
        "Type": "Prospect",
        "Industry": INDUSTRIES[c.industry],
        "NumberOfEmployees": c.employees,
        "AnnualRevenue": c.annual_revenue,
        "BillingCountry": c.country,
        "Website": f"https://www.{c.domain}",
        "ICP_Tier__c": c.tier,
    }


class SalesforceRenderer:
    def __init__(self, data: SalesforceData, alloc: IdAllocator, team: Team) -> None:
        self.data, self.alloc, self.team = data, alloc, team

    def add(self, object_name: str, row: dict[str, Any]) -> None:
        self.data.records.setdefault(object_name, []).append(row)

    def history(
        self,
        lead_id: str,
        at: datetime,
        by: Rep,
        field: str,
        old: str | None = None,
        new: str | None = None,
        data_type: str = "Text",
    ) -> None:
        self.add(
            "LeadHistory",
            {
                "Id": self.alloc.sf("017"),
                "IsDeleted": False,
                "LeadId": lead_id,
                "CreatedById": by.sf_id,
                "CreatedDate": at,
                "Field": field,
                "DataType": data_type,
                "OldValue": old,
                "NewValue": new,
            },
        )

    def person(self, s: Story, ids: PersonIds) -> dict[str, str]:
        """Render one person; returns orphaned activities (activity id -> missing WhoId)."""
        orphans: dict[str, str] = {}
        if ids.lead is not None:
            self.lead(s, ids)
        if ids.sf_contact is not None:
            self.contact(s, ids)
        if ids.opportunity is not None:
            self.opportunity(s, ids)
        at_conversion = ids.opportunity if s.opened_by_conversion else None
        for activity in s.activities:
            if activity.crm != "salesforce":
                continue
            if activity.orphan:
                missing = self.alloc.orphan_lead()
                orphans[self.activity(activity, s, missing, None)] = missing
            elif ids.lead is not None:
                # Converting a lead moves its activities to the new contact, and to the opportunity the conversion
                # creates, as Salesforce does; an opportunity opened later only gets its own activities.
                who = ids.sf_contact or ids.lead
                self.activity(activity, s, who, ids.opportunity if activity.phase == "opportunity" else at_conversion)
        if ids.duplicate_lead is not None:
            self.duplicate(s, ids.duplicate_lead)
        return orphans

    def lead(self, s: Story, ids: PersonIds) -> None:
        assert ids.lead is not None and s.lead_created_at is not None and s.mql_at is not None
        team, created = self.team, s.lead_created_at
        owner = s.owner or team.integration  # a failed assignment leaves the lead with the API user that created it
        if s.reassigned_from is not None:
            owner = s.worker or owner
        status, changes = "Open - Not Contacted", []
        for new, at, rep in s.sf_status:
            changes.append((status, new, at, rep))
            status = new
        sf_activities = [a.at for a in s.activities if a.crm == "salesforce" and not a.orphan and a.phase == "lead"]
        stamps = [created, *(at for _, _, at, _ in changes)] + ([s.reassigned_from[1]] if s.reassigned_from else [])
        modified = max(stamps)
        last_editor = changes[-1][3] if changes else team.integration
        converted = s.converted_at is not None
        row = {
            **_system(ids.lead, created, team.integration, modified, last_editor),
            "OwnerId": owner.sf_id,
            "LastName": s.name.last,
            "FirstName": s.name.first,
            "Name": f"{s.name.first} {s.name.last}",
            "Title": s.title,
            "Company": s.company.name,
            "Email": s.email,
            "Phone": s.phone,
            "Country": s.country,
            "State": s.state,
            "LeadSource": LEAD_SOURCES[s.source],
            "Status": status,
            "Rating": "Hot" if s.score >= 85 else ("Warm" if s.score >= 70 else "Cold"),
            "Industry": INDUSTRIES[s.company.industry],
            "NumberOfEmployees": s.company.employees,
            "AnnualRevenue": s.company.annual_revenue,
            "IsConverted": converted,
            "ConvertedDate": local_date(s.converted_at) if s.converted_at else None,
            "ConvertedAccountId": s.company.sf_id if converted else None,
            "ConvertedContactId": ids.sf_contact,
            "ConvertedOpportunityId": ids.opportunity if s.opened_by_conversion else None,
            "LastActivityDate": local_date(max(sf_activities)) if sf_activities and not converted else None,
            "Disqualification_Reason__c": DISQUALIFICATION_REASONS[s.reason] if s.reason is not None else None,
            "Lead_Score__c": float(s.score),
            "MQL_Date__c": s.mql_at,
            "HubSpot_Contact_Id__c": str(ids.contact),
        }
        self.add("Lead", row)
        self.history(ids.lead, created, team.integration, "created")
        if s.reassigned_from is not None and s.worker is not None:
            previous, at = s.reassigned_from
            self.history(ids.lead, at, previous, "Owner", previous.sf_id, s.worker.sf_id, "EntityId")
        for old, new, at, rep in changes:
            self.history(ids.lead, at, rep, "Status", old, new)
        if s.converted_at is not None and s.worker is not None:
            self.history(ids.lead, s.converted_at, s.worker, "leadConverted")
        if s.campaign is not None:
            responded = local_date(s.mql_at)
            self.add(
                "CampaignMember",
                {
                    **_system(self.alloc.sf("00v"), created, team.integration, s.converted_at or created),
                    "CampaignId": s.campaign.sf_id,
                    "LeadId": ids.lead,
                    "ContactId": ids.sf_contact,
                    "Status": "Responded",
                    "HasResponded": True,
                    "FirstRespondedDate": responded,
                },
            )

    def contact(self, s: Story, ids: PersonIds) -> None:
        assert ids.sf_contact and s.converted_at and s.ae and s.worker
        at, ae = s.converted_at, s.ae
        opp_touches = [a.at for a in s.activities if a.crm == "salesforce" and not a.orphan]
        self.add(
            "Contact",
            {
                **_system(ids.sf_contact, at, s.worker),
                "OwnerId": ae.sf_id,
                "AccountId": s.company.sf_id,
                "LastName": s.name.last,
                "FirstName": s.name.first,
                "Name": f"{s.name.first} {s.name.last}",
                "Title": s.title,
                "Email": s.email,
                "Phone": s.phone,
                "MailingCountry": s.country,
                "LeadSource": LEAD_SOURCES[s.source],
                "HubSpot_Contact_Id__c": str(ids.contact),
                "LastActivityDate": local_date(max(opp_touches)) if opp_touches else None,
            },
        )

    def opportunity(self, s: Story, ids: PersonIds) -> None:
        assert ids.opportunity and s.opportunity_at and s.ae and s.worker and s.expected_close
        at, ae = s.opportunity_at, s.ae
        creator = s.worker if s.opened_by_conversion else ae  # the converting SDR, else the AE who opened it later
        stage, stage_at = s.opp_stages[-1]
        closed = stage.startswith("Closed")
        close_date = local_date(stage_at) if closed else s.expected_close
        self.add(
            "Opportunity",
            {
                **_system(ids.opportunity, at, creator, stage_at if len(s.opp_stages) > 1 else at, ae),
                "OwnerId": ae.sf_id,
                "AccountId": s.company.sf_id,
                "Name": f"{s.company.name} - New Business",
                "StageName": stage,
                "Amount": s.amount,
                "Probability": PROBABILITY[stage],
                "CloseDate": close_date,
                "IsClosed": closed,
                "IsWon": stage == "Closed Won",
                "LeadSource": LEAD_SOURCES[s.source],
                "CampaignId": s.campaign.sf_id if s.campaign else None,
                "Type": "New Business",
                "ContactId": ids.sf_contact,
                "Loss_Reason__c": s.loss_reason if stage == "Closed Lost" else None,
            },
        )
        for name, when in s.opp_stages:
            self.add(
                "OpportunityHistory",
                {
                    "Id": self.alloc.sf("008"),
                    "IsDeleted": False,
                    "OpportunityId": ids.opportunity,
                    "CreatedById": (creator if when == at else ae).sf_id,
                    "CreatedDate": when,
                    "StageName": name,
                    "Amount": s.amount,
                    "Probability": PROBABILITY[name],
                    "CloseDate": local_date(when) if name.startswith("Closed") else s.expected_close,
                    "SystemModstamp": when,
                },
            )

    def activity(self, a: Activity, s: Story, who: str, what: str | None) -> str:
        who_name = f"{s.name.first} {s.name.last}"
        common = {"OwnerId": a.rep.sf_id, "WhoId": who, "WhatId": what, "ActivityDate": local_date(a.at)}
        if a.channel == "meeting":
            event_id = self.alloc.sf("00U")
            booked = (
                max(s.first_touch_at or a.at, a.at - timedelta(days=2))
                if a.phase == "lead"
                else max(s.opportunity_at or a.at, a.at - timedelta(days=2))
            )
            booked = min(booked, a.at)
            self.add(
                "Event",
                {
                    **_system(event_id, booked, a.rep, a.at),
                    **common,
                    "Subject": ("Demo" if a.phase == "opportunity" else "Discovery call") + f": {who_name}",
                    "Description": "No-show" if a.result == "no_show" else "Held",
                    "StartDateTime": a.at,
                    "EndDateTime": a.at + timedelta(seconds=a.seconds),
                    "ActivityDateTime": a.at,
                    "DurationInMinutes": a.seconds // 60,
                    "EventSubtype": "Event",
                    "Location": "Zoom",
                },
            )
            return event_id
        task_id = self.alloc.sf("00T")
        row = {
            **_system(task_id, a.at, a.rep),
            **common,
            "Status": "Completed",
            "Priority": "Normal",
            "IsClosed": True,
            "CompletedDateTime": a.at,
        }
        if a.channel == "call":
            row.update(
                Subject=f"Call: {who_name}",
                TaskSubtype="Call",
                CallType="Outbound",
                CallDurationInSeconds=a.seconds,
                CallDisposition=CALL_RESULTS[a.result],
            )
        else:
            subject = f"{s.company.name} x crm-loop"
            row.update(
                Subject=f"Email: {subject}" if a.channel == "email" else f"Email: Re: {subject}",
                TaskSubtype="Email",
                Description="Inbound reply" if a.channel == "reply" else None,
            )
        self.add("Task", row)
        return task_id

    def duplicate(self, s: Story, lead_id: str) -> None:
        """A rep keys in the same person from a trade-show list: same e-mail, no link to HubSpot, no MQL date."""
        assert s.duplicate_at is not None
        region = "SDR West" if s.state in US_STATES_WEST else "SDR East"
        rep = self.team.sdrs[region][s.index % len(self.team.sdrs[region])]
        self.add(
            "Lead",
            {
                **_system(lead_id, s.duplicate_at, rep),
                "OwnerId": rep.sf_id,
                "LastName": s.name.last,
                "FirstName": s.name.first,
                "Name": f"{s.name.first} {s.name.last}",
                "Company": s.company.name,
                "Email": s.email,
                "Country": s.country,
                "LeadSource": "Trade Show",
                "Status": "Open - Not Contacted",
                "IsConverted": False,
            },
        )
        self.history(lead_id, s.duplicate_at, rep, "created")
