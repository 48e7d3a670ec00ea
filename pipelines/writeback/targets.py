"""The CRMs as write-back sees them: read the listed fields, write changed ones (adapters over the connectors)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from connectors.hubspot import writeback as hubspot
from connectors.hubspot.connection import HubSpotConnection
from connectors.salesforce import writeback as salesforce
from connectors.salesforce.connection import SalesforceConnection
from pipelines.funnel.model import WritebackDefs, WritebackField, WritebackKind
from pipelines.writeback.diff import Current

_HUBSPOT_TYPES = {"text": "string", "number": "number", "date": "date", "datetime": "datetime"}


class Target(Protocol):
    system: str

    def prepare(self, fields: Sequence[WritebackField], *, create: bool) -> None:
        """Check the fields can be written; with ``create`` (an applied run) create what crm-loop may create."""

    def read_current(self, object: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, Current]: ...

    def update(self, object: str, updates: Mapping[str, Mapping[str, str | None]]) -> Iterator[dict[str, str | None]]:
        """Per API call: record id -> None when written, else why not."""

    def server_now(self) -> datetime:
        """The CRM's clock (UTC naive): when its last answer was sent."""


class HubSpotTarget:
    system = "hubspot"

    def __init__(self, conn: HubSpotConnection, property_group: str) -> None:
        self.conn = conn
        self.group = property_group

    def prepare(self, fields: Sequence[WritebackField], *, create: bool) -> None:
        specs = [
            hubspot.PropertySpec(f.field, f.field.replace("_", " ").capitalize(), _HUBSPOT_TYPES[f.kind])
            for f in fields
        ]
        hubspot.ensure_properties(self.conn, self.group, specs, create=create)

    def read_current(self, object: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, Current]:
        found = hubspot.read_current(self.conn, ids, fields)
        return {i: Current(r.values, r.modified_at) for i, r in found.items()}

    def update(self, object: str, updates: Mapping[str, Mapping[str, str | None]]) -> Iterator[dict[str, str | None]]:
        return hubspot.update(self.conn, updates)

    def server_now(self) -> datetime:
        return self.conn.server_now().astimezone(UTC).replace(tzinfo=None)


class SalesforceTarget:
    """Leads and Contacts: their crm-loop fields are custom fields an admin creates (the REST API cannot), so
    ``prepare`` only checks that they exist and are editable."""

    system = "salesforce"

    def __init__(self, conn: SalesforceConnection, defs: WritebackDefs) -> None:
        self.conn = conn
        self.kinds: dict[tuple[str, str], WritebackKind] = {
            (f.object, f.field): f.kind for f in defs.fields if f.system == "salesforce"
        }

    def prepare(self, fields: Sequence[WritebackField], *, create: bool) -> None:
        for object in sorted({f.object for f in fields}):
            salesforce.check_fields(self.conn, object, [f.field for f in fields if f.object == object])

    def read_current(self, object: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, Current]:
        found = salesforce.read_current(self.conn, object, ids, fields)
        return {i: Current(r.values, r.modified_at) for i, r in found.items()}

    def update(self, object: str, updates: Mapping[str, Mapping[str, str | None]]) -> Iterator[dict[str, str | None]]:
        typed = {
            record_id: {name: self._json(object, name, value) for name, value in values.items()}
            for record_id, values in updates.items()
        }
        return salesforce.update(self.conn, object, typed)

    def _json(self, object: str, name: str, value: str | None) -> str | float | None:
        # Numbers go as JSON numbers: a number field's value as text is Salesforce's to interpret, not ours.
        return float(value) if value is not None and self.kinds[(object, name)] == "number" else value

    def server_now(self) -> datetime:
        return self.conn.server_now().astimezone(UTC).replace(tzinfo=None)
