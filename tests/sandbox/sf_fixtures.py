"""Salesforce-side sandbox fixtures: a small hand-built org and real simple-salesforce clients against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from sandbox.control import Control
from sandbox.model.dataset import DatasetChunk, SalesforceData
from sandbox.model.ids import sf_id
from sandbox.server.app import Sandbox

ANCHOR = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LEADS = 450
OWNER_ID = sf_id("005", 101)
ACCOUNT_ID = sf_id("001", 1)


def org_chunk() -> DatasetChunk:
    users = [
        {
            "Id": OWNER_ID,
            "Username": "sdr@acme.test",
            "LastName": "Ng",
            "FirstName": "Ada",
            "Email": "ada.ng@acme.test",
            "IsActive": True,
            "CreatedDate": ANCHOR - timedelta(days=400),
        }
    ]
    accounts = [
        {
            "Id": ACCOUNT_ID,
            "Name": "Acme, Inc.",
            "OwnerId": OWNER_ID,
            "Industry": "Technology",
            "CreatedDate": ANCHOR - timedelta(days=90),
        }
    ]
    contacts = [
        {
            "LastName": "Doe",
            "FirstName": "Jo",
            "AccountId": ACCOUNT_ID,
            "Email": "jo@acme.test",
            "CreatedDate": ANCHOR - timedelta(days=5),
        },
        {"LastName": "Orphan", "Email": "orphan@nowhere.test", "CreatedDate": ANCHOR - timedelta(days=5)},
    ]
    leads = [
        {
            "LastName": f"Lead{i:03d}",
            "FirstName": "Pat",
            "Company": "Globex" if i % 3 else 'Quote "Co", Ltd',
            "Email": f"lead{i}@example.test",
            "Status": "Open - Not Contacted",
            "OwnerId": OWNER_ID,
            "Lead_Score__c": float(i),
            "NumberOfEmployees": i,
            "City": "Berlin" if i % 2 else None,
            "CreatedDate": ANCHOR - timedelta(days=20, minutes=i),
            "LastModifiedDate": ANCHOR - timedelta(days=10, minutes=i),
            "MQL_Date__c": ANCHOR - timedelta(days=3) if i % 5 == 0 else None,
        }
        for i in range(LEADS)
    ]
    return DatasetChunk(
        salesforce=SalesforceData(records={"User": users, "Account": accounts, "Contact": contacts, "Lead": leads})
    )


def ca_session(sandbox: Sandbox) -> requests.Session:
    """A requests session trusting the sandbox CA.

    ``trust_env`` is off because requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``Session.verify``
    (psf/requests#3829), and simple-salesforce never passes ``verify`` per request.
    """
    session = requests.Session()
    session.verify = str(sandbox.ca_path)
    session.trust_env = False
    return session


def fetch_token(sandbox: Sandbox, **form: str) -> requests.Response:
    info = sandbox.info()["salesforce"]
    data = {"grant_type": "client_credentials", "client_id": info["client_id"], "client_secret": info["client_secret"]}
    return ca_session(sandbox).post(info["token_url"], data={**data, **form}, timeout=10)


def connect(sandbox: Sandbox) -> Salesforce:
    token: dict[str, Any] = fetch_token(sandbox).json()
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=ca_session(sandbox))


@pytest.fixture(scope="module")
def sf_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir: Path = tmp_path_factory.mktemp("sf-sandbox")
    with Sandbox(data=[org_chunk()], anchor=ANCHOR, workdir=workdir) as box:
        yield box


@pytest.fixture
def sf_control(sf_sandbox: Sandbox) -> Iterator[Control]:
    control = Control(sf_sandbox.control_url)
    yield control
    control.reset_faults()


@pytest.fixture
def sf(sf_sandbox: Sandbox) -> Salesforce:
    return connect(sf_sandbox)
