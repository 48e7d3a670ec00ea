"""The contract each CRM side of the sandbox (Salesforce, HubSpot) fulfils for the app that hosts it."""

from __future__ import annotations

from typing import Any, Protocol

from sandbox.model.dataset import DatasetChunk
from sandbox.server.http import Handler, Request, Response, Route, Router


class CrmSide(Protocol):
    label: str  # "salesforce" | "hubspot"

    def create_schema(self) -> None:
        """Create this side's tables in the shared SQLite database."""

    def load(self, chunk: DatasetChunk) -> None:
        """Insert this side's part of a generated or fixture chunk."""

    def router(self) -> Router: ...

    def not_found(self, request: Request, path_known: bool) -> Response: ...

    def internal_error(self, request: Request, exc: Exception) -> Response: ...

    def middleware(self, request: Request, route: Route, handler: Handler) -> Response:
        """Auth, fault injection, rate limits and limit headers around every API call."""

    def record_counts(self) -> dict[str, int]:
        """Live (non-deleted, non-archived) records per object, for tests and the demo summary."""

    def control(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Side-specific control actions (modify/delete records, plant hard cases); raises KeyError if unknown."""
