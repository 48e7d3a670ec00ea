"""Getting a Salesforce access token: OAuth2 against a configurable token URL, or the SOAP password login.

``simple_salesforce.Salesforce`` can only log in against ``https://{domain}.salesforce.com``, so OAuth grants
are requested here from whatever token URL is configured (a My Domain, a sandbox org, the local CRM sandbox)
and the client is then built from ``instance_url`` + token.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import requests
from simple_salesforce import SalesforceLogin

AuthMode = Literal["client_credentials", "refresh_token", "password", "soap_password"]


class SalesforceAuthError(RuntimeError):
    """The token request failed; ``status`` >= 500 means the server, not the credentials, was at fault."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SalesforceCredentials:
    mode: AuthMode
    token_url: str = ""  # e.g. https://mydomain.my.salesforce.com/services/oauth2/token (OAuth modes)
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    username: str = ""
    password: str = ""
    security_token: str = ""
    domain: str = "login"  # soap_password: login | test | <my domain>

    def __repr__(self) -> str:  # secrets must never reach logs or run metadata
        return f"SalesforceCredentials(mode={self.mode!r}, token_url={self.token_url!r}, username={self.username!r})"


@dataclass(frozen=True)
class AccessGrant:
    instance_url: str
    access_token: str

    def __repr__(self) -> str:
        return f"AccessGrant(instance_url={self.instance_url!r})"


def authenticate(creds: SalesforceCredentials, session: requests.Session, api_version: str) -> AccessGrant:
    if creds.mode == "soap_password":
        session_id, instance = SalesforceLogin(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            domain=creds.domain,
            session=session,
            sf_version=api_version,
        )
        return AccessGrant(instance_url=f"https://{instance}", access_token=session_id)
    if not creds.token_url:
        raise SalesforceAuthError(f"auth mode {creds.mode!r} needs a token URL")
    form: dict[str, str] = {"grant_type": creds.mode}
    auth: tuple[str, str] | None = None
    if creds.mode == "client_credentials":
        auth = (creds.client_id, creds.client_secret)
    elif creds.mode == "refresh_token":
        form.update(refresh_token=creds.refresh_token, client_id=creds.client_id, client_secret=creds.client_secret)
    elif creds.mode == "password":
        form.update(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            username=creds.username,
            password=creds.password + creds.security_token,
        )
    else:
        raise SalesforceAuthError(f"unknown auth mode {creds.mode!r}")
    response = session.post(creds.token_url, data=form, auth=auth, timeout=60)
    if response.status_code != 200:
        try:
            body = response.json()
            detail = f"{body.get('error')}: {body.get('error_description')}"
        except ValueError:
            detail = response.text[:200]
        raise SalesforceAuthError(f"token request refused ({response.status_code}) {detail}", response.status_code)
    body = response.json()
    return AccessGrant(instance_url=body["instance_url"], access_token=body["access_token"])


GrantKey = tuple[str, ...]


def grant_key(creds: SalesforceCredentials, run_id: str) -> GrantKey:
    """Who the grant is for and which run shares it; never a secret, so the key is safe to hold and log."""
    return (creds.mode, creds.token_url or creds.domain, creds.client_id, creds.username, run_id)


class GrantCache:
    """One access token per (token URL, client, run) in this process, shared by every step of the run.

    Each asset step opens its own connection; without this, a nightly run asks for 11 tokens where one serves.
    """

    def __init__(self, max_entries: int = 16) -> None:
        self._grants: OrderedDict[GrantKey, AccessGrant] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries  # finished runs' grants age out; a long-lived daemon must not grow forever

    def get_or_fetch(
        self, key: GrantKey, fetch: Callable[[], AccessGrant], *, expired: AccessGrant | None = None
    ) -> AccessGrant:
        """The cached grant, unless absent or the one the caller just found expired: then a new one for all.

        The lock is held while fetching so that steps in threads that start together share one token request.
        """
        with self._lock:
            grant = self._grants.get(key)
            if grant is None or grant == expired:
                grant = fetch()
                self._grants[key] = grant
            self._grants.move_to_end(key)
            while len(self._grants) > self._max:
                self._grants.popitem(last=False)
            return grant


SHARED_GRANTS = GrantCache()
