"""What each check means and what to do when it fails, in words for whoever fixes the records (RevOps, reps),
not for whoever wrote the check. Pure rules: descriptions come from the suites, actions from what failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.handover import RULES as HANDOVER_RULES
from checks.model import Outcome
from checks.suites.canonical import canonical_suites
from checks.suites.closed_loop import closed_loop_suites
from checks.suites.hubspot import hubspot_suites
from checks.suites.salesforce import salesforce_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS
from pipelines.funnel.model import FunnelDefinitions

MAX_ERROR = 300  # characters of a check's error quoted in an alert; the run's logs have the rest

# The SLA audit's findings are not suites; their names are fixed by ``checks.sla.evaluate``.
SLA_DESCRIPTIONS = {
    "sla__first_touch": "every MQL is first touched by its owner within the first-touch SLA",
    "sla__accept_reject": "every MQL is accepted or rejected by sales within the SLA",
    "sla__rejection_reason": "every rejected lead carries one of the agreed disqualification reasons",
    "sla__contact_attempts": "no lead is disqualified before the agreed number of contact attempts",
    "sla__ignored_leads": "no MQL sits untouched past its first-touch deadline",
    "sla__mql_commitment": "marketing delivers the committed number of qualifying MQLs each month",
}
SLA_ACTIONS = {
    "sla__first_touch": "ask the reps below to contact their overdue MQLs today; reassign leads of absent reps",
    "sla__accept_reject": "ask the reps below to accept or reject their open MQLs",
    "sla__rejection_reason": "ask the reps below to set a disqualification reason on the rejected leads",
    "sla__contact_attempts": "reopen the leads below: they were disqualified before the agreed contact attempts",
    "sla__ignored_leads": "assign the untouched MQLs to an active rep, or ask their owners below to call them now",
    "sla__mql_commitment": "review the month's MQL volume and score threshold with marketing",
}
# The handover reconciliation's findings (``checks.handover``), described there.
HANDOVER_ACTIONS = {
    "handover__reached_score_not_handed_over": (
        "ask marketing to hand these leads to sales, or to say why the agreed score should not apply"
    ),
    "handover__handed_over_below_score": (
        "review with marketing why these leads were handed over below the agreed score (or revisit the threshold)"
    ),
}
# A boolean verdict column of a relation check names what the record lacks.
VERDICT_ACTIONS = {
    "matched": "link or merge the records of the same person in both CRMs",
    "resolved": "review the identity conflicts: merge the duplicates or correct the cross-CRM ids",
    "linked": "attach each opportunity to a person or an account",
    "owner_active": "reassign these records to an active owner on a sales team",
    "owner_status": "assign these leads to an active owner on a sales team",
    "regressed": "check why these contacts moved back down the funnel and correct their lifecycle stage",
    "has_stage_regression": "check why these leads moved back down the funnel and correct their stage",
}
# Keyed by GX expectation type as check_results records it; {column} is filled in.
EXPECTATION_ACTIONS = {
    "expect_column_values_to_not_be_null": "fill in {column} on these records",
    "expect_column_values_to_be_unique": "merge or delete the duplicate records (same {column})",
    "expect_compound_columns_to_be_unique": "merge or delete the duplicate records (same {column})",
    "expect_column_values_to_match_regex": "correct the malformed {column} on these records",
    "expect_column_values_to_be_in_set": (
        "set {column} to one of the agreed values, or add a new value to the definitions file"
    ),
    "expect_column_values_to_be_null": "map the values in {column} through the definitions file",
    "expect_column_pair_values_a_to_be_greater_than_b": "correct the stage dates: {column} are out of funnel order",
    "expect_column_max_to_be_between": "no recent {column}: check that the sync ran and its CRM login still works",
    "expect_table_row_count_to_be_between": "the table is empty: check the latest sync of this object",
    "expect_column_pair_values_to_be_equal": (
        "records were lost between extraction and load: see the latest sync's quarantine"
    ),
}


@dataclass(frozen=True)
class CheckInfo:
    description: str
    id_columns: tuple[str, ...]  # what each sampled id is made of ("a|b" for two columns)


def check_catalog(defs: FunnelDefinitions, max_age: timedelta = timedelta(hours=36)) -> dict[str, CheckInfo]:
    """Every check by name: the suites the code location declares, and the SLA findings (sampled by person,
    except the monthly commitment, sampled by month)."""
    suites = [
        *salesforce_suites(OBJECTS, defs, datetime.now(UTC), max_age),
        *hubspot_suites(OBJECT_TYPES, defs, datetime.now(UTC), max_age),
        *canonical_suites(defs),
        *closed_loop_suites(defs),
    ]
    sla = {
        name: CheckInfo(text, () if name == "sla__mql_commitment" else ("person_key",))
        for name, text in SLA_DESCRIPTIONS.items()
    }
    handover = {f"handover__{name}": CheckInfo(text, ("person_key",)) for name, text in HANDOVER_RULES.items()}
    return {**{s.name: CheckInfo(s.description or s.name, tuple(s.id_columns)) for s in suites}, **sla, **handover}


def what_to_do(check_name: str, outcome: Outcome, details: Sequence[Mapping[str, Any]], error: str | None) -> str:
    """One sentence per distinct fix, from the failing expectations (their kind and column)."""
    if outcome == "error":
        reason = (error or "no reason recorded")[:MAX_ERROR]
        return f"the check could not run ({reason}); fix that, then re-run the job"
    if check_name in SLA_ACTIONS:
        return SLA_ACTIONS[check_name]
    if check_name in HANDOVER_ACTIONS:
        return HANDOVER_ACTIONS[check_name]
    actions: dict[str, None] = {}
    for detail in details:
        column = str(detail.get("column") or "")
        verdict = VERDICT_ACTIONS.get(column) or (
            "re-link these records to a record that exists, or delete them" if column.endswith("_found") else None
        )
        template = EXPECTATION_ACTIONS.get(str(detail.get("expectation")))
        if verdict and detail.get("expectation") == "expect_column_values_to_be_in_set":
            actions[verdict] = None
        elif template:
            actions[template.format(column=column.replace(",", " + ") or "the key")] = None
    return "; ".join(actions) or "open the records below and correct them in the CRM"
