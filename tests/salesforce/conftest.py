"""A seeded sandbox and connections to its Salesforce side through the real simple-salesforce client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest

from connectors.api.retry import RetryPolicy
from connectors.salesforce.auth import SalesforceCredentials
from connectors.salesforce.connection import SalesforceConnection
from sandbox.control import Control
from sandbox.server.app import Sandbox

ANCHOR = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """Large enough for several 200-row REST pages of Tasks, small enough to seed in well under a second."""
    with Sandbox(seed=11, size=450, anchor=ANCHOR, workdir=tmp_path / "sandbox") as box:
        yield box


@pytest.fixture
def control(sandbox: Sandbox) -> Control:
    return Control(sandbox.control_url)


def connect(sandbox: Sandbox, **kwargs: object) -> SalesforceConnection:
    info = sandbox.info()["salesforce"]
    creds = SalesforceCredentials(
        mode="client_credentials",
        token_url=info["token_url"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
    )
    retry = RetryPolicy(max_attempts=8, base_delay_s=0.01, max_delay_s=0.05)
    return SalesforceConnection(creds, ca_bundle=info["ca_bundle"], retry=retry, **kwargs)  # type: ignore[arg-type]
