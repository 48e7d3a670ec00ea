"""Write-back into the Salesforce sandbox through simple-salesforce: sObject Collections updates of Leads and
Contacts, idempotent re-apply, a person's edit left alone, a validation rule failing one record of a batch, and
fields the org lacks reported before anything is read or written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.salesforce.connection import SalesforceConnection
from connectors.salesforce.writeback import FieldsNotWritable
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions, parse_definitions
from pipelines.writeback.run import run_writeback
from pipelines.writeback.targets import SalesforceTarget
from sandbox.control import Control
from tests.writeback.conftest import lead, salesforce_ids, set_leads

DEFS = load_definitions().writeback
assert DEFS is not None
FIELDS = [f.field for f in DEFS.of("salesforce", "Lead")]


def values(conn: SalesforceConnection, object: str, record_id: str) -> dict[str, Any]:
    soql = f"SELECT {', '.join(FIELDS)} FROM {object} WHERE Id = '{record_id}'"
    reply = conn.call(lambda sf: sf.query(soql))
    return {k: reply["records"][0][k] for k in FIELDS}


def results(wh: Warehouse, run_id: str) -> list[tuple[Any, ...]]:
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT record_id, field, old_value, new_value, result FROM writeback_audit "
                "WHERE run_id = :r ORDER BY record_id, field"
            ),
            {"r": run_id},
        )
        return [tuple(r) for r in rows]


def person(n: int, lead_id: str | None = None, contact_id: str | None = None, **values: Any) -> dict[str, Any]:
    shared = {
        "salesforce_lead_id": lead_id,
        "salesforce_contact_id": contact_id,
        "lead_score": 71.256,
        "score_band": "hot",
        "score_mql_at": datetime(2026, 10, 3, 9, 15, 30),
        "original_source": "PAID_SEARCH",
        "campaign_key": "webinar-q4",
    }
    return {**lead(n, None), "hubspot_contact_id": None, **shared, **values}  # type: ignore[arg-type]


def test_apply_reapply_and_conflict(warehouse: Warehouse, salesforce: SalesforceConnection, control: Control) -> None:
    leads, contacts = salesforce_ids(salesforce, "Lead", 2), salesforce_ids(salesforce, "Contact", 1)
    set_leads(warehouse, [person(0, leads[0]), person(1, leads[1], icp_tier="A"), person(2, None, contacts[0])])
    target = SalesforceTarget(salesforce, DEFS)

    dry = run_writeback(warehouse, DEFS, [target], apply=False, run_id="dry")
    assert dry.counts() == {"planned": 18}  # 6 fields x (2 Leads + 1 Contact)
    assert (leads[0], "CRM_Loop_Score_MQL_At__c", None, "2026-10-03T09:15:30.000+0000", "planned") in results(
        warehouse, "dry"
    )
    assert values(salesforce, "Lead", leads[0])["CRM_Loop_Lead_Score__c"] is None

    applied = run_writeback(warehouse, DEFS, [target], apply=True, run_id="apply")
    assert applied.counts() == {"written": 18}
    written = values(salesforce, "Contact", contacts[0])
    assert written["CRM_Loop_Lead_Score__c"] == pytest.approx(71.26)
    assert written["CRM_Loop_Score_MQL_At__c"] == "2026-10-03T09:15:30.000+0000"
    assert values(salesforce, "Lead", leads[1])["CRM_Loop_ICP_Tier__c"] == "A"

    again = run_writeback(warehouse, DEFS, [target], apply=True, run_id="again")
    assert again.changes == []

    control.advance_clock(60)
    control.action("salesforce", "update", object="Lead", id=leads[1], fields={"CRM_Loop_ICP_Tier__c": "C"})
    control.advance_clock(60)
    set_leads(
        warehouse,
        [person(0, leads[0], lead_score=80.0), person(1, leads[1], icp_tier="B"), person(2, None, contacts[0])],
    )
    third = run_writeback(warehouse, DEFS, [target], apply=True, run_id="third")
    assert results(warehouse, "third") == [
        (leads[0], "CRM_Loop_Lead_Score__c", "71.26", "80", "written"),
        (leads[1], "CRM_Loop_ICP_Tier__c", "C", "B", "conflict"),
    ]
    assert third.counts() == {"written": 1, "conflict": 1}
    assert values(salesforce, "Lead", leads[1])["CRM_Loop_ICP_Tier__c"] == "C"


def test_validation_rule_fails_one_record_of_the_batch(
    warehouse: Warehouse, salesforce: SalesforceConnection, control: Control
) -> None:
    leads = salesforce_ids(salesforce, "Lead", 3)
    set_leads(warehouse, [person(i, lead_id, icp_tier="C" if i == 1 else "A") for i, lead_id in enumerate(leads)])
    control.action(
        "salesforce",
        "validation_rule",
        object="Lead",
        field="CRM_Loop_ICP_Tier__c",
        equals="C",
        message="Tier C leads go to the partner desk",
    )
    outcome = run_writeback(warehouse, DEFS, [SalesforceTarget(salesforce, DEFS)], apply=True, run_id="v")
    by_record = {k[2]: outcome.results[k] for k in outcome.results}
    assert by_record[leads[0]] == ("written", None) and by_record[leads[2]] == ("written", None)
    result, error = by_record[leads[1]]
    assert result == "failed"
    assert error == ("FIELD_CUSTOM_VALIDATION_EXCEPTION: Tier C leads go to the partner desk [CRM_Loop_ICP_Tier__c]")
    assert values(salesforce, "Lead", leads[1])["CRM_Loop_Lead_Score__c"] is None
    assert values(salesforce, "Lead", leads[2])["CRM_Loop_ICP_Tier__c"] == "A"


def test_a_duplicate_rule_fails_only_the_duplicate_record(
    warehouse: Warehouse, salesforce: SalesforceConnection, control: Control
) -> None:
    """A blocking duplicate rule refuses any save of a record that matches another, whatever the edit sets."""
    leads = salesforce_ids(salesforce, "Lead", 3)
    for lead_id in leads[:2]:
        control.action("salesforce", "update", object="Lead", id=lead_id, fields={"Email": "same@dup.example"})
    control.action("salesforce", "duplicate_rule", object="Lead", field="Email", name="Leads_By_Email")
    try:
        set_leads(warehouse, [person(i, lead_id, icp_tier="B") for i, lead_id in enumerate(leads)])
        outcome = run_writeback(warehouse, DEFS, [SalesforceTarget(salesforce, DEFS)], apply=True, run_id="d")
    finally:
        # The rule stays in this session's sandbox: leave no duplicate for it to block in other tests.
        for n, lead_id in enumerate(leads[:2]):
            control.action("salesforce", "update", object="Lead", id=lead_id, fields={"Email": f"dup{n}@dup.example"})
    by_record = {k[2]: outcome.results[k] for k in outcome.results}
    # Both records of the pair match each other; the third is written.
    assert by_record[leads[2]] == ("written", None)
    for duplicate in leads[:2]:
        result, error = by_record[duplicate]
        assert result == "failed" and error is not None
        assert error.startswith("DUPLICATES_DETECTED: Use one of these records?")
        assert values(salesforce, "Lead", duplicate)["CRM_Loop_ICP_Tier__c"] is None
    assert values(salesforce, "Lead", leads[2])["CRM_Loop_ICP_Tier__c"] == "B"


def test_fields_the_org_lacks_are_named(warehouse: Warehouse, salesforce: SalesforceConnection) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace("CRM_Loop_Score_Band__c", "CRM_Loop_Band__c")
    defs = parse_definitions(text).writeback
    assert defs is not None
    set_leads(warehouse, [person(0, salesforce_ids(salesforce, "Lead", 1)[0])])
    with pytest.raises(
        FieldsNotWritable, match="Salesforce Contact fields for write-back are missing: CRM_Loop_Band__c"
    ):
        run_writeback(warehouse, defs, [SalesforceTarget(salesforce, defs)], apply=False, run_id="m")
