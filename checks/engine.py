"""One ``validate`` over two engines: DuckDB batches go to GX as pandas frames, PostgreSQL batches as SQL.

GX's SQL execution engine fails on DuckDB through duckdb-engine (``IndexError`` in ``resolve_metric_bundle``,
GX issues 10738 and 11579), so a DuckDB batch is read with DuckDB's own Arrow reader and validated in memory;
on PostgreSQL the batch stays in the database and GX pushes each metric down as SQL. Either way the suite and
the result look the same. Suites carry expectations as data (``checks.model.Expect``); this is the one module that
imports great_expectations, and it builds the GX objects when a suite is validated.

One ephemeral GX context per process (nothing is written to disk) serves every validation: creating one costs
more than most validations, and a run validates a hundred suites. DuckDB frames go through one reusable
dataframe batch definition; PostgreSQL has one datasource per warehouse URL (so one GX engine), with a query
asset per validation that is dropped once it ran.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

# A nightly pipeline must not phone home; GX reads this when a context is created.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from checks.live_tables import Catalog  # noqa: E402
from checks.model import SAMPLE_SIZE, Expect, ExpectationOutcome, Suite, SuiteResult  # noqa: E402

# The shared context is not thread-safe; steps of one process may run on threads (Dagster's in-process executor
# does not, a caller might).
_LOCK = threading.RLock()


def validate(engine: sa.Engine, schema: str | None, suite: Suite, sample_size: int = SAMPLE_SIZE) -> SuiteResult:
    """Run ``suite`` against its batch; a batch that cannot be built (missing table/column) is an ``error``.
    ``sample_size`` caps the offending ids kept per expectation (reports need a sample, audits may want all)."""
    catalog = Catalog(engine, schema)
    try:
        select = suite.source(catalog)
        sql = _literal_sql(select, engine)
        gx_suite = gx.ExpectationSuite(name=suite.name, expectations=[gx_expectation(e) for e in suite.expectations])
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": list(suite.id_columns)}
        with _LOCK:
            if engine.dialect.name == "duckdb":
                validation, rows = _validate_frame(engine, sql, gx_suite, result_format)
            else:
                validation, rows = _validate_query(engine, sql, gx_suite, result_format)
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


def gx_expectation(spec: Expect) -> Any:
    """The GX object ``spec`` describes; an unknown kind or a bad argument fails the check that uses it."""
    cls = getattr(gxe, spec.kind, None)
    if not isinstance(cls, type) or not issubclass(cls, gxe.Expectation):
        raise ValueError(f"{spec.kind!r} is not an expectation of great_expectations.expectations; fix the suite")
    return cls(**spec.kwargs)


@cache
def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _frame_batches() -> Any:
    asset = _context().data_sources.add_pandas("duckdb").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("all")


@cache
def _postgres_source(url: str) -> Any:
    return _context().data_sources.add_postgres(f"warehouse_{uuid.uuid4().hex[:8]}", connection_string=url)


def _validate_frame(engine: sa.Engine, sql: str, suite: Any, result_format: dict[str, Any]) -> tuple[Any, int]:
    raw = engine.raw_connection()
    try:
        assert raw.driver_connection is not None  # a pooled DuckDB connection always has its driver connection
        frame = raw.driver_connection.execute(sql).df()
    finally:
        raw.close()
    batch = _frame_batches().get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format=result_format), len(frame)


def _validate_query(engine: sa.Engine, sql: str, suite: Any, result_format: dict[str, Any]) -> tuple[Any, int]:
    with engine.connect() as conn:
        rows = int(conn.execute(sa.text(f"SELECT count(*) FROM ({sql}) AS batch")).scalar_one())
    source = _postgres_source(engine.url.render_as_string(hide_password=False))
    asset = source.add_query_asset(f"q_{uuid.uuid4().hex[:8]}", query=sql)
    try:
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        return batch.validate(suite, result_format=result_format), rows
    finally:
        source.delete_asset(asset.name)


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
