"""The Salesforce catalog: which objects crm-loop extracts, how each is read incrementally, and the raw table
each one lands in. Assets, checks, the harmonisation and the docs derive their object lists from here."""

from __future__ import annotations

SOURCE = "salesforce"

# In dependency order for readers: users and accounts before the records that point at them.
OBJECTS: tuple[str, ...] = (
    "User",
    "Account",
    "Campaign",
    "Lead",
    "LeadHistory",
    "Contact",
    "Opportunity",
    "OpportunityHistory",
    "CampaignMember",
    "Task",
    "Event",
)

# The cursor column, in order of preference: SystemModstamp moves on every change including system ones.
CURSOR_FIELDS: tuple[str, ...] = ("SystemModstamp", "LastModifiedDate", "CreatedDate")

# Fields kept: every selectable field unless configured otherwise. Compound and binary fields cannot be
# selected in Bulk 2.0 (and base64 not in bulk SOQL at all); their component fields (BillingCountry,
# Latitude…) are selected instead.
UNSELECTABLE_TYPES = frozenset({"address", "location", "base64"})


def raw_table_name(object_name: str) -> str:
    """``raw_salesforce__<object, lower-case>``: unquoted identifiers fold to lower case on PostgreSQL."""
    return f"raw_salesforce__{object_name.lower()}"


RAW_TABLES: tuple[str, ...] = tuple(raw_table_name(o) for o in OBJECTS)
