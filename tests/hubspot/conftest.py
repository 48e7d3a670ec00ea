"""A seeded sandbox and HubSpot connections to it through the real hubspot-api-client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.api.retry import RetryPolicy
from connectors.hubspot.associations import AssociationSyncConfig, sync_associations
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.history import sync_contact_history
from connectors.hubspot.owners import sync_owners
from connectors.hubspot.pacing import PacingPolicy, PortalPacer
from connectors.hubspot.pipelines import sync_deal_pipelines
from connectors.hubspot.sync import ObjectSyncConfig, ObjectSyncResult, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox

ANCHOR = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
# Incremental tests move the sandbox clock past this, so the lookback re-reads nothing the test did not change.
LOOKBACK = timedelta(seconds=2)
CONFIG = ObjectSyncConfig(lookback=LOOKBACK, lag=timedelta(seconds=1))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=5, size=120, anchor=ANCHOR, workdir=tmp_path / "sandbox") as box:
        yield box


@pytest.fixture
def control(sandbox: Sandbox) -> Control:
    return Control(sandbox.control_url)


def connect(sandbox: Sandbox, tmp_path: Path, policy: PacingPolicy | None = None) -> HubSpotConnection:
    info = sandbox.info()["hubspot"]
    # Short 5xx backoffs keep the suite fast; max_delay stays above the sandbox's Retry-After so 429s wait
    # exactly what the headers ask.
    retry = RetryPolicy(max_attempts=12, base_delay_s=0.01, max_delay_s=5.0)
    pacer = PortalPacer(
        tmp_path / "pacer.sqlite3", str(info["portal_id"]), policy or PacingPolicy(ten_second_limit=190)
    )
    return HubSpotConnection(info["access_token"], base_url=info["base_url"], pacer=pacer, retry=retry)


def sync_everything(
    conn: HubSpotConnection,
    wh: Warehouse,
    sync_id: str,
    *,
    config: ObjectSyncConfig = CONFIG,
    object_types: tuple[str, ...] = OBJECT_TYPES,
    full_every: timedelta = timedelta(0),
) -> dict[str, ObjectSyncResult]:
    results = {t: sync_object(conn, wh, t, config, sync_id=sync_id) for t in object_types}
    sync_owners(conn, wh, sync_id=sync_id)
    sync_deal_pipelines(conn, wh, sync_id=sync_id)
    if "contacts" in object_types:
        sync_contact_history(conn, wh, sync_id=sync_id)
    sync_associations(conn, wh, AssociationSyncConfig(full_every=full_every), sync_id=sync_id)
    return results


def advance(control: Control, seconds: float) -> None:
    import requests

    requests.post(
        f"{control.base_url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10
    ).raise_for_status()
