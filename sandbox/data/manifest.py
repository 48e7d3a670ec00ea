"""The scenario manifest: what a dataset contains and which problems were planted in it, by record id.

Only the generator (or a fixture file) writes it; tests compare what the pipeline finds with it. Planted lists
are complete; per-person facts cover everyone up to ``facts_limit`` people and an evenly spaced sample above.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sandbox.model.dataset import DatasetChunk

PLANTED_KINDS = (
    "never_contacted",
    "late_first_touch",
    "late_accept_reject",
    "rejected_without_reason",
    "too_few_attempts",
    "missing_owner",
    "stage_regression",
    "duplicate",
    "orphan_activity",
    "malformed_email",
)


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass
class Manifest:
    config: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, Any] = field(default_factory=dict)
    salesforce_counts: Counter[str] = field(default_factory=Counter)
    hubspot_counts: Counter[str] = field(default_factory=Counter)
    planted: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in PLANTED_KINDS})
    people: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # a fixture's own manifest keys, kept verbatim

    def plant(self, kind: str, **details: Any) -> None:
        if kind not in self.planted:
            raise ValueError(f"unknown planted kind {kind!r}")
        self.planted[kind].append({"kind": kind, **details})

    def count(self, chunk: DatasetChunk) -> None:
        """Add a chunk's live records (not archived HubSpot records or owners) to the counts."""
        for name, rows in chunk.salesforce.records.items():
            self.salesforce_counts[name] += sum(1 for r in rows if not r.get("IsDeleted"))
        for object_type, records in chunk.hubspot.objects.items():
            self.hubspot_counts[object_type] += sum(1 for r in records if not r.archived)
        self.hubspot_counts["owners"] += sum(1 for o in chunk.hubspot.owners if not o.archived)
        self.hubspot_counts["associations"] += len(chunk.hubspot.associations)
        self.hubspot_counts["property_history"] += len(chunk.hubspot.history)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "config": self.config,
            "definitions": self.definitions,
            "planted": self.planted,
            "people": self.people,
            **self.extra,  # a fixture's own keys win, except the counts measured from its records
            "counts": {
                "salesforce": dict(sorted(self.salesforce_counts.items())),
                "hubspot": dict(sorted(self.hubspot_counts.items())),
            },
        }
        out["planted_counts"] = {k: len(v) for k, v in out["planted"].items()}
        return jsonable(out)
