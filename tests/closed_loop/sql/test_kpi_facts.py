"""The KPI columns of closed_loop_leads (``sql.kpi_facts``) on hand-made people, on both engines, against values
computed by hand; the reference's functions (``leads._attribution``, ``bundles._campaign_memberships``,
``bundles._duplicates``) give the same on the same data. Whole sandboxes: test_lead_facts, test_equivalence.

The people (as_of 2026-04-01 12:00 UTC, calendar zone America/New_York):
  - pA: MQL 03-10 14:00. Memberships: 'zeta' (Campaign C1's HubSpot key) and 'alpha' (C2, no HubSpot key: its
    name) both at 03-01 00:00 (a tie: 'alpha' first), HubSpot 'hs-spring' at the contact's creation 03-05,
    campaign C9 absent from the Campaign table (its Id) at exactly the MQL (included), C1 one second after the
    MQL (excluded), a deleted member and one without CreatedDate (ignored). Opportunity 03-20: influenced.
    Won 2026-11-01 03:00 UTC = Oct 31 23:00 EDT: closed in October.
  - pB: no MQL, so cut at as_of. Memberships (as Contact): 'alpha' at 01-15 00:00 = the opportunity's creation
    (not before it: not influenced), 'zeta' 03-31, 'alpha' 04-02 (after as_of). Lost 03-01 04:59 UTC = Feb 28
    23:59 EST: closed in February.
  - pC: MQL 06-01, after as_of: cut at as_of. HubSpot 'hs-june' at 03-15. No opportunity: influenced null. Won
    03-01 05:00 UTC = Mar 1 00:00 EST: closed in March.
  - pD, pE: no memberships, never closed; created at the same instant.
shared_email conflicts {pA, pB, pC} (pB created first: only pB counts) and {pD, pE} (a tie: pD by key);
a link_disagreement {pD, pA} excludes nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.bundles import PersonBundle, _campaign_memberships, _duplicates
from pipelines.closed_loop.canonical import CanonicalFrames
from pipelines.closed_loop.leads import _attribution
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.kpi_facts import create_kpi_facts
from pipelines.closed_loop.sql.members import MEMBERS

AS_OF = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"


def t(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second)


# person_key, kind, source_id, campaign_key (HubSpot contacts'), created_at
MEMBER_ROWS = [
    ("pA", "salesforce_lead", "LA", None, t(3, 1)),
    ("pA", "hubspot_contact", "HA", "hs-spring", t(3, 5, 9)),
    ("pB", "salesforce_contact", "SB", None, t(1, 1)),
    ("pC", "hubspot_contact", "HC", "hs-june", t(3, 15)),
    ("pD", "salesforce_lead", "LD", None, t(1, 1)),
    ("pE", "hubspot_contact", "HE", None, t(1, 1)),
]
# person_key, mql_at, opportunity_at, won_at, lost_at
JOURNEYS = [
    ("pA", t(3, 10, 14), t(3, 20), t(11, 1, 3), None),
    ("pB", None, t(1, 15), None, t(3, 1, 4, 59)),
    ("pC", t(6, 1), None, t(3, 1, 5), None),
    ("pD", None, None, None, None),
    ("pE", None, None, None, None),
]
RAW: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]]]] = {
    "raw_salesforce__campaign": (
        {"id": sa.String, "hubspot_campaign__c": sa.String, "name": sa.String},
        [("C1", "zeta", "Zeta Name"), ("C2", None, "alpha")],
    ),
    "raw_salesforce__campaignmember": (
        {
            "id": sa.String,
            "campaignid": sa.String,
            "leadid": sa.String,
            "contactid": sa.String,
            "createddate": sa.DateTime,
            "_is_deleted": sa.Boolean,
        },
        [
            ("m1", "C1", "LA", None, t(3, 1), False),
            ("m2", "C2", "LA", None, t(3, 1), False),
            ("m3", "C9", "LA", None, t(3, 10, 14), False),
            ("m4", "C1", "LA", None, t(3, 10, 14, 0, 1), False),
            ("m5", "C2", "LA", None, t(2, 1), True),
            ("m6", "C2", "LA", None, None, False),
            ("n0", "C2", None, "SB", t(1, 15), False),
            ("n1", "C1", None, "SB", t(3, 31), False),
            ("n2", "C2", None, "SB", t(4, 2), False),
        ],
    ),
    "identity_conflicts": (
        {"conflict_key": sa.String, "kind": sa.String, "person_keys": sa.String},
        [
            ("shared_email|a", "shared_email", "pA,pB,pC"),
            ("shared_email|d", "shared_email", "pD,pE"),
            ("link_disagreement|x", "link_disagreement", "pA,pD"),
        ],
    ),
}
# person_key -> (first touch, last touch, marketing influenced, counts as lead, closed month)
EXPECTED = {
    "pA": ("alpha", "C9", True, False, datetime(2026, 10, 1).date()),
    "pB": ("alpha", "zeta", False, True, datetime(2026, 2, 1).date()),
    "pC": ("hs-june", "hs-june", None, False, datetime(2026, 3, 1).date()),
    "pD": (None, None, None, True, None),
    "pE": (None, None, None, False, None),
}


def _write_raw(wh: Warehouse) -> None:
    metadata = sa.MetaData(schema=wh.schema)
    with wh.engine.begin() as conn:
        for name, (columns, rows) in RAW.items():
            table = sa.Table(name, metadata, *(sa.Column(c, kind) for c, kind in columns.items()))
            table.create(conn)
            conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


def test_kpi_columns_by_hand(warehouse: Warehouse) -> None:
    _write_raw(warehouse)
    with warehouse.engine.begin() as conn:
        ctx = SqlContext(conn, warehouse.schema)
        ctx.values(
            MEMBERS,
            {
                "person_key": "text",
                "kind": "text",
                "source_id": "text",
                "campaign_key": "text",
                "created_at": "timestamp",
            },
            MEMBER_ROWS,
        )
        ctx.values(
            "test_journeys",
            {
                "person_key": "text",
                "mql_at": "timestamp",
                "opportunity_at": "timestamp",
                "won_at": "timestamp",
                "lost_at": "timestamp",
            },
            JOURNEYS,
        )
        table = create_kpi_facts(ctx, AS_OF, "test_journeys", ZONE)
        rows = ctx.rows(
            f"SELECT person_key, first_touch_campaign_key, last_touch_campaign_key, marketing_influenced, "
            f"counts_as_lead, closed_month FROM {table} ORDER BY person_key"
        )
    assert {r[0]: tuple(r[1:]) for r in rows} == EXPECTED


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def test_reference_gives_the_same_by_hand() -> None:
    """The reference's pieces on the same people: attribution and influence per bundle, the duplicates."""
    raw = Frames({name: pd.DataFrame(rows, columns=list(columns)) for name, (columns, rows) in RAW.items()})
    by_lead, by_contact = _campaign_memberships(raw)
    people: dict[str, list[dict[str, Any]]] = {p: [] for p, *_ in MEMBER_ROWS}
    memberships: dict[str, list[tuple[datetime, str]]] = {p: [] for p in people}
    for person_key, kind, source_id, campaign_key, created_at in MEMBER_ROWS:
        people[person_key].append({"is_deleted": False, "created_at": created_at})
        if kind == "salesforce_lead":
            memberships[person_key] += by_lead.get(source_id, [])
        elif kind == "salesforce_contact":
            memberships[person_key] += by_contact.get(source_id, [])
        elif campaign_key:
            memberships[person_key].append((created_at.replace(tzinfo=UTC), campaign_key))
    conflicts = pd.DataFrame(RAW["identity_conflicts"][1], columns=["conflict_key", "kind", "person_keys"])
    frames = CanonicalFrames(*(pd.DataFrame() for _ in range(3)), conflicts, pd.DataFrame(), pd.DataFrame())
    duplicates = _duplicates(frames, people)
    for person_key, mql_at, opportunity_at, _, _ in JOURNEYS:
        b = PersonBundle(person_key, campaign_memberships=memberships[person_key])
        got = _attribution(b, _aware(mql_at), _aware(opportunity_at), AS_OF)
        assert (*got, person_key not in duplicates) == EXPECTED[person_key][:4], person_key
