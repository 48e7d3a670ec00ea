"""Salesforce object metadata served by describe and used to store, validate and render records.

Field names, types and picklists follow a standard Sales Cloud org; ``*__c`` fields are the custom fields a
RevOps team typically adds, so connectors are exercised on custom metadata too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

API_VERSION = "59.0"

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Advertisement",
    "Webinar",
    "Trade Show",
    "Other",
)
INDUSTRIES = (
    "Technology",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Telecommunications",
    "Energy",
    "Government",
    "Consulting",
    "Other",
)
OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
DISQUALIFICATION_REASONS = (
    "No Budget",
    "No Authority",
    "No Need",
    "Bad Timing",
    "Competitor",
    "Unresponsive",
    "Bad Data",
    "Not ICP",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_SUBTYPES = ("Task", "Email", "Call", "ListEmail", "Cadence")
EVENT_SUBTYPES = ("Event",)
CALL_TYPES = ("Internal", "Inbound", "Outbound")
CAMPAIGN_TYPES = (
    "Webinar",
    "Email",
    "Advertisement",
    "Conference",
    "Direct Mail",
    "Partners",
    "Referral Program",
    "Other",
)
CAMPAIGN_MEMBER_STATUSES = ("Sent", "Responded")
RATINGS = ("Hot", "Warm", "Cold")

# SOAP types per field type, as describe reports them.
_SOAP = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "picklist": "xsd:string",
    "multipicklist": "xsd:string",
    "textarea": "xsd:string",
    "email": "xsd:string",
    "phone": "xsd:string",
    "url": "xsd:string",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}


@dataclass(frozen=True)
class SfField:
    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    custom: bool = False
    picklist: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    createable: bool = True
    updateable: bool = True
    calculated: bool = False
    default_value: str | None = None  # default picklist value

    @property
    def soap_type(self) -> str:
        return _SOAP[self.type]


@dataclass(frozen=True)
class SfObject:
    name: str
    label: str
    key_prefix: str
    fields: tuple[SfField, ...]
    custom: bool = False
    replicateable: bool = True
    label_plural: str = ""
    _by_name: dict[str, SfField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> SfField | None:
        return self._by_name.get(name.lower())


def _f(name: str, type_: str, label: str | None = None, **kw: object) -> SfField:
    length = kw.pop("length", None)
    if length is None:
        length = {
            "id": 18,
            "reference": 18,
            "string": 255,
            "picklist": 255,
            "email": 80,
            "phone": 40,
            "url": 255,
            "textarea": 32000,
            "multipicklist": 4099,
        }.get(type_, 0)
    return SfField(name=name, type=type_, label=label or name, length=int(length), **kw)  # type: ignore[arg-type]


def _system(owner: bool = True) -> tuple[SfField, ...]:
    out = [
        _f("Id", "id", "Record ID", nillable=False, createable=False, updateable=False),
        _f("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False),
        _f("CreatedDate", "datetime", "Created Date", nillable=False, createable=False, updateable=False),
        _f(
            "CreatedById",
            "reference",
            "Created By ID",
            nillable=False,
            reference_to=("User",),
            relationship_name="CreatedBy",
            createable=False,
            updateable=False,
        ),
        _f("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, createable=False, updateable=False),
        _f(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            nillable=False,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
            createable=False,
            updateable=False,
        ),
        _f("SystemModstamp", "datetime", "System Modstamp", nillable=False, createable=False, updateable=False),
    ]
    if owner:
        out.append(
            _f("OwnerId", "reference", "Owner ID", nillable=False, reference_to=("User",), relationship_name="Owner")
        )
    return tuple(out)


def _history(parent: str, parent_field: str, prefix: str) -> SfObject:
    return SfObject(
        name=f"{parent}History",
        label=f"{parent} History",
        key_prefix=prefix,
        fields=(
            _f("Id", "id", "History ID", nillable=False, createable=False, updateable=False),
            _f("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False),
            _f(
                parent_field,
                "reference",
                f"{parent} ID",
                nillable=False,
                reference_to=(parent,),
                relationship_name=parent,
            ),
            _f("CreatedById", "reference", "Created By ID", reference_to=("User",), relationship_name="CreatedBy"),
            _f("CreatedDate", "datetime", "Created Date", nillable=False),
            _f(
                "Field",
                "picklist",
                "Changed Field",
                picklist=("Status", "Owner", "created", "leadConverted", "StageName", "Amount"),
            ),
            _f("DataType", "string", "Data Type", length=40),
            _f("OldValue", "string", "Old Value"),
            _f("NewValue", "string", "New Value"),
        ),
    )


# The custom fields an admin creates for crm-loop's write-back (Setup; the REST API cannot create fields). The
# generator leaves them empty: only write-back fills them.
CRM_LOOP_FIELDS: tuple[SfField, ...] = (
    _f("CRM_Loop_Lead_Score__c", "double", "crm-loop Lead Score", custom=True),
    _f("CRM_Loop_Score_Band__c", "string", "crm-loop Score Band", length=40, custom=True),
    _f("CRM_Loop_Score_MQL_At__c", "datetime", "crm-loop Score MQL Time", custom=True),
    _f("CRM_Loop_ICP_Tier__c", "string", "crm-loop ICP Tier", length=10, custom=True),
    _f("CRM_Loop_HubSpot_Source__c", "string", "crm-loop HubSpot Source", length=80, custom=True),
    _f("CRM_Loop_HubSpot_Campaign__c", "string", "crm-loop HubSpot Campaign", length=80, custom=True),
)

LEAD = SfObject(
    "Lead",
    "Lead",
    "00Q",
    label_plural="Leads",
    fields=_system()
    + (
        _f("LastName", "string", "Last Name", length=80, nillable=False),
        _f("FirstName", "string", "First Name", length=40),
        _f("Name", "string", "Full Name", length=121, createable=False, updateable=False, calculated=True),
        _f("Title", "string", "Title", length=128),
        _f("Company", "string", "Company", nillable=False),
        _f("Email", "email", "Email"),
        _f("Phone", "phone", "Phone"),
        _f("Address", "address", "Address", createable=False, updateable=False),
        _f("Country", "string", "Country", length=80),
        _f("State", "string", "State/Province", length=80),
        _f("City", "string", "City", length=40),
        _f("LeadSource", "picklist", "Lead Source", picklist=LEAD_SOURCES),
        _f(
            "Status", "picklist", "Status", nillable=False, picklist=LEAD_STATUSES, default_value="Open - Not Contacted"
        ),
        _f("Rating", "picklist", "Rating", picklist=RATINGS),
        _f("Industry", "picklist", "Industry", picklist=INDUSTRIES),
        _f("NumberOfEmployees", "int", "Employees", length=0),
        _f("AnnualRevenue", "currency", "Annual Revenue"),
        _f("IsConverted", "boolean", "Converted", nillable=False, createable=False),
        _f("ConvertedDate", "date", "Converted Date", createable=False),
        _f(
            "ConvertedAccountId",
            "reference",
            "Converted Account ID",
            reference_to=("Account",),
            relationship_name="ConvertedAccount",
            createable=False,
        ),
        _f(
            "ConvertedContactId",
            "reference",
            "Converted Contact ID",
            reference_to=("Contact",),
            relationship_name="ConvertedContact",
            createable=False,
        ),
        _f(
            "ConvertedOpportunityId",
            "reference",
            "Converted Opportunity ID",
            reference_to=("Opportunity",),
            relationship_name="ConvertedOpportunity",
            createable=False,
        ),
        _f("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
        _f(
            "Disqualification_Reason__c",
            "picklist",
            "Disqualification Reason",
            custom=True,
            picklist=DISQUALIFICATION_REASONS,
        ),
        _f("Lead_Score__c", "double", "Lead Score", custom=True),
        _f("MQL_Date__c", "datetime", "MQL Date", custom=True),
        _f("HubSpot_Contact_Id__c", "string", "HubSpot Contact ID", length=32, custom=True),
        *CRM_LOOP_FIELDS,
    ),
)

CONTACT = SfObject(
    "Contact",
    "Contact",
    "003",
    label_plural="Contacts",
    fields=_system()
    + (
        _f("AccountId", "reference", "Account ID", reference_to=("Account",), relationship_name="Account"),
        _f("LastName", "string", "Last Name", length=80, nillable=False),
        _f("FirstName", "string", "First Name", length=40),
        _f("Name", "string", "Full Name", length=121, createable=False, updateable=False, calculated=True),
        _f("Title", "string", "Title", length=128),
        _f("Email", "email", "Email"),
        _f("Phone", "phone", "Business Phone"),
        _f("MailingAddress", "address", "Mailing Address", createable=False, updateable=False),
        _f("MailingCountry", "string", "Mailing Country", length=80),
        _f("LeadSource", "picklist", "Lead Source", picklist=LEAD_SOURCES),
        _f("Department", "string", "Department", length=80),
        _f("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
        _f("HubSpot_Contact_Id__c", "string", "HubSpot Contact ID", length=32, custom=True),
        *CRM_LOOP_FIELDS,
    ),
)

ACCOUNT = SfObject(
    "Account",
    "Account",
    "001",
    label_plural="Accounts",
    fields=_system()
    + (
        _f("Name", "string", "Account Name", nillable=False),
        _f(
            "Type",
            "picklist",
            "Account Type",
            picklist=("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
        ),
        _f("Industry", "picklist", "Industry", picklist=INDUSTRIES),
        _f("NumberOfEmployees", "int", "Employees"),
        _f("AnnualRevenue", "currency", "Annual Revenue"),
        _f("BillingAddress", "address", "Billing Address", createable=False, updateable=False),
        _f("BillingCountry", "string", "Billing Country", length=80),
        _f("Website", "url", "Website"),
        _f("ICP_Tier__c", "picklist", "ICP Tier", custom=True, picklist=("A", "B", "C")),
    ),
)

OPPORTUNITY = SfObject(
    "Opportunity",
    "Opportunity",
    "006",
    label_plural="Opportunities",
    fields=_system()
    + (
        _f("AccountId", "reference", "Account ID", reference_to=("Account",), relationship_name="Account"),
        _f("Name", "string", "Name", length=120, nillable=False),
        _f("StageName", "picklist", "Stage", nillable=False, picklist=OPPORTUNITY_STAGES, default_value="Prospecting"),
        _f("Amount", "currency", "Amount"),
        _f("Probability", "percent", "Probability (%)"),
        _f("CloseDate", "date", "Close Date", nillable=False),
        _f("IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False),
        _f("IsWon", "boolean", "Won", nillable=False, createable=False, updateable=False),
        _f("LeadSource", "picklist", "Lead Source", picklist=LEAD_SOURCES),
        _f("CampaignId", "reference", "Campaign ID", reference_to=("Campaign",), relationship_name="Campaign"),
        _f("Type", "picklist", "Opportunity Type", picklist=("New Business", "Existing Business")),
        _f("ContactId", "reference", "Contact ID", reference_to=("Contact",), relationship_name="Contact"),
        _f(
            "Loss_Reason__c",
            "picklist",
            "Loss Reason",
            custom=True,
            picklist=("Price", "Competitor", "No Decision", "Timing", "Product Gap"),
        ),
    ),
)

_ACTIVITY_COMMON = (
    _f("WhoId", "reference", "Name ID", reference_to=("Contact", "Lead"), relationship_name="Who"),
    _f(
        "WhatId",
        "reference",
        "Related To ID",
        reference_to=("Account", "Opportunity", "Campaign"),
        relationship_name="What",
    ),
    _f("Subject", "string", "Subject"),
    _f("ActivityDate", "date", "Due Date Only"),
    _f("Description", "textarea", "Description"),
)

TASK = SfObject(
    "Task",
    "Task",
    "00T",
    label_plural="Tasks",
    fields=_system()
    + _ACTIVITY_COMMON
    + (
        _f("Status", "picklist", "Status", nillable=False, picklist=TASK_STATUSES, default_value="Not Started"),
        _f(
            "Priority",
            "picklist",
            "Priority",
            nillable=False,
            picklist=("High", "Normal", "Low"),
            default_value="Normal",
        ),
        _f("TaskSubtype", "picklist", "Task Subtype", picklist=TASK_SUBTYPES, updateable=False),
        _f("CallType", "picklist", "Call Type", picklist=CALL_TYPES),
        _f("CallDurationInSeconds", "int", "Call Duration"),
        _f("CallDisposition", "string", "Call Result"),
        _f("IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False),
        _f("CompletedDateTime", "datetime", "Completed Date/Time", createable=False, updateable=False),
    ),
)

EVENT = SfObject(
    "Event",
    "Event",
    "00U",
    label_plural="Events",
    fields=_system()
    + _ACTIVITY_COMMON
    + (
        _f("StartDateTime", "datetime", "Start"),
        _f("EndDateTime", "datetime", "End"),
        _f("ActivityDateTime", "datetime", "Due Date Time"),
        _f("DurationInMinutes", "int", "Duration"),
        _f("EventSubtype", "picklist", "Event Subtype", picklist=EVENT_SUBTYPES, updateable=False),
        _f("Location", "string", "Location"),
    ),
)

USER = SfObject(
    "User",
    "User",
    "005",
    label_plural="Users",
    fields=tuple(f for f in _system(owner=False))
    + (
        _f("Username", "string", "Username", length=80, nillable=False),
        _f("FirstName", "string", "First Name", length=40),
        _f("LastName", "string", "Last Name", length=80, nillable=False),
        _f("Name", "string", "Full Name", length=121, createable=False, updateable=False, calculated=True),
        _f("Email", "email", "Email", nillable=False),
        _f("IsActive", "boolean", "Active", nillable=False),
        _f("Title", "string", "Title", length=80),
        _f("Department", "string", "Department", length=80),
        _f("UserRoleId", "string", "Role ID", length=18),
        _f("ManagerId", "reference", "Manager ID", reference_to=("User",), relationship_name="Manager"),
        _f(
            "TimeZoneSidKey",
            "picklist",
            "Time Zone",
            picklist=("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin"),
        ),
        _f(
            "Team__c",
            "picklist",
            "Sales Team",
            custom=True,
            picklist=("SDR East", "SDR West", "AE Enterprise", "AE Mid-Market"),
        ),
    ),
)

CAMPAIGN = SfObject(
    "Campaign",
    "Campaign",
    "701",
    label_plural="Campaigns",
    fields=_system()
    + (
        _f("Name", "string", "Name", length=80, nillable=False),
        _f("Type", "picklist", "Type", picklist=CAMPAIGN_TYPES),
        _f("Status", "picklist", "Status", picklist=("Planned", "In Progress", "Completed", "Aborted")),
        _f("StartDate", "date", "Start Date"),
        _f("EndDate", "date", "End Date"),
        _f("IsActive", "boolean", "Active", nillable=False),
        _f("BudgetedCost", "currency", "Budgeted Cost"),
        _f("ActualCost", "currency", "Actual Cost"),
        _f("HubSpot_Campaign__c", "string", "HubSpot Campaign Key", length=80, custom=True),
    ),
)

CAMPAIGN_MEMBER = SfObject(
    "CampaignMember",
    "Campaign Member",
    "00v",
    label_plural="Campaign Members",
    fields=tuple(f for f in _system(owner=False))
    + (
        _f(
            "CampaignId",
            "reference",
            "Campaign ID",
            nillable=False,
            reference_to=("Campaign",),
            relationship_name="Campaign",
        ),
        _f("LeadId", "reference", "Lead ID", reference_to=("Lead",), relationship_name="Lead"),
        _f("ContactId", "reference", "Contact ID", reference_to=("Contact",), relationship_name="Contact"),
        _f("Status", "picklist", "Status", picklist=CAMPAIGN_MEMBER_STATUSES, default_value="Sent"),
        _f("HasResponded", "boolean", "Responded", nillable=False, createable=False, updateable=False),
        _f("FirstRespondedDate", "date", "First Responded Date", createable=False, updateable=False),
    ),
)

LEAD_HISTORY = _history("Lead", "LeadId", "017")
OPPORTUNITY_HISTORY = SfObject(
    "OpportunityHistory",
    "Opportunity History",
    "008",
    fields=(
        _f("Id", "id", "History ID", nillable=False, createable=False, updateable=False),
        _f("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False),
        _f(
            "OpportunityId",
            "reference",
            "Opportunity ID",
            nillable=False,
            reference_to=("Opportunity",),
            relationship_name="Opportunity",
        ),
        _f("CreatedById", "reference", "Created By ID", reference_to=("User",), relationship_name="CreatedBy"),
        _f("CreatedDate", "datetime", "Created Date", nillable=False),
        _f("StageName", "picklist", "Stage", picklist=OPPORTUNITY_STAGES),
        _f("Amount", "currency", "Amount"),
        _f("Probability", "percent", "Probability (%)"),
        _f("CloseDate", "date", "Close Date"),
        _f("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    ),
)

OBJECTS: dict[str, SfObject] = {
    o.name: o
    for o in (
        LEAD,
        LEAD_HISTORY,
        CONTACT,
        ACCOUNT,
        OPPORTUNITY,
        OPPORTUNITY_HISTORY,
        TASK,
        EVENT,
        USER,
        CAMPAIGN,
        CAMPAIGN_MEMBER,
    )
}


def get_object(name: str) -> SfObject | None:
    """Object names are case-insensitive in SOQL and REST paths."""
    for obj in OBJECTS.values():
        if obj.name.lower() == name.lower():
            return obj
    return None
