"""Suites as asset checks in a real Dagster run: an ERROR failure stops downstream assets, a WARN does not;
each check writes its row to check_results and carries the failing expectation, counts and sample ids."""

from datetime import datetime, timedelta
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, DagsterInstance, asset, materialize

from checks.history import CheckHistory
from checks.model import Severity, Suite
from checks.suites.common import email_expectation, keys_suite, live_rows
from connectors.warehouse.warehouse import Warehouse
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.defs.resources import WarehouseResource
from pipelines.funnel.model import FunnelDefinitions
from tests.checks.helpers import AS_OF, land


@asset
def raw_leads(warehouse: WarehouseResource) -> None:
    # Written without the landing layer's primary key, as a hand-rolled loader might: one key twice.
    wh = warehouse.open()
    with wh.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE raw_leads (id TEXT, email TEXT)")
        conn.exec_driver_sql("INSERT INTO raw_leads VALUES ('L1', 'a@b.co'), ('L2', 'c@d.co'), ('L1', 'a@b.co')")
    wh.close()


@asset
def raw_contacts(warehouse: WarehouseResource) -> None:
    wh = warehouse.open()
    land(wh, "raw_contacts", [{"id": "C1", "email": "broken@"}, {"id": "C2", "email": "ok@x.io"}], audit=False)
    wh.close()


@asset(deps=[raw_leads])
def leads_report(context: AssetExecutionContext) -> None:
    context.log.info("built")


@asset(deps=[raw_contacts])
def contacts_report(context: AssetExecutionContext) -> None:
    context.log.info("built")


def _suites(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return [
        keys_suite("raw_leads"),
        keys_suite("raw_contacts"),
        Suite(
            "raw_contacts__values",
            "raw_contacts",
            Severity.WARN,
            live_rows("raw_contacts", "id", "email"),
            (email_expectation(),),
        ),
    ]


def test_error_blocks_downstream_and_warn_does_not(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    checks = suite_checks(_suites)
    result = materialize(
        [raw_leads, raw_contacts, leads_report, contacts_report, *checks],
        resources={"warehouse": WarehouseResource(url=url), "checks": ChecksResource(as_of=AS_OF.isoformat())},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey("contacts_report") in materialized, "a WARN failure does not block"
    assert AssetKey("leads_report") not in materialized, "an ERROR failure blocks downstream"
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n: e.passed for n, e in evaluations.items()} == {
        "raw_leads__keys": False,
        "raw_contacts__keys": True,
        "raw_contacts__values": False,
    }
    keys = evaluations["raw_leads__keys"].metadata
    assert keys["unexpected_count"].value == 2 and keys["sample_ids"].value == ["L1"]
    assert keys["failing_expectations"].value[0]["expectation"] == "expect_column_values_to_be_unique"
    assert evaluations["raw_contacts__values"].metadata["sample_ids"].value == ["C1"]

    wh = Warehouse.from_url(url)
    rows = {r["check_name"]: r for r in CheckHistory(wh.engine).for_run(result.run_id)}
    wh.close()
    assert {n: (r["status"], r["severity"], r["unexpected_count"]) for n, r in rows.items()} == {
        "raw_leads__keys": ("failed", "ERROR", 2),
        "raw_contacts__keys": ("passed", "ERROR", 0),
        "raw_contacts__values": ("failed", "WARN", 1),
    }
    assert rows["raw_leads__keys"]["definitions_hash"] and rows["raw_leads__keys"]["as_of"] == AS_OF.replace(
        tzinfo=None
    )
