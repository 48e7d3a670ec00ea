"""HubSpot object types and property definitions served by ``/crm/v3/properties/{type}``.

Values travel as strings on the wire; the ``type`` here decides how the sandbox stores, filters and sorts
them (datetimes as millisecond epochs, numbers as numbers), as HubSpot's search does.
"""

from __future__ import annotations

from dataclasses import dataclass

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
ANALYTICS_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
# The default deal pipeline: (stage id, label, probability, closed). Probabilities as HubSpot's defaults.
DEAL_PIPELINE_STAGES: tuple[tuple[str, str, float, bool], ...] = (
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
)
CALL_STATUSES = ("COMPLETED", "NO_ANSWER", "BUSY", "FAILED", "CANCELED", "CONNECTING", "RINGING", "IN_PROGRESS")
EMAIL_DIRECTIONS = ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")
MEETING_OUTCOMES = ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")
TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MACHINERY",
    "RETAIL",
    "EDUCATION_MANAGEMENT",
    "MEDIA_PRODUCTION",
    "TELECOMMUNICATIONS",
    "OIL_ENERGY",
    "GOVERNMENT_ADMINISTRATION",
    "MANAGEMENT_CONSULTING",
    "OTHER",
)
DISQUALIFICATION_REASONS = (
    "no_budget",
    "no_authority",
    "no_need",
    "bad_timing",
    "competitor",
    "unresponsive",
    "bad_data",
    "not_icp",
)

OBJECT_TYPES = ("contacts", "companies", "deals", "calls", "emails", "meetings", "notes", "tasks")
ENGAGEMENT_TYPES = ("calls", "emails", "meetings", "notes", "tasks")


@dataclass(frozen=True)
class HsProperty:
    name: str
    type: str  # string | number | datetime | date | enumeration | bool
    field_type: str  # text | number | date | select | radio | booleancheckbox | textarea | calculation_equation
    label: str = ""
    group: str = "contactinformation"
    options: tuple[str, ...] = ()
    hubspot_defined: bool = True
    calculated: bool = False
    has_unique_value: bool = False


def _p(
    name: str, type_: str, label: str = "", group: str = "", options: tuple[str, ...] = (), **kw: object
) -> HsProperty:
    field_type = {
        "string": "text",
        "number": "number",
        "datetime": "date",
        "date": "date",
        "enumeration": "select",
        "bool": "booleancheckbox",
    }[type_]
    return HsProperty(name, type_, str(kw.pop("field_type", field_type)), label or name, group, options, **kw)  # type: ignore[arg-type]


_COMMON = (
    _p("hs_object_id", "number", "Record ID", "system"),
    _p("hs_createdate", "datetime", "Object create date/time", "system"),
    _p("hs_lastmodifieddate", "datetime", "Object last modified date/time", "system"),
    _p("hubspot_owner_id", "enumeration", "Owner", "system"),
    _p("hs_merged_object_ids", "enumeration", "Merged record IDs", "system", field_type="checkbox"),
)

_LIFECYCLE_DATES = tuple(
    _p(f"hs_lifecyclestage_{stage}_date", "datetime", f"Became a {stage} date", "contactinformation", calculated=True)
    for stage in LIFECYCLE_STAGES
)

CONTACT_PROPERTIES = (
    _COMMON
    + _LIFECYCLE_DATES
    + (
        _p("createdate", "datetime", "Create Date"),
        _p("lastmodifieddate", "datetime", "Last Modified Date"),
        _p("email", "string", "Email", has_unique_value=False),
        _p("firstname", "string", "First Name"),
        _p("lastname", "string", "Last Name"),
        _p("jobtitle", "string", "Job Title"),
        _p("phone", "string", "Phone Number"),
        _p("company", "string", "Company Name"),
        _p("country", "string", "Country/Region"),
        _p("industry", "string", "Industry"),
        _p(
            "numemployees",
            "enumeration",
            "Number of Employees",
            options=("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"),
        ),
        _p("annualrevenue", "string", "Annual Revenue"),
        _p("lifecyclestage", "enumeration", "Lifecycle Stage", options=LIFECYCLE_STAGES, field_type="radio"),
        _p("hs_lead_status", "enumeration", "Lead Status", options=LEAD_STATUSES, field_type="radio"),
        _p("hs_analytics_source", "enumeration", "Original Source", "analyticsinformation", options=ANALYTICS_SOURCES),
        _p("hs_analytics_source_data_1", "string", "Original Source Drill-Down 1", "analyticsinformation"),
        _p("hs_analytics_source_data_2", "string", "Original Source Drill-Down 2", "analyticsinformation"),
        _p("hs_analytics_num_page_views", "number", "Number of Pageviews", "analyticsinformation"),
        _p("num_conversion_events", "number", "Number of Form Submissions", "conversioninformation"),
        _p("recent_conversion_event_name", "string", "Recent Conversion", "conversioninformation"),
        _p("first_conversion_event_name", "string", "First Conversion", "conversioninformation"),
        _p("hubspotscore", "number", "HubSpot Score", "contact_activity"),
        _p("hs_email_last_reply_date", "datetime", "Last email reply date", "emailinformation"),
        _p("notes_last_contacted", "datetime", "Last Contacted", "contact_activity"),
        _p("num_contacted_notes", "number", "Number of times contacted", "contact_activity"),
        _p("salesforceleadid", "string", "Salesforce Lead ID", "salesforceinformation"),
        _p("salesforcecontactid", "string", "Salesforce Contact ID", "salesforceinformation"),
        _p("associatedcompanyid", "number", "Associated Company ID"),
        _p(
            "demo_requested",
            "bool",
            "Demo requested",
            "conversioninformation",
            options=("true", "false"),
            hubspot_defined=False,
        ),
        _p(
            "webinar_attended",
            "bool",
            "Attended a webinar",
            "conversioninformation",
            options=("true", "false"),
            hubspot_defined=False,
        ),
        _p(
            "disqualification_reason",
            "enumeration",
            "Disqualification reason",
            "sales_properties",
            options=DISQUALIFICATION_REASONS,
            hubspot_defined=False,
        ),
        _p("crm_loop_campaign", "string", "Original campaign key", "analyticsinformation", hubspot_defined=False),
    )
)

COMPANY_PROPERTIES = _COMMON + (
    _p("createdate", "datetime", "Create Date", "companyinformation"),
    _p("name", "string", "Name", "companyinformation"),
    _p("domain", "string", "Company Domain Name", "companyinformation"),
    _p("industry", "enumeration", "Industry", "companyinformation", options=INDUSTRIES),
    _p("numberofemployees", "number", "Number of Employees", "companyinformation"),
    _p("annualrevenue", "number", "Annual Revenue", "companyinformation"),
    _p("country", "string", "Country/Region", "companyinformation"),
    _p("lifecyclestage", "enumeration", "Lifecycle Stage", "companyinformation", options=LIFECYCLE_STAGES),
    _p("salesforceaccountid", "string", "Salesforce Account ID", "salesforceinformation"),
    _p("icp_tier", "enumeration", "ICP tier", "companyinformation", options=("A", "B", "C"), hubspot_defined=False),
)

DEAL_PROPERTIES = _COMMON + (
    _p("createdate", "datetime", "Create Date", "dealinformation"),
    _p("dealname", "string", "Deal Name", "dealinformation"),
    _p("dealstage", "enumeration", "Deal Stage", "dealinformation", options=DEAL_STAGES),
    _p("pipeline", "enumeration", "Pipeline", "dealinformation", options=("default",)),
    _p("amount", "number", "Amount", "dealinformation"),
    _p("closedate", "datetime", "Close Date", "dealinformation"),
    _p("hs_is_closed", "bool", "Is Deal Closed?", "dealinformation", calculated=True),
    _p("hs_is_closed_won", "bool", "Is Closed Won", "dealinformation", calculated=True),
    _p("closed_lost_reason", "string", "Closed Lost Reason", "dealinformation"),
    _p("hs_analytics_source", "enumeration", "Original Source Type", "analyticsinformation", options=ANALYTICS_SOURCES),
    _p("salesforceopportunityid", "string", "Salesforce Opportunity ID", "salesforceinformation"),
)

_ENGAGEMENT_COMMON = _COMMON + (
    _p("hs_timestamp", "datetime", "Activity date", "engagement"),
    _p("hs_body_preview", "string", "Body preview", "engagement"),
)

CALL_PROPERTIES = _ENGAGEMENT_COMMON + (
    _p("hs_call_title", "string", "Call Title", "call"),
    _p("hs_call_direction", "enumeration", "Call direction", "call", options=("INBOUND", "OUTBOUND")),
    _p("hs_call_status", "enumeration", "Call status", "call", options=CALL_STATUSES),
    _p("hs_call_duration", "number", "Call duration (ms)", "call"),
    _p("hs_call_disposition", "string", "Call outcome", "call"),
)
EMAIL_PROPERTIES = _ENGAGEMENT_COMMON + (
    _p("hs_email_subject", "string", "Email subject", "email"),
    _p("hs_email_direction", "enumeration", "Email direction", "email", options=EMAIL_DIRECTIONS),
    _p(
        "hs_email_status",
        "enumeration",
        "Email send status",
        "email",
        options=("SENT", "BOUNCED", "FAILED", "SCHEDULED"),
    ),
)
MEETING_PROPERTIES = _ENGAGEMENT_COMMON + (
    _p("hs_meeting_title", "string", "Meeting name", "meeting"),
    _p("hs_meeting_outcome", "enumeration", "Meeting outcome", "meeting", options=MEETING_OUTCOMES),
    _p("hs_meeting_start_time", "datetime", "Start time", "meeting"),
    _p("hs_meeting_end_time", "datetime", "End time", "meeting"),
)
NOTE_PROPERTIES = _ENGAGEMENT_COMMON + (_p("hs_note_body", "string", "Note body", "note"),)
TASK_PROPERTIES = _ENGAGEMENT_COMMON + (
    _p("hs_task_subject", "string", "Task title", "task"),
    _p("hs_task_status", "enumeration", "Task status", "task", options=TASK_STATUSES),
    _p("hs_task_type", "enumeration", "Task type", "task", options=("CALL", "EMAIL", "TODO", "LINKED_IN")),
    _p("hs_task_priority", "enumeration", "Priority", "task", options=("LOW", "MEDIUM", "HIGH", "NONE")),
)

PROPERTIES: dict[str, tuple[HsProperty, ...]] = {
    "contacts": CONTACT_PROPERTIES,
    "companies": COMPANY_PROPERTIES,
    "deals": DEAL_PROPERTIES,
    "calls": CALL_PROPERTIES,
    "emails": EMAIL_PROPERTIES,
    "meetings": MEETING_PROPERTIES,
    "notes": NOTE_PROPERTIES,
    "tasks": TASK_PROPERTIES,
}

# The properties a record carries when a request names none (as the real API does).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    **{t: ("hs_createdate", "hs_lastmodifieddate", "hs_object_id") for t in ENGAGEMENT_TYPES},
}

# The property a record's last modification is read from, per object type.
LAST_MODIFIED_PROPERTY: dict[str, str] = {
    t: ("lastmodifieddate" if t == "contacts" else "hs_lastmodifieddate") for t in OBJECT_TYPES
}

# HUBSPOT_DEFINED association type ids (v4). Both directions, as the API reports them.
ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("calls", "contacts"): 194,
    ("contacts", "calls"): 193,
    ("calls", "companies"): 182,
    ("companies", "calls"): 181,
    ("calls", "deals"): 206,
    ("deals", "calls"): 205,
    ("emails", "contacts"): 198,
    ("contacts", "emails"): 197,
    ("emails", "companies"): 186,
    ("companies", "emails"): 185,
    ("emails", "deals"): 210,
    ("deals", "emails"): 209,
    ("meetings", "contacts"): 200,
    ("contacts", "meetings"): 199,
    ("meetings", "companies"): 188,
    ("companies", "meetings"): 187,
    ("meetings", "deals"): 212,
    ("deals", "meetings"): 211,
    ("notes", "contacts"): 202,
    ("contacts", "notes"): 201,
    ("notes", "companies"): 190,
    ("companies", "notes"): 189,
    ("notes", "deals"): 214,
    ("deals", "notes"): 213,
    ("tasks", "contacts"): 204,
    ("contacts", "tasks"): 203,
    ("tasks", "companies"): 192,
    ("companies", "tasks"): 191,
    ("tasks", "deals"): 216,
    ("deals", "tasks"): 215,
}


def property_map(object_type: str) -> dict[str, HsProperty]:
    return {p.name: p for p in PROPERTIES[object_type]}


# The names the real API accepts for each type in a path: plural, singular and the numeric object type id.
OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "calls": "0-48",
    "emails": "0-49",
    "meetings": "0-47",
    "notes": "0-46",
    "tasks": "0-27",
}
SINGULAR: dict[str, str] = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "notes": "note",
    "tasks": "task",
}
_ALIASES: dict[str, str] = {
    **{t: t for t in OBJECT_TYPES},
    **{s: t for t, s in SINGULAR.items()},
    **{i: t for t, i in OBJECT_TYPE_IDS.items()},
}

# Fields the free-text ``query`` of a search looks at (HubSpot searches a few default text fields per type).
QUERY_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("name", "domain"),
    "deals": ("dealname",),
    "calls": ("hs_call_title", "hs_body_preview"),
    "emails": ("hs_email_subject", "hs_body_preview"),
    "meetings": ("hs_meeting_title", "hs_body_preview"),
    "notes": ("hs_note_body", "hs_body_preview"),
    "tasks": ("hs_task_subject", "hs_body_preview"),
}


def resolve_object_type(name: str) -> str | None:
    """The canonical plural type for a path segment such as ``contacts``, ``CONTACT`` or ``0-1``."""
    return _ALIASES.get(name.lower())


def create_date_property(object_type: str) -> str:
    return "hs_createdate" if object_type in ENGAGEMENT_TYPES else "createdate"


def always_returned(object_type: str) -> tuple[str, ...]:
    """Properties every record carries, whatever was asked for (as the real API adds them)."""
    return ("hs_object_id", create_date_property(object_type), LAST_MODIFIED_PROPERTY[object_type])
