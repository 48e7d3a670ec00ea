"""Canonical stages from HubSpot and Salesforce data: first reach, skipped stages, regressions, current stage,
and the disqualification reason and touch mappers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.reasons import UNMAPPED, hubspot_reason, salesforce_reason
from pipelines.funnel.stages import (
    FieldChange,
    derive_journey,
    hubspot_contact,
    hubspot_deal,
    salesforce_lead,
    salesforce_opportunity,
)
from pipelines.funnel.touches import hubspot_engagement_is_touch, salesforce_event_is_touch, salesforce_task_is_touch

DEFS = load_definitions()
NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 7, 6, 14, tzinfo=UTC)


def t(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_hubspot_full_path_with_lead_status_acceptance() -> None:
    observed = hubspot_contact(
        DEFS,
        lifecycle_history=[
            ("subscriber", t(0)),
            ("lead", t(1)),
            ("marketingqualifiedlead", t(2)),
            ("salesqualifiedlead", t(10)),
            ("opportunity", t(20)),
            ("customer", t(50)),
        ],
        # Attempts are touches, not acceptance: SAL is the CONNECTED at t(3).
        lead_status_history=[
            ("NEW", t(2)),
            ("ATTEMPTED_TO_CONTACT", t(2.5)),
            ("CONNECTED", t(3)),
            ("IN_PROGRESS", t(12)),
        ],
    )
    journey = derive_journey(observed)
    assert {s: (r.at, r.inferred) for s, r in journey.reached.items()} == {
        "lead": (t(1), False),
        "mql": (t(2), False),
        "sal": (t(3), False),
        "sql": (t(10), False),
        "opportunity": (t(20), False),
        "won": (t(50), False),
    }
    # IN_PROGRESS (SAL) after the lifecycle reached SQL is another signal: neither a regression nor the current stage.
    assert journey.current == "won" and journey.regressions == () and journey.unmapped == ()


def test_hubspot_regression_sql_back_to_lead() -> None:
    journey = derive_journey(
        hubspot_contact(
            DEFS,
            lifecycle_history=[
                ("lead", t(0)),
                ("marketingqualifiedlead", t(1)),
                ("salesqualifiedlead", t(5)),
                ("lead", t(9)),
            ],
        )
    )
    assert journey.current == "lead"
    assert [(r.from_stage, r.to_stage, r.at, r.signal) for r in journey.regressions] == [
        ("sql", "lead", t(9), "hubspot.lifecyclestage")
    ]
    assert journey.reached_at("sql") == t(5)  # first reach is kept


def test_hubspot_skipped_stages_from_date_properties_are_inferred() -> None:
    # Lead straight to SQL: no MQL date at all; SAL never observed. Both count as reached at the SQL time.
    journey = derive_journey(
        hubspot_contact(
            DEFS,
            lifecycle_dates={"hs_lifecyclestage_lead_date": t(0), "hs_lifecyclestage_salesqualifiedlead_date": t(4)},
        )
    )
    assert journey.reached["mql"].at == t(4) and journey.reached["mql"].inferred
    assert journey.reached["sal"].at == t(4) and journey.reached["sal"].inferred
    assert not journey.reached["lead"].inferred and not journey.reached["sql"].inferred
    assert journey.inferred == ("mql", "sal") and journey.current == "sql"


def test_hubspot_backfilled_dates_at_the_same_instant_are_inferred_not_regressions() -> None:
    # The CRM filled lead/MQL dates with the SQL instant: same timestamp = backfill.
    journey = derive_journey(
        hubspot_contact(
            DEFS,
            lifecycle_dates={
                "hs_lifecyclestage_lead_date": t(4),
                "hs_lifecyclestage_marketingqualifiedlead_date": t(4),
                "hs_lifecyclestage_salesqualifiedlead_date": t(4),
            },
        )
    )
    assert journey.inferred == ("lead", "mql", "sal") and journey.regressions == () and journey.current == "sql"


def test_hubspot_disqualified_then_recycled_and_unmapped_values() -> None:
    journey = derive_journey(
        hubspot_contact(
            DEFS,
            lifecycle_history=[("lead", t(0)), ("marketingqualifiedlead", t(1)), ("", t(2)), ("partner", t(3))],
            lead_status_history=[("IN_PROGRESS", t(1.5)), ("UNQUALIFIED", t(6))],
        )
    )
    assert journey.current == "disqualified" and journey.reached_at("disqualified") == t(6)
    assert journey.unmapped == ("hubspot.lifecyclestage=partner",)
    journey = derive_journey(
        hubspot_contact(
            DEFS,
            lifecycle_history=[
                ("lead", t(0)),
                ("marketingqualifiedlead", t(1)),
                ("salesqualifiedlead", t(2)),
                ("lead", t(8)),
            ],
            lead_status_history=[("BAD_TIMING", t(7))],
        )
    )
    # SQL -> recycled -> lead: the exit does not hide the regression, and the lead is current again.
    assert journey.current == "lead" and [(r.from_stage, r.to_stage) for r in journey.regressions] == [("sql", "lead")]


def test_hubspot_deal_outcome() -> None:
    journey = derive_journey(hubspot_deal(DEFS, stage_history=[("appointmentscheduled", t(0)), ("closedlost", t(30))]))
    assert journey.current == "lost" and journey.reached["sql"].inferred


def test_salesforce_classic_lead_converted_to_a_won_opportunity() -> None:
    lead = salesforce_lead(
        DEFS,
        created_at=t(0),
        status="Closed - Converted",
        mql_at=t(1),
        is_converted=True,
        converted_date=date(2026, 7, 7),
        history=[
            FieldChange("created", None, None, t(0)),
            FieldChange("Status", "Open - Not Contacted", "Working - Contacted", t(2)),
            FieldChange("Status", "Working - Contacted", "Closed - Converted", t(26)),
            FieldChange("leadConverted", None, None, t(26)),
        ],
    )
    opp = salesforce_opportunity(
        DEFS,
        created_at=t(26),
        stage_name="Closed Won",
        is_closed=True,
        is_won=True,
        close_date=date(2026, 8, 1),
        stage_history=[("Prospecting", t(26)), ("Negotiation/Review", t(200)), ("Closed Won", t(300))],
    )
    journey = derive_journey(lead, opp)
    assert {s: r.at for s, r in journey.reached.items()} == {
        "lead": t(0),
        "mql": t(1),
        "sal": t(2),
        "sql": t(26),
        "opportunity": t(26),
        "won": t(300),
    }
    assert journey.inferred == () and journey.current == "won" and journey.regressions == ()


def test_salesforce_newer_picklist_skip_to_qualified_without_history() -> None:
    # Field history off: the current status holds since creation. ConvertedDate is a date: start of that day
    # in the calendar zone (New York).
    lead = salesforce_lead(
        DEFS, created_at=t(0), status="Qualified", is_converted=True, converted_date=date(2026, 7, 8)
    )
    journey = derive_journey(lead)
    assert journey.reached["sql"].at == t(0)  # "Qualified" since creation is earlier than the conversion day
    assert journey.reached["mql"].inferred and journey.reached["sal"].inferred
    converted_only = derive_journey(
        salesforce_lead(
            DEFS, created_at=t(0), status="New", is_converted=True, converted_date=date(2026, 7, 8), history=[]
        )
    )
    assert converted_only.reached_at("sql") == datetime(2026, 7, 8, tzinfo=NY)


def test_salesforce_lead_regression_and_disqualification() -> None:
    journey = derive_journey(
        salesforce_lead(
            DEFS,
            created_at=t(0),
            status="Closed - Not Converted",
            history=[
                FieldChange("Status", "Open - Not Contacted", "Working - Contacted", t(1)),
                FieldChange("Status", "Working - Contacted", "Open - Not Contacted", t(2)),
                FieldChange("Status", "Open - Not Contacted", "Closed - Not Converted", t(30)),
                FieldChange("Status", "Closed - Not Converted", "Bogus", t(31)),
            ],
        )
    )
    assert [(r.from_stage, r.to_stage, r.at) for r in journey.regressions] == [("sal", "lead", t(2))]
    assert journey.current == "disqualified" and journey.unmapped == ("salesforce.Lead.Status=Bogus",)


def test_salesforce_opportunity_reopened_and_closed_without_history() -> None:
    reopened = derive_journey(
        salesforce_opportunity(
            DEFS,
            created_at=t(0),
            stage_name="Negotiation/Review",
            stage_history=[("Prospecting", t(0)), ("Closed Won", t(10)), ("Negotiation/Review", t(11))],
        )
    )
    assert reopened.current == "opportunity" and [(r.from_stage, r.to_stage) for r in reopened.regressions] == [
        ("won", "opportunity")
    ]
    # A custom stage name the file does not know, but IsClosed/IsWon tell the outcome: lost at the CloseDate.
    closed = derive_journey(
        salesforce_opportunity(
            DEFS,
            created_at=t(0),
            stage_name="Dead - Duplicate",
            is_closed=True,
            is_won=False,
            close_date=date(2026, 7, 9),
        )
    )
    assert closed.current == "lost" and closed.reached_at("lost") == datetime(2026, 7, 9, tzinfo=NY)
    assert closed.unmapped == ("salesforce.Opportunity.StageName=Dead - Duplicate",)


def test_reason_mapper() -> None:
    assert salesforce_reason("No Budget", DEFS) == "no_budget"
    assert salesforce_reason(" not icp ", DEFS) == "not_icp"
    assert salesforce_reason("", DEFS) is None and salesforce_reason(None, DEFS) is None
    assert salesforce_reason("Too expensive", DEFS) == UNMAPPED
    assert hubspot_reason("competitor", "UNQUALIFIED", DEFS) == "competitor"
    assert hubspot_reason(None, "BAD_TIMING", DEFS) == "bad_timing"
    assert hubspot_reason(None, "UNQUALIFIED", DEFS) is None


def test_touch_rules() -> None:
    call = {"TaskSubtype": "Call", "Status": "Completed", "CallType": "Outbound"}
    assert salesforce_task_is_touch(call, DEFS)
    assert salesforce_task_is_touch({**call, "CallType": None}, DEFS)
    assert not salesforce_task_is_touch({**call, "CallType": "Inbound"}, DEFS)
    assert not salesforce_task_is_touch({**call, "Status": "Not Started"}, DEFS)
    assert salesforce_task_is_touch({"TaskSubtype": "Email", "Status": "Completed"}, DEFS)
    assert not salesforce_task_is_touch({"TaskSubtype": "Task", "Status": "Completed"}, DEFS)
    assert salesforce_event_is_touch({"EventSubtype": "Event"}, DEFS)
    assert hubspot_engagement_is_touch("calls", {"hs_call_direction": "OUTBOUND", "hs_call_status": "NO_ANSWER"}, DEFS)
    assert not hubspot_engagement_is_touch(
        "calls", {"hs_call_direction": "INBOUND", "hs_call_status": "COMPLETED"}, DEFS
    )
    assert hubspot_engagement_is_touch("emails", {"hs_email_direction": "EMAIL"}, DEFS)
    assert not hubspot_engagement_is_touch("emails", {"hs_email_direction": "INCOMING_EMAIL"}, DEFS)
    assert not hubspot_engagement_is_touch("meetings", {"hs_meeting_outcome": "NO_SHOW"}, DEFS)
    assert not hubspot_engagement_is_touch("notes", {}, DEFS)
