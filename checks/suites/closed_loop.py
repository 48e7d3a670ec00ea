"""Suites for ``closed_loop_leads``: its key, values within the agreed sets, stage times in funnel order, an
owner who can work every MQL, and no stage regressions. SLA compliance is ``checks/sla``'s job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.model import Severity, Source, Suite, expect
from checks.suites.common import in_set, whole_table
from checks.suites.hubspot import stage_order_expectations
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.funnel.model import ICP_TIERS, STAGES, FunnelDefinitions

# Each source imports SQLAlchemy when it builds (a check runs), not when the code location declares the suites.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog

LEADS = CLOSED_LOOP_LEADS.name
ID = ("person_key",)
OUTCOMES = ("won", "lost", "open_opportunity", "disqualified", "recycled", "open")
OWNER_STATUSES = ("assigned", "unassigned", "inactive")
TIMED_SLA = ("met", "breached", "pending", "not_applicable")  # rules with a deadline can still be pending
DECIDED_SLA = ("met", "breached", "not_applicable")  # rules judged when the lead is rejected
# Each chain must be non-decreasing wherever both times are known (won and lost are alternatives, hence two).
STAGE_CHAINS: tuple[tuple[str, ...], ...] = (
    ("created_at", "mql_at", "sql_at", "opportunity_created_at", "won_at"),
    ("sql_at", "lost_at"),
    ("opportunity_created_at", "lost_at"),
    ("mql_at", "first_touch_at"),
    ("mql_at", "accepted_at"),
    ("mql_at", "rejected_at"),
)


def closed_loop_suites(defs: FunnelDefinitions) -> list[Suite]:
    return [
        Suite(
            f"{LEADS}__keys",
            LEADS,
            Severity.ERROR,
            whole_table(LEADS, *ID),
            (
                expect("ExpectColumnValuesToNotBeNull", column="person_key"),
                expect("ExpectColumnValuesToBeUnique", column="person_key"),
            ),
            id_columns=ID,
            description="person_key present and unique",
        ),
        _values(defs),
        Suite(
            f"{LEADS}__stage_order",
            LEADS,
            Severity.WARN,
            whole_table(LEADS, *dict.fromkeys(("person_key", *(c for chain in STAGE_CHAINS for c in chain)))),
            tuple(e for chain in STAGE_CHAINS for e in stage_order_expectations(chain)),
            id_columns=ID,
            description="created <= MQL <= SQL <= opportunity <= won/lost; first touch, acceptance and "
            "rejection after the MQL",
        ),
        Suite(
            f"{LEADS}__owners",
            LEADS,
            Severity.WARN,
            _mqls("owner_key", "owner_status"),
            (in_set("owner_status", ("assigned",)),),
            id_columns=ID,
            description="every MQL has an owner who is active and on a sales team",
        ),
        Suite(
            f"{LEADS}__stage_regressions",
            LEADS,
            Severity.WARN,
            whole_table(LEADS, "person_key", "has_stage_regression", "regression_from_stage", "regression_to_stage"),
            (expect("ExpectColumnValuesToBeInSet", column="has_stage_regression", value_set=[False]),),
            id_columns=ID,
            description="no lead moved back down the funnel",
        ),
    ]


def _values(defs: FunnelDefinitions) -> Suite:
    statuses = {
        "first_touch_sla_status": TIMED_SLA,
        "accept_reject_sla_status": TIMED_SLA,
        "rejection_reason_sla_status": DECIDED_SLA,
        "contact_attempts_sla_status": DECIDED_SLA,
    }
    bands = [b.name for b in defs.lead_score.bands]
    columns = (
        "person_key",
        "current_stage",
        "outcome",
        "owner_status",
        "icp_tier",
        "score_band",
        "disqualification_reason",
        "unmapped_values",
        *statuses,
    )
    return Suite(
        f"{LEADS}__values",
        LEADS,
        Severity.WARN,
        whole_table(LEADS, *columns),
        (
            in_set("current_stage", STAGES),
            in_set("outcome", OUTCOMES),
            in_set("owner_status", OWNER_STATUSES),
            in_set("icp_tier", ICP_TIERS),
            in_set("score_band", bands),
            # 'unmapped' (a reason outside the agreed list) is deliberately not in the set.
            in_set("disqualification_reason", defs.reasons),
            expect("ExpectColumnValuesToBeNull", column="unmapped_values"),
            *(in_set(column, allowed) for column, allowed in statuses.items()),
        ),
        id_columns=ID,
        description="stage, outcome, owner status, ICP tier, score band, reason and SLA statuses within the "
        "agreed sets; every CRM value mapped by the definitions",
    )


def _mqls(*columns: str) -> Source:
    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(LEADS, "person_key", "mql_at", *columns)
        return sa.select(t.c.person_key, *(t.c[c] for c in columns)).where(t.c.mql_at.is_not(None))

    return build
