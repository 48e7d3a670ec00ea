"""The running sandbox: both CRM sides on their own loopback ports, plus a control API.

Salesforce is served over HTTPS (simple-salesforce only builds https URLs), HubSpot over HTTP (the official
client accepts an http ``host``), the control API over HTTP on a third port so tests and the demo can change
data, toggle faults and read request counters without touching either CRM's surface.
"""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox.model.dataset import DatasetChunk
from sandbox.server.clock import SandboxClock, default_anchor
from sandbox.server.context import SandboxContext
from sandbox.server.db import SandboxDB
from sandbox.server.faults import Faults
from sandbox.server.gateway import HUBSPOT_HOSTS, SALESFORCE_HOSTS, PublicHostGateway, Upstream
from sandbox.server.http import (
    Request,
    RequestLog,
    Response,
    Router,
    SandboxHTTPServer,
    json_response,
)
from sandbox.server.side import CrmSide
from sandbox.server.tls import SandboxTLS, issue_tls


class Sandbox:
    def __init__(
        self,
        *,
        seed: int = 7,
        size: int = 300,
        fixture: Path | None = None,
        data: Iterable[DatasetChunk] | None = None,
        anchor: datetime | None = None,
        host: str = "127.0.0.1",
        salesforce_port: int = 0,
        hubspot_port: int = 0,
        control_port: int = 0,
        workdir: Path | None = None,
        session_ttl_seconds: float = 7_200.0,
        gateway: bool = False,
    ) -> None:
        from sandbox.server.hubspot.side import HubSpotSide
        from sandbox.server.salesforce.side import SalesforceSide

        self.seed = seed
        self.size = size
        self.fixture = fixture
        self._data = data
        self.host = host
        self._ports = (salesforce_port, hubspot_port, control_port)
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="crm-loop-sandbox-")) if workdir is None else workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        db_path = self.workdir / "sandbox.sqlite3"
        db_path.unlink(missing_ok=True)
        self.ctx = SandboxContext(
            db=SandboxDB(db_path),
            clock=SandboxClock(anchor or default_anchor()),
            faults=Faults(seed),
            log=RequestLog(),
            session_ttl_seconds=session_ttl_seconds,
        )
        self.salesforce = SalesforceSide(self.ctx)
        self.hubspot = HubSpotSide(self.ctx)
        self.sides: dict[str, CrmSide] = {"salesforce": self.salesforce, "hubspot": self.hubspot}
        self.manifest: dict[str, Any] = {}
        self.tls: SandboxTLS | None = None
        self._servers: list[SandboxHTTPServer] = []
        self._want_gateway = gateway
        self.gateway: PublicHostGateway | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        for side in self.sides.values():
            side.create_schema()
        self._seed_data()
        self.tls = issue_tls(self.workdir / "tls")
        sf = self._server("salesforce", self._ports[0], self.salesforce)
        tls_ctx = self.tls.server_context()
        # Handshake in the handler thread, so one slow client cannot stall accept().
        sf.socket = tls_ctx.wrap_socket(sf.socket, server_side=True, do_handshake_on_connect=False)
        hs = self._server("hubspot", self._ports[1], self.hubspot)
        control = SandboxHTTPServer(
            "control",
            (self.host, self._ports[2]),
            self._control_router(),
            self.ctx.clock,
            self.ctx.log,
            not_found=lambda r, known: json_response(405 if known else 404, {"error": "no such control endpoint"}),
            internal_error=lambda r, e: json_response(500, {"error": f"{type(e).__name__}: {e}"}),
        )
        self._servers = [sf, hs, control]
        self.ctx.salesforce_url = f"https://{self.host}:{sf.server_address[1]}"
        self.ctx.hubspot_url = f"http://{self.host}:{hs.server_address[1]}"
        self.control_url = f"http://{self.host}:{control.server_address[1]}"
        for server in self._servers:
            server.serve_in_thread()
        if self._want_gateway:
            self.gateway = self._gateway(sf.server_address[1], hs.server_address[1], tls_ctx)
            self.gateway.serve_in_thread()
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.shutdown()
            self.gateway.server_close()
            self.gateway = None
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []
        self.ctx.db.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------------------
    @property
    def salesforce_url(self) -> str:
        return self.ctx.salesforce_url

    @property
    def hubspot_url(self) -> str:
        return self.ctx.hubspot_url

    @property
    def ca_path(self) -> Path:
        assert self.tls is not None, "sandbox not started"
        return self.tls.ca_path

    def info(self) -> dict[str, Any]:
        creds = self.ctx.credentials
        return {
            "salesforce": {
                "instance_url": self.salesforce_url,
                "token_url": f"{self.salesforce_url}/services/oauth2/token",
                "client_id": creds.sf_client_id,
                "client_secret": creds.sf_client_secret,
                "username": creds.sf_username,
                "password": creds.sf_password,
                "security_token": creds.sf_security_token,
                "refresh_token": creds.sf_refresh_token,
                "ca_bundle": str(self.ca_path),
            },
            "hubspot": {
                "base_url": self.hubspot_url,
                "access_token": creds.hs_access_token,
                "portal_id": creds.hs_portal_id,
            },
            "control_url": self.control_url,
            "gateway_url": self.gateway.url if self.gateway is not None else None,
            "anchor": self.ctx.clock.anchor.isoformat(),
            "now": self.ctx.clock.now().isoformat(),
            "seed": self.seed,
            "size": self.size,
            "records": {name: side.record_counts() for name, side in self.sides.items()},
        }

    # -- data ------------------------------------------------------------------------------------------------
    def _seed_data(self) -> None:
        manifest: Any
        if self._data is not None:
            # Hand-built records (tests of one wire-format detail): no generator, so nothing is planted.
            chunks, manifest = self._data, None
        elif self.fixture is not None:
            from sandbox.data.fixture import load_fixture

            chunks, manifest = load_fixture(self.fixture)
        else:
            from sandbox.data.generator import GeneratorConfig, generate

            chunks, manifest = generate(GeneratorConfig(seed=self.seed, size=self.size, anchor=self.ctx.clock.anchor))
        for chunk in chunks:
            for side in self.sides.values():
                side.load(chunk)
        self.manifest = manifest.to_dict() if manifest is not None else {}
        (self.workdir / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))

    # -- servers ---------------------------------------------------------------------------------------------
    def _server(self, label: str, port: int, side: CrmSide) -> SandboxHTTPServer:
        return SandboxHTTPServer(
            label,
            (self.host, port),
            side.router(),
            self.ctx.clock,
            self.ctx.log,
            not_found=side.not_found,
            internal_error=side.internal_error,
            middleware=side.middleware,
        )

    def _gateway(self, sf_port: int, hs_port: int, tls_ctx: ssl.SSLContext) -> PublicHostGateway:
        routes = {h: Upstream((self.host, sf_port), terminate_tls=False) for h in SALESFORCE_HOSTS}
        routes.update({h: Upstream((self.host, hs_port), terminate_tls=True) for h in HUBSPOT_HOSTS})
        return PublicHostGateway((self.host, 0), routes, tls_ctx)

    def _control_router(self) -> Router:
        router = Router()
        ctx = self.ctx

        def info(_: Request) -> Response:
            return json_response(200, self.info())

        def manifest(_: Request) -> Response:
            return Response(200, json.dumps(self.manifest, default=str).encode(), {"Content-Type": "application/json"})

        def advance(req: Request) -> Response:
            seconds = float((req.json() or {}).get("seconds", 0))
            return json_response(200, {"now": ctx.clock.advance(seconds).isoformat()})

        def get_faults(_: Request) -> Response:
            return json_response(200, ctx.faults.snapshot())

        def set_faults(req: Request) -> Response:
            try:
                settings = ctx.faults.update(**(req.json() or {}))
            except ValueError as exc:
                return json_response(400, {"error": str(exc)})
            return json_response(200, asdict(settings))

        def reset_faults(_: Request) -> Response:
            return json_response(200, asdict(ctx.faults.reset()))

        def requests_served(req: Request) -> Response:
            payload: dict[str, Any] = {"counts": ctx.log.counts()}
            if req.arg("records") in ("1", "true"):
                payload["records"] = [asdict(r) for r in ctx.log.records(req.arg("server"))]
            return json_response(200, payload)

        def reset_requests(_: Request) -> Response:
            ctx.log.reset()
            return json_response(200, {"counts": {}})

        def side_action(req: Request) -> Response:
            side = self.sides.get(req.params["side"])
            if side is None:
                return json_response(404, {"error": f"unknown side {req.params['side']!r}"})
            try:
                return json_response(200, side.control(req.params["action"], req.json() or {}))
            except KeyError as exc:
                return json_response(404, {"error": f"unknown action: {exc}"})
            except ValueError as exc:
                return json_response(400, {"error": str(exc)})

        router.add("GET", r"/_sandbox/info", "info", info)
        router.add("GET", r"/_sandbox/manifest", "manifest", manifest)
        router.add("POST", r"/_sandbox/clock/advance", "clock_advance", advance)
        router.add("GET", r"/_sandbox/faults", "faults_get", get_faults)
        router.add("POST", r"/_sandbox/faults", "faults_set", set_faults)
        router.add("DELETE", r"/_sandbox/faults", "faults_reset", reset_faults)
        router.add("GET", r"/_sandbox/requests", "requests", requests_served)
        router.add("DELETE", r"/_sandbox/requests", "requests_reset", reset_requests)
        router.add("POST", r"/_sandbox/(?P<side>salesforce|hubspot)/(?P<action>[a-z_]+)", "side_action", side_action)
        return router
