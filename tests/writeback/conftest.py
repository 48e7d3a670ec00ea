"""A small sandbox (both CRMs), a DuckDB warehouse holding a hand-made closed_loop_leads whose ids are the sandbox's
contacts, and write-back targets talking to the sandbox through the real hubspot-api-client and simple-salesforce."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.hubspot.connection import HubSpotConnection
from connectors.salesforce.connection import SalesforceConnection
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import table_for
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.closed_loop.conftest import drop_schema, open_warehouse
from tests.hubspot.conftest import connect
from tests.salesforce.conftest import connect as salesforce_connect

ANCHOR = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=5, size=40, anchor=ANCHOR, workdir=tmp_path / "sandbox") as box:
        yield box


@pytest.fixture
def control(sandbox: Sandbox) -> Control:
    return Control(sandbox.control_url)


@pytest.fixture
def hubspot(sandbox: Sandbox, tmp_path: Path) -> Iterator[HubSpotConnection]:
    conn = connect(sandbox, tmp_path)
    yield conn
    conn.close()


@pytest.fixture
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """DuckDB, or PostgreSQL in a private schema when a test asks for it (``indirect`` parameter "postgres")."""
    engine = getattr(request, "param", "duckdb")
    wh, schema = open_warehouse(engine, tmp_path)
    table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=schema), keyed=False).create(wh.engine)
    yield wh
    wh.close()
    drop_schema(schema)


def contact_ids(conn: HubSpotConnection, n: int) -> list[str]:
    page = conn.call(lambda: conn.objects.get_page("contacts", limit=n, _preload_content=False), what="list")
    return [r["id"] for r in page["results"]]


def lead(person: int, contact_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_key": f"p{person}",
        "hubspot_contact_id": contact_id,
        "current_stage": "sql",
        "outcome": None,
        "sql_at": datetime(2026, 10, 1, 14, 30),
        "first_touch_sla_status": "met",
        "business_minutes_to_first_touch": 37.5,
        "icp_tier": "B",
    }
    return {**row, **values}


def set_leads(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    table = table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=wh.schema), keyed=False)
    with wh.engine.begin() as conn:
        conn.execute(table.delete())
        # One column list for all rows: an executemany takes its columns from the first row only.
        conn.execute(table.insert(), [{c.name: r.get(c.name) for c in table.columns} for r in rows])


@pytest.fixture
def salesforce(sandbox: Sandbox) -> Iterator[SalesforceConnection]:
    conn = salesforce_connect(sandbox)
    yield conn
    conn.close()


def salesforce_ids(conn: SalesforceConnection, object: str, n: int) -> list[str]:
    where = " WHERE IsConverted = false" if object == "Lead" else ""
    reply = conn.call(lambda sf: sf.query(f"SELECT Id FROM {object}{where} ORDER BY Id LIMIT {n}"), what="ids")
    return [r["Id"] for r in reply["records"]]
