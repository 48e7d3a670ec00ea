"""Salesforce authentication: the OAuth2 token endpoint, the SOAP ``login`` call and the sessions they issue.

Sessions die after ``session_ttl_seconds`` of sandbox time, after ``faults.session_expiry_after`` API calls, or
when the control API expires them all, now or when a chosen request arrives (the second page of a query, a Bulk
job's poll): a session dying in the middle of paging or of a job, at a point a test names. A dead session answers
401 INVALID_SESSION_ID, but a freshly issued token always works again: simple-salesforce re-logs in on that 401
without bound, so a sandbox that kept refusing new tokens would hang its clients instead of testing them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox.model.ids import to_18
from sandbox.model.salesforce import API_VERSION
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, json_response
from sandbox.server.salesforce.store import INTEGRATION_USER_ID

ORG_ID = to_18("00D5g00000SANDB")


@dataclass
class Session:
    token: str
    created: datetime
    calls: int = 0
    dead: bool = False


class SessionStore:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._armed: tuple[str, int] | None = None  # (route, requests on it still to pass) before all expire

    def issue(self) -> Session:
        # Shaped like a real access token: org id, "!", opaque payload.
        session = Session(f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(72)}", self.ctx.clock.now())
        with self._lock:
            self._sessions[session.token] = session
        return session

    def use(self, token: str, route: str = "") -> Session | None:
        """The live session for ``token``, counting this API call (on ``route``) against it; None if unknown or
        expired."""
        limit = self.ctx.faults.settings.session_expiry_after
        now = self.ctx.clock.now()
        with self._lock:
            if self._armed is not None and self._armed[0] == route:
                remaining = self._armed[1] - 1
                self._armed = (route, remaining) if remaining else None
                if not remaining:
                    self._expire_locked()
            session = self._sessions.get(token)
            if session is None or session.dead:
                return None
            if (now - session.created).total_seconds() > self.ctx.session_ttl_seconds or (
                limit is not None and session.calls >= limit
            ):
                session.dead = True
                return None
            session.calls += 1
            return session

    def expire_all(self) -> int:
        with self._lock:
            return self._expire_locked()

    def expire_on(self, route: str, nth: int = 1) -> None:
        """Expire every session live when the ``nth`` request from now on ``route`` arrives, before it is served."""
        if nth < 1:
            raise ValueError("nth counts requests from the next one: 1 or more")
        with self._lock:
            self._armed = (route, nth)

    def _expire_locked(self) -> int:
        live = [s for s in self._sessions.values() if not s.dead]
        for session in live:
            session.dead = True
        return len(live)


class AuthEndpoints:
    """Handlers for ``POST /services/oauth2/token`` and ``POST /services/Soap/u/{version}``."""

    def __init__(self, ctx: SandboxContext, sessions: SessionStore) -> None:
        self.ctx = ctx
        self.sessions = sessions

    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
        creds = self.ctx.credentials
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
        grant = form.get("grant_type", "")
        if grant not in ("password", "client_credentials", "refresh_token"):
            # The JWT bearer flow would need the connected app's certificate: not emulated [?].
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if client_id != creds.sf_client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        # A refresh may omit the secret (public clients); everything else must present it.
        if (grant != "refresh_token" or client_secret is not None) and client_secret != creds.sf_client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "password" and not (
            form.get("username") == creds.sf_username and self._password_ok(form.get("password", ""))
        ):
            return _oauth_error("invalid_grant", "authentication failure")
        if grant == "refresh_token" and form.get("refresh_token") != creds.sf_refresh_token:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        session = self.sessions.issue()
        issued_at = str(int(session.created.timestamp() * 1000))
        identity = f"{self.ctx.salesforce_url}/id/{ORG_ID}/{INTEGRATION_USER_ID}"
        signature = base64.b64encode(
            hmac.new(creds.sf_client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return json_response(
            200,
            {
                "access_token": session.token,
                "instance_url": self.ctx.salesforce_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
                "signature": signature,
                "scope": "api refresh_token",
            },
        )

    def soap_login(self, request: Request) -> Response:
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError:
            return _soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
        if values.get("username") != self.ctx.credentials.sf_username or not self._password_ok(
            values.get("password", "")
        ):
            return _soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        session = self.sessions.issue()
        version = request.params.get("version", API_VERSION)
        base = self.ctx.salesforce_url
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
            f"<loginResponse><result><metadataServerUrl>{base}/services/Soap/m/{version}/{ORG_ID}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{ORG_ID}</serverUrl>"
            f"<sessionId>{escape(session.token)}</sessionId><userId>{INTEGRATION_USER_ID}</userId>"
            f"<userInfo><organizationId>{ORG_ID}</organizationId><userId>{INTEGRATION_USER_ID}</userId>"
            f"<userName>{escape(self.ctx.credentials.sf_username)}</userName></userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response(200, body.encode("utf-8"), {"Content-Type": "text/xml; charset=utf-8"})

    def _password_ok(self, given: str) -> bool:
        """Password plus security token; the bare password too, as from a trusted IP range (loopback) [?]."""
        creds = self.ctx.credentials
        return given in (creds.sf_password + creds.sf_security_token, creds.sf_password)


def _oauth_error(error: str, description: str) -> Response:
    return json_response(400, {"error": error, "error_description": description})


def _soap_fault(code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(500, body.encode("utf-8"), {"Content-Type": "text/xml; charset=utf-8"})
