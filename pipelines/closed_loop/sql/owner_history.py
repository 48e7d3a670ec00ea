"""The owner-change histories as the SQL models read them: Salesforce LeadHistory and HubSpot contact property
history, staged from the raw tables (values as ``SqlContext.raw`` converts them)."""

from __future__ import annotations

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from pipelines.closed_loop.sql.context import SqlContext


def owner_histories(ctx: SqlContext) -> tuple[str, str]:
    """(LeadHistory relation: leadid, field, createddate, _is_deleted; property history relation: contact_id,
    property, value, changed_at, _is_deleted)."""
    lead_history = ctx.raw(
        salesforce.raw_table_name("LeadHistory"),
        {"leadid": "text", "field": "text", "createddate": "timestamp", "_is_deleted": "boolean"},
    )
    property_history = ctx.raw(
        hubspot.PROPERTY_HISTORY.name,
        {
            "contact_id": "text",
            "property": "text",
            "value": "text",
            "changed_at": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    return lead_history, property_history
