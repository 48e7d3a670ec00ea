"""Control actions on the HubSpot side: the changes a live portal goes through between two syncs.

Each action plants one of the cases peers' connectors get wrong (archived and merged records, association-only
changes, thousands of records sharing one last-modified millisecond) and reports exactly what it did, so a
test can assert the connector noticed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sandbox.model.hubspot import LEAD_STATUSES, OBJECT_TYPES, resolve_object_type
from sandbox.server.hubspot.store import HubSpotStore
from sandbox.server.hubspot.values import iso_ms, to_storage

# A property each type can plausibly change in a routine edit, with the values it cycles through.
_ROUTINE_EDITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "contacts": ("hs_lead_status", LEAD_STATUSES),
    "companies": ("country", ("United States", "Germany", "France", "United Kingdom", "Canada")),
    "deals": ("dealstage", ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent")),
    "calls": ("hs_call_disposition", ("Connected", "Left voicemail", "No answer", "Wrong number")),
    "emails": ("hs_email_status", ("SENT", "BOUNCED")),
    "meetings": ("hs_meeting_outcome", ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW")),
    "notes": ("hs_note_body", ("Follow-up call booked.", "Sent pricing.", "Asked for a case study.")),
    "tasks": ("hs_task_status", ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED")),
}


class HubSpotControl:
    def __init__(self, store: HubSpotStore, seed: int) -> None:
        self.store = store
        self._rng = random.Random(seed)
        self._actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "modify_random": self.modify_random,
            "archive_random": self.archive_random,
            "purge_random": self.purge_random,
            "merge": self.merge,
            "bulk_touch": self.bulk_touch,
            "associate_quietly": self.associate_quietly,
            "insert": self.insert,
            "update": self.update,
        }

    def run(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action not in self._actions:
            raise KeyError(action)
        return self._actions[action](payload)

    def modify_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Edit ``n`` random records through the CRM UI: new value, history entry, bumped last-modified."""
        object_type, n = _type(payload), _count(payload)
        name, choices = _ROUTINE_EDITS[object_type]
        prop = self.store.prop(object_type, name)
        assert prop is not None
        changed: list[str] = []
        for object_id in self._sample(object_type, n):
            row = self.store.get(object_type, object_id)
            current = row[name] if row is not None else None
            value = self._rng.choice([c for c in choices if c != current] or list(choices))
            if self.store.update(object_type, object_id, {name: to_storage(prop, value)}, source_type="CRM_UI"):
                changed.append(str(object_id))
        return {"type": object_type, "property": name, "ids": changed}

    def archive_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        object_type, n = _type(payload), _count(payload)
        archived = self.store.archive(object_type, self._sample(object_type, n))
        return {"type": object_type, "ids": [str(i) for i in archived]}

    def purge_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Permanently delete ``n`` live records (GDPR delete): they never show up as archived."""
        object_type, n = _type(payload), _count(payload)
        purged = self.store.purge(object_type, self._sample(object_type, n))
        return {"type": object_type, "ids": [str(i) for i in purged]}

    def merge(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Merge ``n`` disjoint random pairs; the lower id survives [?] (HubSpot keeps the primary chosen in the UI)."""
        object_type, n = _type(payload), _count(payload)
        ids = self._sample(object_type, 2 * n)
        if len(ids) < 2 * n:
            raise ValueError(f"merging {n} pairs needs {2 * n} live {object_type}; only {len(ids)} exist")
        pairs = []
        for a, b in zip(ids[0::2], ids[1::2]):
            survivor, merged = min(a, b), max(a, b)
            self.store.merge(object_type, survivor, merged)
            pairs.append({"survivor": str(survivor), "merged": str(merged)})
        return {"type": object_type, "pairs": pairs}

    def bulk_touch(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Give ``n`` records one identical last-modified millisecond, like a month-end import or workflow.

        Optional ``properties`` are written to all of them (with history); without, only the dates move.
        """
        object_type, n = _type(payload), _count(payload)
        values = self._values(object_type, payload.get("properties") or {})
        ids = sorted(self._sample(object_type, n))
        at = self.store.now_ms()
        self.store.touch(object_type, ids, at, values)
        return {
            "type": object_type,
            "count": len(ids),
            "timestamp": iso_ms(at),
            "timestamp_ms": at,
            "first_id": str(ids[0]) if ids else None,
            "last_id": str(ids[-1]) if ids else None,
        }

    def associate_quietly(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add (or with ``"remove": true`` remove) ``n`` associations without touching either record."""
        from_type, to_type = _type(payload, "from_type"), _type(payload, "to_type")
        n = _count(payload)
        if payload.get("remove"):
            existing = self.store.association_pairs(from_type, to_type)
            chosen = self._rng.sample(existing, min(n, len(existing)))
            for from_id, to_id in chosen:
                self.store.dissociate(from_type, from_id, to_type, to_id)
            return {"from_type": from_type, "to_type": to_type, "removed": [[str(a), str(b)] for a, b in chosen]}
        existing_pairs = set(self.store.association_pairs(from_type, to_type))
        sources, targets = self.store.live_ids(from_type), self.store.live_ids(to_type)
        if not sources or not targets:
            raise ValueError(f"no live {from_type} or {to_type} to associate")
        added: list[tuple[int, int]] = []
        for _ in range(n * 50):  # bounded: a dense association graph may have fewer free pairs than asked
            if len(added) == n:
                break
            pair = (self._rng.choice(sources), self._rng.choice(targets))
            if pair not in existing_pairs:
                self.store.associate(from_type, pair[0], to_type, pair[1])
                existing_pairs.add(pair)
                added.append(pair)
        return {"from_type": from_type, "to_type": to_type, "added": [[str(a), str(b)] for a, b in added]}

    def insert(self, payload: dict[str, Any]) -> dict[str, Any]:
        object_type = _type(payload)
        new_id = self.store.insert(
            object_type, self._values(object_type, payload.get("properties") or {}), source_type="CRM_UI"
        )
        for link in payload.get("associations") or []:
            to_type = _type(link, "to_type")
            self.store.associate(object_type, new_id, to_type, int(link["to_id"]))
        return {"type": object_type, "id": str(new_id)}

    def update(self, payload: dict[str, Any]) -> dict[str, Any]:
        object_type = _type(payload)
        try:
            object_id = int(payload["id"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("update needs a numeric id") from None
        changed = self.store.update(
            object_type,
            object_id,
            self._values(object_type, payload.get("properties") or {}),
            source_type=str(payload.get("source_type", "CRM_UI")),
        )
        if changed is None:
            raise ValueError(f"no live {object_type} with id {object_id}")
        return {"type": object_type, "id": str(object_id), "changed": sorted(changed)}

    def _values(self, object_type: str, properties: Any) -> dict[str, Any]:
        if not isinstance(properties, dict):
            raise ValueError("properties must be an object")
        out = {}
        for name, value in properties.items():
            prop = self.store.prop(object_type, name)
            if prop is None:
                raise ValueError(f"{object_type} has no property {name!r}")
            out[name] = to_storage(prop, value)
        return out

    def _sample(self, object_type: str, n: int) -> list[int]:
        ids = self.store.live_ids(object_type)
        return self._rng.sample(ids, min(n, len(ids)))


def _type(payload: dict[str, Any], key: str = "type") -> str:
    object_type = resolve_object_type(str(payload.get(key, "")))
    if object_type is None:
        raise ValueError(f"{key} must be one of {list(OBJECT_TYPES)}, got {payload.get(key)!r}")
    return object_type


def _count(payload: dict[str, Any]) -> int:
    try:
        n = int(payload.get("n", 1))
    except (TypeError, ValueError):
        raise ValueError(f"n must be an integer, got {payload.get('n')!r}") from None
    if n < 0:
        raise ValueError("n must not be negative")
    return n
