"""The canonical and closed-loop suites and the SLA audit on the sandbox's data, extracted by the real
connectors and built by the real closed-loop assets in a Dagster run with every check attached: each planted
problem raises the check meant to catch it, with the manifest's records and counts, nothing else fails, and a
clean dataset (all rates zero) raises nothing. DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dagster import AssetCheckEvaluation, DagsterInstance, ExecuteInProcessResult, materialize

from checks.engine import validate
from checks.history import CheckHistory
from checks.sla.evaluate import SlaAudit, audit
from checks.suites.canonical import canonical_suites
from checks.suites.closed_loop import closed_loop_suites
from connectors.warehouse.catalog.harmonised import CANONICAL_PEOPLE
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.write import read_table
from pipelines.defs.closed_loop.assets import closed_loop
from pipelines.defs.closed_loop.canonical import canonical_tables
from pipelines.defs.closed_loop.checks import canonical_checks, closed_loop_checks
from pipelines.defs.closed_loop.sla_check import sla_checks
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from sandbox.data.funnel import Rates
from tests.closed_loop.conftest import ANCHOR, Extracted, clean, extracted_sandbox  # noqa: F401

# Seed 5 at this size plants every kind, both missing-owner variants and duplicates on both sides of the CRMs.
RATES = Rates(
    never_contacted=0.08,
    late_first_touch=0.12,
    late_accept_reject=0.08,
    rejected_without_reason=0.12,
    too_few_attempts=0.25,
    missing_owner=0.08,
    stage_regression=0.06,
    duplicate=0.06,
    orphan_activity=0.03,
    malformed_email=0.03,
)
CHECKS = [*canonical_checks, *closed_loop_checks, *sla_checks]


def check_definitions(workdir: Path) -> Path:
    """The shipped definitions (the generator plants against their SLA and calendar) without the monthly MQL
    commitment: a sandbox of a few hundred people cannot deliver 150 MQLs a month, and no shortfall is planted."""
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert "monthly_count: 150" in text
    path = workdir / "definitions_checks.yaml"
    path.write_text(text.replace("monthly_count: 150", "monthly_count: 0"), encoding="utf-8")
    return path


def run_with_checks(url: str, schema: str | None, definitions: Path) -> ExecuteInProcessResult:
    return materialize(
        [canonical_tables, closed_loop, *CHECKS],
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        resources={
            "warehouse": WarehouseResource(url=url, db_schema=schema or ""),
            "funnel_definitions": FunnelDefinitionsResource(path=str(definitions)),
            "checks": ChecksResource(definitions_path=str(definitions), as_of=ANCHOR.isoformat()),
        },
        run_config={"ops": {"closed_loop": {"config": {"as_of": ANCHOR.isoformat()}}}},
    )


@dataclass
class Checked:
    data: Extracted
    result: ExecuteInProcessResult
    evaluations: dict[str, AssetCheckEvaluation]
    found: dict[str, set[str]]  # failing suite -> every offending id (not just the reported sample)
    sla: SlaAudit
    people: pd.DataFrame
    history: dict[str, dict[str, Any]]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def checked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    workdir = tmp_path_factory.mktemp(f"planted_{request.param}")
    with extracted_sandbox(request.param, workdir, RATES, seed=5, size=200) as data:
        wh = data.wh
        definitions = check_definitions(workdir)
        result = run_with_checks(wh.engine.url.render_as_string(hide_password=False), wh.schema, definitions)
        defs = load_definitions(definitions)
        found = {}
        for suite in canonical_suites(defs) + closed_loop_suites(defs):
            outcome = validate(wh.engine, wh.schema, suite, sample_size=10_000)
            assert outcome.status != "error", (suite.name, outcome.error)
            if outcome.status == "failed":
                found[suite.name] = {i for o in outcome.failed for i in o.sample_ids}
        history = {r["check_name"]: r for r in CheckHistory(wh.engine, wh.schema).for_run(result.run_id)}
        yield Checked(
            data,
            result,
            {e.check_name: e for e in result.get_asset_check_evaluations()},
            found,
            audit(wh.engine, wh.schema, defs, ANCHOR, sample_size=10_000),
            read_table(wh, CANONICAL_PEOPLE),
            history,
        )


def _planted(checked: Checked, kind: str) -> list[dict[str, Any]]:
    planted = checked.data.manifest["planted"][kind]
    assert planted, f"the dataset should plant {kind}"
    return planted


def _persons(planted: list[dict[str, Any]]) -> set[str]:
    return {f"hubspot:contact:{p['hubspot_contact_id']}" for p in planted}


def _emails(checked: Checked, sample_ids: set[str]) -> set[str]:
    """Sample ids of canonical_people suites are ``system|object|id``; the e-mails those records hold."""
    people = checked.people.assign(
        ref=checked.people["source_system"] + "|" + checked.people["source_object"] + "|" + checked.people["source_id"]
    )
    return set(people.loc[people["ref"].isin(sample_ids), "email"].str.strip().str.lower())


def test_only_the_checks_meant_to_catch_a_planted_problem_fail(checked: Checked) -> None:
    assert checked.result.success, "only WARN checks fail: nothing blocks the closed-loop build"
    failing = {name for name, e in checked.evaluations.items() if not e.passed}
    assert failing == {
        "canonical_people__values",
        "canonical_people__unmatched_across_crms",
        "identity_conflicts__open",
        "canonical_activities__orphans",
        "closed_loop_leads__owners",
        "closed_loop_leads__stage_regressions",
        "sla_compliance",
    }
    assert set(checked.found) == failing - {"sla_compliance"}
    assert set(checked.evaluations) == {k.name for c in CHECKS for k in c.check_keys}
    sla_rules = {
        "sla__first_touch",
        "sla__accept_reject",
        "sla__rejection_reason",
        "sla__contact_attempts",
        "sla__ignored_leads",
    }
    not_passed = {name for name, row in checked.history.items() if row["status"] != "passed"}
    assert not_passed == (failing - {"sla_compliance"}) | sla_rules


def test_malformed_emails(checked: Checked) -> None:
    planted = _planted(checked, "malformed_email")
    found = checked.found["canonical_people__values"]
    assert {f"hubspot|contact|{p['hubspot_contact_id']}" for p in planted} <= found
    assert {f"salesforce|lead|{p['salesforce_lead_id']}" for p in planted if p["salesforce_lead_id"]} <= found
    assert _emails(checked, found) == {p["email"].strip().lower() for p in planted}


def test_duplicates_leave_conflicts_and_people_split_across_crms(checked: Checked) -> None:
    planted = _planted(checked, "duplicate")
    conflicts = checked.found["identity_conflicts__open"]
    reported = checked.evaluations["identity_conflicts__open"].metadata["unexpected_count"].value
    assert len(conflicts) == len(planted) == reported
    for p in planted:
        duplicate = (
            f"hubspot:contact:{p['duplicate_hubspot_contact_id']}"
            if p["variant"] == "hubspot_contact"
            else f"salesforce:lead:{p['duplicate_salesforce_lead_id']}"
        )
        assert sum(duplicate in c for c in conflicts) == 1, duplicate
    # A duplicate of someone known in both CRMs leaves one e-mail on two people, one of them in Salesforce.
    across = {p["email"] for p in planted if p["salesforce_lead_id"]}
    assert across and len(across) < len(planted), "the dataset should plant duplicates within and across CRMs"
    assert _emails(checked, checked.found["canonical_people__unmatched_across_crms"]) == across


def test_orphan_activities(checked: Checked) -> None:
    planted = _planted(checked, "orphan_activity")
    found = checked.found["canonical_activities__orphans"]
    assert {i.rsplit("|", 1)[1] for i in found} == {str(p["activity_id"]) for p in planted}
    assert checked.evaluations["canonical_activities__orphans"].metadata["unexpected_count"].value == len(planted)


def test_missing_owners_and_stage_regressions(checked: Checked) -> None:
    for kind, check in (
        ("missing_owner", "closed_loop_leads__owners"),
        ("stage_regression", "closed_loop_leads__stage_regressions"),
    ):
        planted = _planted(checked, kind)
        assert checked.found[check] == _persons(planted), kind
        assert checked.evaluations[check].metadata["unexpected_count"].value == len(planted), kind
    assert {p["variant"] for p in _planted(checked, "missing_owner")} == {"unassigned", "inactive_owner"}


def test_sla_findings_match_the_manifest(checked: Checked) -> None:
    """Per problem kind, under the shipped definitions: every planted SLA problem is found, nothing clean."""
    never, late = _persons(_planted(checked, "never_contacted")), _persons(_planted(checked, "late_first_touch"))
    no_reason = _persons(_planted(checked, "rejected_without_reason"))
    few = _persons(_planted(checked, "too_few_attempts"))
    # Late decisions: planted ones, the ignored leads (nobody worked them), and late touches that left no time.
    undecided = _persons(_planted(checked, "late_accept_reject")) | never
    undecided |= _persons([p for p in _planted(checked, "late_first_touch") if p["accept_reject_breached"]])
    rules = {r.rule: r for r in checked.sla.rules}
    assert set(checked.sla.ignored["person_key"]) == never
    assert set(rules["first_touch"].breaching_leads) == never | late
    assert set(rules["accept_reject"].breaching_leads) == undecided
    assert set(rules["rejection_reason"].breaching_leads) == no_reason
    assert set(rules["contact_attempts"].breaching_leads) == few

    metadata = checked.evaluations["sla_compliance"].metadata
    breached = metadata["breached_by_rule"].value
    assert (
        breached["first_touch"],
        breached["accept_reject"],
        breached["rejection_reason"],
        breached["contact_attempts"],
    ) == (len(never | late), len(undecided), len(no_reason), len(few))
    assert metadata["ignored_leads"].value == len(never) and metadata["oldest_ignored_days"].value > 3
    history = checked.history
    assert history["sla__ignored_leads"]["unexpected_count"] == len(never)
    assert set(history["sla__rejection_reason"]["sample_ids"]) <= no_reason


def test_clean_dataset_raises_no_check(clean: tuple[str, Path, dict[str, Any]]) -> None:  # noqa: F811
    url, workdir, manifest = clean
    assert set(manifest["planted_counts"].values()) == {0}
    result = run_with_checks(url, None, check_definitions(workdir))
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {k.name for c in CHECKS for k in c.check_keys}
    assert [e.check_name for e in evaluations if not e.passed] == []
    wh = Warehouse.from_url(url)
    try:
        rows = CheckHistory(wh.engine).for_run(result.run_id)
    finally:
        wh.close()
    assert len(rows) > len(CHECKS) and {r["status"] for r in rows} == {"passed"}
