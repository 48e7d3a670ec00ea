"""Expectations computed in DuckDB (``checks.sql_expectations``) give GX's pandas verdicts: on every suite the
definitions build over a warehouse built from the sandbox, and on small hand-made tables for the edge semantics (nulls,
``mostly``, strict bounds, regexes, pair and compound keys, empty batches)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks.engine import Batch, _literal_sql, _validate_frames, expectation_columns, gx_expectation, validate
from checks.live_tables import Catalog
from checks.model import Expect, ExpectationOutcome, Severity, Suite, SuiteResult, expect
from checks.run import every_suite
from checks.sql_expectations import column_types, python_regex_as_re2, translate
from checks.suites.common import EMAIL_REGEX, whole_table
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_canonical, write_closed_loop
from pipelines.funnel.definitions import load_definitions
from tests.closed_loop.sql.conftest import extract_duckdb

AS_OF = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
UNCAPPED = 10**6


def _key(o: ExpectationOutcome) -> tuple[object, ...]:
    return (o.expectation, o.column, o.success, o.unexpected_count, sorted(o.sample_ids), o.observed, o.meta)


def _gx_whole_frame(engine: sa.Engine, suite: Suite, catalog: Catalog) -> tuple[list[ExpectationOutcome], int]:
    """The reference: GX's pandas engine over the whole batch, projected to the columns the suite judges."""
    batch = Batch(engine, _literal_sql(suite.source(catalog), engine), tuple(suite.id_columns), UNCAPPED)
    columns = (*suite.id_columns, *(c for e in suite.expectations for c in expectation_columns(e)))
    frame = batch.read(batch.projected(columns))
    return _validate_frames(batch, [gx_expectation(e) for e in suite.expectations], [frame]), len(frame)


def _assert_equals_gx(engine: sa.Engine, suite: Suite) -> SuiteResult:
    got = validate(engine, None, suite, sample_size=UNCAPPED)
    reference, rows = _gx_whole_frame(engine, suite, Catalog(engine, None))
    assert got.status != "error", (suite.name, got.error)
    assert (got.rows, [_key(o) for o in got.outcomes]) == (rows, [_key(o) for o in reference]), suite.name
    return got


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox extracted through the real connectors with every harmonised table built (closed again)."""
    path = extract_duckdb(tmp_path_factory.mktemp("sql_expectations"), seed=5, size=150)
    wh = Warehouse.from_url(f"duckdb:///{path}")
    try:
        defs = load_definitions()
        write_canonical(wh, defs)
        write_closed_loop(wh, defs, AS_OF)
    finally:
        wh.close()
    return path


def test_every_suite_equals_gx_pandas_on_a_built_warehouse(built_warehouse: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{built_warehouse}")
    catalog = Catalog(engine, None)
    suites = [s for s in every_suite(load_definitions(), AS_OF) if catalog.exists(s.asset)]
    types = {}
    results = [_assert_equals_gx(engine, s) for s in suites]
    for suite in suites:
        batch = Batch(engine, _literal_sql(suite.source(catalog), engine), tuple(suite.id_columns), 10)
        types[suite.name] = column_types(batch)
    untranslated = [
        (s.name, e.kind) for s in suites for e in s.expectations if translate(e, types[s.name], lambda c: c) is None
    ]
    assert len(suites) == 89 and untranslated == [], "every kind the suites use runs in the warehouse"
    assert {r.status for r in results} == {"passed", "failed"}


@pytest.fixture
def duck(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"duckdb:///{tmp_path}/edges.duckdb")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            r"""CREATE TABLE edges AS SELECT id, email, tag, n, CAST(score AS DOUBLE) AS score, flag, seen,
                CAST(a AS DOUBLE) AS a, CAST(b AS DOUBLE) AS b, a AS int_a, b AS int_b FROM (VALUES
                ('r1', 'a@b.co',                   'x', 1,    1.0,  TRUE,  TIMESTAMP '2026-11-01 10:00:00', 5,    5),
                ('r2', 'a@b.co' || chr(10),        'y', 2,    2.5,  FALSE, TIMESTAMP '2026-11-01 11:00:00', 5,    NULL),
                ('r3', 'a' || chr(160) || '@b.co', NULL, 3,   NULL, NULL,  NULL,                            NULL, NULL),
                ('r4', 'a' || chr(28) || 'b@c.de', 'x', NULL, 10.0, TRUE,  TIMESTAMP '2026-11-02 09:00:00', 7,    6),
                ('r5', 'ü@exämple.org',            'z', 3,    -1.0, TRUE,  TIMESTAMP '2026-11-01 09:00:00', NULL, 4),
                ('r6', NULL,                       'y', 10,   0.0,  FALSE, TIMESTAMP '2026-11-02 09:00:00', 6,    6),
                ('r7', 'a@b.c.',                   NULL, 10,  5.0,  TRUE,  NULL,                            1,    2),
                ('r8', 'x y@b.co',                 'x', 3,    5.0,  NULL,  TIMESTAMP '2026-10-01 00:00:00', 2,    1)
            ) AS t(id, email, tag, n, score, flag, seen, a, b)"""
        )
        conn.exec_driver_sql("CREATE TABLE empty AS SELECT * FROM edges WHERE FALSE")
    return engine


EDGES = (
    expect("ExpectColumnValuesToMatchRegex", column="email", regex=EMAIL_REGEX),
    expect("ExpectColumnValuesToNotMatchRegex", column="email", regex=r"\s"),
    expect("ExpectColumnValuesToMatchRegex", column="email", regex=r"^a", mostly=0.72),
    expect("ExpectColumnValuesToMatchRegex", column="email", regex=r"^a", mostly=0.71),
    expect("ExpectColumnValuesToNotBeNull", column="tag"),
    expect("ExpectColumnValuesToNotBeNull", column="tag", mostly=0.75),
    expect("ExpectColumnValuesToBeNull", column="seen", mostly=0.25),
    expect("ExpectColumnValuesToBeNull", column="seen"),
    expect("ExpectColumnValuesToBeInSet", column="tag", value_set=["x", "y"]),
    expect("ExpectColumnValuesToNotBeInSet", column="tag", value_set=["z"]),
    expect("ExpectColumnValuesToBeInSet", column="flag", value_set=[True]),
    expect("ExpectColumnValuesToBeInSet", column="n", value_set=[1, 2, 3]),
    expect("ExpectColumnValuesToBeBetween", column="score", min_value=0, max_value=5),
    expect("ExpectColumnValuesToBeBetween", column="score", min_value=0, max_value=5, strict_min=True),
    expect("ExpectColumnValuesToBeBetween", column="score", min_value=0, max_value=5, strict_max=True, mostly=0.7),
    expect("ExpectColumnValuesToBeUnique", column="n"),
    expect("ExpectColumnValuesToBeUnique", column="tag"),
    expect("ExpectCompoundColumnsToBeUnique", column_list=["tag", "flag"]),
    expect("ExpectCompoundColumnsToBeUnique", column_list=["tag", "flag"], ignore_row_if="any_value_is_missing"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="a", column_B="b"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="a", column_B="b", ignore_row_if="either_value_is_missing"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="a", column_B="b", ignore_row_if="neither"),
    expect("ExpectColumnPairValuesAToBeGreaterThanB", column_A="a", column_B="b"),
    expect("ExpectColumnPairValuesAToBeGreaterThanB", column_A="a", column_B="b", or_equal=True, mostly=0.5),
    expect("ExpectColumnMaxToBeBetween", column="seen", min_value=datetime(2026, 11, 2, 9)),
    expect("ExpectColumnMaxToBeBetween", column="seen", min_value=datetime(2026, 11, 2, 9), strict_min=True),
    expect("ExpectColumnMinToBeBetween", column="score", min_value=-1, max_value=0, strict_max=True),
    expect("ExpectColumnMaxToBeBetween", column="n", max_value=10, strict_max=True),
    expect("ExpectTableRowCountToBeBetween", min_value=1, max_value=8),
    expect("ExpectTableRowCountToBeBetween", min_value=1, max_value=8, strict_max=True),
)


def _edge_suite(table: str, *expectations: Expect) -> Suite:
    return Suite(f"{table}__edges", table, Severity.WARN, whole_table(table), expectations)


def test_edge_semantics_equal_gx_pandas(duck: sa.Engine) -> None:
    result = _assert_equals_gx(duck, _edge_suite("edges", *EDGES))
    batch = Batch(duck, "SELECT * FROM edges", ("id",), 10)
    assert all(translate(e, column_types(batch), batch.quote) is not None for e in EDGES), "all ran as SQL"
    verdicts = {(o.expectation, o.column): (o.success, o.unexpected_count) for o in result.outcomes[:2]}
    # Python's ``$`` accepts a trailing newline, its ``\s`` the no-break space and the file separator.
    assert verdicts[("expect_column_values_to_match_regex", "email")] == (False, 4)  # r3, r4, r7, r8
    assert verdicts[("expect_column_values_to_not_match_regex", "email")] == (False, 4)  # r2, r3, r4, r8
    assert [o.success for o in result.outcomes[2:4]] == [False, True]  # 5 of 7 non-null e-mails start with a
    assert result.outcomes[-1].observed == "8" and not result.outcomes[-1].success


def test_integer_pairs_with_one_missing_value_offend_as_float_pairs_do(duck: sa.Engine) -> None:
    # GX's pandas engine raises on these ("boolean value of NA is ambiguous": DuckDB hands nullable integers to
    # pandas as Int32) and the old path reported a failure with no count; SQL gives the float pairs' verdict.
    pairs = [
        expect("ExpectColumnPairValuesToBeEqual", column_A="int_a", column_B="int_b"),
        expect("ExpectColumnPairValuesToBeEqual", column_A="a", column_B="b"),
        expect("ExpectColumnPairValuesAToBeGreaterThanB", column_A="int_a", column_B="int_b", ignore_row_if="neither"),
        expect("ExpectColumnPairValuesAToBeGreaterThanB", column_A="a", column_B="b", ignore_row_if="neither"),
    ]
    result = validate(duck, None, _edge_suite("edges", *pairs), sample_size=UNCAPPED)
    ints, floats = result.outcomes[::2], result.outcomes[1::2]
    assert [_key(o)[2:5] for o in ints] == [_key(o)[2:5] for o in floats]
    assert [o.unexpected_count for o in ints] == [5, 6]


def test_an_empty_batch_equals_gx_pandas(duck: sa.Engine) -> None:
    result = _assert_equals_gx(duck, _edge_suite("empty", *EDGES))
    assert result.rows == 0 and result.outcomes[-1].observed == "0"


def test_untranslatable_expectations_keep_gx_pandas(duck: sa.Engine) -> None:
    kept = (
        expect("ExpectColumnValueLengthsToBeBetween", column="email", min_value=7),  # no SQL restatement
        expect("ExpectColumnValuesToMatchRegex", column="email", regex=r"^\w+@"),  # \w is Unicode in Python
        expect("ExpectColumnValuesToBeInSet", column="score", value_set=[1.0, 5.0]),  # floats: not translated
        expect("ExpectColumnValuesToBeUnique", column="a", mostly=0.5),
    )
    batch = Batch(duck, "SELECT * FROM edges", ("id",), 10)
    assert [translate(e, column_types(batch), batch.quote) for e in kept[:3]] == [None, None, None]
    result = _assert_equals_gx(duck, _edge_suite("edges", *kept, *EDGES[:2]))
    assert [o.unexpected_count for o in result.outcomes[:3]] == [2, 3, 4]  # r5 (ü) is a Python \w


def test_regex_rewrite_matches_python_whitespace_and_end(duck: sa.Engine) -> None:
    spaces = [chr(i) for i in range(0x3001) if re.match(r"\s", chr(i))]
    rewritten = python_regex_as_re2(r"^\s$")
    assert rewritten is not None
    with duck.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT list(i ORDER BY i) FROM range(1, 12289) AS r(i) WHERE regexp_matches(chr(CAST(i AS INTEGER)), ?)",
            (rewritten,),
        ).scalar_one()
    assert [chr(i) for i in found] == spaces
    for pattern in (r"\d", r"\w", r"\b", r"(?i)a", r"a$b", r"\S"):
        assert python_regex_as_re2(pattern) is None, pattern


def test_sql_restated_kinds_carry_gx_names_and_need_no_gx_import(tmp_path: Path) -> None:
    """The warehouse path names each outcome as GX would without building the GX object, so a DuckDB run whose
    expectations are all restated never imports great_expectations (seconds of start-up per run)."""
    import subprocess
    import sys

    import great_expectations.expectations as gxe

    from checks.engine import expectation_type
    from checks.sql_expectations import _BUILDERS

    for kind in _BUILDERS:
        assert expectation_type(kind) == getattr(gxe, kind).expectation_type, kind
    script = f"""
import sys
import sqlalchemy as sa
from checks.engine import validate
from checks.model import Severity, Suite, expect
from checks.suites.common import whole_table
engine = sa.create_engine("duckdb:///{tmp_path / "w.duckdb"}")
with engine.begin() as conn:
    conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS id, range % 3 AS v FROM range(10)")
suite = Suite("t__keys", "t", Severity.ERROR, whole_table("t", "id", "v"),
              (expect("ExpectColumnValuesToBeUnique", column="id"), expect("ExpectColumnValuesToBeInSet", column="v", value_set=[0, 1])),
              id_columns=("id",))
result = validate(engine, None, suite)
assert result.status == "failed" and result.unexpected_count == 3, result
print("great_expectations" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
