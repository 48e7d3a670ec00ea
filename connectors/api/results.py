"""What one incremental sync of one CRM object reports, the same shape on both CRMs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.warehouse.records import SyncAudit
from connectors.warehouse.spec import Column


@dataclass
class WindowSyncResult:
    object_name: str
    table: str
    mode: str = ""
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    source_count: int | None = None  # the CRM's own count for the window when it opened
    window_extracted: int = 0  # extracted over the whole window, across resumed runs
    cursor_before: str | None = None
    cursor_after: str | None = None
    resumed: bool = False
    schema_added: list[str] = field(default_factory=list)
    schema_missing: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed_s: float = 0.0
    columns: tuple[Column, ...] = field(default=(), repr=False)  # the raw table's documented columns

    @property
    def audit_difference(self) -> int | None:
        """Source count at window start minus records extracted for the window (0 when they agree)."""
        return None if self.source_count is None else self.source_count - self.window_extracted

    def as_metadata(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("columns")
        out["audit_difference"] = self.audit_difference
        return out


@dataclass
class TableSyncCounts:
    """What a sync of one table without a cursor window reports (owners, pipelines, edges, history)."""

    table: str
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    requests: int = 0
    elapsed_s: float = 0.0
    columns: tuple[Column, ...] = field(default=(), repr=False)  # the table's documented columns

    def as_metadata(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("columns")
        return out


@dataclass
class ListingSyncResult(TableSyncCounts):
    """A small listing re-read whole every run: whatever it no longer lists was deleted upstream."""

    deleted: int = 0

    def audit(self, *, sync_id: str, source: str, object: str, started_at: datetime) -> SyncAudit:
        return SyncAudit(
            sync_id=sync_id,
            source=source,
            object=object,
            mode="list",
            extracted=self.extracted,
            loaded=self.loaded,
            quarantined=self.quarantined,
            deleted=self.deleted,
            requests=self.requests,
            status="success",
            started_at=started_at,
            finished_at=datetime.now(UTC),
        )
