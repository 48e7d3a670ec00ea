"""Hand-built HubSpot data and client helpers for the sandbox's HubSpot-side tests.

The data is small and explicit, so each test can state exactly which records it expects to see.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import hubspot
import pytest
import requests
from urllib3.util.retry import Retry

from sandbox.model.dataset import (
    Association,
    DatasetChunk,
    HubSpotData,
    HubSpotOwner,
    HubSpotRecord,
    PropertyChange,
)
from sandbox.server.app import Sandbox

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N_CONTACTS = 25
ARCHIVED_CONTACTS = (24, 25)  # ids of the contacts seeded as archived
STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")


def contact_created(i: int) -> datetime:
    return T0 + timedelta(days=i)


def contact_modified(i: int) -> datetime:
    return T0 + timedelta(days=i, hours=12)


def hubspot_chunk(n_contacts: int = N_CONTACTS) -> DatasetChunk:
    owners = [
        HubSpotOwner(
            id=100 + k,
            email=f"rep{k}@crm-loop.example",
            first_name=f"Rep{k}",
            last_name="Seller",
            user_id=9000 + k,
            created_at=T0,
            updated_at=T0,
            teams=[{"id": "1", "name": "Sales", "primary": True}],
        )
        for k in range(1, 4)
    ]
    companies = [
        HubSpotRecord(
            id=c,
            properties={
                "name": f"Company {c}",
                "domain": f"company{c}.example",
                "industry": "COMPUTER_SOFTWARE",
                "numberofemployees": 50 * c,
                "annualrevenue": 1_000_000.5 * c,
            },
            created_at=T0,
            updated_at=T0 + timedelta(hours=c),
        )
        for c in range(1, 6)
    ]
    contacts = []
    for i in range(1, n_contacts + 1):
        contacts.append(
            HubSpotRecord(
                id=i,
                properties={
                    "email": f"person{i}@company{i % 5 + 1}.example",
                    "firstname": f"First{i}",
                    "lastname": "Tester" if i % 2 else "Sampler",
                    "lifecyclestage": STAGES[i % len(STAGES)],
                    "hubspot_owner_id": str(101 + i % 3),
                    "hubspotscore": i * 3,
                    "demo_requested": i % 4 == 0,
                    "hs_analytics_source": "ORGANIC_SEARCH",
                },
                created_at=contact_created(i),
                updated_at=contact_modified(i),
                archived=i in ARCHIVED_CONTACTS,
                archived_at=contact_modified(i) + timedelta(days=1) if i in ARCHIVED_CONTACTS else None,
            )
        )
    deals = [
        HubSpotRecord(
            id=d,
            properties={
                "dealname": f"Deal {d}",
                "dealstage": "qualifiedtobuy",
                "pipeline": "default",
                "amount": 1000 * d,
                "closedate": T0 + timedelta(days=60),
            },
            created_at=T0,
            updated_at=T0,
        )
        for d in range(1, 4)
    ]
    calls = [
        HubSpotRecord(
            id=k,
            properties={
                "hs_timestamp": T0 + timedelta(days=k),
                "hs_call_direction": "OUTBOUND",
                "hs_call_status": "COMPLETED",
                "hs_call_duration": 60_000 * k,
            },
            created_at=T0 + timedelta(days=k),
            updated_at=T0 + timedelta(days=k),
        )
        for k in range(1, 5)
    ]
    associations = [Association("contacts", i, "companies", i % 5 + 1, 279) for i in range(1, n_contacts + 1)]
    associations += [Association("calls", k, "contacts", k, 194) for k in range(1, 5)]
    associations += [Association("calls", 1, "contacts", 2, 194)]
    history = [
        PropertyChange("contacts", 3, "lifecyclestage", "lead", contact_created(3), "IMPORT"),
        PropertyChange(
            "contacts",
            3,
            "lifecyclestage",
            STAGES[3],
            contact_created(3) + timedelta(hours=5),
            "CRM_UI",
            "userId:9001",
            9001,
        ),
    ]
    return DatasetChunk(
        hubspot=HubSpotData(
            objects={"contacts": contacts, "companies": companies, "deals": deals, "calls": calls},
            owners=owners,
            associations=associations,
            history=history,
        )
    )


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(data=[hubspot_chunk()]) as sb:
        yield sb


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One sandbox for tests that only read; limits are raised so their bursts of calls never meet a 429."""
    with Sandbox(data=[hubspot_chunk()]) as sb:
        sb.ctx.faults.update(search_per_second=1_000, ten_second_limit=100_000)
        yield sb


def client(sb: Sandbox, token: str | None = None, retry: Retry | None = None) -> hubspot.Client:
    kwargs: dict[str, Any] = {"access_token": token or sb.ctx.credentials.hs_access_token, "host": sb.hubspot_url}
    if retry is not None:
        kwargs["retry"] = retry
    return hubspot.Client.create(**kwargs)


def control(sb: Sandbox, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A HubSpot control action over the sandbox's control API (HTTP, as the demo and other tests use it)."""
    resp = requests.post(f"{sb.control_url}/_sandbox/hubspot/{action}", json=payload, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def set_faults(sb: Sandbox, **settings: Any) -> None:
    resp = requests.post(f"{sb.control_url}/_sandbox/faults", json=settings, timeout=10)
    assert resp.status_code == 200, resp.text
