"""Rate limits, faults and HubSpot's 10,000-result search cap, with the real client against the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.hubspot.pacing import PacingPolicy, PortalPacer
from connectors.hubspot.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.model.dataset import DatasetChunk, HubSpotData, HubSpotRecord
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import ANCHOR, CONFIG, advance, connect, sync_everything
from tests.hubspot.helpers import hubspot_requests, rows

DATA_COLUMNS_EXCLUDED = {"_sync_id", "_extracted_at"}


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Callable[[], Warehouse]]:
    """These tests are about the API side; the warehouse engines are covered in test_sync.py."""
    made: list[Warehouse] = []

    def make() -> Warehouse:
        made.append(Warehouse.from_url(f"duckdb:///{tmp_path}/wh_{len(made)}.duckdb"))
        return made[-1]

    yield make
    for wh in made:
        wh.close()


def _snapshot(wh: Warehouse, table: str) -> dict[str, dict[str, object]]:
    return {str(r["id"]): {k: v for k, v in r.items() if k not in DATA_COLUMNS_EXCLUDED} for r in rows(wh, table)}


def test_429_storm_and_5xx_give_the_clean_result_and_back_off_as_asked(
    sandbox: Sandbox, control: Control, tmp_path: Path, duck: Callable[[], Warehouse]
) -> None:
    types = ("contacts", "companies")
    clean = duck()
    sync_everything(connect(sandbox, tmp_path / "clean"), clean, "clean", object_types=types)
    control.faults(rate_429=0.2, rate_5xx=0.1, truncate_rate=0.05)
    control.reset_requests()
    faulty = duck()
    conn = connect(sandbox, tmp_path / "faulty")
    sync_everything(conn, faulty, "faulty", object_types=types)
    control.reset_faults()

    for table in [f"raw_hubspot__{t}" for t in types] + [
        "raw_hubspot__owners",
        "raw_hubspot__associations",
        "raw_hubspot__contact_property_history",
    ]:
        assert _snapshot(faulty, table) == _snapshot(clean, table), table
    served = hubspot_requests(control.requests_served("hubspot"))
    limited = [i for i, r in enumerate(served) if r["status"] == 429]
    failed = [r for r in served if r["status"] >= 500]
    assert limited and failed, "the fault dice should have produced both 429s and 5xx"
    for i in limited:
        if i + 1 < len(served):
            asked = float(served[i]["headers"]["Retry-After"])
            # The log stamps a request when it is answered; the retry came at least Retry-After later.
            assert served[i + 1]["at"] - served[i]["at"] >= asked * 0.9
    assert conn.stats.rate_limited == len(limited) and conn.stats.retries >= len(limited) + len(failed)


def test_pacer_shares_one_window_between_processes(tmp_path: Path) -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    policy = PacingPolicy(ten_second_limit=10, search_per_second=2, share=1.0)
    # Two pacers on one file stand for two Dagster step processes of the same portal.
    a = PortalPacer(tmp_path / "p.sqlite3", "portal", policy, clock=lambda: now[0], sleep=sleep)
    b = PortalPacer(tmp_path / "p.sqlite3", "portal", policy, clock=lambda: now[0], sleep=sleep)
    for i in range(10):
        assert (a if i % 2 else b).acquire(search=False) == 0
    waited = a.acquire(search=False)
    assert waited == pytest.approx(10.0)  # the 11th waits for the first grant to leave the rolling window
    assert b.acquire(search=True) == 0 and a.acquire(search=True) == 0
    assert b.acquire(search=True) == pytest.approx(1.1)  # search's own per-second allowance (padded)
    a.pause(3.0)
    assert b.acquire(search=False) == pytest.approx(3.0)  # a 429 seen by one process holds back all


def test_searches_are_paced_under_the_per_second_limit_not_refused(
    sandbox: Sandbox, control: Control, tmp_path: Path, duck: Callable[[], Warehouse]
) -> None:
    types = ("contacts", "companies", "calls", "emails", "tasks")
    control.faults(ten_second_limit=150, search_per_second=2)
    wh = duck()
    conn = connect(sandbox, tmp_path, PacingPolicy(ten_second_limit=190, search_per_second=2))
    for object_type in types:
        sync_object(conn, wh, object_type, CONFIG, sync_id="p1")
    advance(control, 60)
    control.reset_requests()
    for object_type in types:
        sync_object(conn, wh, object_type, CONFIG, sync_id="p2")
    served = hubspot_requests(control.requests_served("hubspot"))
    searches = [r["at"] for r in served if r["route"] == "search"]
    assert len(searches) == len(types) and not [r for r in served if r["status"] == 429]
    assert all(b - a >= 0.45 for a, b in zip(searches, searches[2:]))  # never 3 searches inside one second
    assert conn.pacer is not None and conn.pacer.ten_second_cap == 135  # learned X-HubSpot-RateLimit-Max=150, 90%


def _contacts(n: int) -> DatasetChunk:
    base = ANCHOR - timedelta(days=30)
    records = [
        HubSpotRecord(
            id=i,
            properties={"email": f"p{i}@big.example", "lifecyclestage": "lead"},
            created_at=base,
            updated_at=base + timedelta(seconds=i),
        )
        for i in range(1, n + 1)
    ]
    return DatasetChunk(hubspot=HubSpotData(objects={"contacts": records}))


@pytest.mark.slow
def test_more_than_10000_changes_sharing_one_millisecond_are_all_synced(
    tmp_path: Path, duck: Callable[[], Warehouse]
) -> None:
    total, touched = 10_080, 10_040
    with Sandbox(data=[_contacts(total)], anchor=ANCHOR, workdir=tmp_path / "sandbox") as sandbox:
        control = Control(sandbox.control_url)
        # Speed knobs only: the sandbox and the pacer agree on higher limits so the test is not rate-bound.
        control.faults(ten_second_limit=5_000, search_per_second=100)
        policy = PacingPolicy(ten_second_limit=5_000, search_per_second=100)
        wh = duck()
        conn = connect(sandbox, tmp_path, policy)
        first = sync_object(conn, wh, "contacts", CONFIG, sync_id="full")
        assert first.loaded == total
        advance(control, 3600)
        bulk = control.action(
            "hubspot", "bulk_touch", type="contacts", n=touched, properties={"hs_lead_status": "CONNECTED"}
        )
        assert bulk["count"] == touched
        # Rewind the cursor so the window also holds the untouched records' distinct timestamps: one window
        # of 10,080 changes, 10,040 of them on one millisecond.
        state = dict(wh.get_state("hubspot", "contacts") or {})
        state["cursor"] = {"ts": int((ANCHOR - timedelta(days=31)).timestamp() * 1000), "id": 0}
        with wh.batch() as b:
            b.save_state("hubspot", "contacts", state)
        advance(control, 5)
        control.reset_requests()

        result = sync_object(
            conn, wh, "contacts", ObjectSyncConfig(lookback=timedelta(0), lag=timedelta(seconds=1)), sync_id="inc"
        )

        assert result.mode == "search"
        assert result.extracted == total == result.source_count
        landed = rows(wh, "raw_hubspot__contacts", "_sync_id = 'inc'")
        assert len(landed) == total
        assert sum(1 for r in landed if r["hs_lead_status"] == "CONNECTED") == touched
        assert result.cursor_after == f"{bulk['timestamp_ms']}|{bulk['last_id']}"
        searches = [
            r
            for r in hubspot_requests(Control(sandbox.control_url).requests_served("hubspot"))
            if r["route"] == "search"
        ]
        assert all(r["status"] == 200 for r in searches)  # never a 400 for paging past 10,000
        # Keyset restarts cost the page that finds the tie, the slice's re-read of it and one last empty probe.
        assert len(searches) <= total // 200 + 4
