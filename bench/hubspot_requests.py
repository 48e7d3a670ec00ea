"""Requests a full HubSpot sync spends, against the page-size minimum, measured on the sandbox.

Minimum per stream: list pages of 100 per object type (records/100, rounded up, at least 1), the archived
listing (1 page each), one properties call per type, owners/100 (+1 archived listing), contacts/50 history batch
reads, and for each association pair from-records/100 batch reads. Prints ``name: value unit`` lines and the
ratio measured/minimum (the acceptance bound is 1.02).

    python -m bench.hubspot_requests [--size 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from datetime import timedelta
from pathlib import Path

from connectors.hubspot.associations import AssociationSyncConfig, sync_associations
from connectors.hubspot.catalog import ASSOCIATION_PAIRS as PAIRS
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.history import sync_contact_history
from connectors.hubspot.owners import sync_owners
from connectors.hubspot.pacing import PacingPolicy, PortalPacer
from connectors.hubspot.sync import ObjectSyncConfig, sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.server.app import Sandbox


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hubspot-"))
    with Sandbox(seed=args.seed, size=args.size, workdir=work / "sandbox") as sandbox:
        # The sandbox enforces HubSpot's limits; lifting them here measures requests, not waiting.
        sandbox.ctx.faults.update(ten_second_limit=100_000, search_per_second=1_000)
        info = sandbox.info()["hubspot"]
        conn = HubSpotConnection(
            info["access_token"],
            base_url=info["base_url"],
            pacer=PortalPacer(
                work / "pacer.sqlite3", "bench", PacingPolicy(ten_second_limit=100_000, search_per_second=1_000)
            ),
        )
        wh = Warehouse.from_url(f"duckdb:///{work}/wh.duckdb")
        counts = sandbox.info()["records"]["hubspot"]
        archived = {
            t: int(sandbox.ctx.db.scalar(f"SELECT COUNT(*) FROM hs_{t} WHERE archived = 1 AND merged_into IS NULL"))
            for t in OBJECT_TYPES
        }
        total_measured = total_minimum = 0

        def report(name: str, measured: int, minimum: int, extra: str = "") -> None:
            nonlocal total_measured, total_minimum
            total_measured += measured
            total_minimum += minimum
            print(f"{name}_requests: {measured} requests")
            print(f"{name}_minimum: {minimum} requests{extra}")

        for object_type in OBJECT_TYPES:
            before = conn.stats.requests
            sync_object(conn, wh, object_type, ObjectSyncConfig(lag=timedelta(0)), sync_id="bench")
            minimum = 1 + _pages(counts[object_type], 100) + _pages(archived[object_type], 100)
            report(object_type, conn.stats.requests - before, minimum, f" ({counts[object_type]} records)")
        before = conn.stats.requests
        sync_owners(conn, wh, sync_id="bench")
        report("owners", conn.stats.requests - before, _pages(counts["owners"], 100) + 1)
        before = conn.stats.requests
        sync_contact_history(conn, wh, sync_id="bench")
        report("contact_history", conn.stats.requests - before, _pages(counts["contacts"], 50))
        before = conn.stats.requests
        sync_associations(conn, wh, AssociationSyncConfig(full_every=timedelta(0)), sync_id="bench")
        minimum = sum(math.ceil(counts[f] / 100) for f, _ in PAIRS)
        report("associations", conn.stats.requests - before, minimum)
        print(f"total_requests: {total_measured} requests")
        print(f"total_minimum: {total_minimum} requests")
        print(f"ratio: {total_measured / total_minimum:.4f} x")
        wh.close()
        conn.close()


if __name__ == "__main__":
    main()
