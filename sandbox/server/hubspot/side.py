"""The HubSpot side of the sandbox: store, endpoints, and the middleware every call passes through
(auth, injected faults, HubSpot's rate limits and their headers)."""

from __future__ import annotations

import hmac
import random
from typing import Any

from sandbox.model.dataset import DatasetChunk
from sandbox.server.context import SandboxContext
from sandbox.server.http import Handler, Request, Response, Route, Router, json_response
from sandbox.server.hubspot.api import HubSpotApi
from sandbox.server.hubspot.control import HubSpotControl
from sandbox.server.hubspot.errors import error_response, rate_limit_response
from sandbox.server.hubspot.legacy import LegacyApi
from sandbox.server.hubspot.ratelimit import RateLimiter
from sandbox.server.hubspot.store import HubSpotStore

_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
# What HubSpot's edge answers when a backend is unavailable: HTML from the proxy, or HubSpot's own JSON.
_GATEWAY_HTML = "<html><head><title>{code} {reason}</title></head><body><center><h1>{code} {reason}</h1></center><hr><center>cloudflare</center></body></html>"
_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}


class HubSpotSide:
    label = "hubspot"

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.store = HubSpotStore(ctx.db, ctx.clock)
        self.api = HubSpotApi(ctx, self.store)
        self.legacy = LegacyApi(ctx, self.store, self.api._portal_created_ms())
        self.limiter = RateLimiter(ctx.clock, ctx.faults)
        self._control = HubSpotControl(self.store, seed=ctx.credentials.hs_portal_id)
        # Which gateway error a 5xx fault produces; seeded so a fault run can be replayed.
        self._fault_rng = random.Random(ctx.credentials.hs_portal_id)
        self._expected_auth = f"Bearer {ctx.credentials.hs_access_token}"

    # -- CrmSide ---------------------------------------------------------------------------------------------
    def create_schema(self) -> None:
        self.store.create_schema()

    def load(self, chunk: DatasetChunk) -> None:
        self.store.load(chunk.hubspot)

    def router(self) -> Router:
        router = Router()
        # Legacy routes first: they also claim the v3 paths of standard objects the sandbox holds none of.
        self.legacy.register(router)
        self.api.register(router)
        return router

    def not_found(self, request: Request, path_known: bool) -> Response:
        if path_known:
            return error_response(
                405, "VALIDATION_ERROR", f"Method {request.method} is not supported for {request.path}"
            )
        return error_response(404, "OBJECT_NOT_FOUND", f"No API endpoint at {request.path}")

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return error_response(500, "INTERNAL_ERROR", f"internal error: {type(exc).__name__}: {exc}")

    def middleware(self, request: Request, route: Route, handler: Handler) -> Response:
        faults = self.ctx.faults
        faults.delay()
        if not hmac.compare_digest(request.headers.get("authorization", ""), self._expected_auth):
            return error_response(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
        settings = faults.settings
        if faults.roll(settings.rate_5xx):
            return self._gateway_error()
        if faults.roll(settings.rate_429):
            headers = {**self.limiter.headers(), "X-HubSpot-RateLimit-Remaining": "0", "Retry-After": "1"}
            return rate_limit_response(
                "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.", headers
            )
        verdict = self.limiter.admit(search=route.name == "search")
        if verdict.policy is not None:
            return rate_limit_response(
                verdict.policy, verdict.message, {**verdict.headers, "Retry-After": str(verdict.retry_after)}
            )
        response = handler(request)
        response.headers.update(verdict.headers)
        if faults.roll(settings.truncate_rate):
            response.truncate = True
        return response

    def record_counts(self) -> dict[str, int]:
        return self.store.counts()

    def control(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._control.run(action, payload)

    # -- faults ----------------------------------------------------------------------------------------------
    def _gateway_error(self) -> Response:
        code = self._fault_rng.choice(sorted(_REASONS))
        if code == 503 and self._fault_rng.random() < 0.5:
            return json_response(
                503, {"status": "error", "message": "Service Unavailable", "category": "SERVICE_UNAVAILABLE"}
            )
        body = _GATEWAY_HTML.format(code=code, reason=_REASONS[code]).encode()
        return Response(code, body, {"Content-Type": "text/html"})
