"""canonical_activities: HubSpot engagements (via their contact associations) and Salesforce Tasks/Events
(via WhoId), each flagged whether it counts as sales touching the lead under the definitions.

Set-based: each source table is mapped column-wise and joined to its person links in one merge; only the
touch rule runs per row (it is the definitions' own function, ``pipelines.funnel.touches``).
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from connectors.warehouse.catalog.harmonised import CANONICAL_ACTIVITIES
from pipelines.closed_loop.links import hubspot_edges, person_index
from pipelines.closed_loop.raw import Frames
from pipelines.funnel.model import FunnelDefinitions
from pipelines.funnel.touches import hubspot_engagement_is_touch, salesforce_event_is_touch, salesforce_task_is_touch

HUBSPOT_TYPES = {"calls": "call", "emails": "email", "meetings": "meeting", "notes": "note", "tasks": "task"}
_HS_DETAIL = {  # object type -> (direction, status, subtype, subject) property names
    "calls": ("hs_call_direction", "hs_call_status", None, "hs_call_title"),
    "emails": ("hs_email_direction", "hs_email_status", None, "hs_email_subject"),
    "meetings": (None, "hs_meeting_outcome", None, "hs_meeting_title"),
    "notes": (None, None, None, "hs_body_preview"),
    "tasks": (None, "hs_task_status", "hs_task_type", "hs_task_subject"),
}
_WHO_PREFIX = {"00Q": "lead", "003": "contact"}


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name is None or name not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), None)


def _first(frame: pd.DataFrame, *names: str) -> pd.Series:
    out = _column(frame, names[0])
    for name in names[1:]:
        out = out.where(out.notna(), _column(frame, name))
    return out


def _hubspot(raw: Frames, object_type: str, defs: FunnelDefinitions) -> pd.DataFrame:
    src = raw.hs(object_type)
    if src.empty:
        return pd.DataFrame()
    direction, status, subtype, subject = _HS_DETAIL[object_type]
    deleted = src["_is_deleted"].astype(bool) | src.get("archived", pd.Series(False, index=src.index)).fillna(
        False
    ).astype(bool)
    props = cast(list[dict[str, Any]], src.astype(object).where(src.notna(), None).to_dict("records"))
    touch = pd.Series([hubspot_engagement_is_touch(object_type, p, defs) for p in props], index=src.index)
    out = pd.DataFrame(
        {
            "source_system": "hubspot",
            "source_object": object_type,
            "source_id": src["id"].astype(str),
            "activity_type": HUBSPOT_TYPES[object_type],
            "occurred_at": _first(src, "hs_timestamp", "hs_createdate", "created_at"),
            "owner_source_id": _column(src, "hubspot_owner_id"),
            "direction": _column(src, direction),
            "status": _column(src, status),
            "subtype": _column(src, subtype),
            "subject": _column(src, subject),
            "counts_as_touch": touch & ~deleted,
            "created_at": _first(src, "hs_createdate", "created_at"),
            "updated_at": _first(src, "hs_lastmodifieddate", "updated_at"),
            "is_deleted": deleted,
        }
    )
    contacts = hubspot_edges(raw, object_type, "contacts")
    deals = hubspot_edges(raw, object_type, "deals")
    links = pd.DataFrame([(a, c) for a, cs in contacts.items() for c in cs], columns=["source_id", "who_source_id"])
    out = out.merge(links, on="source_id", how="left")
    out["who_source_object"] = out["who_source_id"].map(lambda v: "contact" if isinstance(v, str) else None)
    out["opportunity_source_id"] = out["source_id"].map(lambda i: next(iter(deals.get(i) or []), None))
    return out


def _salesforce(raw: Frames, object_name: str, defs: FunnelDefinitions) -> pd.DataFrame:
    src = raw.sf(object_name)
    if src.empty:
        return pd.DataFrame()
    deleted = src["_is_deleted"].astype(bool)
    if object_name == "task":
        fields = pd.DataFrame(
            {
                "TaskSubtype": _column(src, "tasksubtype"),
                "Status": _column(src, "status"),
                "CallType": _column(src, "calltype"),
            }
        )
        touch = pd.Series(
            [salesforce_task_is_touch(t, defs) for t in cast(list[dict[str, Any]], fields.to_dict("records"))],
            index=src.index,
        )
        occurred = _first(src, "completeddatetime", "createddate")
        activity_type = _column(src, "tasksubtype").map(
            lambda s: {"Call": "call", "Email": "email"}.get(s or "", "task")
        )
        subtype, status, direction = _column(src, "tasksubtype"), _column(src, "status"), _column(src, "calltype")
    else:
        touch = pd.Series([salesforce_event_is_touch({}, defs)] * len(src), index=src.index)
        occurred = _first(src, "startdatetime", "activitydatetime", "createddate")
        activity_type = pd.Series("meeting", index=src.index)
        subtype, status, direction = _column(src, "eventsubtype"), _column(src, "status"), _column(src, "calltype")
    who = _column(src, "whoid")
    what = _column(src, "whatid")
    return pd.DataFrame(
        {
            "source_system": "salesforce",
            "source_object": object_name,
            "source_id": src["id"].astype(str),
            "activity_type": activity_type,
            "occurred_at": occurred,
            "owner_source_id": _column(src, "ownerid"),
            "direction": direction,
            "status": status,
            "subtype": subtype,
            "subject": _column(src, "subject"),
            "counts_as_touch": touch & ~deleted,
            "created_at": _column(src, "createddate"),
            "updated_at": _column(src, "lastmodifieddate"),
            "is_deleted": deleted,
            "who_source_id": who,
            "who_source_object": who.map(lambda w: _WHO_PREFIX.get((w or "")[:3])),
            "opportunity_source_id": what.map(lambda w: w if (w or "").startswith("006") else None),
        }
    )


def build_activities(raw: Frames, people: pd.DataFrame, defs: FunnelDefinitions) -> pd.DataFrame:
    parts = [_hubspot(raw, t, defs) for t in HUBSPOT_TYPES] + [_salesforce(raw, o, defs) for o in ("task", "event")]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=CANONICAL_ACTIVITIES.column_names)
    out = pd.concat(parts, ignore_index=True)
    persons = person_index(people)
    record = out["source_system"] + ":" + out["who_source_object"].fillna("") + ":" + out["who_source_id"].fillna("")
    out["person_key"] = record.map(persons).astype(object)
    out["person_key"] = out["person_key"].where(out["person_key"].notna(), None)
    out["is_orphan"] = out["person_key"].isna()
    out["activity_key"] = (
        out["source_system"]
        + ":"
        + out["source_object"]
        + ":"
        + out["source_id"]
        + ">"
        + out["who_source_id"].fillna("-")
    )
    out["definitions_hash"] = defs.content_hash
    return out[CANONICAL_ACTIVITIES.column_names].sort_values("activity_key", ignore_index=True)
