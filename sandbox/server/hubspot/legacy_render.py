"""Stored rows rendered in HubSpot's legacy (v1/v2) JSON, which older connectors still read.

Legacy records key each property as ``{"value","timestamp","source","sourceId","versions":[...]}``: the value as
a string (datetimes and dates as millisecond epochs, not ISO), the timestamp of the change that set it, and the
version list newest first. Property definitions are the v3 ones in the legacy field names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sandbox.model.hubspot import DEAL_PIPELINE_STAGES, LAST_MODIFIED_PROPERTY, HsProperty
from sandbox.server.hubspot.store import HistoryEntry, HubSpotStore
from sandbox.server.hubspot.values import parse_instant, to_wire

# The engagement ``type`` of each engagement object; e-mails split by direction, as the v1 API reports them.
ENGAGEMENT_TYPE = {"calls": "CALL", "meetings": "MEETING", "notes": "NOTE", "tasks": "TASK", "emails": "EMAIL"}
_EMAIL_TYPE = {"INCOMING_EMAIL": "INCOMING_EMAIL", "FORWARDED_EMAIL": "FORWARDED_EMAIL"}


def legacy_value(prop: HsProperty, stored: Any) -> str | None:
    if stored is None:
        return None
    if prop.type in ("datetime", "date"):
        return str(int(stored))
    return to_wire(prop, stored)


def properties_block(
    store: HubSpotStore,
    object_type: str,
    row: sqlite3.Row,
    names: Sequence[str],
    history: dict[tuple[int, str], list[HistoryEntry]],
    with_history: bool,
) -> dict[str, Any]:
    """Set properties only (legacy records omit empty ones), each with its versions newest first."""
    rid = int(row["id"])
    out: dict[str, Any] = {}
    for name in names:
        prop = store.prop(object_type, name)
        if prop is None or row[name] is None:
            continue
        value = legacy_value(prop, row[name])
        entries = history.get((rid, name)) or []
        # A value with no recorded change: set at creation, except the last-modified dates, which are their own
        # change time (connectors read that timestamp as the record's modification time).
        if entries:
            stamp, source, source_id = entries[0].timestamp_ms, entries[0].source_type, entries[0].source_id
        elif name in (LAST_MODIFIED_PROPERTY[object_type], "hs_lastmodifieddate"):
            stamp, source, source_id = int(row[name]), "CALCULATED", None
        else:
            stamp, source, source_id = int(row["created_at"]), "CRM_UI", None
        current: dict[str, Any] = {"name": name, "value": value, "timestamp": stamp, "source": source, "sourceVid": []}
        if source_id is not None:
            current["sourceId"] = source_id
        versions = [current]
        if with_history and entries:
            versions = [_version(name, prop, e) for e in entries]
        out[name] = {"value": value, "timestamp": stamp, "source": source, "sourceId": source_id, "versions": versions}
    return out


def _version(name: str, prop: HsProperty, e: HistoryEntry) -> dict[str, Any]:
    value = e.value
    if value and prop.type in ("datetime", "date") and not value.lstrip("-").isdigit():
        value = str(parse_instant(value))
    out: dict[str, Any] = {
        "name": name,
        "value": value or "",
        "timestamp": e.timestamp_ms,
        "source": e.source_type,
        "sourceVid": [],
    }
    if e.source_id is not None:
        out["sourceId"] = e.source_id
    if e.updated_by_user_id is not None:
        out["updatedByUserId"] = e.updated_by_user_id
    return out


def property_definition(object_type: str, p: HsProperty, created_ms: int) -> dict[str, Any]:
    """``GET /properties/v1|v2/{type}/properties`` and ``/companies/v2/properties``: one element of the list."""
    read_only = p.calculated or p.name in ("hs_object_id", "hs_createdate", "hs_lastmodifieddate", "lastmodifieddate")
    return {
        "name": p.name,
        "label": p.label,
        "description": "",
        "groupName": p.group,
        "type": p.type,
        "fieldType": p.field_type,
        "options": [
            {
                "label": o.replace("_", " ").title() if p.type == "enumeration" else o,
                "value": o,
                "displayOrder": i,
                "hidden": False,
                "description": None,
                "readOnly": False,
                "doubleData": None,
            }
            for i, o in enumerate(p.options)
        ],
        "displayOrder": -1,
        "calculated": p.calculated,
        "externalOptions": False,
        "hasUniqueValue": p.has_unique_value,
        "hidden": False,
        # Legacy definitions leave hubspotDefined null on portal-made properties.
        "hubspotDefined": True if p.hubspot_defined else None,
        "showCurrencySymbol": False,
        "formField": object_type == "contacts" and not p.calculated and p.group != "system",
        "readOnlyValue": read_only,
        "readOnlyDefinition": p.hubspot_defined,
        "mutableDefinitionNotDeletable": p.hubspot_defined,
        "favorited": False,
        "favoritedOrder": -1,
        "displayMode": "current_value",
        "deleted": False,
        "createdUserId": None,
        "updatedUserId": None,
        "createdAt": created_ms,
        "updatedAt": created_ms,
        "searchableInGlobalSearch": False,
        "textDisplayHint": None,
        "numberDisplayHint": None,
        "referencedObjectType": "OWNER" if p.name == "hubspot_owner_id" else None,
        "optionsAreMutable": None,
        "isCustomizedDefault": False,
        "currencyPropertyName": None,
        "calculationFormula": None,
        "dateDisplayHint": None,
    }


def deal_pipeline_v1(created_ms: int) -> dict[str, Any]:
    """``GET /deals/v1/pipelines``: the default pipeline, probabilities as numbers, ``closedWon`` per stage."""
    return {
        "pipelineId": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "active": True,
        "objectType": "DEAL",
        "objectTypeId": "0-3",
        "default": True,
        "createdAt": created_ms,
        "updatedAt": created_ms,
        "stages": [
            {
                "stageId": stage,
                "label": label,
                "probability": probability,
                "active": True,
                "displayOrder": order,
                "closedWon": closed and probability == 1.0,
            }
            for order, (stage, label, probability, closed) in enumerate(DEAL_PIPELINE_STAGES)
        ],
    }


def deal_pipeline_crm(created_ms: int) -> dict[str, Any]:
    """``GET /crm-pipelines/v1/pipelines/deals``: stage metadata as strings, timestamps in milliseconds."""
    return {
        "pipelineId": "default",
        "objectType": "DEAL",
        "objectTypeId": "0-3",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "active": True,
        "default": True,
        "createdAt": created_ms,
        "updatedAt": None,
        "stages": [
            {
                "stageId": stage,
                "label": label,
                "displayOrder": order,
                "active": True,
                "metadata": {"isClosed": "true" if closed else "false", "probability": str(probability)},
                "createdAt": created_ms,
                "updatedAt": None,
            }
            for order, (stage, label, probability, closed) in enumerate(DEAL_PIPELINE_STAGES)
        ],
    }


def engagement(
    object_type: str, row: sqlite3.Row, portal_id: int, associations: dict[str, list[int]]
) -> dict[str, Any]:
    """One v1 engagement: ``engagement`` (ids, times, type), ``associations`` (id lists) and ``metadata``."""
    kind = ENGAGEMENT_TYPE[object_type]
    if object_type == "emails":
        kind = _EMAIL_TYPE.get(str(row["hs_email_direction"] or ""), "EMAIL")
    owner = row["hubspot_owner_id"]
    created = int(row["hs_createdate"] if row["hs_createdate"] is not None else row["created_at"])
    head: dict[str, Any] = {
        "id": int(row["id"]),
        "portalId": portal_id,
        "active": True,
        "createdAt": created,
        "lastUpdated": int(row["hs_lastmodifieddate"] if row["hs_lastmodifieddate"] is not None else row["updated_at"]),
        "ownerId": int(owner) if owner not in (None, "") and str(owner).isdigit() else None,
        "type": kind,
        "timestamp": int(row["hs_timestamp"]) if row["hs_timestamp"] is not None else created,
        "queueMembershipIds": [],
        "bodyPreviewIsTruncated": False,
    }
    if row["hs_body_preview"] is not None:
        head["bodyPreview"] = row["hs_body_preview"]
    return {
        "engagement": head,
        "associations": {
            "contactIds": associations.get("contacts", []),
            "companyIds": associations.get("companies", []),
            "dealIds": associations.get("deals", []),
            "ownerIds": [],
            "workflowIds": [],
            "ticketIds": [],
            "contentIds": [],
            "quoteIds": [],
            "marketingEventIds": [],
        },
        "attachments": [],
        "metadata": _metadata(object_type, row),
    }


def _metadata(object_type: str, row: sqlite3.Row) -> dict[str, Any]:
    def opt(name: str) -> Any:
        return row[name]

    if object_type == "calls":
        fields = {
            "title": opt("hs_call_title"),
            "body": opt("hs_body_preview"),
            "status": opt("hs_call_status"),
            "durationMilliseconds": int(opt("hs_call_duration")) if opt("hs_call_duration") is not None else None,
            "disposition": opt("hs_call_disposition"),
        }
    elif object_type == "emails":
        fields = {
            "subject": opt("hs_email_subject"),
            "text": opt("hs_body_preview"),
            "status": opt("hs_email_status"),
            "from": {},
            "to": [],
            "cc": [],
            "bcc": [],
        }
    elif object_type == "meetings":
        fields = {
            "title": opt("hs_meeting_title"),
            "body": opt("hs_body_preview"),
            "startTime": opt("hs_meeting_start_time"),
            "endTime": opt("hs_meeting_end_time"),
            "meetingOutcome": opt("hs_meeting_outcome"),
        }
    elif object_type == "tasks":
        fields = {
            "subject": opt("hs_task_subject"),
            "body": opt("hs_body_preview"),
            "status": opt("hs_task_status"),
            "taskType": opt("hs_task_type"),
            "priority": opt("hs_task_priority"),
            "reminders": [],
        }
    else:
        fields = {"body": opt("hs_note_body")}
    return {k: v for k, v in fields.items() if v is not None}
