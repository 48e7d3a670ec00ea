"""The shared definitions file: the default loads, every kind of mistake points at its line and column, and the
content hash follows the content (not the comments or the layout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.funnel.definitions import DEFAULT_PATH, PATH_ENV, load_definitions, parse_definitions
from pipelines.funnel.model import DisqualificationPolicy, Duration, FirstTouchPolicy
from pipelines.funnel.yaml_source import DefinitionsError
from sandbox.model import hubspot as hs
from sandbox.model import salesforce as sf

DEFAULT = DEFAULT_PATH.read_text(encoding="utf-8")


def _mutate(old: str, new: str, text: str = DEFAULT) -> tuple[str, int, int]:
    """Replace one unique snippet; return the new text and the 1-based line/column where ``new`` starts."""
    assert text.count(old) == 1, f"snippet {old!r} is not unique in the default file"
    at = text.index(old)
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return text.replace(old, new), line, column


def _error(text: str) -> DefinitionsError:
    with pytest.raises(DefinitionsError) as info:
        parse_definitions(text)
    return info.value


def test_default_file_loads_with_version_and_hash() -> None:
    defs = load_definitions()
    assert defs.version == "2026.12.1"
    assert len(defs.content_sha256) == 64 and defs.content_hash == defs.content_sha256[:12]
    assert [t.tier for t in defs.icp_tiers] == ["A", "B", "C"]
    assert defs.sla.first_touch.inside_hours.minutes == 60 and defs.sla.first_touch.inside_hours.is_business


def test_default_sla_is_the_agreement() -> None:
    """One business hour inside hours, 24 calendar hours outside, from assignment; 24 calendar hours to
    accept or reject; the minimum attempts before any disqualification."""
    sla = load_definitions().sla
    assert sla.first_touch == FirstTouchPolicy(
        Duration(1, "business_hours"), Duration(24, "calendar_hours"), "assignment", False
    )
    assert sla.accept_reject.deadline == Duration(24, "calendar_hours")
    assert sla.disqualification == DisqualificationPolicy(3, frozenset())


def test_first_touch_clock_keys_are_optional_and_checked() -> None:
    text = DEFAULT.replace("    clock: assignment ", "    # clock: assignment").replace(
        "    reassignment_restarts_clock: false", "    # reassignment_restarts_clock: false"
    )
    assert parse_definitions(text).sla.first_touch.clock == "assignment"
    assert not parse_definitions(text).sla.first_touch.reassignment_restarts_clock
    changed = DEFAULT.replace("clock: assignment ", "clock: mql        ").replace(
        "reassignment_restarts_clock: false", "reassignment_restarts_clock: true "
    )
    policy = parse_definitions(changed).sla.first_touch
    assert (policy.clock, policy.reassignment_restarts_clock) == ("mql", True)
    text, line, col = _mutate("clock: assignment ", "clock: owner      ")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col + len('clock: ')}: sla.first_touch.clock: unknown first-touch clock "
        "'owner'; expected one of: assignment, mql"
    )


def test_exempt_reasons_are_checked_and_the_old_reasons_key_is_refused() -> None:
    text = DEFAULT.replace("exempt_reasons: []", "exempt_reasons: [bad_data, not_icp]")
    assert parse_definitions(text).sla.disqualification.exempt_reasons == {"bad_data", "not_icp"}
    text, line, col = _mutate("exempt_reasons: []", "reasons: [unresponsive]")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col + len('reasons: ')}: sla.disqualification.reasons was replaced by "
        "exempt_reasons: every disqualification needs the minimum contact attempts except for the reasons "
        "listed under exempt_reasons"
    )


def test_path_is_configurable_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "team.yaml"
    custom.write_text(DEFAULT.replace('version: "2026.12.1"', 'version: "team-7"'), encoding="utf-8")
    monkeypatch.setenv(PATH_ENV, str(custom))
    assert load_definitions().version == "team-7"
    assert load_definitions(custom).source == "team.yaml"


def test_default_mappings_cover_every_sandbox_picklist_value() -> None:
    """Both CRMs' picklists (as the sandbox serves them) are mapped, so nothing lands in "unmapped"."""
    defs = load_definitions()
    stages = defs.stages
    assert set(hs.LIFECYCLE_STAGES) == set(stages.hubspot_lifecycle)
    assert set(hs.LEAD_STATUSES) == set(stages.hubspot_lead_status)
    assert set(hs.DEAL_STAGES) == set(stages.hubspot_deal_stages)
    assert set(sf.LEAD_STATUSES) | {"New", "Contacted", "Nurturing", "Qualified", "Unqualified"} == set(
        stages.salesforce_lead_status
    )
    assert set(sf.OPPORTUNITY_STAGES) == set(stages.salesforce_opportunity_stages)
    assert {v for r in defs.reasons.values() for v in r.salesforce} == set(sf.DISQUALIFICATION_REASONS)
    assert {v for r in defs.reasons.values() for v in r.hubspot} == set(hs.DISQUALIFICATION_REASONS)
    assert {v for i in defs.industries.values() for v in i.salesforce} == set(sf.INDUSTRIES)
    assert {v for i in defs.industries.values() for v in i.hubspot} == set(hs.INDUSTRIES)


# --- one test per kind of mistake --------------------------------------------------------------------------
def test_threshold_of_the_wrong_type() -> None:
    text, line, col = _mutate("inside_hours: {business_hours: 1}", "inside_hours: {business_hours: one}")
    col += len("inside_hours: {business_hours: ")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: sla.first_touch.inside_hours.business_hours must be a number, got 'one'"
    )


def test_a_boolean_is_not_a_number() -> None:
    text, line, col = _mutate("mql_threshold: 60", "mql_threshold: yes")
    col += len("mql_threshold: ")
    assert str(_error(text)) == f"definitions.yaml:{line}:{col}: lead_score.mql_threshold must be a number, got True"


def test_unknown_stage_name() -> None:
    text, line, col = _mutate("marketingqualifiedlead: mql", "marketingqualifiedlead: mqll")
    col += len("marketingqualifiedlead: ")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: stages.hubspot.lifecycle.marketingqualifiedlead: unknown stage 'mqll'; "
        "did you mean 'mql'?"
    )


def test_overlapping_score_bands() -> None:
    text, line, col = _mutate("{band: warm, min: 30, below: 60}", "{band: warm, min: 25, below: 60}")
    assert str(_error(text)) == f"definitions.yaml:{line}:{col}: lead_score.bands[1]: band 'warm' overlaps band 'cold'"


def test_gap_between_score_bands() -> None:
    text, line, col = _mutate("{band: hot, min: 60}", "{band: hot, min: 65}")
    assert (
        str(_error(text)) == f"definitions.yaml:{line}:{col}: lead_score.bands[2]: scores from 60 to 65 are in no band"
    )


def test_overlapping_company_size_bands() -> None:
    text, line, col = _mutate("{min: 50, max: 199, points: 8}", "{min: 50, max: 250, points: 8}")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: lead_score.fit.company_size[2] overlaps another company_size band (200..999)"
    )


def test_unknown_time_zone() -> None:
    text, line, col = _mutate("timezone: America/New_York", "timezone: America/NewYork")
    col += len("timezone: ")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: sla.calendar.timezone: unknown time zone 'America/NewYork' "
        "(use an IANA name such as America/New_York)"
    )


def test_unknown_country_for_holidays() -> None:
    text, line, col = _mutate("country: US ", "country: XQ ")
    col += len("country: ")
    message = str(_error(text))
    assert message.startswith(
        f"definitions.yaml:{line}:{col}: sla.calendar.holidays.country: unknown country for public holidays 'XQ'"
    )


def test_unknown_key_is_a_typo_with_a_suggestion() -> None:
    text, line, col = _mutate("mql_threshold: 60", "mql_treshold: 60")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: unknown key 'mql_treshold' in lead_score; did you mean 'mql_threshold'?"
    )


def test_missing_required_section() -> None:
    text = DEFAULT[: DEFAULT.index("\n# Service levels")] + "\n"
    version_line = DEFAULT[: DEFAULT.index("version:")].count("\n") + 1
    assert str(_error(text)) == f"definitions.yaml:{version_line}:1: the file is missing required section 'sla'"


def test_missing_required_key_inside_a_section() -> None:
    text, line, _ = _mutate(
        "    reason_required: true               # a rejection must carry one of `disqualification_reasons`\n", ""
    )
    deadline_line = line - 1
    assert str(_error(text)) == (
        f"definitions.yaml:{deadline_line}:5: sla.accept_reject is missing required key 'reason_required'"
    )


def test_unknown_industry_in_icp_and_unknown_reason_in_policy_are_both_reported() -> None:
    text, line1, col1 = _mutate(
        "industries: [technology, financial_services]\n      employees: {min: 200",
        "industries: [tech, financial_services]\n      employees: {min: 200",
    )
    text, line2, col2 = _mutate("exempt_reasons: []", "exempt_reasons: [unresponsve]", text)
    problems = _error(text).problems
    assert [(p.line, p.column) for p in problems] == [
        (line1, col1 + len("industries: [")),
        (line2, col2 + len("exempt_reasons: [")),
    ]
    assert problems[0].message.startswith("icp.tiers[0].industries[0]: unknown industry 'tech'")
    assert (
        problems[1].message == "sla.disqualification.exempt_reasons[0]: unknown disqualification reason 'unresponsve'; "
        "did you mean 'unresponsive'?"
    )


def test_bad_working_hours_and_duration_unit() -> None:
    text, line, col = _mutate("tuesday: 09:00-17:00", "tuesday: 9 to 5")
    message = str(_error(text))
    assert message.startswith(
        f"definitions.yaml:{line}:{col + len('tuesday: ')}: sla.calendar.working_hours.tuesday must look like 09:00-17:00"
    )
    text, line, col = _mutate("deadline: {calendar_hours: 24}", "deadline: {work_hours: 24}")
    assert str(_error(text)).startswith(
        f"definitions.yaml:{line}:{col + len('deadline: {')}: sla.accept_reject.deadline.work_hours: unknown duration unit 'work_hours'"
    )


def test_duplicate_key_and_invalid_yaml() -> None:
    text, line, col = _mutate(
        "  media:              {salesforce: [Media], hubspot: [MEDIA_PRODUCTION]}",
        "  retail:             {salesforce: [Media], hubspot: [MEDIA_PRODUCTION]}",
    )
    first_retail = DEFAULT[: DEFAULT.index("  retail:")].count("\n") + 1
    assert (
        str(_error(text))
        == f"definitions.yaml:{line}:{col + 2}: industries.retail is given twice (first on line {first_retail})"
    )
    text, line, _ = _mutate("  mql_threshold: 60", "  mql_threshold: [60")
    assert str(_error(text)).startswith("definitions.yaml:") and "not valid YAML" in str(_error(text))


def test_a_raw_value_mapped_to_two_reasons_is_ambiguous() -> None:
    text, line, col = _mutate("salesforce: [No Need]", "salesforce: [No Budget]")
    assert "disqualification_reasons.no_need: 'No Budget' is already mapped to 'no_budget'" in str(_error(text))


# --- content hash ------------------------------------------------------------------------------------------
def test_hash_ignores_comments_layout_and_key_order() -> None:
    base = parse_definitions(DEFAULT).content_sha256
    no_comments = "\n".join(line for line in DEFAULT.splitlines() if not line.lstrip().startswith("#"))
    reordered = DEFAULT.replace(
        "      demo_request: 40\n      form_fill: 12\n", "      form_fill: 12\n      demo_request: 40\n"
    )
    respaced = DEFAULT.replace("mql_threshold: 60", "mql_threshold:     60.0")
    assert parse_definitions(no_comments).content_sha256 == base
    assert parse_definitions(reordered).content_sha256 == base
    assert parse_definitions(respaced).content_sha256 == base


def test_hash_changes_when_any_setting_changes() -> None:
    base = parse_definitions(DEFAULT).content_sha256
    for old, new in (
        ("mql_threshold: 60", "mql_threshold: 61"),
        ("half_life_days: 30", "half_life_days: 31"),
        ("Nurturing: recycled", "Nurturing: lead"),
        ('version: "2026.12.1"', 'version: "2026.11.2"'),
        ("extra_dates: [2026-12-24, 2026-12-31]", "extra_dates: [2026-12-24]"),
    ):
        assert parse_definitions(DEFAULT.replace(old, new)).content_sha256 != base, old


def test_mql_source_defaults_to_the_crm_and_rejects_unknown_values() -> None:
    assert load_definitions().sla.mql_source == "crm"
    text, line, col = _mutate("  mql_source: crm\n", "  mql_source: scores\n")
    col += len("  mql_source: ")
    assert str(_error(text)) == (
        f"definitions.yaml:{line}:{col}: sla.mql_source: unknown MQL source 'scores'; did you mean 'score'?"
    )
