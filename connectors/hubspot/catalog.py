"""The HubSpot catalog: which object types and streams crm-loop extracts, the property each is read
incrementally by, and every raw table they land in. Assets, checks, the harmonisation and the docs derive their
object lists and table names from here."""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec

SOURCE = "hubspot"
ENGAGEMENT_TYPES: tuple[str, ...] = ("calls", "emails", "meetings", "notes", "tasks")
OBJECT_TYPES: tuple[str, ...] = ("contacts", "companies", "deals", *ENGAGEMENT_TYPES)
# Association edges are read from one side only: v4 answers from either, and both directions would double
# every edge.
ASSOCIATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("contacts", "companies"),
    ("contacts", "deals"),
    ("deals", "companies"),
    *((e, t) for e in ENGAGEMENT_TYPES for t in ("contacts", "companies", "deals")),
)

LAST_MODIFIED = {"contacts": "lastmodifieddate"}  # every other CRM object type uses hs_lastmodifieddate


def last_modified_property(object_type: str) -> str:
    return LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")


def raw_table_name(object_type: str) -> str:
    return f"raw_hubspot__{object_type}"


# Record-level fields (not properties) every raw object table carries.
RECORD_COLUMNS: tuple[Column, ...] = (
    Column("id", "string", doc="HubSpot record id (hs_object_id), as text like every CRM key here"),
    Column("created_at", "timestamp", doc="createdAt"),
    Column("updated_at", "timestamp", doc="updatedAt (moves on archival too, unlike the last-modified property)"),
    Column("archived", "boolean", doc="archived"),
    Column("archived_at", "timestamp", doc="archivedAt"),
)


MERGED_RECORDS = TableSpec(
    name=raw_table_name("merged_records"),
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


OWNERS = TableSpec(
    name=raw_table_name("owners"),
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


ASSOCIATIONS = TableSpec(
    name=raw_table_name("associations"),
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


PROPERTY_HISTORY = TableSpec(
    name=raw_table_name("contact_property_history"),
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
    name=raw_table_name("deal_pipeline_stages"),
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

RAW_TABLES: tuple[str, ...] = (
    *(raw_table_name(t) for t in OBJECT_TYPES),
    *(s.name for s in (OWNERS, ASSOCIATIONS, PROPERTY_HISTORY, MERGED_RECORDS, DEAL_PIPELINE_STAGES)),
)
