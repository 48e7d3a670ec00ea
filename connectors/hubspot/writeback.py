"""Writing values into HubSpot contacts: crm-loop's own properties (created in their group when missing), the
records' current values, and batch updates whose per-record failures come back per record.

Only transport and HubSpot's shapes live here; which fields and values to write is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.errors import UserError
from connectors.hubspot.connection import HubSpotApiError, HubSpotConnection
from connectors.hubspot.pages import batch_read
from connectors.warehouse.coerce import reported_instant

OBJECT_TYPE = "contacts"
BATCH_UPDATE_LIMIT = 100  # inputs per POST /crm/v3/objects/contacts/batch/update
_EXISTS = 409  # HubSpot's answer to creating a property or group that exists: someone else just created it


@dataclass(frozen=True)
class PropertySpec:
    """A contact property crm-loop writes: ``type`` string | number | date (``fieldType`` follows)."""

    name: str
    label: str
    type: str

    @property
    def field_type(self) -> str:
        return {"string": "text", "number": "number", "date": "date"}[self.type]


@dataclass(frozen=True)
class CurrentRecord:
    values: dict[str, str | None]
    modified_at: datetime | None  # lastmodifieddate, UTC naive


class PropertyTypeMismatch(UserError):
    """A property crm-loop writes exists with another type: writing would fail or be misread."""


def ensure_properties(
    conn: HubSpotConnection, group: str, specs: Sequence[PropertySpec], *, create: bool = True
) -> list[str]:
    """Create the group and the properties that are missing (unless ``create`` is false: a dry run only checks);
    returns the names created. An existing property of another type is an error (a person made it; crm-loop
    will not redefine it), except a dropdown for text: RevOps may restrict a text value to options, and a value
    outside them then fails for its record alone."""
    reply = conn.call(
        lambda: conn.properties.get_all(OBJECT_TYPE, _preload_content=False, _request_timeout=conn.timeout_s),
        what="list contact properties",
    )
    existing = {p["name"]: p for p in reply.get("results") or []}
    wrong = [
        f"{s.name} is {existing[s.name].get('type')}, not {s.type}"
        for s in specs
        if s.name in existing and not _compatible(s.type, str(existing[s.name].get("type")))
    ]
    if wrong:
        raise PropertyTypeMismatch(
            "HubSpot contact properties exist with another type: " + "; ".join(wrong) + " (rename them in the "
            "definitions file's writeback section or change the property in HubSpot)"
        )
    missing = [s for s in specs if s.name not in existing]
    if not missing or not create:
        return []
    groups_api = conn.client.crm.properties.groups_api
    groups = conn.call(
        lambda: groups_api.get_all(OBJECT_TYPE, _preload_content=False, _request_timeout=conn.timeout_s),
        what="list contact property groups",
    )
    if group not in {g["name"] for g in groups.get("results") or []}:
        body = {"name": group, "label": group.replace("_", " ").title(), "displayOrder": -1}
        _tolerating_exists(
            conn,
            lambda: groups_api.create(OBJECT_TYPE, body, _preload_content=False, _request_timeout=conn.timeout_s),
            f"create property group {group}",
        )
    for spec in missing:
        body = {
            "name": spec.name,
            "label": spec.label,
            "type": spec.type,
            "fieldType": spec.field_type,
            "groupName": group,
            "description": "Written by crm-loop (closed-loop write-back); edits are reported as conflicts.",
        }
        _tolerating_exists(
            conn,
            lambda body=body: conn.properties.create(
                OBJECT_TYPE, body, _preload_content=False, _request_timeout=conn.timeout_s
            ),
            f"create property {spec.name}",
        )
    return [s.name for s in missing]


def _compatible(wanted: str, actual: str) -> bool:
    return actual == wanted or (wanted == "string" and actual == "enumeration")


def _tolerating_exists(conn: HubSpotConnection, fn: Any, what: str) -> None:
    try:
        conn.call(fn, what=what)
    except HubSpotApiError as exc:
        if exc.status != _EXISTS:
            raise


def read_current(conn: HubSpotConnection, ids: Sequence[str], properties: Sequence[str]) -> dict[str, CurrentRecord]:
    """Live contacts by id with the given properties; ids HubSpot no longer has are absent."""
    out: dict[str, CurrentRecord] = {}
    for record in batch_read(conn, OBJECT_TYPE, ids, [*properties, "lastmodifieddate"]):
        props = record.get("properties") or {}
        out[str(record["id"])] = CurrentRecord(
            {name: props.get(name) for name in properties}, reported_instant(props.get("lastmodifieddate"))
        )
    return out


def update(conn: HubSpotConnection, updates: Mapping[str, Mapping[str, str | None]]) -> Iterator[dict[str, str | None]]:
    """Write ``updates`` (contact id -> property -> value; None clears), ``BATCH_UPDATE_LIMIT`` per call,
    yielding after each call contact id -> None when written, else why not (so what was written is known even
    when the budget stops the rest). A batch HubSpot refuses whole (400: it validates every input before
    writing any) is retried one contact at a time, so one bad value fails one record, not a hundred."""
    ids = list(updates)
    for start in range(0, len(ids), BATCH_UPDATE_LIMIT):
        chunk = ids[start : start + BATCH_UPDATE_LIMIT]
        try:
            yield _update_batch(conn, {i: updates[i] for i in chunk})
        except HubSpotApiError as exc:
            if exc.status != 400:
                raise
            if len(chunk) == 1:
                yield {chunk[0]: str(exc)}
                continue
            for record_id in chunk:
                try:
                    yield _update_batch(conn, {record_id: updates[record_id]})
                except HubSpotApiError as single:
                    if single.status != 400:
                        raise
                    yield {record_id: str(single)}


def _update_batch(conn: HubSpotConnection, updates: Mapping[str, Mapping[str, str | None]]) -> dict[str, str | None]:
    body = {
        "inputs": [
            {"id": record_id, "properties": {k: "" if v is None else v for k, v in values.items()}}
            for record_id, values in updates.items()
        ]
    }
    reply = conn.call(
        lambda: conn.batch.update(OBJECT_TYPE, body, _preload_content=False, _request_timeout=conn.timeout_s),
        what="batch update contacts",
    )
    outcome: dict[str, str | None] = {str(r["id"]): None for r in reply.get("results") or []}
    for error in reply.get("errors") or []:
        context = error.get("context") or {}
        for record_id in context.get("ids") or context.get("id") or []:
            outcome[str(record_id)] = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
    for record_id in updates:
        # Neither a result nor an error names it: HubSpot did not say it was written.
        outcome.setdefault(record_id, "not confirmed by HubSpot's reply")
    return outcome
