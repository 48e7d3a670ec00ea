"""``people_sql`` and ``activities_sql`` equal the reference builders (``build_people``, ``build_activities``)
row by row, column by column, on DuckDB and PostgreSQL, on hand-made raw tables covering the edge cases
(campaign first-response order, employee bands, e-mail shapes, merged contacts, untrimmed activity values, touch
rules with blank call types, association duplicates and deal order), also under definitions that change every
touch rule. Whole sandboxes are test_equivalence's."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.hubspot.catalog import raw_table_name as hubspot_table
from connectors.salesforce.catalog import raw_table_name as salesforce_table
from connectors.warehouse.catalog.harmonised import CANONICAL_ACTIVITIES, CANONICAL_PEOPLE
from connectors.warehouse.locking import write_lock
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.activities import build_activities
from pipelines.closed_loop.identity import resolve
from pipelines.closed_loop.inputs import RAW_TABLES
from pipelines.closed_loop.people import build_people
from pipelines.closed_loop.raw import read_tables
from pipelines.closed_loop.sql.activities import activities_sql
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.materialize import replace_from
from pipelines.closed_loop.sql.people import people_sql
from pipelines.closed_loop.write import Row, read_table, replace_table, to_rows
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions

# The resolved reference people the activities join, and where the SQL results are written for reading back.
RESOLVED_PEOPLE = dataclasses.replace(CANONICAL_PEOPLE, name="act_test_people")
SQL_PEOPLE = dataclasses.replace(CANONICAL_PEOPLE, name="ppl_test_people")
SQL_ACTIVITIES = dataclasses.replace(CANONICAL_ACTIVITIES, name="act_test_activities")

S, B, F, INT, T, D = sa.String, sa.Boolean, sa.Double, sa.BigInteger, sa.DateTime, sa.Date


def assert_same_rows(spec: TableSpec, expected: list[Row], actual: list[Row]) -> None:
    assert [tuple(r[k] for k in spec.primary_key) for r in actual] == [
        tuple(r[k] for k in spec.primary_key) for r in expected
    ]
    for want, got in zip(expected, actual):
        for column in spec.column_names:
            a, b = want[column], got[column]
            if isinstance(a, float) and isinstance(b, float):
                assert abs(a - b) <= 1e-6, (want, column, b)
            else:
                assert a == b, (tuple(want[k] for k in spec.primary_key), column, a, b)


def compare(wh: Warehouse, defs: FunnelDefinitions) -> tuple[list[Row], list[Row]]:
    """Both models against the reference on ``wh``'s raw tables; (SQL people rows, SQL activity rows)."""
    raw = read_tables(wh, RAW_TABLES)
    reference_people = build_people(raw)
    resolved, _ = resolve(reference_people)
    resolved = resolved.reindex(columns=CANONICAL_PEOPLE.column_names)
    replace_table(wh, RESOLVED_PEOPLE, resolved)
    with write_lock(wh.engine), wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        replace_from(ctx, SQL_PEOPLE, people_sql(ctx))
        replace_from(ctx, SQL_ACTIVITIES, activities_sql(ctx, defs, ctx.table(RESOLVED_PEOPLE.name)))
    people = to_rows(read_table(wh, SQL_PEOPLE), SQL_PEOPLE)
    activities = to_rows(read_table(wh, SQL_ACTIVITIES), SQL_ACTIVITIES)
    assert_same_rows(CANONICAL_PEOPLE, to_rows(reference_people, CANONICAL_PEOPLE), people)
    assert_same_rows(
        CANONICAL_ACTIVITIES, to_rows(build_activities(raw, resolved, defs), CANONICAL_ACTIVITIES), activities
    )
    return people, activities


@pytest.fixture(scope="module")
def defs() -> FunnelDefinitions:
    return load_definitions()


@pytest.fixture(scope="module")
def other_defs(defs: FunnelDefinitions) -> FunnelDefinitions:
    """Every touch rule changed: events off, no call type listed, more statuses, no meeting outcome."""
    touches = defs.sla.touches
    salesforce = dataclasses.replace(
        touches.salesforce,
        events=False,
        call_types=frozenset(),
        task_statuses=frozenset({"Completed", "Not Started"}),
    )
    hubspot = dataclasses.replace(
        touches.hubspot, meeting_outcomes=frozenset(), email_directions=frozenset({"EMAIL", "INCOMING_EMAIL"})
    )
    sla = dataclasses.replace(defs.sla, touches=dataclasses.replace(touches, salesforce=salesforce, hubspot=hubspot))
    return dataclasses.replace(defs, sla=sla)


# --- hand-made raw tables ---------------------------------------------------------------------------------


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, 0)


# fmt: off
RAW: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]] = {
    hubspot_table("contacts"): (
        {
            "id": S, "email": S, "firstname": S, "numemployees": S, "annualrevenue": S, "hubspotscore": F,
            "associatedcompanyid": F, "hs_lifecyclestage_marketingqualifiedlead_date": T,
            "hs_analytics_num_page_views": F, "demo_requested": B, "createdate": T, "created_at": T,
            "lastmodifieddate": T, "updated_at": T, "archived": B, "_is_deleted": B,
        },
        [
            ("1", " Ann@Example.COM ", "Ann", "100-500", "12.5", 40.0, 77.0, at(3),
             12.0, True, at(1), at(2), at(4), None, False, False),
            ("2", "bad@@x.com", "  ", "1,000+", "abc", None, None, None,
             3.7, None, None, at(2), None, at(5), True, False),
            ("3", "x@y.c", None, "n/a", None, None, None, None, None, False, at(1), None, None, None, None, None),
            ("4", "", "Dee", " 50 ", " 7 ", None, 5.5, None, None, None, at(1), None, None, None, False, True),
            ("5", "a b@c.com", None, "-10", None, None, None, None, None, None, None, None, None, None, False, False),
            ("12", "ANN@example.com", None, "1.5e3", None, None, None, None,
             None, None, at(1), None, None, None, False, False),
        ],
    ),
    hubspot_table("merged_records"): (
        {"id": S, "object_type": S, "merged_id": S, "survivor_id": S, "_is_deleted": B},
        [("m1", "contacts", "12", "1", False), ("m2", "companies", "4", "99", False)],
    ),
    salesforce_table("lead"): (
        {
            "id": S, "email": S, "numberofemployees": INT, "annualrevenue": F, "isconverted": B, "converteddate": D,
            "mql_date__c": T, "lead_score__c": F, "hubspot_contact_id__c": S, "createddate": T, "_is_deleted": B,
        },
        [
            ("00Q1", "ann@example.com", 250, 1e6, True, date(2026, 3, 4), at(2), 55.5, "1", at(1), False),
            ("00Q2", "lee@corp.io", None, None, False, None, None, None, None, None, False),
            ("00Q3", "gone@corp.io", 10, None, None, None, None, None, None, at(2), True),
        ],
    ),
    salesforce_table("contact"): (
        {"id": S, "email": S, "mailingcountry": S, "accountid": S, "createddate": T, "_is_deleted": B},
        [("0031", "lee@corp.io", "DE", "001A", at(3), False), ("0032", None, None, None, None, False)],
    ),
    salesforce_table("campaign"): (
        {"id": S, "name": S, "hubspot_campaign__c": S, "_is_deleted": B},
        [("701A", "Spring", "spring", False), ("701B", "Webinar", " ", False), ("701C", "Old", None, True)],
    ),
    salesforce_table("campaignmember"): (
        {
            "id": S, "campaignid": S, "leadid": S, "contactid": S, "firstrespondeddate": D, "createddate": T,
            "_is_deleted": B,
        },
        [
            ("cm1", "701A", "00Q1", None, None, at(1), False),
            ("cm2", "701B", "00Q1", None, date(2026, 2, 1), at(3), False),
            ("cm3", "701C", "00Q2", "0031", date(2026, 1, 5), at(2), False),
            ("cm4", "701A", "00Q2", None, date(2026, 1, 5), at(1), False),
            ("cm5", "701B", None, "0032", date(2025, 1, 1), at(1), True),
            ("cm6", None, None, "0032", date(2025, 1, 1), at(1), False),
            ("cm7", "701X", None, "0032", None, None, False),
            ("cm8", "701A", None, "0031", None, at(1), False),
            ("cm9", "701A", "00Q3", None, date(2026, 1, 1), at(1), False),
            ("cm10", "701B", "00Q3", None, date(2026, 1, 1), at(1), False),
        ],
    ),
    hubspot_table("calls"): (
        {
            "id": S, "hs_timestamp": T, "hs_createdate": T, "created_at": T, "hubspot_owner_id": S,
            "hs_call_direction": S, "hs_call_status": S, "hs_call_title": S, "archived": B, "_is_deleted": B,
        },
        [
            ("c1", at(5), at(4), None, "o1", "OUTBOUND", "COMPLETED", "Intro", False, False),
            ("c2", at(6), None, None, " o2 ", " OUTBOUND ", "BUSY", "  ", None, False),
            ("c3", at(7), None, None, None, "INBOUND", "COMPLETED", None, True, False),
            ("c4", at(8), None, None, None, "OUTBOUND", "COMPLETED", None, False, True),
            ("c5", None, None, at(9), "", "OUTBOUND", "", "x", False, False),
        ],
    ),
    hubspot_table("emails"): (
        {
            "id": S, "hs_timestamp": T, "hs_email_direction": S, "hs_email_status": S, "hs_email_subject": S,
            "_is_deleted": B,
        },
        [("e1", at(5), "EMAIL", "SENT", "Hi", False), ("e2", at(6), "INCOMING_EMAIL", None, "Re: Hi", False)],
    ),
    hubspot_table("meetings"): (
        {"id": S, "hs_timestamp": T, "hs_meeting_outcome": S, "hs_meeting_title": S, "_is_deleted": B},
        [("g1", at(5), "COMPLETED", "Demo", False), ("g2", at(6), None, None, False)],
    ),
    hubspot_table("notes"): (
        {"id": S, "hs_timestamp": T, "hs_body_preview": S, "_is_deleted": B},
        [("n1", at(5), "note", False)],
    ),
    hubspot_table("tasks"): (
        {"id": S, "hs_timestamp": T, "hs_task_status": S, "hs_task_type": S, "hs_task_subject": S, "_is_deleted": B},
        [("k1", at(5), "COMPLETED", "CALL", "Call back", False)],
    ),
    hubspot_table("associations"): (
        {"id": S, "from_type": S, "from_id": S, "to_type": S, "to_id": S, "_is_deleted": B},
        [
            ("a1", "calls", "c1", "contacts", "1", False),
            ("a2", "calls", "c1", "contacts", "2", False),
            ("a3", "calls", "c1", "deals", "10", False),
            ("a4", "calls", "c1", "deals", "9", False),
            ("a5", "calls", "c1", "deals", "100", False),
            ("a6", "calls", "c3", "contacts", "999", False),
            ("a7", "calls", "c5", "contacts", "1", False),
            ("a8", "calls", "c5", "contacts", "1", False),
            ("a9", "calls", "c5", "contacts", "3", True),
            ("a10", "calls", "c5", "deals", "8", True),
            ("a11", "emails", "e1", "contacts", "12", False),
            ("a12", "meetings", "c2", "contacts", "4", False),
            ("a13", "companies", "c2", "contacts", "5", False),
            ("a14", "notes", "n1", "contacts", "5", False),
        ],
    ),
    salesforce_table("task"): (
        {
            "id": S, "whoid": S, "whatid": S, "subject": S, "status": S, "tasksubtype": S, "calltype": S,
            "completeddatetime": T, "createddate": T, "lastmodifieddate": T, "ownerid": S, "_is_deleted": B,
        },
        [
            ("T1", "00Q1", "006A", "Call", "Completed", "Call", None, at(5), at(4), at(5), "005A", False),
            ("T2", "0031", "001X", "Call", "Completed", "Call", "Inbound", at(5), at(4), None, "005A", False),
            ("T3", "00Q9", None, "Call", "Completed", "Call", "Outbound", at(6), at(4), None, None, False),
            ("T4", "00Q2", " 006B", None, "Completed", " Call ", "  ", at(7), at(4), None, None, False),
            ("T5", "00Q2", "006C", "Mail", "Not Started", "Email", None, None, at(8), None, None, False),
            ("T6", None, None, "Mail", "Completed", "Email", None, None, at(9), None, None, False),
            ("T7", "00Q1", None, "Call", "Completed", "Call", "Outbound", at(9), at(9), None, None, True),
            ("T8", "00Q3", None, "Call", "Completed", "Task", None, at(9), at(9), None, None, False),
            ("T9", "0032", None, None, None, None, None, None, None, None, None, None),
        ],
    ),
    salesforce_table("event"): (
        {
            "id": S, "whoid": S, "whatid": S, "subject": S, "eventsubtype": S, "startdatetime": T,
            "activitydatetime": T, "createddate": T, "_is_deleted": B,
        },
        [
            ("V1", "0031", "006A", "Demo", "Event", None, at(10), at(9), False),
            ("V2", "00Q1", None, "Gone", None, at(11), None, at(9), True),
        ],
    ),
}
# fmt: on


def write_raw(wh: Warehouse) -> None:
    metadata = sa.MetaData(schema=wh.schema)
    with wh.engine.begin() as conn:
        for name, (columns, rows) in RAW.items():
            table = sa.Table(name, metadata, *(sa.Column(c, kind) for c, kind in columns.items()))
            table.create(conn)
            conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


def by_key(rows: list[Row], *key: str) -> dict[tuple[Any, ...], Row]:
    return {tuple(r[k] for k in key): r for r in rows}


def test_hand_made_edge_cases_equal_reference(warehouse: Warehouse, defs: FunnelDefinitions) -> None:
    write_raw(warehouse)
    people, activities = compare(warehouse, defs)
    person = by_key(people, "source_object", "source_id")
    assert [person[("contact", i)]["employees"] for i in ("1", "2", "3", "4", "5", "12")] == [
        100,
        1000,
        None,
        50,
        None,
        1500,
    ]
    assert (person[("contact", "1")]["email_normalized"], person[("contact", "2")]["email_is_valid"]) == (
        "ann@example.com",
        False,
    )
    assert person[("contact", "12")]["merged_into_source_id"] == "1"
    campaigns = {k[1]: (r["salesforce_campaign_id"], r["campaign_key"]) for k, r in person.items() if k[1][0] == "0"}
    assert campaigns == {
        "00Q1": ("701B", "Webinar"),
        "00Q2": ("701A", "spring"),
        "00Q3": ("701B", "Webinar"),
        "0031": ("701C", "Old"),
        "0032": ("701X", None),
    }
    activity = by_key(activities, "activity_key")
    assert activity[("hubspot:calls:c1>1",)]["opportunity_source_id"] == "9"
    assert activity[("hubspot:calls:c2>-",)]["direction"] == " OUTBOUND "
    assert activity[("hubspot:calls:c2>-",)]["counts_as_touch"] is True
    assert sum(1 for k in activity if k[0].startswith("hubspot:calls:c5>")) == 1
    task4 = activity[("salesforce:task:T4>00Q2",)]
    assert (task4["activity_type"], task4["counts_as_touch"], task4["opportunity_source_id"]) == ("task", True, None)
    assert [activity[(f"salesforce:task:{t}",)]["counts_as_touch"] for t in ("T1>00Q1", "T2>0031", "T3>00Q9")] == [
        True,
        False,
        True,
    ]
    assert activity[("salesforce:task:T3>00Q9",)]["is_orphan"] is True


def test_hand_made_edge_cases_under_other_definitions(warehouse: Warehouse, other_defs: FunnelDefinitions) -> None:
    write_raw(warehouse)
    _, activities = compare(warehouse, other_defs)
    activity = by_key(activities, "activity_key")
    touches = {k[0]: r["counts_as_touch"] for k, r in activity.items()}
    assert touches["salesforce:event:V1>0031"] is False and touches["salesforce:task:T3>00Q9"] is False
    assert touches["salesforce:task:T1>00Q1"] is True and touches["salesforce:task:T5>00Q2"] is True
    assert touches["hubspot:meetings:g1>-"] is False and touches["hubspot:emails:e2>-"] is True
