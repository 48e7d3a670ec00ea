"""On the sandbox's data, synced by the real extractors: every raw-level planted problem in the manifest is
raised by the suite meant to catch it (record by record), and a clean dataset (all rates zero) raises none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, materialize

from checks.engine import validate
from checks.suites.hubspot import hubspot_suites
from checks.suites.salesforce import salesforce_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS as SALESFORCE_OBJECTS
from connectors.warehouse.warehouse import Warehouse
from pipelines.defs.hubspot.assets import hubspot_raw_assets
from pipelines.defs.resources import HubSpotResource, SalesforceResource, WarehouseResource
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.funnel.definitions import load_definitions
from sandbox.data.funnel import Rates
from sandbox.data.generator import GeneratorConfig, generate
from sandbox.server.app import Sandbox
from tests.checks.helpers import AS_OF

PLANTED = Rates(
    never_contacted=0.0,
    late_first_touch=0.0,
    rejected_without_reason=0.0,
    too_few_attempts=0.0,
    missing_owner=0.15,
    stage_regression=0.1,
    duplicate=0.05,
    orphan_activity=0.05,
    malformed_email=0.05,
)


def _synced(
    tmp: Path, rates: Rates, size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, set[str]], dict[str, Any]]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster"))
    chunks, manifest = generate(GeneratorConfig(seed=3, size=size, anchor=AS_OF, rates=rates))
    url = f"duckdb:///{tmp}/wh.duckdb"
    with Sandbox(data=list(chunks), anchor=AS_OF, workdir=tmp / "sandbox") as box:
        hs, sf = box.info()["hubspot"], box.info()["salesforce"]
        result = materialize(
            [*salesforce_raw_assets, *hubspot_raw_assets],
            instance=DagsterInstance.ephemeral(),
            resources={
                "hubspot": HubSpotResource(
                    access_token=hs["access_token"],
                    base_url=hs["base_url"],
                    portal_id=str(hs["portal_id"]),
                    ten_second_limit=190,
                    lag_seconds=0,
                ),
                "salesforce": SalesforceResource(
                    token_url=sf["token_url"],
                    client_id=sf["client_id"],
                    client_secret=sf["client_secret"],
                    ca_bundle=sf["ca_bundle"],
                ),
                "warehouse": WarehouseResource(url=url),
            },
        )
        assert result.success
    defs, wh = load_definitions(), Warehouse.from_url(url)
    found: dict[str, set[str]] = {}
    try:
        # A small dataset's newest change can be days old; freshness has its own test.
        for suite in salesforce_suites(SALESFORCE_OBJECTS, defs, AS_OF, timedelta(days=7)) + hubspot_suites(
            OBJECT_TYPES, defs, AS_OF, timedelta(days=7)
        ):
            outcome = validate(wh.engine, wh.schema, suite, sample_size=10_000)
            assert outcome.status != "error", (suite.name, outcome.error)
            if outcome.status == "failed":
                found[suite.name] = {i for o in outcome.failed for i in o.sample_ids}
    finally:
        wh.close()
    return found, manifest.to_dict()


def test_clean_dataset_raises_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found, _ = _synced(tmp_path, Rates.none(), 130, monkeypatch)
    assert found == {}


def test_every_planted_raw_problem_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found, manifest = _synced(tmp_path, PLANTED, 300, monkeypatch)
    planted = manifest["planted"]

    def ids(kind: str, key: str, **where: str) -> set[str]:
        return {
            str(p[key])
            for p in planted[kind]
            if p.get(key) is not None and all(p.get(k) == v for k, v in where.items())
        }

    assert all(
        planted[k] for k in ("missing_owner", "stage_regression", "duplicate", "orphan_activity", "malformed_email")
    )
    assert ids("malformed_email", "hubspot_contact_id") <= found["raw_hubspot__contacts__values"]
    assert ids("malformed_email", "salesforce_lead_id") <= found["raw_salesforce__lead__values"]
    assert ids("duplicate", "duplicate_hubspot_contact_id") <= found["raw_hubspot__contacts__duplicates"]
    assert ids("duplicate", "duplicate_salesforce_lead_id") <= found["raw_salesforce__lead__duplicates"]
    assert ids("missing_owner", "hubspot_contact_id") <= found["raw_hubspot__contacts__owners"]
    assert ids("missing_owner", "salesforce_lead_id") <= found["raw_salesforce__lead__owners"]
    assert (
        ids("stage_regression", "hubspot_contact_id")
        == found["raw_hubspot__contact_property_history__stage_regressions"]
    )
    assert ids("orphan_activity", "activity_id", crm="salesforce") <= found.get(
        "raw_salesforce__task__orphans", set()
    ) | found.get("raw_salesforce__event__orphans", set())
    hubspot_orphans = set().union(*(v for k, v in found.items() if k.startswith("raw_hubspot__associations__orphan_")))
    assert ids("orphan_activity", "activity_id", crm="hubspot") <= hubspot_orphans
