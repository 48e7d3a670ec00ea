"""The closed-loop table against the sandbox's scenario manifest, record by record, on DuckDB and PostgreSQL.

Data reaches the warehouse through the real connectors (see conftest); the definitions are the repository's
with the generator's SLA (``aligned_definitions``: one business hour to first touch from the MQL, 24 business
hours to decide, minimum attempts for every reason). The shipped SLA's own hand-computed cases are in
test_sla_agreement.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CANONICAL_ACTIVITIES, CLOSED_LOOP_LEADS, IDENTITY_CONFLICTS
from connectors.warehouse.catalog.views import VIEWS
from pipelines.closed_loop.build import write_canonical, write_closed_loop
from pipelines.closed_loop.write import read_table
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from tests.closed_loop.conftest import ANCHOR, Extracted, aligned_definitions


def _ts(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return (
        pd.Timestamp(value).tz_localize("UTC").to_pydatetime()
        if pd.Timestamp(value).tzinfo is None
        else pd.Timestamp(value).to_pydatetime()
    )


def _iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _rows(wh: Any, spec: Any) -> pd.DataFrame:
    frame = read_table(wh, spec)
    return frame.astype(object).where(frame.notna(), None)


@pytest.fixture(scope="module")
def built(extracted: Extracted) -> dict[str, Any]:
    defs = load_definitions(aligned_definitions(extracted.workdir))
    write_canonical(extracted.wh, defs)
    result = write_closed_loop(extracted.wh, defs, ANCHOR)
    leads = _rows(extracted.wh, CLOSED_LOOP_LEADS)
    return {
        "defs": defs,
        "result": result,
        "leads": leads,
        "by_contact": {r["hubspot_contact_id"]: r for r in leads.to_dict("records") if r["hubspot_contact_id"]},
    }


def _planted(extracted: Extracted, kind: str) -> list[dict[str, Any]]:
    return extracted.manifest["planted"][kind]


def _contacts(rows: pd.DataFrame) -> set[str]:
    return set(rows["hubspot_contact_id"])


def test_one_row_per_person_with_hash_and_keys(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    assert leads["person_key"].is_unique
    assert set(leads["definitions_hash"]) == {built["defs"].content_hash}
    counts = extracted.manifest["counts"]
    # Every HubSpot contact is a person; planted duplicate contacts stay separate people (not merged).
    assert leads["hubspot_contact_id"].notna().sum() == counts["hubspot"]["contacts"]
    assert leads["salesforce_lead_id"].notna().sum() == counts["salesforce"]["Lead"]


def test_never_contacted_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    found = leads[(leads["first_touch_sla_status"] == "breached") & leads["first_touch_at"].isna()]
    planted = _planted(extracted, "never_contacted")
    assert planted, "the dataset should plant never-contacted leads"
    assert _contacts(found) == {str(p["hubspot_contact_id"]) for p in planted}
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert row["salesforce_lead_id"] == p["salesforce_lead_id"]
        assert _ts(row["mql_at"]) == _iso(p["mql_at"])
        assert row["contact_attempts"] == 0


def test_late_first_touch_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    found = leads[(leads["first_touch_sla_status"] == "breached") & leads["first_touch_at"].notna()]
    planted = _planted(extracted, "late_first_touch")
    assert planted
    assert _contacts(found) == {str(p["hubspot_contact_id"]) for p in planted}
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert _ts(row["first_touch_at"]) == _iso(p["first_touch_at"])
        assert _ts(row["mql_at"]) == _iso(p["mql_at"])
        assert row["business_minutes_to_first_touch"] == pytest.approx(p["business_minutes"], abs=0.06)
        assert _ts(row["first_touch_due_at"]) < _ts(row["first_touch_at"])


def test_every_other_audited_mql_met_or_pending(built: dict[str, Any]) -> None:
    leads = built["leads"]
    audited = leads[leads["first_touch_sla_status"] != "not_applicable"]
    calendar = BusinessCalendar.from_spec(built["defs"].sla.calendar)
    for row in audited[audited["first_touch_sla_status"] == "met"].to_dict("records"):
        minutes = calendar.business_minutes_between(_ts(row["mql_at"]), _ts(row["first_touch_at"]))
        assert minutes == pytest.approx(row["business_minutes_to_first_touch"], abs=0.01) and minutes <= 60
    pending = audited[audited["first_touch_sla_status"] == "pending"]
    assert (pending["first_touch_due_at"].map(_ts) > ANCHOR).all()


def test_rejected_without_reason_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    found = leads[leads["rejection_reason_sla_status"] == "breached"]
    planted = _planted(extracted, "rejected_without_reason")
    assert planted
    assert _contacts(found) == {str(p["hubspot_contact_id"]) for p in planted}
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert row["disqualification_reason"] is None and _ts(row["rejected_at"]) == _iso(p["closed_at"])
    rejected = leads[leads["rejected_at"].notna() & (leads["rejection_reason_sla_status"] == "met")]
    assert rejected["disqualification_reason"].notna().all()


def test_too_few_attempts_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    found = leads[leads["contact_attempts_sla_status"] == "breached"]
    planted = _planted(extracted, "too_few_attempts")
    assert planted
    assert _contacts(found) == {str(p["hubspot_contact_id"]) for p in planted}
    defs = built["defs"]
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert row["contact_attempts"] == p["attempts"] < p["min_attempts"] == row["contact_attempts_required"]
        assert row["disqualification_reason"] == next(k for k, r in defs.reasons.items() if p["reason"] in r.salesforce)


def test_missing_owner_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    found = leads[leads["mql_at"].notna() & (leads["owner_status"] != "assigned")]
    planted = _planted(extracted, "missing_owner")
    assert planted
    assert _contacts(found) == {str(p["hubspot_contact_id"]) for p in planted}
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert row["owner_status"] == {"unassigned": "unassigned", "inactive_owner": "inactive"}[p["variant"]]


def test_stage_regression_record_by_record(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    planted = _planted(extracted, "stage_regression")
    assert planted
    assert _contacts(leads[leads["has_stage_regression"] == True]) == {str(p["hubspot_contact_id"]) for p in planted}  # noqa: E712
    lifecycle = built["defs"].stages.hubspot_lifecycle
    for p in planted:
        row = built["by_contact"][str(p["hubspot_contact_id"])]
        assert row["regression_from_stage"] == lifecycle[p["from_stage"]]
        assert row["regression_to_stage"] == lifecycle[p["to_stage"]]
        assert _ts(row["regressed_at"]) == _iso(p["regressed_at"])


def test_duplicates_go_to_identity_conflicts_not_merged(extracted: Extracted, built: dict[str, Any]) -> None:
    conflicts = _rows(extracted.wh, IDENTITY_CONFLICTS)
    planted = _planted(extracted, "duplicate")
    assert planted
    assert set(conflicts["email_normalized"].dropna()) == {p["email"] for p in planted}
    assert set(conflicts["kind"]) == {"shared_email"}
    leads = built["leads"]
    for p in planted:
        conflict = conflicts[conflicts["email_normalized"] == p["email"]].iloc[0]
        keys = set(conflict["record_keys"].split(","))
        if p["variant"] == "hubspot_contact":
            pair = {
                f"hubspot:contact:{p['hubspot_contact_id']}",
                f"hubspot:contact:{p['duplicate_hubspot_contact_id']}",
            }
        else:
            pair = {
                f"salesforce:lead:{p['salesforce_lead_id']}",
                f"salesforce:lead:{p['duplicate_salesforce_lead_id']}",
            }
        assert pair <= keys
        people = conflict["person_keys"].split(",")
        assert len(people) == 2  # two people, never silently one
        assert set(leads[leads["person_key"].isin(people)]["has_identity_conflict"]) == {True}
        # The planted copy (created later, from an import) is the one person counts leave out.
        copy = (
            f"hubspot:contact:{p['duplicate_hubspot_contact_id']}"
            if p["variant"] == "hubspot_contact"
            else f"salesforce:lead:{p['duplicate_salesforce_lead_id']}"
        )
        counts = dict(zip(leads["person_key"], leads["counts_as_lead"]))
        assert copy in people and {k: counts[k] for k in people} == {k: k != copy for k in people}


def test_orphan_activities_belong_to_no_person(extracted: Extracted) -> None:
    activities = _rows(extracted.wh, CANONICAL_ACTIVITIES)
    orphans = activities[activities["is_orphan"] == True]  # noqa: E712
    planted = _planted(extracted, "orphan_activity")
    assert set(orphans["source_id"]) == {str(p["activity_id"]) for p in planted}
    assert not orphans["counts_as_touch"].isna().any()


def test_person_facts_match_the_story(extracted: Extracted, built: dict[str, Any]) -> None:
    by_contact = built["by_contact"]
    checked = 0
    for fact in extracted.manifest["people"]:
        row = by_contact[str(fact["hubspot_contact_id"])]
        assert row["salesforce_lead_id"] == fact["salesforce_lead_id"]
        assert row["salesforce_contact_id"] == fact["salesforce_contact_id"]
        assert row["salesforce_opportunity_id"] == fact["salesforce_opportunity_id"]
        assert row["hubspot_deal_id"] == (str(fact["hubspot_deal_id"]) if fact["hubspot_deal_id"] else None)
        assert _ts(row["created_at"]) == _iso(fact["created_at"])
        assert _ts(row["mql_at"]) == _iso(fact["mql_at"])
        assert _ts(row["first_touch_at"]) == _iso(fact["first_touch_at"])
        assert _ts(row["sql_at"]) == _iso(fact["converted_at"])
        if fact["outcome"] in ("won", "lost", "open_opportunity"):
            assert row["outcome"] == fact["outcome"] and row["amount"] == fact["amount"]
        if fact["outcome"] in ("rejected", "disqualified"):
            assert _ts(row["rejected_at"]) == _iso(fact["closed_at"])
        checked += 1
    assert checked == extracted.manifest["config"]["size"]


def test_views_answer_on_this_engine(extracted: Extracted, built: dict[str, Any]) -> None:
    leads = built["leads"]
    wh = extracted.wh
    prefix = f'"{wh.schema}".' if wh.schema else ""
    with wh.engine.connect() as conn:
        frames = {v.name: pd.read_sql(sa.text(f"SELECT * FROM {prefix}{v.name}"), conn) for v in VIEWS}
    for view in VIEWS:
        assert list(frames[view.name].columns) == view.column_names
    # Every view counts a person once: the planted duplicates are left out, and the headline says how many.
    totals = frames["funnel_totals"].iloc[0]
    counted = leads["counts_as_lead"] == True  # noqa: E712 (an object column of booleans)
    assert totals["duplicates_excluded"] == (~counted).sum() == len(_planted(extracted, "duplicate"))
    leads = leads[counted]
    assert totals["leads"] == len(leads) and totals["won"] == leads["won_at"].notna().sum()
    assert totals["first_touch_breached"] == (leads["first_touch_sla_status"] == "breached").sum()
    funnel = frames["funnel_conversion_by_month"]
    assert funnel["leads"].sum() == len(leads) and funnel["mqls"].sum() == leads["mql_at"].notna().sum()
    teams = frames["sla_compliance_by_team"]
    assert teams["first_touch_breached"].sum() == (leads["first_touch_sla_status"] == "breached").sum()
    reasons = frames["disqualification_reasons_by_campaign"]
    assert reasons["rejected_leads"].sum() == leads["rejected_at"].notna().sum()
    assert reasons.loc[reasons["disqualification_reason"] == "(none)", "rejected_leads"].sum() == len(
        _planted(extracted, "rejected_without_reason")
    )


def test_rebuild_from_same_raw_data_is_identical(extracted: Extracted, built: dict[str, Any]) -> None:
    wh, defs = extracted.wh, built["defs"]
    before = {spec.name: read_table(wh, spec) for spec in (CLOSED_LOOP_LEADS, CANONICAL_ACTIVITIES, IDENTITY_CONFLICTS)}
    write_canonical(wh, defs)
    write_closed_loop(wh, defs, ANCHOR)
    for name, frame in before.items():
        after = read_table(
            wh, next(s for s in (CLOSED_LOOP_LEADS, CANONICAL_ACTIVITIES, IDENTITY_CONFLICTS) if s.name == name)
        )
        pd.testing.assert_frame_equal(frame, after)


def test_shipped_definitions_find_exactly_the_planted_sla_problems(extracted: Extracted, built: dict[str, Any]) -> None:
    """The repository's own SLA (first touch within 1 business hour of the assignment, 24 calendar hours when it
    came outside hours; accept or reject within 24 calendar hours of the MQL; a reason and 3 attempts before
    every rejection) flags exactly the planted problems of each kind and no clean lead."""
    wh = extracted.wh
    shipped = load_definitions(DEFAULT_PATH)
    write_canonical(wh, shipped)
    write_closed_loop(wh, shipped, ANCHOR)
    leads = _rows(wh, CLOSED_LOOP_LEADS)

    def breached(rule: str) -> set[str]:
        return _contacts(leads[leads[f"{rule}_sla_status"] == "breached"])

    def planted(*kinds: str) -> set[str]:
        return {str(p["hubspot_contact_id"]) for kind in kinds for p in _planted(extracted, kind)}

    never, late_touch = planted("never_contacted"), planted("late_first_touch")
    assert never and late_touch and planted("late_accept_reject")
    assert breached("first_touch") == never | late_touch
    # Accept/reject: the planted late decisions, the ignored leads, and the late touches that left no time.
    knock_on = {
        str(p["hubspot_contact_id"]) for p in _planted(extracted, "late_first_touch") if p["accept_reject_breached"]
    }
    assert breached("accept_reject") == planted("late_accept_reject") | never | knock_on
    assert breached("rejection_reason") == planted("rejected_without_reason")
    assert breached("contact_attempts") == planted("too_few_attempts")
    # Every audited MQL with a Lead owned by a sales rep runs from that Lead's assignment; the rest from the MQL.
    audited = leads[leads["first_touch_sla_status"] != "not_applicable"]
    owned = audited["salesforce_lead_id"].notna() & (audited["owner_status"] != "unassigned")
    assert set(audited.loc[owned, "first_touch_clock_from"]) == {"assignment"}
    assert set(audited.loc[~owned, "first_touch_clock_from"]) <= {"mql"}
    write_canonical(wh, built["defs"])
    write_closed_loop(wh, built["defs"], ANCHOR)


def test_definition_edit_changes_exactly_the_affected_rows(extracted: Extracted, built: dict[str, Any]) -> None:
    """Eight business hours (the earlier repository default) instead of one for MQLs that arrive outside hours: only
    the first-touch deadline (and maybe status) of those leads changes, and only they get the new hash."""
    wh, old_defs = extracted.wh, built["defs"]
    old = read_table(wh, CLOSED_LOOP_LEADS).set_index("person_key")
    new_defs = load_definitions(aligned_definitions(Path(extracted.workdir), outside_hours=8))
    assert new_defs.content_hash != old_defs.content_hash
    write_canonical(wh, new_defs)
    write_closed_loop(wh, new_defs, ANCHOR)
    new = read_table(wh, CLOSED_LOOP_LEADS).set_index("person_key")
    calendar = BusinessCalendar.from_spec(old_defs.sla.calendar)
    audited = old[(old["first_touch_sla_status"] != "not_applicable")]
    expected = {k for k, at in audited["mql_at"].items() if not calendar.is_open(_ts(at))}
    assert expected
    values = [c for c in old.columns if c != "definitions_hash"]
    changed = {k for k in old.index if not old.loc[k, values].equals(new.loc[k, values])}
    assert changed == expected
    assert set(new.loc[sorted(changed), "definitions_hash"]) == {new_defs.content_hash}
    assert set(new.drop(index=sorted(changed))["definitions_hash"]) == {old_defs.content_hash}
    # Back to the aligned definitions for the other tests of this module.
    write_canonical(wh, old_defs)
    write_closed_loop(wh, old_defs, ANCHOR)
