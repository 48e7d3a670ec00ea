"""One ``validate`` over two engines: DuckDB batches go to GX as pandas frames, PostgreSQL batches as SQL.

GX's SQL execution engine fails on DuckDB through duckdb-engine (``IndexError`` in ``resolve_metric_bundle``,
GX issues 10738 and 11579), so a DuckDB batch is read with DuckDB's own Arrow reader and validated in memory;
on PostgreSQL the batch stays in the database and GX pushes each metric down as SQL. Either way the suite and
the result look the same. Each call uses a fresh ephemeral GX context: nothing is written to disk.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

# A nightly pipeline must not phone home; GX reads this when a context is created.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from checks.live_tables import Catalog  # noqa: E402
from checks.model import SAMPLE_SIZE, ExpectationOutcome, Suite, SuiteResult  # noqa: E402


def validate(engine: sa.Engine, schema: str | None, suite: Suite, sample_size: int = SAMPLE_SIZE) -> SuiteResult:
    """Run ``suite`` against its batch; a batch that cannot be built (missing table/column) is an ``error``.
    ``sample_size`` caps the offending ids kept per expectation (reports need a sample, audits may want all)."""
    catalog = Catalog(engine, schema)
    try:
        select = suite.source(catalog)
        sql = _literal_sql(select, engine)
        batch, rows = _pandas_batch(engine, sql) if engine.dialect.name == "duckdb" else _postgres_batch(engine, sql)
        gx_suite = gx.ExpectationSuite(name=suite.name, expectations=[e.copy(deep=True) for e in suite.expectations])
        validation = batch.validate(
            gx_suite,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": list(suite.id_columns)},
        )
    except Exception as exc:  # a broken check is reported as such, never crashes the run it guards
        return SuiteResult(suite.name, suite.asset, suite.severity, "error", 0, (), f"{type(exc).__name__}: {exc}")
    outcomes = tuple(_outcome(r, suite.id_columns, sample_size) for r in validation.results)
    broken = [o for o in outcomes if o.meta.get("exception")]
    if broken:
        return SuiteResult(
            suite.name, suite.asset, suite.severity, "error", rows, outcomes, broken[0].meta["exception"]
        )
    status: Literal["passed", "failed"] = "passed" if all(o.success for o in outcomes) else "failed"
    return SuiteResult(suite.name, suite.asset, suite.severity, status, rows, outcomes)


def _literal_sql(select: sa.Select, engine: sa.Engine) -> str:
    # Sources only bind our own constants (stage names, reason codes), so inlining them is safe and lets the
    # same text run as a GX query asset, which takes no parameters.
    return str(select.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _pandas_batch(engine: sa.Engine, sql: str) -> tuple[Any, int]:
    raw = engine.raw_connection()
    try:
        assert raw.driver_connection is not None  # a pooled DuckDB connection always has its driver connection
        frame = raw.driver_connection.execute(sql).df()
    finally:
        raw.close()
    asset = _context().data_sources.add_pandas("duckdb").add_dataframe_asset("batch")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    return batch, len(frame)


def _postgres_batch(engine: sa.Engine, sql: str) -> tuple[Any, int]:
    with engine.connect() as conn:
        rows = int(conn.execute(sa.text(f"SELECT count(*) FROM ({sql}) AS batch")).scalar_one())
    url = engine.url.render_as_string(hide_password=False)
    source = _context().data_sources.add_postgres("warehouse", connection_string=url)
    asset = source.add_query_asset(f"q_{uuid.uuid4().hex[:8]}", query=sql)
    return asset.add_batch_definition_whole_table("all").get_batch(), rows


def _outcome(result: Any, id_columns: Iterable[str], sample_size: int) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs: Mapping[str, Any] = config.kwargs
    column = kwargs.get("column") or ",".join(
        str(c) for c in (kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if k in kwargs])
    )
    info = result.exception_info or {}
    exception = info.get("exception_message") if info.get("raised_exception") else None
    details: Mapping[str, Any] = result.result or {}
    observed = details.get("observed_value")
    return ExpectationOutcome(
        expectation=config.type,
        column=str(column),
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or (0 if result.success or observed is None else 1)),
        sample_ids=_sample_ids(details.get("unexpected_index_list") or (), tuple(id_columns), sample_size),
        observed=None if observed is None else str(observed),
        meta={"exception": str(exception)} if exception else {},
    )


def _sample_ids(index_list: Iterable[Any], id_columns: tuple[str, ...], limit: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in index_list:
        if not isinstance(row, Mapping):
            continue
        key = "|".join("" if _missing(row.get(c)) else str(row.get(c)) for c in id_columns)
        seen.setdefault(key, None)
        if len(seen) >= limit:
            break
    return tuple(seen)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))
