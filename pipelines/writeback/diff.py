"""What write-back would change: per (record, field), old -> new, or a conflict a person caused (pure).

A field crm-loop wrote before and whose CRM value now differs from what crm-loop wrote, on a record modified
after that write, was changed by a person (or another integration): when crm-loop wants to change it, that is
reported as a conflict and the value left alone, on every such run, until someone clears it up (sets crm-loop's
last value back or stops listing the field). Fields whose wanted value is what crm-loop last wrote are not even
read (``unsent``): only values that changed since crm-loop's last write are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pipelines.funnel.model import WritebackKind
from pipelines.writeback.values import RecordKey, normalised

Action = Literal["write", "conflict", "missing"]


@dataclass(frozen=True)
class Current:
    """A record's current values of the listed fields and when it was last modified (CRM clock, UTC naive)."""

    values: Mapping[str, str | None]
    modified_at: datetime | None


@dataclass(frozen=True)
class LastWrite:
    """crm-loop's latest successful write of one field: the value it wrote and when (UTC naive)."""

    value: str | None
    at: datetime


@dataclass(frozen=True)
class Change:
    system: str
    object: str
    record_id: str
    field: str
    old: str | None
    new: str | None
    action: Action


def unsent(
    desired: Mapping[RecordKey, Mapping[str, str | None]],
    last_writes: Mapping[tuple[str, str, str, str], LastWrite],
) -> dict[RecordKey, dict[str, str | None]]:
    """The fields whose wanted value is not what crm-loop last wrote: only these need the CRM's current value, so a
    nightly run reads the records whose outcome changed, not every record. A field crm-loop never wrote is
    considered once it has a value: emptying what crm-loop never filled would only erase someone else's value."""
    out: dict[RecordKey, dict[str, str | None]] = {}
    for key, fields in desired.items():
        for field, value in fields.items():
            last = last_writes.get((*key, field))
            if (last is None and value is not None) or (last is not None and last.value != value):
                out.setdefault(key, {})[field] = value
    return out


def plan(
    desired: Mapping[RecordKey, Mapping[str, str | None]],
    current: Mapping[RecordKey, Current],
    last_writes: Mapping[tuple[str, str, str, str], LastWrite],
    kinds: Mapping[tuple[str, str, str], WritebackKind],
) -> list[Change]:
    """Changes in record order, then field order; unchanged fields are left out. ``kinds``: (system, object,
    field) -> kind, for comparing in one normal form. A record the CRM no longer has: ``missing``."""
    changes: list[Change] = []
    for key in sorted(desired):
        system, object, record_id = key
        record = current.get(key)
        for field, new in sorted(desired[key].items()):
            if record is None:
                changes.append(Change(system, object, record_id, field, None, new, "missing"))
                continue
            kind = kinds[(system, object, field)]
            old = normalised(kind, record.values.get(field))
            if old == new:
                continue
            last = last_writes.get((system, object, record_id, field))
            changed_by_person = (
                last is not None
                and old != normalised(kind, last.value)
                and (record.modified_at is None or record.modified_at > last.at)
            )
            changes.append(
                Change(system, object, record_id, field, old, new, "conflict" if changed_by_person else "write")
            )
    return changes
