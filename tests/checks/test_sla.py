"""SLA compliance counted in the warehouse from closed_loop_leads rows (DuckDB and PostgreSQL): per rule, owner, team and month; ignored leads with their age;
the monthly MQL commitment; an owner who keeps breaching escalates after N runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import sqlalchemy as sa

from checks.alerts.escalation import escalations
from checks.sla.evaluate import audit
from checks.sla.store import SlaStore
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import table_for
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import Escalation

AS_OF = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


def _lead(
    key: str,
    owner: str,
    team: str,
    mql_at: datetime | None,
    touched: bool,
    first: str,
    accept: str = "met",
    reason: str = "not_applicable",
    attempts: str = "not_applicable",
) -> dict[str, object]:
    return {
        "person_key": key,
        "owner_key": owner,
        "owner_team": team,
        "mql_at": mql_at,
        "mql_month": mql_at.date().replace(day=1) if mql_at else None,
        "mql_inferred": False,
        "first_touch_at": mql_at + timedelta(minutes=30) if touched and mql_at else None,
        "score_at_mql": 70.0,
        "first_touch_sla_status": first,
        "accept_reject_sla_status": accept,
        "rejection_reason_sla_status": reason,
        "contact_attempts_sla_status": attempts,
    }


def _leads() -> pd.DataFrame:
    friday = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # 10:00 New York
    return pd.DataFrame(
        [
            _lead("p1", "005A", "SDR East", friday, True, "met"),
            _lead("p2", "005A", "SDR East", friday, False, "breached", accept="breached"),  # ignored
            _lead(
                "p3",
                "005B",
                "SDR West",
                datetime(2026, 9, 10, 14, tzinfo=UTC),
                True,
                "breached",
                reason="breached",
                attempts="breached",
            ),
            _lead("p4", "005B", "SDR West", AS_OF - timedelta(minutes=20), False, "pending", accept="pending"),
            _lead("p5", "005B", "SDR West", None, False, "not_applicable", accept="not_applicable"),
        ]
    )


def _table(wh: Warehouse) -> sa.Table:
    return table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=wh.schema))


def _records(leads: pd.DataFrame) -> list[dict[str, object]]:
    frame = leads.astype(object)
    return [{str(k): v for k, v in r.items()} for r in frame.where(frame.notna(), None).to_dict("records")]


def _land(wh: Warehouse, leads: pd.DataFrame) -> None:
    """``leads`` as the warehouse's closed_loop_leads (the columns given; the others null)."""
    table = _table(wh)
    with wh.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), _records(leads))


def _landed(wh: Warehouse) -> None:
    """``_leads()`` as the warehouse's closed_loop_leads (the columns the audit reads; the others null)."""
    _land(wh, _leads())


def test_rules_rollups_ignored_leads_and_commitment(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    _landed(wh)
    result = audit(wh.engine, wh.schema, load_definitions(), AS_OF)
    by_rule = {r.rule: (r.met, r.breached, r.pending, r.breaching_leads) for r in result.rules}
    assert by_rule == {
        "first_touch": (1, 2, 1, ("p2", "p3")),
        "accept_reject": (2, 1, 1, ("p2",)),
        "rejection_reason": (0, 1, 0, ("p3",)),
        "contact_attempts": (0, 1, 0, ("p3",)),
    }
    owners = result.rollups.query("dimension == 'owner' and rule == 'first_touch'").set_index("member")
    assert list(owners.loc["005A", ["met", "breached", "compliance"]]) == [1, 1, 0.5]
    months = result.rollups.query("dimension == 'month' and rule == 'first_touch'").set_index("member")
    assert months.loc["2026-09", "breached"] == 1 and months.loc["2026-10", "leads"] == 2
    assert result.ignored["person_key"].tolist() == ["p2"] and result.ignored_count == 1
    ignored = result.ignored.iloc[0]
    # Friday 10:00 -> Monday 10:00 New York: 3 calendar days, 7 h Friday + 1 h Monday of business time.
    assert (ignored["age_days"], ignored["age_business_hours"]) == (3.0, 8.0)
    commitment = {c.month.isoformat(): (c.status, c.count) for c in result.commitment}
    assert commitment == {"2026-09-01": ("breached", 1), "2026-10-01": ("breached", 2), "2026-11-01": ("pending", 1)}
    records = {r.check_name: (r.status, r.unexpected_count) for r in result.records()}
    assert records["sla__ignored_leads"] == ("failed", 1) and records["sla__mql_commitment"] == ("failed", 2)
    ignored_rollup = result.rollups.query("rule == 'ignored'")
    assert ignored_rollup[["member", "leads", "breached"]].values.tolist() == [["005A", 1, 1]]
    by_team = result.rollups.query("dimension == 'team' and rule == 'first_touch'").set_index("member")
    assert by_team["leads"].to_dict() == {"SDR East": 2, "SDR West": 2}


def test_owner_escalates_after_n_breaches_in_a_row(warehouse_factory: Callable[[], Warehouse]) -> None:
    """Escalation counts an owner's breached outcomes in a row (in the order their deadlines fell), not nightly
    runs: one old breach seen night after night never escalates."""
    wh = warehouse_factory()
    day = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)

    def lead(key: str, owner: str, days: int, first: str, accept: str = "not_applicable") -> dict[str, object]:
        row = _lead(key, owner, "SDR East", day + timedelta(days=days), first != "breached", first, accept=accept)
        due = day + timedelta(days=days, hours=1)
        return {**row, "first_touch_due_at": due, "accept_reject_due_at": due + timedelta(hours=23)}

    leads = [
        # 005A, by deadline: met x2 (day 0), then breached x2: a1's accept/reject (day 1, 0:00 UTC) before a2's
        # first touch (day 1, 15:00 UTC), whatever the order of the rows.
        lead("a2", "005A", 1, "breached"),
        lead("a0", "005A", 0, "met"),
        lead("a1", "005A", 0, "met", accept="breached"),
        lead("a3", "005A", 3, "pending", accept="pending"),  # undecided: neither breaks nor extends the streak
        # 005B: three breaches, then a met deadline last: the streak is broken.
        lead("b0", "005B", 0, "breached"),
        lead("b1", "005B", 1, "breached"),
        lead("b2", "005B", 2, "breached"),
        lead("b3", "005B", 3, "met"),
        # 005C: a single breach, still in the table on every later night.
        lead("c0", "005C", 0, "breached"),
    ]
    _land(wh, pd.DataFrame(leads))
    policy = Escalation(3, "email")
    for _night in range(4):  # the old rule escalated 005C (and 005A) after three nights of the same breaches
        assert escalations(wh.engine, wh.schema, [], policy) == []
    # 005A's next deadline is breached too: three in a row (a1's accept and a2 on day 1, a4 on day 4).
    with wh.engine.begin() as conn:
        conn.execute(_table(wh).insert(), _records(pd.DataFrame([lead("a4", "005A", 4, "breached")])))
    found = {(e.kind, e.subject, e.runs) for e in escalations(wh.engine, wh.schema, [], policy)}
    assert found == {("owner", "005A", 3)}
