"""The agreement's SLA (issue 14: points 2, 3, 4) and the e-mail mismatch (point 6), one hand-made lead per case,
through the real connectors and the warehouse pipeline on DuckDB and PostgreSQL, with hand-computed outcomes.

Calendar: America/New_York, Mon-Fri 09:00-17:00; October 2026 is EDT (UTC-4). Fri 16 Oct, Mon 19 to Thu 22 Oct
are working days (Columbus Day is the 12th). Every Lead is owned by an SDR on a team unless said otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS, IDENTITY_CONFLICTS
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_canonical, write_closed_loop
from pipelines.closed_loop.write import read_table
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from pipelines.funnel.model import FunnelDefinitions
from sandbox.data.fixture import load_fixture
from sandbox.server.app import Sandbox
from tests.closed_loop.conftest import ANCHOR, drop_schema, extract, open_warehouse

SDR, SDR_2, INTEGRATION = "0055g0000000003AAA", "0055g0000000004AAA", "0055g0000000001AAA"
LEADS = {
    "friday_evening": "00Q5g0000000001AAA",
    "accepted_after_48h": "00Q5g0000000002AAA",
    "no_need_one_call": "00Q5g0000000003AAA",
    "assigned_after_mql": "00Q5g0000000004AAA",
    "reassigned": "00Q5g0000000005AAA",
    "unassigned": "00Q5g0000000006AAA",
    "email_mismatch": "00Q5g0000000007AAA",
    "email_match": "00Q5g0000000008AAA",
}


def edt(day: int, hour: int, minute: int = 0) -> datetime:
    """An October 2026 New York wall time (EDT) as UTC."""
    return datetime(2026, 10, day, hour + 4, minute, tzinfo=UTC)


def _system(record_id: str, created: datetime, modified: datetime | None = None) -> dict[str, Any]:
    stamp = (modified or created).isoformat()
    return {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": created.isoformat(),
        "CreatedById": INTEGRATION,
        "LastModifiedDate": stamp,
        "LastModifiedById": INTEGRATION,
        "SystemModstamp": stamp,
    }


def _user(user_id: str, name: str, team: str | None) -> dict[str, Any]:
    first, last = name.split()
    return {
        **_system(user_id, datetime(2025, 10, 1, tzinfo=UTC)),
        "Username": f"{first.lower()}@example.com.crmloop",
        "FirstName": first,
        "LastName": last,
        "Name": name,
        "Email": f"{first.lower()}@example.com",
        "IsActive": True,
        "Team__c": team,
    }


class Dataset:
    def __init__(self) -> None:
        self.salesforce: dict[str, list[dict[str, Any]]] = {
            "User": [
                _user(INTEGRATION, "HubSpot Integration", None),
                _user(SDR, "Andrea Torres", "SDR East"),
                _user(SDR_2, "Jordan Holmes", "SDR East"),
            ],
            "Lead": [],
            "LeadHistory": [],
            "Task": [],
        }
        self.contacts: list[dict[str, Any]] = []
        self._ids = 0

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}5g{self._ids:010d}AAA"

    def lead(
        self,
        case: str,
        created: datetime,
        mql: datetime | None,
        *,
        owner: str = SDR,
        email: str | None = None,
        statuses: tuple[tuple[str, datetime], ...] = (),
        reason: str | None = None,
        calls: tuple[datetime, ...] = (),
        owner_changes: tuple[tuple[datetime, str], ...] = (),
    ) -> None:
        lead_id = LEADS[case]
        status = statuses[-1][0] if statuses else "Open - Not Contacted"
        stamps = [created, *(at for _, at in statuses), *(at for at, _ in owner_changes)]
        self.salesforce["Lead"].append(
            {
                **_system(lead_id, created, max(stamps)),
                "OwnerId": owner_changes[-1][1] if owner_changes else owner,
                "LastName": case.replace("_", " ").title(),
                "Company": f"{case} Inc",
                "Email": email or f"{case}@example.com",
                "Status": status,
                "IsConverted": False,
                "MQL_Date__c": mql.isoformat() if mql else None,
                "Disqualification_Reason__c": reason,
            }
        )
        previous = "Open - Not Contacted"
        history = [("created", None, None, created)]
        history += [("Owner", owner, new, at) for at, new in owner_changes]
        for new, at in statuses:
            history.append(("Status", previous, new, at))
            previous = new
        for field, old, new, at in history:
            self.salesforce["LeadHistory"].append(
                {
                    "Id": self._id("017"),
                    "IsDeleted": False,
                    "LeadId": lead_id,
                    "CreatedById": owner,
                    "CreatedDate": at.isoformat(),
                    "Field": field,
                    "DataType": "EntityId" if field == "Owner" else "Text",
                    "OldValue": old,
                    "NewValue": new,
                }
            )
        for at in calls:
            self.salesforce["Task"].append(
                {
                    **_system(self._id("00T"), at),
                    "OwnerId": owner,
                    "WhoId": lead_id,
                    "Subject": "Call",
                    "TaskSubtype": "Call",
                    "CallType": "Outbound",
                    "Status": "Completed",
                    "IsClosed": True,
                    "CompletedDateTime": at.isoformat(),
                    "ActivityDate": at.date().isoformat(),
                }
            )

    def contact(self, contact_id: str, email: str, lead_case: str, created: datetime) -> None:
        self.contacts.append(
            {
                "id": contact_id,
                "properties": {
                    "email": email,
                    "firstname": "Ann",
                    "lastname": lead_case,
                    "lifecyclestage": "lead",
                    "salesforceleadid": LEADS[lead_case],
                },
                "createdAt": created.isoformat(),
                "updatedAt": created.isoformat(),
                "archived": False,
            }
        )

    def document(self) -> dict[str, Any]:
        return {"salesforce": self.salesforce, "hubspot": {"objects": {"contacts": self.contacts}}}


def dataset() -> dict[str, Any]:
    d = Dataset()
    # Point 2: MQL Fri 18:00 (outside hours), called Mon 16:00.
    d.lead("friday_evening", edt(16, 18), edt(16, 18), calls=(edt(19, 16),))
    # Point 2: MQL Tue 10:00, called 10:30, accepted (Working - Contacted) Thu 10:00: 48 calendar hours.
    d.lead(
        "accepted_after_48h",
        edt(20, 10),
        edt(20, 10),
        calls=(edt(20, 10, 30),),
        statuses=(("Working - Contacted", edt(22, 10)),),
    )
    # Point 4: MQL Tue 11:00, one call 11:30, disqualified for No Need at 12:00.
    d.lead(
        "no_need_one_call",
        edt(20, 11),
        edt(20, 11),
        calls=(edt(20, 11, 30),),
        statuses=(("Closed - Not Converted", edt(20, 12)),),
        reason="No Need",
    )
    # Point 3: MQL Tue 10:00 (HubSpot's, synced), the Lead (the assignment) created Tue 15:00, called 15:45.
    d.lead("assigned_after_mql", edt(20, 15), edt(20, 10), calls=(edt(20, 15, 45),))
    # Point 3: owned since Mon 10:00, MQL Tue 10:00, handed to another SDR Tue 14:00, called 14:30.
    d.lead(
        "reassigned",
        edt(19, 10),
        edt(20, 10),
        calls=(edt(20, 14, 30),),
        owner_changes=((edt(20, 14), SDR_2),),
    )
    # Point 3: owned by the integration user (no team): no assignment, the clock falls back to the MQL.
    d.lead("unassigned", edt(20, 12), edt(20, 10), owner=INTEGRATION, calls=(edt(20, 12, 30),))
    # Point 6: a HubSpot contact linked by id to a Lead with another e-mail; and one with the same e-mail.
    d.lead("email_mismatch", edt(21, 9), None, email="ann@new.example.com")
    d.contact("5001", "ann@old.example.com", "email_mismatch", edt(21, 9))
    d.lead("email_match", edt(21, 9), None, email="bob@example.com")
    d.contact("5002", "bob@example.com", "email_match", edt(21, 9))
    return d.document()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def agreement(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    workdir = tmp_path_factory.mktemp(f"agreement_{request.param}")
    path = workdir / "agreement.json"
    path.write_text(json.dumps(dataset()), encoding="utf-8")
    chunks, _ = load_fixture(path)
    wh, schema = open_warehouse(request.param, workdir)
    try:
        with Sandbox(data=chunks, anchor=ANCHOR, workdir=workdir / "sandbox") as box:
            extract(box, wh, workdir)
        yield wh
    finally:
        wh.close()
        drop_schema(schema)


def definitions(tmp_path: Path, *edits: tuple[str, str]) -> FunnelDefinitions:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "definitions.yaml"
    path.write_text(text, encoding="utf-8")
    return load_definitions(path)


SHIPPED: tuple[tuple[str, str], ...] = ()
EARLIER = (  # the file before the agreement: 8 business hours outside, 24 business hours, only unresponsive
    ("outside_hours: {calendar_hours: 24}", "outside_hours: {business_hours: 8} "),
    ("deadline: {calendar_hours: 24}", "deadline: {business_hours: 24}"),
    (
        "exempt_reasons: []",
        "exempt_reasons: [no_budget, no_authority, no_need, bad_timing, competitor, bad_data, not_icp]",
    ),
)
MQL_CLOCK = (("    clock: assignment ", "    clock: mql        "),)
RESTART = (("reassignment_restarts_clock: false", "reassignment_restarts_clock: true "),)
EXEMPT = (("exempt_reasons: []", "exempt_reasons: [no_need]"),)


def built(wh: Warehouse, defs: FunnelDefinitions) -> dict[str, dict[str, Any]]:
    write_canonical(wh, defs)
    write_closed_loop(wh, defs, ANCHOR)
    frame = read_table(wh, CLOSED_LOOP_LEADS)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    by_lead = {r["salesforce_lead_id"]: r for r in rows}
    return {case: by_lead[lead_id] for case, lead_id in LEADS.items()}


def _utc(value: Any) -> datetime | None:
    return None if value is None else pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def first_touch(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["first_touch_sla_status"],
        _utc(row["first_touch_due_at"]),
        row["business_minutes_to_first_touch"],
        row["first_touch_clock_from"],
        _utc(row["first_touch_clock_at"]),
    )


def test_shipped_defaults(agreement: Warehouse, tmp_path: Path) -> None:
    rows = built(agreement, definitions(tmp_path, *SHIPPED))
    # Fri 18:00 + 24 calendar hours = Sat 18:00; Mon 09:00-16:00 = 420 business minutes. The Lead's creation
    # (the assignment) is the MQL instant itself.
    assert first_touch(rows["friday_evening"]) == ("breached", edt(17, 18), 420.0, "assignment", edt(16, 18))
    # Tue 10:00 + 24 calendar hours = Wed 10:00; accepted Thu 10:00.
    accepted = rows["accepted_after_48h"]
    assert (accepted["accept_reject_sla_status"], _utc(accepted["accept_reject_due_at"])) == ("breached", edt(21, 10))
    assert _utc(accepted["accepted_at"]) == edt(22, 10)
    assert first_touch(accepted) == ("met", edt(20, 11), 30.0, "assignment", edt(20, 10))
    # One touch of three required, whatever the reason.
    no_need = rows["no_need_one_call"]
    assert (no_need["disqualification_reason"], no_need["contact_attempts"], no_need["contact_attempts_required"]) == (
        "no_need",
        1,
        3,
    )
    assert no_need["contact_attempts_sla_status"] == "breached"
    assert (no_need["accept_reject_sla_status"], no_need["rejection_reason_sla_status"]) == ("met", "met")
    # The clock starts at the assignment Tue 15:00 (inside hours): due 16:00, touched after 45 minutes.
    assert first_touch(rows["assigned_after_mql"]) == ("met", edt(20, 16), 45.0, "assignment", edt(20, 15))
    # Held since Monday: the reassignment Tue 14:00 does not restart the clock, which runs from the MQL.
    assert first_touch(rows["reassigned"]) == ("breached", edt(20, 11), 270.0, "assignment", edt(20, 10))
    # No assignment recorded (an integration user is no owner): from the MQL, and the column says so.
    assert first_touch(rows["unassigned"]) == ("breached", edt(20, 11), 150.0, "mql", edt(20, 10))
    assert rows["unassigned"]["owner_status"] == "unassigned"
    assert first_touch(rows["email_mismatch"])[0] == "not_applicable"
    assert rows["email_mismatch"]["first_touch_clock_from"] is None


def test_earlier_settings_pinned(agreement: Warehouse, tmp_path: Path) -> None:
    rows = built(agreement, definitions(tmp_path, *EARLIER))
    # 8 business hours from Fri 18:00: the whole of Monday, due Mon 17:00.
    assert first_touch(rows["friday_evening"])[:3] == ("met", edt(19, 17), 420.0)
    # 24 business hours = three working days: Tue 10:00 -> Fri 10:00.
    accepted = rows["accepted_after_48h"]
    assert (accepted["accept_reject_sla_status"], _utc(accepted["accept_reject_due_at"])) == ("met", edt(23, 10))
    assert rows["no_need_one_call"]["contact_attempts_sla_status"] == "not_applicable"


def test_mql_clock_restart_and_exempt_reasons(agreement: Warehouse, tmp_path: Path) -> None:
    rows = built(agreement, definitions(tmp_path, *MQL_CLOCK))
    # From the MQL Tue 10:00: due 11:00, touched at 15:45 = 345 business minutes.
    assert first_touch(rows["assigned_after_mql"]) == ("breached", edt(20, 11), 345.0, "mql", edt(20, 10))
    rows = built(agreement, definitions(tmp_path, *RESTART, *EXEMPT))
    # Restarted at the reassignment Tue 14:00: due 15:00, touched after 30 minutes.
    assert first_touch(rows["reassigned"]) == ("met", edt(20, 15), 30.0, "assignment", edt(20, 14))
    assert first_touch(rows["assigned_after_mql"])[:4] == ("met", edt(20, 16), 45.0, "assignment")
    assert rows["no_need_one_call"]["contact_attempts_sla_status"] == "not_applicable"


def test_email_mismatch_is_a_conflict_and_both_addresses_are_kept(agreement: Warehouse, tmp_path: Path) -> None:
    rows = built(agreement, definitions(tmp_path, *SHIPPED))
    mismatch, match = rows["email_mismatch"], rows["email_match"]
    assert (mismatch["hubspot_contact_id"], mismatch["email"], mismatch["email_other_crm"]) == (
        "5001",
        "ann@new.example.com",
        "ann@old.example.com",
    )
    assert bool(mismatch["has_identity_conflict"]) and not bool(match["has_identity_conflict"])
    assert (match["hubspot_contact_id"], match["email"], match["email_other_crm"]) == ("5002", "bob@example.com", None)
    conflicts = read_table(agreement, IDENTITY_CONFLICTS).to_dict("records")
    keys = f"hubspot:contact:5001,salesforce:lead:{LEADS['email_mismatch']}"
    assert conflicts == [
        {
            "conflict_key": f"email_mismatch|{keys}",
            "kind": "email_mismatch",
            "email_normalized": "ann@old.example.com",
            "record_keys": keys,
            "person_keys": "hubspot:contact:5001",
            "detail": f"hubspot:contact:5001 has ann@old.example.com, salesforce:lead:{LEADS['email_mismatch']} "
            "has ann@new.example.com; linked by id, both kept",
        }
    ]
    assert all(r["email_other_crm"] is None for case, r in rows.items() if case != "email_mismatch")
