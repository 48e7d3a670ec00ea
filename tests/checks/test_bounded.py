"""Checks at scale: a DuckDB batch is read only in the columns its expectations judge, in chunks of a
configurable size, with the same verdicts, counts and offending ids as one whole-frame GX validation;
duplicates are counted in SQL with GX's semantics; results carry a capped sample of ids, not every row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks.engine import Batch, _validate_frames, gx_expectation, validate
from checks.model import ExpectationOutcome, Severity, Suite, SuiteResult, expect
from checks.suites.common import email_expectation, whole_table
from connectors.warehouse.warehouse import Warehouse

ROWS = 5_000  # three 2048-row chunks


def _people(engine: sa.Engine) -> None:
    """``people``: every 7th e-mail malformed, every 500th missing, keys duplicated in pairs from row 4000 on,
    a score, and a ``payload`` column that fails the query as soon as anything reads it."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"""CREATE TABLE people_base AS SELECT
                'p' || lpad(CAST(i AS VARCHAR), 5, '0') AS id,
                CASE WHEN i % 500 = 0 THEN NULL WHEN i % 7 = 0 THEN 'user' || i || '@nowhere'
                     ELSE 'user' || i || '@example.com' END AS email,
                CASE WHEN i >= 4000 THEN 'd' || (i // 2) ELSE 'k' || i END AS email_key,
                CASE WHEN i % 3 = 0 THEN NULL ELSE 'crm' || (i % 2) END AS system,
                CASE WHEN i % 900 = 0 THEN NULL ELSE CAST(i % 1500 AS VARCHAR) END AS source_id,
                i % 97 AS score
            FROM range({ROWS}) AS r(i)"""
        )
        conn.exec_driver_sql("CREATE VIEW people AS SELECT *, error('payload was read') AS payload FROM people_base")


def _suite(*expectations: object) -> Suite:
    return Suite("people__values", "people", Severity.WARN, whole_table("people"), tuple(expectations))  # type: ignore[arg-type]


EXPECTATIONS = (
    email_expectation(),
    expect("ExpectColumnValuesToNotBeNull", column="email"),
    expect("ExpectColumnValuesToBeUnique", column="email_key"),
    expect("ExpectCompoundColumnsToBeUnique", column_list=["system", "source_id"]),
    expect("ExpectColumnMaxToBeBetween", column="score", max_value=90),
)


@pytest.fixture
def duck(tmp_path: Path) -> sa.Engine:
    wh = Warehouse.from_url(f"duckdb:///{tmp_path}/wh.duckdb")
    _people(wh.engine)
    return wh.engine


def _comparable(result: SuiteResult) -> list[tuple[object, ...]]:
    return [(o.expectation, o.column, o.success, o.unexpected_count, sorted(o.sample_ids), o.observed)
            for o in result.outcomes]  # fmt: skip


def test_chunked_validation_equals_one_whole_frame(duck: sa.Engine) -> None:
    # Every column but the payload: the whole-frame reference reads the batch the way the engine used to.
    columns = "id, email, email_key, system, source_id, score"
    whole = Batch(duck, f"SELECT {columns} FROM people", ("id",), 10_000)
    reference: list[ExpectationOutcome] = _validate_frames(
        whole, [gx_expectation(e) for e in EXPECTATIONS], [whole.read(whole.sql)]
    )
    chunked = validate(duck, None, _suite(*EXPECTATIONS), sample_size=10_000, chunk_rows=2048)
    unchunked = validate(duck, None, _suite(*EXPECTATIONS), sample_size=10_000, chunk_rows=10**6)
    assert chunked.status == "failed" and chunked.rows == ROWS, chunked.error
    expected = [(o.expectation, o.column, o.success, o.unexpected_count, sorted(o.sample_ids), o.observed)
                for o in reference]  # fmt: skip
    assert _comparable(chunked) == _comparable(unchunked) == expected
    counts = {o.expectation: o.unexpected_count for o in chunked.outcomes}
    assert counts["expect_column_values_to_match_regex"] == len([i for i in range(ROWS) if i % 7 == 0 and i % 500 != 0])
    assert counts["expect_column_values_to_be_unique"] == ROWS - 4000
    assert counts["expect_compound_columns_to_be_unique"] > 0
    assert chunked.outcomes[-1].observed == "96"


def test_chunks_are_bounded_and_configurable(duck: sa.Engine) -> None:
    batch = Batch(duck, "SELECT id FROM people_base", ("id",), 10)
    assert [len(f) for f in batch.chunks(batch.sql, 2048)] == [2048, 2048, ROWS - 4096]
    assert [len(f) for f in batch.chunks(batch.sql, 4096)] == [4096, ROWS - 4096]
    empty = list(batch.chunks(f"{batch.sql} WHERE false", 2048))
    assert [(len(f), list(f.columns)) for f in empty] == [(0, ["id"])], "an empty batch is still one frame"


def test_each_expectation_reads_only_its_columns(duck: sa.Engine) -> None:
    with duck.connect() as conn:
        conn.exec_driver_sql("CALL enable_logging('QueryLog')")
    result = validate(duck, None, _suite(*EXPECTATIONS), chunk_rows=2048)
    # The source selects every column, payload included; reading it would raise.
    assert result.status == "failed", result.error
    with duck.connect() as conn:
        queries = [q for (q,) in conn.exec_driver_sql("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'")]
    batch_reads = [q.split(") SELECT ", 1)[1] for q in queries if q.startswith("WITH batch AS NOT MATERIALIZED (")]
    # One aggregate for every verdict, then a capped sample of each failing row-wise expectation.
    (aggregate,) = [q for q in batch_reads if q.startswith("count(*) AS element_count")]
    assert "max(score) AS v4" in aggregate and "GROUP BY system, source_id" in aggregate
    samples = sorted(q.split(" FROM ", 1)[0] for q in batch_reads if q != aggregate)
    assert samples == ["id", "id", "id", "id"]  # regex, not null, both uniqueness checks: all fail
    assert all(q.endswith("LIMIT 10") for q in batch_reads if q != aggregate)


def test_samples_are_capped_counts_are_not(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    with wh.engine.begin() as conn:
        people = sa.table("people", sa.column("id"), sa.column("email"), schema=wh.schema)
        conn.exec_driver_sql(f"CREATE TABLE {_qualified(wh, 'people')} (id VARCHAR, email VARCHAR)")
        conn.execute(people.insert(), [{"id": f"p{i:03d}", "email": "bad" if i % 2 else "a@b.co"} for i in range(300)])
    suite = Suite("people__emails", "people", Severity.WARN, whole_table("people"), (email_expectation(),))
    result = validate(wh.engine, wh.schema, suite, sample_size=5, chunk_rows=64)
    (outcome,) = result.outcomes
    assert (outcome.unexpected_count, len(outcome.sample_ids), result.rows) == (150, 5, 300)
    assert all(int(i[1:]) % 2 for i in outcome.sample_ids)


def _qualified(wh: Warehouse, table: str) -> str:
    return f'"{wh.schema}"."{table}"' if wh.schema else f'"{table}"'
