"""The HubSpot raw tables that are not one object type's properties: merges, owners, edges, property history."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.warehouse.spec import Column, TableSpec

MERGED_RECORDS = TableSpec(
    name="raw_hubspot__merged_records",
    columns=(
        Column("id", "string", doc="<object type>:<merged id>"),
        Column("object_type", "string"),
        Column("merged_id", "string", doc="the record merged away (flagged _is_deleted in its object table)"),
        Column("survivor_id", "string", doc="the record it was merged into (hs_merged_object_ids lists it)"),
        Column("seen_at", "timestamp", doc="when a sync first or last saw the merge"),
    ),
    primary_key="id",
    doc="One row per HubSpot record merged into another.",
)


def merged_row(object_type: str, merged_id: str, survivor_id: str, seen_at: datetime) -> dict[str, Any]:
    return {"id": f"{object_type}:{merged_id}", "object_type": object_type, "merged_id": merged_id,
            "survivor_id": survivor_id, "seen_at": seen_at}


OWNERS = TableSpec(
    name="raw_hubspot__owners",
    columns=(
        Column("id", "string"),
        Column("email", "string"),
        Column("type", "string"),
        Column("first_name", "string"),
        Column("last_name", "string"),
        Column("user_id", "integer"),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp"),
        Column("archived", "boolean"),
        Column("teams", "json"),
    ),
    primary_key="id",
    doc="One row per HubSpot owner id (hubspot_owner_id on records); archived owners flagged _is_deleted.",
)


def owner_row(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": owner.get("id"), "email": owner.get("email"), "type": owner.get("type"),
        "first_name": owner.get("firstName"), "last_name": owner.get("lastName"), "user_id": owner.get("userId"),
        "created_at": owner.get("createdAt"), "updated_at": owner.get("updatedAt"),
        "archived": owner.get("archived"), "teams": owner.get("teams") or [],
    }


ASSOCIATIONS = TableSpec(
    name="raw_hubspot__associations",
    columns=(
        Column("id", "string", doc="<from type>:<from id>><to type>:<to id>#<type id>"),
        Column("from_type", "string"),
        Column("from_id", "string"),
        Column("to_type", "string"),
        Column("to_id", "string"),
        Column("type_id", "integer"),
        Column("category", "string", doc="HUBSPOT_DEFINED | USER_DEFINED | INTEGRATOR_DEFINED"),
        Column("label", "string"),
    ),
    primary_key="id",
    doc="One row per association (edge) and association type, read from the from side; removed edges flagged _is_deleted.",
)


def edge_id(from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> str:
    return f"{from_type}:{from_id}>{to_type}:{to_id}#{type_id}"


PROPERTY_HISTORY = TableSpec(
    name="raw_hubspot__contact_property_history",
    columns=(
        Column("id", "string", doc="<contact id>|<property>|<timestamp ms>|<source type>|<value>"),
        Column("contact_id", "string"),
        Column("property", "string"),
        Column("value", "string"),
        Column("changed_at", "timestamp"),
        Column("source_type", "string", doc="CRM_UI | IMPORT | API | AUTOMATION | INTEGRATION | CALCULATED …"),
        Column("source_id", "string"),
        Column("source_label", "string"),
        Column("updated_by_user_id", "integer"),
    ),
    # A surrogate key: a cleared value is "", which a composite key would reject as a missing key part.
    primary_key="id",
    doc="One row per (contact, property, value, timestamp, source) of lifecyclestage and hs_lead_status history.",
)


DEAL_PIPELINE_STAGES = TableSpec(
    name="raw_hubspot__deal_pipeline_stages",
    columns=(
        Column("id", "string", doc="<pipeline id>:<stage id>"),
        Column("pipeline_id", "string"),
        Column("pipeline_label", "string"),
        Column("pipeline_display_order", "integer"),
        Column("stage_id", "string", doc="the value deals carry in dealstage"),
        Column("stage_label", "string"),
        Column("display_order", "integer", doc="order of the stage within its pipeline"),
        Column("is_closed", "boolean", doc="metadata.isClosed"),
        Column("probability", "float", doc="metadata.probability (0-1): 1 = won, 0 with is_closed = lost"),
        Column("archived", "boolean"),
        Column("updated_at", "timestamp"),
    ),
    primary_key="id",
    doc="One row per deal pipeline stage (GET /crm/v3/pipelines/deals); stages no longer listed are flagged _is_deleted.",
)


def pipeline_stage_rows(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": f"{pipeline.get('id')}:{stage.get('id')}", "pipeline_id": pipeline.get("id"),
         "pipeline_label": pipeline.get("label"), "pipeline_display_order": pipeline.get("displayOrder"),
         "stage_id": stage.get("id"), "stage_label": stage.get("label"), "display_order": stage.get("displayOrder"),
         "is_closed": (stage.get("metadata") or {}).get("isClosed"),
         "probability": (stage.get("metadata") or {}).get("probability"),
         "archived": bool(pipeline.get("archived")) or bool(stage.get("archived")), "updated_at": stage.get("updatedAt")}
        for stage in pipeline.get("stages") or []
    ]
