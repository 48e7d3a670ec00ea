"""HubSpot's error bodies: ``{"status":"error","message","correlationId","category",...}``."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.server.http import Response, json_response


class HubSpotError(Exception):
    """Raised by handlers and the search compiler; the side turns it into HubSpot's JSON error."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.extra = extra

    def response(self) -> Response:
        return error_response(self.status, self.category, self.message, **self.extra)


def validation_error(message: str, **extra: Any) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **extra)


def error_body(category: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def error_response(
    status: int, category: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    return json_response(status, error_body(category, message, **extra), headers)


def rate_limit_response(policy: str, message: str, headers: dict[str, str]) -> Response:
    """429 as HubSpot sends it: ``errorType`` and ``policyName`` instead of ``category``."""
    body = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
    }
    return json_response(429, body, headers)
