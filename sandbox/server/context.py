"""What every part of a running sandbox shares: state, clock, faults, request log and credentials."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.server.clock import SandboxClock
from sandbox.server.db import SandboxDB
from sandbox.server.faults import Faults
from sandbox.server.http import RequestLog


@dataclass(frozen=True)
class SandboxCredentials:
    """Fixed, well-known sandbox credentials: the sandbox holds no real data, so they are not secrets."""

    sf_client_id: str = "crm-loop-sandbox-client"
    sf_client_secret: str = "sandbox-client-secret"
    sf_username: str = "revops@crm-loop.sandbox"
    sf_password: str = "sandbox-password"
    sf_security_token: str = "sandboxtoken"
    sf_refresh_token: str = "5Aep861sandboxRefreshToken"
    hs_access_token: str = "pat-na1-sandbox-0000-0000-000000000000"
    hs_portal_id: int = 24_681_357


@dataclass
class SandboxContext:
    db: SandboxDB
    clock: SandboxClock
    faults: Faults
    log: RequestLog
    credentials: SandboxCredentials = field(default_factory=SandboxCredentials)
    session_ttl_seconds: float = 7_200.0
    salesforce_url: str = ""  # https://127.0.0.1:PORT, set once bound
    hubspot_url: str = ""  # http://127.0.0.1:PORT, set once bound
