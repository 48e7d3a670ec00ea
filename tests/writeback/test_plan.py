"""Write-back's pure rules: the definitions section, the values per record and the diff with conflicts."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions, parse_definitions
from pipelines.funnel.yaml_source import DefinitionsError
from pipelines.writeback.diff import Change, Current, LastWrite, plan, unsent
from pipelines.writeback.values import desired_values, formatted, normalised

DEFAULT = DEFAULT_PATH.read_text(encoding="utf-8")
DEFS = load_definitions().writeback
assert DEFS is not None
KINDS = {(f.system, f.object, f.field): f.kind for f in DEFS.fields}
ROW = {
    "hubspot_contact_id": "101",
    "salesforce_lead_id": "00Q000000000001AAA",
    "salesforce_contact_id": None,
    "current_stage": "won",
    "outcome": "won",
    "amount": 12500.0,
    "sql_at": datetime(2026, 3, 4, 15, 0),
    "opportunity_created_at": datetime(2026, 3, 5, 9, 30),
    "won_at": datetime(2026, 4, 1, 12, 0),
    "disqualification_reason": None,
    "first_touch_sla_status": "met",
    "business_minutes_to_first_touch": 42.0,
    "icp_tier": "A",
    "lead_score": 71.256,
    "score_band": "hot",
    "score_mql_at": datetime(2026, 2, 1, 8, 0, 0, 250000),
    "original_source": "PAID_SEARCH",
    "campaign_key": "spring-webinar",
}


def test_default_section_lists_custom_fields_only() -> None:
    assert DEFS.hubspot_group == "crm_loop"
    assert all(f.field.endswith("__c") for f in DEFS.fields if f.system == "salesforce")
    assert {f.object for f in DEFS.fields} == {"contacts", "Lead", "Contact"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("CRM_Loop_ICP_Tier__c: icp_tier", "Email: icp_tier", "must be a custom field"),
        ("crm_loop_icp_tier: icp_tier", "crm_loop_icp_tier: icp_teir", "did you mean 'icp_tier'"),
        ("      crm_loop_stage: current_stage", "      Stage: current_stage", "lower_snake_case"),
    ],
)
def test_section_mistakes_are_reported(old: str, new: str, message: str) -> None:
    assert DEFAULT.count(old) == 1
    with pytest.raises(DefinitionsError, match=message):
        parse_definitions(DEFAULT.replace(old, new))


def test_without_section_nothing_is_listed() -> None:
    text = DEFAULT[: DEFAULT.index("\n# What crm-loop writes back")]
    assert parse_definitions(text).writeback is None


def test_values_per_record() -> None:
    values = desired_values(DEFS, [ROW])
    hs = values[("hubspot", "contacts", "101")]
    assert hs["crm_loop_stage"] == "won" and hs["crm_loop_amount_won"] == "12500"
    assert hs["crm_loop_sql_date"] == "2026-03-04" and hs["crm_loop_disqualification_reason"] is None
    assert hs["crm_loop_first_touch_business_minutes"] == "42"
    sf = values[("salesforce", "Lead", "00Q000000000001AAA")]
    assert sf["CRM_Loop_Lead_Score__c"] == "71.26"
    assert sf["CRM_Loop_Score_MQL_At__c"] == "2026-02-01T08:00:00.250+0000"
    assert set(sf) == {f.field for f in DEFS.of("salesforce", "Lead")}
    # Converted: the Contact is written, not the (read-only) converted Lead; a lost deal has no amount won.
    converted = desired_values(DEFS, [{**ROW, "salesforce_contact_id": "003X", "outcome": "lost"}])
    assert ("salesforce", "Lead", "00Q000000000001AAA") not in converted
    assert ("salesforce", "Contact", "003X") in converted
    assert converted[("hubspot", "contacts", "101")]["crm_loop_amount_won"] is None


def test_normal_forms_match_what_crms_echo() -> None:
    assert normalised("number", "71.260") == formatted("number", 71.26) == "71.26"
    assert normalised("datetime", "2026-02-01T08:00:00.250Z") == "2026-02-01T08:00:00.250+0000"
    assert normalised("date", "") is None


def test_diff_write_unchanged_conflict_missing() -> None:
    key = ("hubspot", "contacts", "101")
    desired = {
        key: {"crm_loop_stage": "won", "crm_loop_icp_tier": "A", "crm_loop_won_date": "2026-04-01"},
        ("hubspot", "contacts", "999"): {"crm_loop_stage": "mql"},
    }
    wrote_at = datetime(2026, 5, 1, 2, 0)
    last = {
        ("hubspot", "contacts", "101", "crm_loop_stage"): LastWrite("sql", wrote_at),
        ("hubspot", "contacts", "101", "crm_loop_icp_tier"): LastWrite("B", wrote_at),
    }
    current = {
        key: Current(
            {"crm_loop_stage": "sql", "crm_loop_icp_tier": "C", "crm_loop_won_date": "2026-04-01"}, datetime(2026, 5, 2)
        )
    }
    assert plan(desired, current, last, KINDS) == [
        Change("hubspot", "contacts", "101", "crm_loop_icp_tier", "C", "A", "conflict"),  # a person set C after B
        Change("hubspot", "contacts", "101", "crm_loop_stage", "sql", "won", "write"),  # still what crm-loop wrote
        Change("hubspot", "contacts", "999", "crm_loop_stage", None, "mql", "missing"),
    ]
    # Not modified since crm-loop's write: the difference is not a person's edit.
    untouched = {key: Current(current[key].values, datetime(2026, 4, 30))}
    assert [c.action for c in plan(desired, untouched, last, KINDS) if c.record_id == "101"] == ["write", "write"]


def test_only_values_changed_since_the_last_write_are_considered() -> None:
    at = datetime(2026, 5, 1)
    key = ("salesforce", "Lead", "00Q1")
    last = {(*key, "A__c"): LastWrite("1", at), (*key, "B__c"): LastWrite("x", at)}
    desired = {key: {"A__c": "1", "B__c": "y", "C__c": None}, ("salesforce", "Lead", "00Q2"): {"A__c": "1"}}
    assert unsent(desired, last) == {key: {"B__c": "y"}, ("salesforce", "Lead", "00Q2"): {"A__c": "1"}}
    # Emptying a field crm-loop filled is a change; emptying one it never filled is not.
    assert unsent({key: {"A__c": None}}, last) == {key: {"A__c": None}}
