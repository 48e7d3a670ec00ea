"""The report's Markdown summary judges marketing's MQL commitment at the instant the closed loop was judged at,
not at the latest change a lead shows (DuckDB and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import table_for
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.report.markdown import mql_commitment


def test_commitment_is_judged_at_the_builds_as_of(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    defs = load_definitions()
    table = table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=wh.schema))
    mql = datetime(2026, 11, 2, 15, 0)  # naive UTC, as stored: Monday 2 November, 10:00 in New York
    rows = [
        {
            "person_key": f"p{i}",
            "mql_at": mql + timedelta(days=i),
            "mql_inferred": False,
            "score_at_mql": 70.0,
            "last_updated_at": datetime(2026, 12, 5, 9, 0),  # touched after November ended
        }
        for i in range(3)
    ]
    with wh.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), rows)
    with wh.engine.connect() as conn:
        during = mql_commitment(conn, wh.schema, defs, datetime(2026, 11, 10, tzinfo=UTC))
        after = mql_commitment(conn, wh.schema, defs, datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    # 3 MQLs scoring 70 >= 60 against 150 a month: on 10 November the month can still make it (pending); at
    # midnight 1 December in New York (05:00 UTC) it has ended short (breached). Judged at the latest
    # last_updated_at (5 December), both would read "breached".
    assert [(c.month.isoformat(), c.count, c.status) for c in during] == [("2026-11-01", 3, "pending")]
    assert [(c.month.isoformat(), c.count, c.status) for c in after] == [("2026-11-01", 3, "breached")]
