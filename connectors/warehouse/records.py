"""Value objects the warehouse accepts or returns: schema drift, quarantined values, sync-run audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

SyncMode = Literal["rest", "bulk", "list", "search"]
SyncStatus = Literal["running", "success", "failed"]
SYNC_MODES: tuple[str, ...] = get_args(SyncMode)
SYNC_STATUSES: tuple[str, ...] = get_args(SyncStatus)


@dataclass(frozen=True)
class SchemaDrift:
    """What `ensure_table` found: `added` columns were created by ALTER TABLE; `missing` columns exist in the
    table but are no longer in the spec (kept, and null for rows written from now on)."""

    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    created: bool = False


@dataclass(frozen=True)
class QuarantineRow:
    """One value that could not be landed. A record with several bad fields yields several rows, but counts
    once in `SyncAudit.quarantined` (which counts records). `field` is the primary-key column when the record
    itself is unusable (e.g. no id); `record_id` is "" when the id is unknown."""

    sync_id: str
    source: str
    object: str
    record_id: str
    field: str
    raw_value: str | None
    reason: str


@dataclass(frozen=True)
class SyncAudit:
    """One sync of one object (grain of `sync_runs`).

    Invariant: extracted == loaded + quarantined. All three count records of *committed* batches: a batch that
    rolled back landed nothing, advanced no cursor, and will be extracted again, so it is not counted. `deleted`
    (records newly marked deleted) and `requests` (API calls spent) are outside the invariant. `source_count` is
    the CRM's own count for the window when it reports one (HubSpot search `total`, SOQL COUNT()), for
    reconciliation; cursors are stored as text because they are timestamps on one side and offsets on the other.
    """

    sync_id: str
    source: str
    object: str
    mode: SyncMode
    started_at: datetime
    status: SyncStatus
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    deleted: int = 0
    requests: int = 0
    finished_at: datetime | None = None
    cursor_before: str | None = None
    cursor_after: str | None = None
    source_count: int | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in SYNC_MODES:
            raise ValueError(f"mode {self.mode!r} not in {SYNC_MODES}")
        if self.status not in SYNC_STATUSES:
            raise ValueError(f"status {self.status!r} not in {SYNC_STATUSES}")
        counts = {
            "extracted": self.extracted,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "deleted": self.deleted,
            "requests": self.requests,
        }
        negative = [name for name, value in counts.items() if value < 0]
        if negative:
            raise ValueError(f"negative counts: {negative}")
        if self.extracted != self.loaded + self.quarantined:
            raise ValueError(
                f"audit invariant broken: extracted ({self.extracted}) != loaded ({self.loaded}) "
                f"+ quarantined ({self.quarantined})"
            )
