"""Writing values into Salesforce Leads and Contacts: the records' current values (SOQL by id) and sObject
Collections updates (PATCH composite/sobjects, allOrNone false) whose per-record failures come back per record.

Only transport and Salesforce's shapes live here; which fields and values to write is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simple_salesforce import Salesforce

from connectors.errors import UserError
from connectors.salesforce.connection import SalesforceConnection
from connectors.warehouse.coerce import reported_instant

COLLECTION_LIMIT = 200  # records per sObject Collections call
_ID_CHUNK = 200  # ids per SOQL IN list: 200 x 21 characters keeps the query URL far below its limit
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class FieldsNotWritable(UserError):
    """Fields to write that the org lacks or that the integration user may not edit: an admin must fix it."""


def check_fields(conn: SalesforceConnection, object: str, fields: Sequence[str]) -> None:
    """Raise ``FieldsNotWritable`` naming every field ``object`` lacks or may not be updated through the API."""
    described = conn.describe(object).body or {}
    known = {f["name"].lower(): f for f in described.get("fields") or []}
    missing = [name for name in fields if name.lower() not in known]
    read_only = [name for name in fields if name.lower() in known and not known[name.lower()].get("updateable")]
    if missing or read_only:
        problems = ([f"missing: {', '.join(missing)}"] if missing else []) + (
            [f"not editable by the integration user: {', '.join(read_only)}"] if read_only else []
        )
        raise FieldsNotWritable(
            f"Salesforce {object} fields for write-back are {'; '.join(problems)} (create them or grant edit access "
            "in Setup, or change the definitions file's writeback section)"
        )


@dataclass(frozen=True)
class CurrentRecord:
    values: dict[str, str | None]
    modified_at: datetime | None  # SystemModstamp, UTC naive


def read_current(
    conn: SalesforceConnection, object: str, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, CurrentRecord]:
    """Live records of ``object`` by id with ``fields`` as text; ids that are malformed or gone are absent."""
    for name in (object, *fields):
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a Salesforce API name")
    wanted = [i for i in dict.fromkeys(ids) if _RECORD_ID.fullmatch(i)]
    out: dict[str, CurrentRecord] = {}
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        soql = (
            f"SELECT Id, SystemModstamp, {', '.join(fields)} FROM {object} "
            f"WHERE Id IN ({', '.join(repr(i) for i in chunk)})"
        )

        def query(sf: Salesforce, soql: str = soql) -> Any:
            return sf.query_all(soql)

        reply = conn.call(query, what=f"read {object} for write-back")
        for record in reply.get("records") or []:
            out[_short_or_full(record["Id"], chunk)] = CurrentRecord(
                {name: _text(record.get(name)) for name in fields}, reported_instant(record.get("SystemModstamp"))
            )
    return out


def update(
    conn: SalesforceConnection, object: str, updates: Mapping[str, Mapping[str, Any]]
) -> Iterator[dict[str, str | None]]:
    """Write ``updates`` (record id -> field -> JSON value; None clears) ``COLLECTION_LIMIT`` per call, yielding
    after each call record id -> None when written, else Salesforce's errors for it."""
    ids = list(updates)
    for start in range(0, len(ids), COLLECTION_LIMIT):
        chunk = ids[start : start + COLLECTION_LIMIT]
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": object}, "id": i, **updates[i]} for i in chunk],
        }

        def patch(sf: Salesforce, body: dict[str, Any] = body) -> Any:
            return sf.restful("composite/sobjects", method="PATCH", json=body)

        reply = conn.call(patch, what=f"update {object} collection")
        results = reply if isinstance(reply, list) else []
        outcome: dict[str, str | None] = {}
        # Results come in request order; a failed one names no id.
        for record_id, result in zip(chunk, results):
            outcome[record_id] = None if result.get("success") else _errors(result.get("errors") or [])
        for record_id in chunk[len(results) :]:
            outcome[record_id] = "not confirmed by Salesforce's reply"
        yield outcome


def _errors(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        fields = f" [{', '.join(e.get('fields') or [])}]" if e.get("fields") else ""
        parts.append(f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}{fields}")
    return "; ".join(parts) or "failed (Salesforce gave no reason)"


def _short_or_full(record_id: str, asked: Sequence[str]) -> str:
    """The id as the caller asked for it: Salesforce answers with 18 characters even when asked with 15."""
    return record_id if record_id in asked else next((i for i in asked if record_id.startswith(i)), record_id)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
