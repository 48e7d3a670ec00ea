"""Write-back into the HubSpot sandbox through the real client: dry run, apply, idempotent re-apply, a person's
edit reported as a conflict, a record failing inside a batch, and the API budget stopping the writes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.api.budget import ApiBudget, BudgetPolicy, SharedTally
from connectors.hubspot.connection import HubSpotConnection
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.writeback.run import run_writeback
from pipelines.writeback.targets import HubSpotTarget
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import connect
from tests.writeback.conftest import contact_ids, lead, set_leads

DEFS = load_definitions().writeback
assert DEFS is not None
HS_FIELDS = [f.field for f in DEFS.of("hubspot", "contacts")]


def crm_values(conn: HubSpotConnection, ids: list[str]) -> dict[str, dict[str, str | None]]:
    body = {"inputs": [{"id": i} for i in ids], "properties": HS_FIELDS}
    reply = conn.call(lambda: conn.batch.read("contacts", body, _preload_content=False), what="read")
    return {r["id"]: {k: r["properties"].get(k) for k in HS_FIELDS} for r in reply["results"]}


def _audit_table(wh: Warehouse) -> str:
    return f'"{wh.schema}".writeback_audit' if wh.schema else "writeback_audit"


def audit(wh: Warehouse, run_id: str) -> list[tuple[str, str, str | None, str | None, str]]:
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT record_id, field, old_value, new_value, result FROM {_audit_table(wh)} WHERE run_id = :r "
                "ORDER BY record_id, field"
            ),
            {"r": run_id},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"], indirect=True)
def test_dry_run_apply_reapply_and_conflict(warehouse: Warehouse, hubspot: HubSpotConnection, control: Control) -> None:
    ids = contact_ids(hubspot, 3)
    set_leads(
        warehouse,
        [
            lead(0, ids[0], icp_tier="A"),
            lead(1, ids[1]),
            lead(2, ids[2], current_stage="won", outcome="won", amount=12500.0),
        ],
    )
    target = HubSpotTarget(hubspot, DEFS.hubspot_group)

    dry = run_writeback(warehouse, DEFS, [target], apply=False, run_id="dry")
    assert dry.counts() == {"planned": len(dry.changes)}
    assert ("hubspot", "contacts", ids[0], "crm_loop_icp_tier") in dry.results
    assert (ids[2], "crm_loop_amount_won", None, "12500", "planned") in audit(warehouse, "dry")
    # A dry run creates nothing: the properties do not exist yet.
    assert all(v is None for values in crm_values(hubspot, ids).values() for v in values.values())

    applied = run_writeback(warehouse, DEFS, [target], apply=True, run_id="apply")
    assert applied.counts() == {"written": len(dry.changes)}
    now = crm_values(hubspot, ids)
    assert now[ids[0]]["crm_loop_icp_tier"] == "A" and now[ids[2]]["crm_loop_amount_won"] == "12500"
    assert now[ids[1]]["crm_loop_sql_date"] == "2026-10-01" and now[ids[1]]["crm_loop_stage"] == "sql"

    control.reset_requests()
    again = run_writeback(warehouse, DEFS, [target], apply=True, run_id="again")
    assert again.changes == [] and audit(warehouse, "again") == []
    # Nothing changed since the last write: nothing is even read back.
    assert not [r for r in control.requests_served("hubspot") if r["path"].endswith(("/batch/update", "/batch/read"))]

    # A person changes a field crm-loop wrote; later crm-loop's value for it and another field change too.
    control.advance_clock(60)
    hubspot.call(
        lambda: hubspot.objects.update(
            "contacts", ids[0], {"properties": {"crm_loop_icp_tier": "C"}}, _preload_content=False
        ),
        what="manual edit",
    )
    control.advance_clock(60)
    set_leads(
        warehouse,
        [
            lead(0, ids[0], icp_tier="B", current_stage="opportunity"),
            lead(1, ids[1]),
            lead(2, ids[2], current_stage="won", outcome="won", amount=12500.0),
        ],
    )
    third = run_writeback(warehouse, DEFS, [target], apply=True, run_id="third")
    assert third.counts() == {"conflict": 1, "written": 1}
    assert audit(warehouse, "third") == [
        (ids[0], "crm_loop_icp_tier", "C", "B", "conflict"),
        (ids[0], "crm_loop_stage", "sql", "opportunity", "written"),
    ]
    after = crm_values(hubspot, [ids[0]])[ids[0]]
    assert after["crm_loop_icp_tier"] == "C" and after["crm_loop_stage"] == "opportunity"


class _ArchivesBeforeWriting(HubSpotTarget):
    """A person deletes a contact between crm-loop's read and its write (the race a batch must survive)."""

    def __init__(self, conn: HubSpotConnection, group: str, victim: str) -> None:
        super().__init__(conn, group)
        self.victim = victim

    def update(self, object: str, updates: Mapping[str, Mapping[str, str | None]]) -> Iterator[dict[str, str | None]]:
        self.conn.call(lambda: self.conn.objects.archive("contacts", self.victim, _preload_content=False), what="rm")
        return super().update(object, updates)


def test_partial_batch_failure_is_recorded_per_record(warehouse: Warehouse, hubspot: HubSpotConnection) -> None:
    ids = contact_ids(hubspot, 3)
    set_leads(warehouse, [lead(i, c) for i, c in enumerate(ids)])
    outcome = run_writeback(
        warehouse, DEFS, [_ArchivesBeforeWriting(hubspot, DEFS.hubspot_group, ids[1])], apply=True, run_id="r"
    )
    results = {(k[2], r) for k, (r, _) in outcome.results.items()}
    assert results == {(ids[0], "written"), (ids[1], "failed"), (ids[2], "written")}
    failed = [row for row in audit(warehouse, "r") if row[4] == "failed"]
    assert failed and all(row[0] == ids[1] for row in failed)
    assert crm_values(hubspot, [ids[2]])[ids[2]]["crm_loop_stage"] == "sql"


def test_api_budget_stops_writes_and_records_them_skipped(
    sandbox: Sandbox, warehouse: Warehouse, hubspot: HubSpotConnection, control: Control, tmp_path: Path
) -> None:
    ids = contact_ids(hubspot, 2)
    set_leads(warehouse, [lead(0, ids[0]), lead(1, ids[1])])
    HubSpotTarget(hubspot, DEFS.hubspot_group).prepare(list(DEFS.of("hubspot", "contacts")), create=True)
    control.faults(daily_limit=1_000)
    budgeted = connect(sandbox, tmp_path)
    # 0.2% of 1,000 daily requests: the property check and the read fit, the batch update does not.
    budgeted.budget = ApiBudget(SharedTally(tmp_path / "tally.sqlite3"), "portal", "run", BudgetPolicy(0.002, 1.0), 1)
    try:
        outcome = run_writeback(warehouse, DEFS, [HubSpotTarget(budgeted, DEFS.hubspot_group)], apply=True, run_id="b")
    finally:
        budgeted.close()
    assert outcome.budget_stopped and outcome.counts() == {"skipped": len(outcome.changes)} and outcome.changes
    assert {row[4] for row in audit(warehouse, "b")} == {"skipped"}
    assert all(v is None for values in crm_values(hubspot, ids).values() for v in values.values())


def test_value_outside_a_dropdown_fails_its_record_alone(warehouse: Warehouse, hubspot: HubSpotConnection) -> None:
    # RevOps made the ICP tier a dropdown of A and B before crm-loop's first run.
    group = {"name": DEFS.hubspot_group, "label": "crm-loop", "displayOrder": -1}
    hubspot.call(
        lambda: hubspot.client.crm.properties.groups_api.create("contacts", group, _preload_content=False), what="group"
    )
    dropdown = {
        "name": "crm_loop_icp_tier",
        "label": "ICP tier",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": DEFS.hubspot_group,
        "options": [{"label": t, "value": t} for t in ("A", "B")],
    }
    hubspot.call(lambda: hubspot.properties.create("contacts", dropdown, _preload_content=False), what="property")
    ids = contact_ids(hubspot, 3)
    set_leads(warehouse, [lead(0, ids[0], icp_tier="A"), lead(1, ids[1], icp_tier="C"), lead(2, ids[2])])
    outcome = run_writeback(warehouse, DEFS, [HubSpotTarget(hubspot, DEFS.hubspot_group)], apply=True, run_id="d")
    failed = {(k[2], r) for k, (r, _) in outcome.results.items() if r != "written"}
    assert failed == {(ids[1], "failed")}
    assert "INVALID_OPTION" in str(outcome.results[("hubspot", "contacts", ids[1], "crm_loop_icp_tier")][1])
    assert crm_values(hubspot, [ids[0]])[ids[0]]["crm_loop_icp_tier"] == "A"
    assert crm_values(hubspot, [ids[2]])[ids[2]]["crm_loop_stage"] == "sql"
