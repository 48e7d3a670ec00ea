"""Requests an unchanged re-sync costs per object, counted by the sandbox, after one full extraction.

Every stream is synced as its Dagster asset does it: a connection per step from the project's resources, one
run id for all the steps of a run (so they share one Salesforce access token). Prints ``name: value unit`` lines
and ends with ``resync: salesforce_requests_per_object=X hubspot_requests_per_object=Y`` (the goal is at most
2 on both; the Salesforce figure includes the run's one token request and one global describe, spread over its
objects).

    .venv/bin/python bench/resync_requests.py [--size 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.hubspot.associations import sync_associations  # noqa: E402
from connectors.hubspot.catalog import OBJECT_TYPES  # noqa: E402
from connectors.hubspot.connection import HubSpotConnection  # noqa: E402
from connectors.hubspot.history import sync_contact_history  # noqa: E402
from connectors.hubspot.owners import sync_owners  # noqa: E402
from connectors.hubspot.pipelines import sync_deal_pipelines  # noqa: E402
from connectors.hubspot.sync import sync_object as sync_hubspot_object  # noqa: E402
from connectors.salesforce.catalog import OBJECTS  # noqa: E402
from connectors.salesforce.sync import sync_object as sync_salesforce_object  # noqa: E402
from connectors.warehouse.warehouse import Warehouse  # noqa: E402
from pipelines.defs.resources import HubSpotResource, SalesforceResource  # noqa: E402
from sandbox.control import Control  # noqa: E402
from sandbox.server.app import Sandbox  # noqa: E402


def _served(control: Control, server: str, step: Callable[[], Any]) -> Counter[str]:
    """Requests the sandbox served during ``step``, by route."""
    control.reset_requests()
    step()
    return Counter(r["route"] for r in control.requests_served(server))


def extract(
    run_id: str, sf: SalesforceResource, hs: HubSpotResource, wh: Warehouse, control: Control
) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]], dict[str, Counter[str]]]:
    """One run of every extraction step: (Salesforce per object, HubSpot per object type, other HubSpot streams)."""
    salesforce: dict[str, Counter[str]] = {}
    for name in OBJECTS:
        conn = sf.connect(run_id)
        config = sf.sync_config(name, full_refresh=False)
        salesforce[name] = _served(
            control, "salesforce", lambda: sync_salesforce_object(conn, wh, name, config, sync_id=run_id)
        )
        conn.close()

    def hubspot_step(sync: Callable[[HubSpotConnection], Any]) -> Counter[str]:
        conn = hs.connect(run_id)
        try:
            return _served(control, "hubspot", lambda: sync(conn))
        finally:
            conn.close()

    hubspot = {
        t: hubspot_step(
            lambda c, t=t: sync_hubspot_object(c, wh, t, hs.sync_config(t, full_refresh=False), sync_id=run_id)
        )
        for t in OBJECT_TYPES
    }
    others = {
        "owners": hubspot_step(lambda c: sync_owners(c, wh, sync_id=run_id)),
        "deal_pipelines": hubspot_step(lambda c: sync_deal_pipelines(c, wh, sync_id=run_id)),
        "contact_history": hubspot_step(lambda c: sync_contact_history(c, wh, sync_id=run_id)),
        "associations": hubspot_step(lambda c: sync_associations(c, wh, hs.association_config(), sync_id=run_id)),
    }
    return salesforce, hubspot, others


def _total(counts: dict[str, Counter[str]]) -> int:
    return sum(sum(c.values()) for c in counts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-resync-"))
    os.environ["DAGSTER_HOME"] = str(work)  # where the resources keep the shared budget tally and pacer
    with Sandbox(seed=args.seed, size=args.size, workdir=work / "sandbox") as box:
        # The sandbox enforces HubSpot's limits; lifting them here measures requests, not waiting.
        box.ctx.faults.update(ten_second_limit=100_000, search_per_second=1_000)
        info, control = box.info(), Control(box.control_url)
        sf = SalesforceResource(
            token_url=info["salesforce"]["token_url"],
            client_id=info["salesforce"]["client_id"],
            client_secret=info["salesforce"]["client_secret"],
            ca_bundle=info["salesforce"]["ca_bundle"],
            bulk_poll_seconds=0.1,
        )
        hs = HubSpotResource(
            access_token=info["hubspot"]["access_token"],
            base_url=info["hubspot"]["base_url"],
            ten_second_limit=100_000,
            search_per_second=1_000,
        )
        wh = Warehouse.from_url(f"duckdb:///{work}/wh.duckdb")
        first_sf, first_hs, first_others = extract("full", sf, hs, wh, control)
        print(f"full_salesforce_requests: {_total(first_sf)} requests ({len(OBJECTS)} objects)")
        print(f"full_hubspot_requests: {_total(first_hs) + _total(first_others)} requests")
        control.advance_clock(60)  # a re-sync a minute later, nothing changed in either CRM
        sf_counts, hs_counts, others = extract("resync", sf, hs, wh, control)
        wh.close()

    for name, counts in sf_counts.items():
        routes = ", ".join(f"{route}={n}" for route, n in sorted(counts.items()))
        print(f"resync_salesforce_{name}: {sum(counts.values())} requests ({routes})")
    for name, counts in hs_counts.items():
        routes = ", ".join(f"{route}={n}" for route, n in sorted(counts.items()))
        print(f"resync_hubspot_{name}: {sum(counts.values())} requests ({routes})")
    for name, counts in others.items():
        print(f"resync_hubspot_{name}_stream: {sum(counts.values())} requests (not an object type; not in the figure)")
    tokens = sum(c["oauth_token"] for c in sf_counts.values())
    sf_total, hs_total = _total(sf_counts), _total(hs_counts)
    print(f"resync_salesforce_token_requests: {tokens} requests (one per run, shared by every step)")
    print(f"resync_salesforce_requests: {sf_total} requests ({len(OBJECTS)} objects)")
    print(f"resync_hubspot_requests: {hs_total} requests ({len(OBJECT_TYPES)} object types)")
    print(
        f"resync: salesforce_requests_per_object={sf_total / len(OBJECTS):.2f} "
        f"hubspot_requests_per_object={hs_total / len(OBJECT_TYPES):.2f}"
    )


if __name__ == "__main__":
    main()
