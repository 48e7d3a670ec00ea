"""Which raw tables the harmonised side reads, by name only: the Dagster layer declares its assets' dependencies
from these when the code location loads, without importing the pandas builders."""

from __future__ import annotations

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce

RAW_TABLES: tuple[str, ...] = (*salesforce.RAW_TABLES, *hubspot.RAW_TABLES)

# Raw tables read besides the canonical ones: the histories the stage times come from, and every campaign
# membership (canonical_people keeps only the first responded one) for the campaign attribution.
HISTORY_TABLES = (
    hubspot.raw_table_name("contacts"),
    hubspot.PROPERTY_HISTORY.name,
    salesforce.raw_table_name("LeadHistory"),
    salesforce.raw_table_name("OpportunityHistory"),
    salesforce.raw_table_name("CampaignMember"),
    salesforce.raw_table_name("Campaign"),
)
