"""Staged text equals the reference's ``values.text`` for any string, on the fast path (DuckDB, a column whose
value neither starts nor ends with whitespace) and the trimming path alike."""

from __future__ import annotations

import duckdb
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.values import WHITESPACE, text

_EDGES = st.sampled_from([*WHITESPACE, "\u00a0", "\x00", "é", "😀", "a", " a ", ""])
_TEXT = st.lists(st.one_of(st.text(max_size=4), _EDGES), max_size=5).map("".join)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=30))
def test_clean_equals_the_reference_text(values: list[str | None]) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.begin() as conn:
        raw: duckdb.DuckDBPyConnection = conn.connection.dbapi_connection  # type: ignore[assignment]
        raw.execute("CREATE TEMPORARY TABLE t (i INTEGER, x VARCHAR)")
        raw.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        ctx = SqlContext(conn, None)
        assert ctx.clean("x") != ctx.clean("CAST(x AS VARCHAR)"), "a column takes the fast path"
        rows = ctx.rows(f"SELECT {ctx.clean('x')}, {ctx.clean('CAST(x AS VARCHAR)')} FROM t ORDER BY i")
    expected = [text(v) or None for v in values]
    assert [r[0] for r in rows] == expected
    assert [r[1] for r in rows] == expected
