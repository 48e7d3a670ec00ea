"""Salesforce extraction throughput: REST vs Bulk 2.0 on the sandbox, into a DuckDB warehouse.

Usage: .venv/bin/python bench/salesforce_sync.py [--size 20000]
Prints `name: value unit` lines; the Bulk/REST ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.api.retry import RetryPolicy  # noqa: E402
from connectors.salesforce.auth import SalesforceCredentials  # noqa: E402
from connectors.salesforce.connection import SalesforceConnection  # noqa: E402
from connectors.salesforce.sync import ObjectSyncConfig, sync_object  # noqa: E402
from connectors.warehouse.warehouse import Warehouse  # noqa: E402
from sandbox.server.app import Sandbox  # noqa: E402


def connect(box: Sandbox) -> SalesforceConnection:
    info = box.info()["salesforce"]
    creds = SalesforceCredentials(
        mode="client_credentials",
        token_url=info["token_url"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
    )
    return SalesforceConnection(creds, ca_bundle=info["ca_bundle"], retry=RetryPolicy(base_delay_s=0.05))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000, help="people in the generated funnel")
    parser.add_argument("--object", default="Task")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with Sandbox(seed=3, size=args.size, workdir=Path(tmp) / "sb") as box:
            print(f"sandbox_seed_time: {time.perf_counter() - started:.2f} s")
            base = ObjectSyncConfig(bulk_poll_s=0.1)
            timings = {}
            for mode, config in (
                ("rest", replace(base, bulk_threshold=10**9)),
                ("bulk", replace(base, bulk_threshold=0)),
            ):
                wh = Warehouse.from_url(f"duckdb:///{tmp}/{mode}.duckdb")
                conn = connect(box)
                t0 = time.perf_counter()
                result = sync_object(conn, wh, args.object, config, sync_id=mode)
                elapsed = time.perf_counter() - t0
                timings[mode] = elapsed
                print(f"{mode}_rows: {result.extracted} rows")
                print(f"{mode}_requests: {result.requests} requests")
                print(f"{mode}_elapsed: {elapsed:.2f} s")
                print(f"{mode}_throughput: {result.extracted / elapsed:.0f} rows/s")
                wh.close()
            print(f"bulk_vs_rest_time_ratio: {timings['bulk'] / timings['rest']:.2f} x")
    print(f"peak_rss: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
