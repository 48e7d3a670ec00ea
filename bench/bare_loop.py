"""A bare paging loop: plain ``requests`` at the APIs' largest pages, every record appended to a JSON-lines file.

The reference ``bench/extract.py`` holds crm-loop's extraction against: no warehouse, no cursors, no retries
beyond waiting out a HubSpot 429, only what it takes to read every record once. It asks for the same fields and
properties crm-loop asks for (all selectable ones) and paces HubSpot under the same limits.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Sequence
from typing import IO, Any

import requests

from connectors.hubspot.pacing import TEN_SECONDS, PacingPolicy
from connectors.salesforce.catalog import UNSELECTABLE_TYPES

SF_API = "/services/data/v59.0"
SF_PAGE = 2_000  # Salesforce REST query pages hold at most 2,000 records
HS_PAGE = 100  # HubSpot list endpoints return at most 100 records a page
HS_HISTORY_BATCH = 50  # batch reads that ask for property history take at most 50 ids
HS_ASSOCIATION_BATCH = 1_000  # v4 association batch reads take at most 1,000 ids
TIMEOUT_S = 60


def _write(out: IO[str], records: list[dict[str, Any]]) -> int:
    out.write("".join(json.dumps(r) + "\n" for r in records))
    return len(records)


def _session() -> requests.Session:
    http = requests.Session()
    # These machines export REQUESTS_CA_BUNDLE and proxy settings; the sandbox is on loopback with its own CA.
    http.trust_env = False
    return http


def salesforce(info: dict[str, Any], objects: Sequence[str], out: IO[str]) -> int:
    """queryAll every object (soft-deleted rows included, as crm-loop reads them); returns records written."""
    with _session() as http:
        http.verify = info["ca_bundle"]
        grant = http.post(
            info["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(info["client_id"], info["client_secret"]),
            timeout=TIMEOUT_S,
        )
        grant.raise_for_status()
        token = grant.json()
        http.headers.update(
            {"Authorization": f"Bearer {token['access_token']}", "Sforce-Query-Options": f"batchSize={SF_PAGE}"}
        )
        base = token["instance_url"]

        def get(url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
            response = http.get(url, params=params, timeout=TIMEOUT_S)
            response.raise_for_status()
            return dict(response.json())

        written = 0
        for name in objects:
            describe = get(f"{base}{SF_API}/sobjects/{name}/describe")
            fields = [f["name"] for f in describe["fields"] if f["type"] not in UNSELECTABLE_TYPES]
            page = get(f"{base}{SF_API}/queryAll/", {"q": f"SELECT {', '.join(fields)} FROM {name}"})
            written += _write(out, page["records"])
            while page.get("nextRecordsUrl"):
                page = get(base + page["nextRecordsUrl"])
                written += _write(out, page["records"])
        return written


class TenSecondPacer:
    """HubSpot's rolling 10-second allowance as crm-loop's ``PortalPacer`` applies it, for one process in memory:
    the policy's limit (the portal's ``X-HubSpot-RateLimit-Max`` when lower) times its share."""

    def __init__(self, policy: PacingPolicy) -> None:
        self.policy = policy
        self.server_max: int | None = None
        self.sent: deque[float] = deque()

    @property
    def cap(self) -> int:
        limit = min(self.policy.ten_second_limit, self.server_max or self.policy.ten_second_limit)
        return max(1, int(limit * self.policy.share))

    def acquire(self) -> None:
        while True:
            now = time.time()
            while self.sent and self.sent[0] <= now - TEN_SECONDS:
                self.sent.popleft()
            if len(self.sent) < self.cap:
                self.sent.append(now)
                return
            time.sleep(self.sent[0] + TEN_SECONDS - now)

    def learn(self, server_max: str | None) -> None:
        if server_max and server_max.isdigit() and int(server_max) > 0:
            self.server_max = int(server_max)


class HubSpotHttp:
    """Paced GET and POST against one portal, waiting out 429s as the real API asks."""

    def __init__(self, info: dict[str, Any], http: requests.Session, pacer: TenSecondPacer | None) -> None:
        self.base_url = info["base_url"]
        self.http = http
        self.pacer = pacer or TenSecondPacer(PacingPolicy())
        http.headers["Authorization"] = f"Bearer {info['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        while True:
            self.pacer.acquire()
            response = self.http.request(method, self.base_url + path, timeout=TIMEOUT_S, **kwargs)
            self.pacer.learn(response.headers.get("X-HubSpot-RateLimit-Max"))
            if response.status_code != 429:
                response.raise_for_status()
                return dict(response.json())
            time.sleep(float(response.headers.get("Retry-After") or 1))


def hubspot(
    info: dict[str, Any],
    object_types: Sequence[str],
    out: IO[str],
    ids: dict[str, list[str]] | None = None,
    pacer: TenSecondPacer | None = None,
) -> int:
    """List every live record of each type with all its properties; returns records written. ``ids``, when
    given, collects each type's record ids (what the history and association reads ask about); one ``pacer``
    shared by consecutive calls keeps the portal's rolling window across them, as crm-loop's pacer does."""
    with _session() as session:
        api = HubSpotHttp(info, session, pacer)
        written = 0
        for object_type in object_types:
            names = [p["name"] for p in api.call("GET", f"/crm/v3/properties/{object_type}")["results"]]
            params: dict[str, Any] = {"limit": HS_PAGE, "properties": ",".join(names)}
            while True:
                page = api.call("GET", f"/crm/v3/objects/{object_type}", params=params)
                written += _write(out, page["results"])
                if ids is not None:
                    ids.setdefault(object_type, []).extend(str(r["id"]) for r in page["results"])
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
                params["after"] = after
        return written


def hubspot_history(
    info: dict[str, Any],
    contact_ids: Sequence[str],
    properties: Sequence[str],
    out: IO[str],
    pacer: TenSecondPacer | None = None,
) -> int:
    """The contacts' property history by batch read, at the 50 ids HubSpot allows when history is asked for;
    returns contacts written."""
    with _session() as session:
        api = HubSpotHttp(info, session, pacer)
        written = 0
        for start in range(0, len(contact_ids), HS_HISTORY_BATCH):
            body = {
                "inputs": [{"id": i} for i in contact_ids[start : start + HS_HISTORY_BATCH]],
                "properties": ["hs_object_id"],
                "propertiesWithHistory": list(properties),
            }
            written += _write(out, api.call("POST", "/crm/v3/objects/contacts/batch/read", json=body)["results"])
        return written


def hubspot_associations(
    info: dict[str, Any],
    pairs: Sequence[tuple[str, str]],
    ids: dict[str, list[str]],
    out: IO[str],
    pacer: TenSecondPacer | None = None,
) -> int:
    """Every record's edges per pair by v4 batch read, 1,000 ids a request, following a record's own ``after``
    when it has more edges than one answer holds; returns answers written."""
    with _session() as session:
        api = HubSpotHttp(info, session, pacer)
        written = 0
        for from_type, to_type in pairs:
            pair_ids = ids.get(from_type, [])
            for start in range(0, len(pair_ids), HS_ASSOCIATION_BATCH):
                inputs: list[dict[str, str]] = [{"id": i} for i in pair_ids[start : start + HS_ASSOCIATION_BATCH]]
                while inputs:
                    path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
                    results = api.call("POST", path, json={"inputs": inputs}).get("results") or []
                    written += _write(out, results)
                    inputs = [
                        {"id": str(r["from"]["id"]), "after": str(r["paging"]["next"]["after"])}
                        for r in results
                        if ((r.get("paging") or {}).get("next") or {}).get("after")
                    ]
        return written
