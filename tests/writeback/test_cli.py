"""``crm-loop writeback``: the dry-run diff on stdout, --apply, and one-line errors for what a person must fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.hubspot.connection import HubSpotConnection
from connectors.salesforce.connection import SalesforceConnection
from connectors.warehouse.warehouse import Warehouse
from pipelines.cli import main
from pipelines.funnel.definitions import DEFAULT_PATH
from sandbox.server.app import Sandbox
from tests.conftest import dagster_home
from tests.writeback.conftest import contact_ids, lead, salesforce_ids, set_leads


@pytest.fixture
def env(sandbox: Sandbox, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = sandbox.info()
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", info["hubspot"]["access_token"])
    monkeypatch.setenv("HUBSPOT_BASE_URL", info["hubspot"]["base_url"])
    monkeypatch.setenv("SALESFORCE_AUTH_MODE", "client_credentials")
    monkeypatch.setenv("SALESFORCE_TOKEN_URL", info["salesforce"]["token_url"])
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", info["salesforce"]["client_id"])
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", info["salesforce"]["client_secret"])
    monkeypatch.setenv("SALESFORCE_CA_BUNDLE", info["salesforce"]["ca_bundle"])
    monkeypatch.setenv("CRM_LOOP_WAREHOUSE_URL", str(warehouse.engine.url))
    monkeypatch.setenv("CRM_LOOP_WAREHOUSE_SCHEMA", "")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path / "dagster")))
    monkeypatch.delenv("CRM_LOOP_DEFINITIONS", raising=False)


def test_dry_run_prints_the_diff_then_apply_writes(
    env: None, warehouse: Warehouse, hubspot: HubSpotConnection, salesforce: SalesforceConnection
) -> None:
    ids = contact_ids(hubspot, 2)
    lead_id = salesforce_ids(salesforce, "Lead", 1)[0]
    set_leads(warehouse, [lead(0, ids[0], icp_tier="A", salesforce_lead_id=lead_id), lead(1, ids[1])])
    warehouse.close()  # the command opens the DuckDB file itself

    dry = CliRunner().invoke(main, ["writeback"])
    assert dry.exit_code == 0, dry.output
    assert f"hubspot contacts {ids[0]} crm_loop_icp_tier: (empty) -> A [planned]" in dry.output
    assert f"salesforce Lead {lead_id} CRM_Loop_ICP_Tier__c: (empty) -> A [planned]" in dry.output
    assert "dry run (nothing written; --apply writes): 11 planned" in dry.output

    applied = CliRunner().invoke(main, ["writeback", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "applied: 11 written" in applied.output
    again = CliRunner().invoke(main, ["writeback", "--apply"])
    assert again.output.strip().endswith("applied: nothing to change")


def test_errors_are_one_line(env: None, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse.close()
    no_leads = CliRunner().invoke(main, ["writeback"])
    # closed_loop_leads exists but is empty: nothing to change, not an error.
    assert no_leads.exit_code == 0 and "nothing to change" in no_leads.output

    text = DEFAULT_PATH.read_text(encoding="utf-8")
    path = tmp_path / "no_writeback.yaml"
    path.write_text(text[: text.index("\n# What crm-loop writes back")], encoding="utf-8")
    monkeypatch.setenv("CRM_LOOP_DEFINITIONS", str(path))
    off = CliRunner().invoke(main, ["writeback"])
    assert off.exit_code == 1
    assert off.output.count("\n") == 1 and "lists no fields under writeback" in off.output

    monkeypatch.delenv("CRM_LOOP_DEFINITIONS")
    monkeypatch.delenv("SALESFORCE_CLIENT_SECRET")
    unset = CliRunner().invoke(main, ["writeback"])
    assert unset.exit_code == 1 and unset.output.count("\n") == 1
    assert "write-back needs SALESFORCE_CLIENT_SECRET" in unset.output

    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "x")
    monkeypatch.setenv("CRM_LOOP_WAREHOUSE_URL", f"duckdb:///{tmp_path}/empty.duckdb")
    missing = CliRunner().invoke(main, ["writeback"])
    assert missing.exit_code == 1 and missing.output.count("\n") == 1
    assert "closed_loop_leads is not in the warehouse: build it first" in missing.output
