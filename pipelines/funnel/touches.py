"""Which logged CRM activities count as sales touching a lead (for first touch and contact attempts).

Records are plain dicts of the CRMs' own field names. Salesforce: a Task counts when its ``TaskSubtype`` and
``Status`` are listed, and, for calls, its ``CallType`` is listed or blank (reps often leave it empty; an
inbound or internal call is not sales reaching out); an Event counts when ``events`` is true. HubSpot: calls
by direction and status, e-mails by direction, meetings by outcome; notes and tasks never count (they record
work, not contact with the lead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.funnel.model import FunnelDefinitions


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    return "" if value is None else str(value).strip()


def salesforce_task_is_touch(task: Mapping[str, Any], defs: FunnelDefinitions) -> bool:
    rules = defs.sla.touches.salesforce
    subtype = _text(task, "TaskSubtype")
    if subtype not in rules.task_subtypes or _text(task, "Status") not in rules.task_statuses:
        return False
    call_type = _text(task, "CallType")
    return subtype != "Call" or call_type == "" or call_type in rules.call_types


def salesforce_event_is_touch(event: Mapping[str, Any], defs: FunnelDefinitions) -> bool:
    return defs.sla.touches.salesforce.events


def hubspot_engagement_is_touch(object_type: str, properties: Mapping[str, Any], defs: FunnelDefinitions) -> bool:
    """``object_type`` is the v3 type name (calls, emails, meetings, notes, tasks)."""
    rules = defs.sla.touches.hubspot
    if object_type == "calls":
        return (
            _text(properties, "hs_call_direction") in rules.call_directions
            and _text(properties, "hs_call_status") in rules.call_statuses
        )
    if object_type == "emails":
        return _text(properties, "hs_email_direction") in rules.email_directions
    if object_type == "meetings":
        return _text(properties, "hs_meeting_outcome") in rules.meeting_outcomes
    return False
