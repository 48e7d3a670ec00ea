"""The neutral shape of sandbox data: what the generator and fixture loader produce and each CRM side loads.

Values are plain Python (aware UTC ``datetime``, ``date``, ``bool``, numbers, ``str``, ``None``); each side
renders them in its own wire format. Data arrives in chunks so large datasets stream into the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class HubSpotRecord:
    id: int
    properties: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None


@dataclass(frozen=True)
class PropertyChange:
    """One entry of a property's history (``propertiesWithHistory``)."""

    object_type: str
    object_id: int
    property: str
    value: str
    timestamp: datetime
    source_type: str = "CRM_UI"  # CRM_UI | INTEGRATION | AUTOMATION | IMPORT | CALCULATED | API
    source_id: str | None = None
    updated_by_user_id: int | None = None


@dataclass(frozen=True)
class Association:
    from_type: str
    from_id: int
    to_type: str
    to_id: int
    type_id: int
    category: str = "HUBSPOT_DEFINED"
    label: str | None = None


@dataclass
class HubSpotOwner:
    id: int
    email: str
    first_name: str
    last_name: str
    user_id: int
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    teams: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SalesforceData:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # object API name -> rows


@dataclass
class HubSpotData:
    objects: dict[str, list[HubSpotRecord]] = field(default_factory=dict)  # object type -> records
    owners: list[HubSpotOwner] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)
    history: list[PropertyChange] = field(default_factory=list)


@dataclass
class DatasetChunk:
    salesforce: SalesforceData = field(default_factory=SalesforceData)
    hubspot: HubSpotData = field(default_factory=HubSpotData)
