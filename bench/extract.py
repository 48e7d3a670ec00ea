"""crm-loop's extraction against a bare paging loop, on one sandbox: wall time and requests, interleaved.

Usage: .venv/bin/python bench/extract.py [--people 2000] [--crm salesforce|hubspot|both] [--reps 3]

Each repetition runs crm-loop's full sync of every catalogued object (``sync_object`` into a fresh DuckDB
warehouse, production defaults) and then ``bench/bare_loop.py`` (plain ``requests``, largest pages, JSON lines),
so drift in the shared machine's speed hits both runners alike. The sandbox counts the requests. Finally
crm-loop syncs the last warehouse again, unchanged, to show what a nightly run with nothing new costs.
Prints ``name: value unit`` lines and ends with one ``extract:`` summary line.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bare_loop  # noqa: E402
from connectors.hubspot import sync as hubspot_sync  # noqa: E402
from connectors.hubspot.catalog import OBJECT_TYPES  # noqa: E402
from connectors.hubspot.connection import HubSpotConnection  # noqa: E402
from connectors.hubspot.pacing import PacingPolicy, PortalPacer  # noqa: E402
from connectors.salesforce import sync as salesforce_sync  # noqa: E402
from connectors.salesforce.auth import SalesforceCredentials  # noqa: E402
from connectors.salesforce.catalog import OBJECTS  # noqa: E402
from connectors.salesforce.connection import SalesforceConnection  # noqa: E402
from connectors.warehouse.warehouse import Warehouse  # noqa: E402
from sandbox.control import Control  # noqa: E402
from sandbox.server.app import Sandbox  # noqa: E402

CATALOG: dict[str, tuple[str, ...]] = {"salesforce": OBJECTS, "hubspot": OBJECT_TYPES}


@dataclass
class Run:
    """One runner's pass over the chosen CRMs: wall seconds, requests served and records, per CRM."""

    seconds: dict[str, float]
    requests: dict[str, int]
    records: dict[str, int]


def measure(control: Control, crms: list[str], extract: Callable[[str], int]) -> Run:
    run = Run({}, {}, {})
    for crm in crms:
        control.reset_requests()
        started = time.perf_counter()
        run.records[crm] = extract(crm)
        run.seconds[crm] = time.perf_counter() - started
        run.requests[crm] = len(control.requests_served(crm))
    return run


def sync_objects(sandbox: dict[str, Any], crm: str, wh: Warehouse, pacer_path: Path, sync_id: str) -> dict[str, int]:
    """crm-loop's own connectors as production builds them (default configs, retries and pacing; no daily-budget
    tally, which only reads response headers): records extracted per object of ``crm``."""
    info = sandbox[crm]
    if crm == "salesforce":
        creds = SalesforceCredentials(
            mode="client_credentials",
            token_url=info["token_url"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
        )
        sf = SalesforceConnection(creds, ca_bundle=info["ca_bundle"])
        try:
            config = salesforce_sync.ObjectSyncConfig()
            return {o: salesforce_sync.sync_object(sf, wh, o, config, sync_id=sync_id).extracted for o in OBJECTS}
        finally:
            sf.close()
    pacer = PortalPacer(pacer_path, str(info["portal_id"]), PacingPolicy())
    hs = HubSpotConnection(info["access_token"], base_url=info["base_url"], pacer=pacer)
    try:
        hs_config = hubspot_sync.ObjectSyncConfig()
        return {t: hubspot_sync.sync_object(hs, wh, t, hs_config, sync_id=sync_id).extracted for t in OBJECT_TYPES}
    finally:
        hs.close()


def crm_loop(sandbox: dict[str, Any], wh: Warehouse, pacer_path: Path, sync_id: str) -> Callable[[str], int]:
    def extract(crm: str) -> int:
        return sum(sync_objects(sandbox, crm, wh, pacer_path, sync_id).values())

    return extract


def bare(sandbox: dict[str, Any], out_path: Path) -> Callable[[str], int]:
    def extract(crm: str) -> int:
        with out_path.open("a") as out:
            if crm == "salesforce":
                return bare_loop.salesforce(sandbox[crm], OBJECTS, out)
            return bare_loop.hubspot(sandbox[crm], OBJECT_TYPES, out)

    return extract


def _total(per_crm: dict[str, Any]) -> Any:
    return sum(per_crm.values())


def summarise(name: str, runs: list[Run], crms: list[str]) -> dict[str, tuple[float, float]]:
    """Print min and median wall seconds and requests per CRM and in total; return the medians by scope."""
    medians = {}
    for scope in [*crms, "total"]:
        seconds = [_total(r.seconds) if scope == "total" else r.seconds[scope] for r in runs]
        requests = [_total(r.requests) if scope == "total" else r.requests[scope] for r in runs]
        medians[scope] = statistics.median(seconds), statistics.median(requests)
        print(f"{name}_{scope}_wall_min: {min(seconds):.3f} s")
        print(f"{name}_{scope}_wall_median: {medians[scope][0]:.3f} s")
        print(f"{name}_{scope}_requests_min: {min(requests)} requests")
        print(f"{name}_{scope}_requests_median: {medians[scope][1]:.0f} requests")
    print(f"{name}_records: {_total(runs[-1].records)} records")
    return medians


class Overtime(BaseException):
    """Raised by the alarm; a BaseException so no retry loop or ``except Exception`` swallows it."""


def _give_up(max_seconds: int) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        raise Overtime(f"ran past --max-seconds={max_seconds}: lower --people or raise --max-seconds")

    return handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000, help="people in the generated funnel")
    parser.add_argument("--crm", choices=("salesforce", "hubspot", "both"), default="both")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each runner, interleaved")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-seconds", type=int, default=1500, help="abort (cleaning up) after this long")
    args = parser.parse_args()
    if args.reps < 1 or args.people < 1:
        parser.error("--reps and --people must be at least 1")
    crms = ["salesforce", "hubspot"] if args.crm == "both" else [args.crm]
    signal.signal(signal.SIGALRM, _give_up(args.max_seconds))
    signal.alarm(args.max_seconds)

    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        with Sandbox(seed=args.seed, size=args.people, workdir=work / "sandbox") as box:
            print(f"sandbox_seed_time: {time.perf_counter() - started:.2f} s")
            control = Control(box.control_url)
            # Read once, outside the timed runs: info() counts every sandbox table.
            info = box.info()
            loop_runs: list[Run] = []
            bare_runs: list[Run] = []
            for rep in range(args.reps):
                wh = Warehouse.from_url(f"duckdb:///{work}/crm_loop_{rep}.duckdb")
                loop_runs.append(measure(control, crms, crm_loop(info, wh, work / f"pacer_{rep}.sqlite3", "full")))
                bare_runs.append(measure(control, crms, bare(info, work / f"bare_{rep}.jsonl")))
                if rep == args.reps - 1:
                    # The same warehouse again, nothing changed upstream: every object syncs from its cursor.
                    resync = measure(control, crms, crm_loop(info, wh, work / "pacer_resync.sqlite3", "resync"))
                wh.close()
    signal.alarm(0)

    loop = summarise("crm_loop", loop_runs, crms)
    bare_ = summarise("bare", bare_runs, crms)
    for scope in [*crms, "total"]:
        print(f"ratio_{scope}_wall_median: {loop[scope][0] / bare_[scope][0]:.3f} x")
        print(f"ratio_{scope}_requests_median: {loop[scope][1] / bare_[scope][1]:.3f} x")
    for crm in crms:
        print(f"resync_{crm}_requests: {resync.requests[crm]} requests ({len(CATALOG[crm])} objects)")
        print(f"resync_{crm}_wall: {resync.seconds[crm]:.3f} s")
    per_object = _total(resync.requests) / sum(len(CATALOG[crm]) for crm in crms)
    print(f"resync_requests_per_object: {per_object:.2f} requests")
    (loop_s, loop_requests), (bare_s, bare_requests) = loop["total"], bare_["total"]
    print(
        f"extract: people={args.people} crm_loop_s={loop_s:.2f} bare_s={bare_s:.2f} ratio={loop_s / bare_s:.2f} "
        f"requests_ratio={loop_requests / bare_requests:.2f} resync_requests_per_object={per_object:.2f}"
    )


if __name__ == "__main__":
    try:
        main()
    except Overtime as exc:
        sys.exit(f"extract: {exc}")
