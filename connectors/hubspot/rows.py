"""HubSpot API payloads turned into rows of the catalog's non-object tables (owners, edges, merges, stages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def merged_row(object_type: str, merged_id: str, survivor_id: str, seen_at: datetime) -> dict[str, Any]:
    return {
        "id": f"{object_type}:{merged_id}",
        "object_type": object_type,
        "merged_id": merged_id,
        "survivor_id": survivor_id,
        "seen_at": seen_at,
    }


def owner_row(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": owner.get("id"),
        "email": owner.get("email"),
        "type": owner.get("type"),
        "first_name": owner.get("firstName"),
        "last_name": owner.get("lastName"),
        "user_id": owner.get("userId"),
        "created_at": owner.get("createdAt"),
        "updated_at": owner.get("updatedAt"),
        "archived": owner.get("archived"),
        "teams": owner.get("teams") or [],
    }


def edge_id(from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> str:
    return f"{from_type}:{from_id}>{to_type}:{to_id}#{type_id}"


def pipeline_stage_rows(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{pipeline.get('id')}:{stage.get('id')}",
            "pipeline_id": pipeline.get("id"),
            "pipeline_label": pipeline.get("label"),
            "pipeline_display_order": pipeline.get("displayOrder"),
            "stage_id": stage.get("id"),
            "stage_label": stage.get("label"),
            "display_order": stage.get("displayOrder"),
            "is_closed": (stage.get("metadata") or {}).get("isClosed"),
            "probability": (stage.get("metadata") or {}).get("probability"),
            "archived": bool(pipeline.get("archived")) or bool(stage.get("archived")),
            "updated_at": stage.get("updatedAt"),
        }
        for stage in pipeline.get("stages") or []
    ]
