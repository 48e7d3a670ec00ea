"""One ``validate`` over two engines: DuckDB batches are read in chunks and validated in memory, PostgreSQL
batches stay in the database and GX runs them as SQL.

GX's SQL execution engine fails on DuckDB through duckdb-engine (``IndexError`` in ``resolve_metric_bundle``,
GX issues 10738 and 11579), and its pandas engine is far too slow at a million rows, so on DuckDB:

- every expectation ``checks.sql_expectations`` restates exactly is computed in the warehouse: one aggregate
  query per suite, plus a ``LIMIT sample_size`` query of offending ids per failing row-wise expectation;
- any other keeps GX's pandas engine: row-wise (map) ones read only the id columns and the columns they judge,
  ``chunk_rows`` rows at a time, per-chunk counts and samples summed; column minimum/maximum reduce to a one-row
  aggregate GX then judges; the rest (uniqueness, ``mostly``, table-level) on the batch projected to the
  columns they need, whole.

On PostgreSQL the batch is a GX query asset and every metric is pushed down as SQL: row-wise expectations that
need every row are first only judged (one counting query each), and only those that fail, with every other
kind, are validated again for their summary. Either way results ask GX for a SUMMARY capped at ``sample_size``
offending rows, never the COMPLETE list of every offending row.

Suites carry expectations as data (``checks.model.Expect``); this is the one module that imports
great_expectations, and it imports it only when a suite needs GX (on DuckDB, usually none does: importing GX
costs seconds). One ephemeral GX context per process (nothing is written to disk) serves every validation:
creating one costs more than most validations, and a run validates a hundred suites.
"""

from __future__ import annotations

import math
import os
import re
import threading
import uuid
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from checks.live_tables import Catalog
from checks.model import SAMPLE_SIZE, Expect, ExpectationOutcome, Suite, SuiteResult
from checks.sql_expectations import column_types, evaluate, sample_ids, translate

# A nightly pipeline must not phone home; GX reads this when a context is created.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# The shared context is not thread-safe; steps of one process may run on threads (Dagster's in-process executor
# does not, a caller might).
_LOCK = threading.RLock()

CHUNK_ROWS = 100_000
"""Rows of a DuckDB batch held in memory at once (rounded up to DuckDB's 2048-row vectors)."""

_VECTOR_ROWS = 2048
_UNIQUE = ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique")
_REDUCED = {"ExpectColumnMaxToBeBetween": "max", "ExpectColumnMinToBeBetween": "min"}


def validate(
    engine: sa.Engine,
    schema: str | None,
    suite: Suite,
    sample_size: int = SAMPLE_SIZE,
    chunk_rows: int = CHUNK_ROWS,
) -> SuiteResult:
    """Run ``suite`` against its batch; a batch that cannot be built (missing table/column) is an ``error``.
    ``sample_size`` caps the offending ids kept per expectation (reports need a sample, audits may want all);
    ``chunk_rows`` bounds the rows of a DuckDB batch in memory at once."""
    catalog = Catalog(engine, schema)
    try:
        batch = Batch(engine, _literal_sql(suite.source(catalog), engine), tuple(suite.id_columns), sample_size)
        with _LOCK:
            if engine.dialect.name == "duckdb":
                outcomes, rows = _validate_duckdb(batch, suite.expectations, chunk_rows)
            else:
                built = [gx_expectation(e) for e in suite.expectations]
                outcomes, rows = _validate_query(batch, suite.name, built)
    except Exception as exc:  # a broken check is reported as such, never crashes the run it guards
        return SuiteResult(suite.name, suite.asset, suite.severity, "error", 0, (), f"{type(exc).__name__}: {exc}")
    broken = [o for o in outcomes if o.meta.get("exception")]
    if broken:
        return SuiteResult(
            suite.name, suite.asset, suite.severity, "error", rows, outcomes, broken[0].meta["exception"]
        )
    status: Literal["passed", "failed"] = "passed" if all(o.success for o in outcomes) else "failed"
    return SuiteResult(suite.name, suite.asset, suite.severity, status, rows, outcomes)


@dataclass(frozen=True)
class Batch:
    """A suite's rows as SQL text, with what results need to name offending rows."""

    engine: sa.Engine
    sql: str
    id_columns: tuple[str, ...]
    sample_size: int

    def quote(self, column: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(column))

    def projected(self, columns: Iterable[str]) -> str:
        """The batch narrowed to ``columns``: DuckDB reads a column only when a query names it."""
        names = ", ".join(self.quote(c) for c in dict.fromkeys(columns))
        return f"SELECT {names} FROM ({self.sql}) AS batch"

    def chunks(self, sql: str, chunk_rows: int) -> Generator[pd.DataFrame, None, None]:
        """``sql``'s rows (DuckDB) as frames of at most ``chunk_rows`` rows, rounded up to whole 2048-row
        vectors, converted by DuckDB exactly as ``df()`` would; always at least one frame, so an empty batch is
        still judged (with its columns)."""
        vectors = max(1, math.ceil(chunk_rows / _VECTOR_ROWS))
        raw = self.engine.raw_connection()
        try:
            assert raw.driver_connection is not None  # a pooled DuckDB connection always has its driver connection
            cursor = raw.driver_connection.cursor()
            try:
                cursor.execute(sql)
                frame = cursor.fetch_df_chunk(vectors)
                yield frame
                while len(frame):
                    frame = cursor.fetch_df_chunk(vectors)
                    if len(frame):
                        yield frame
            finally:
                cursor.close()
        finally:
            raw.close()

    def read(self, sql: str) -> pd.DataFrame:
        """A small result (DuckDB) whole: an aggregate, a capped sample."""
        raw = self.engine.raw_connection()
        try:
            assert raw.driver_connection is not None
            return raw.driver_connection.execute(sql).df()
        finally:
            raw.close()

    def result_format(self) -> dict[str, Any]:
        return {
            "result_format": "SUMMARY",
            "partial_unexpected_count": self.sample_size,
            "unexpected_index_column_names": list(self.id_columns),
            "return_unexpected_index_query": False,
        }


def _literal_sql(select: sa.Select, engine: sa.Engine) -> str:
    # Sources only bind our own constants (stage names, reason codes), so inlining them is safe and lets the
    # same text run as a GX query asset, which takes no parameters.
    return str(select.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def gx_expectation(spec: Expect) -> Any:
    """The GX object ``spec`` describes; an unknown kind or a bad argument fails the check that uses it."""
    import great_expectations.expectations as gxe

    cls = getattr(gxe, spec.kind, None)
    if not isinstance(cls, type) or not issubclass(cls, gxe.Expectation):
        raise ValueError(f"{spec.kind!r} is not an expectation of great_expectations.expectations; fix the suite")
    return cls(**spec.kwargs)


def expectation_columns(spec: Expect) -> tuple[str, ...]:
    """The batch columns an expectation judges (none for table-level ones such as the row count)."""
    kwargs = spec.kwargs
    named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *(kwargs.get("column_list") or ())]
    return tuple(str(c) for c in named if c)


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

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


# --- DuckDB --------------------------------------------------------------------------------------------------
def _validate_duckdb(
    batch: Batch, specs: Sequence[Expect], chunk_rows: int
) -> tuple[tuple[ExpectationOutcome, ...], int]:
    """Outcomes in the suite's order: in the warehouse where ``checks.sql_expectations`` restates the kind
    exactly (its translation accepts only arguments it understands, so GX need not vet them, nor load), else
    by the cheapest GX route that gives GX's answer."""
    types = column_types(batch)
    plans = {}
    for i, spec in enumerate(specs):
        plan = translate(spec, types, batch.quote)
        if plan is not None:
            plans[i] = (spec, expectation_type(spec.kind), plan)
    outcomes, rows = evaluate(batch, plans)
    built = {i: gx_expectation(spec) for i, spec in enumerate(specs) if i not in outcomes}
    chunked: list[int] = []
    for i, gx_object in built.items():
        spec = specs[i]
        # ``mostly`` judges a share of all rows at once and uniqueness relates rows across chunks: neither is
        # a sum over chunks.
        exact = "mostly" not in spec.kwargs and spec.kind not in _UNIQUE
        if spec.kind in _REDUCED:
            column = batch.quote(expectation_columns(spec)[0])
            reduced = f"SELECT {_REDUCED[spec.kind]}({column}) AS {column} FROM ({batch.sql}) AS batch"
            outcomes[i] = _validate_frames(batch, [gx_object], [batch.read(reduced)])[0]
        elif _is_map(gx_object) and exact:
            chunked.append(i)
        else:
            columns = (*batch.id_columns, *expectation_columns(spec))
            outcomes[i] = _validate_frames(batch, [gx_object], [batch.read(batch.projected(columns))])[0]
    if chunked:
        columns = (*batch.id_columns, *(c for i in chunked for c in expectation_columns(specs[i])))
        with closing(batch.chunks(batch.projected(columns), chunk_rows)) as frames:
            outcomes.update(zip(chunked, _validate_frames(batch, [built[i] for i in chunked], frames)))
    return tuple(outcomes[i] for i in range(len(specs))), rows


def expectation_type(kind: str) -> str:
    """GX's name for an expectation class as results report it: ``ExpectColumnValuesToBeNull`` ->
    ``expect_column_values_to_be_null``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _is_map(gx_object: Any) -> bool:
    """A row-wise expectation: its outcome over a batch is the sum of its outcomes over the batch's chunks."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    return isinstance(gx_object, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation))


def _validate_frames(batch: Batch, built: Sequence[Any], frames: Iterable[pd.DataFrame]) -> list[ExpectationOutcome]:
    """GX's pandas engine over each frame, the per-frame outcomes of each expectation merged into one."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"chunk_{uuid.uuid4().hex[:8]}", expectations=list(built))
    merged: list[ExpectationOutcome] | None = None
    for frame in frames:
        validation = _frame_batches().get_batch(batch_parameters={"dataframe": frame})
        result = validation.validate(suite, result_format=batch.result_format())
        ordered = _in_suite_order(result.results, built)
        outcomes = [_outcome(r, batch.id_columns, batch.sample_size) for r in ordered]
        merged = outcomes if merged is None else [_merge(a, b, batch.sample_size) for a, b in zip(merged, outcomes)]
    assert merged is not None  # every source of frames yields at least one
    return merged


def _in_suite_order(results: Sequence[Any], built: Sequence[Any]) -> list[Any]:
    """GX groups results by the metrics they share, not in the suite's order; pair each expectation with the
    first unclaimed result of the same type and arguments (a result's arguments also name the batch)."""
    unclaimed = list(results)
    ordered = []
    for gx_object in built:
        wanted = (gx_object.configuration.type, gx_object.configuration.kwargs)
        match = next(r for r in unclaimed if _configured(r) == wanted)
        unclaimed.remove(match)
        ordered.append(match)
    return ordered


def _configured(result: Any) -> tuple[str, dict[str, Any]]:
    config = result.expectation_config
    return config.type, {k: v for k, v in config.kwargs.items() if k != "batch_id"}


def _merge(first: ExpectationOutcome, second: ExpectationOutcome, limit: int) -> ExpectationOutcome:
    """Two chunks' outcomes of one row-wise expectation: rows offend independently, so counts add up."""
    return replace(
        first,
        success=first.success and second.success,
        unexpected_count=first.unexpected_count + second.unexpected_count,
        sample_ids=tuple(dict.fromkeys((*first.sample_ids, *second.sample_ids)))[:limit],
        meta=first.meta or second.meta,
    )


# --- PostgreSQL ----------------------------------------------------------------------------------------------
def _validate_query(batch: Batch, name: str, built: Sequence[Any]) -> tuple[tuple[ExpectationOutcome, ...], int]:
    """GX's SQL engine over a query asset, in two passes. A row-wise expectation without ``mostly`` passes exactly
    when no row offends, so the first pass asks GX only whether those pass (BOOLEAN_ONLY: one counting query
    each); SUMMARY would also fetch the offending values and ids, two more passes over the batch even when
    there are none (for uniqueness, two more sorts of the whole column). The second pass gives every other
    expectation, and each that failed the first, its full summary."""
    with batch.engine.connect() as conn:
        rows = int(conn.execute(sa.text(f"SELECT count(*) FROM ({batch.sql}) AS batch")).scalar_one())
    source = _postgres_source(batch.engine.url.render_as_string(hide_password=False))
    asset = source.add_query_asset(f"q_{uuid.uuid4().hex[:8]}", query=batch.sql)
    outcomes: dict[int, ExpectationOutcome] = {}
    try:
        gx_batch = asset.add_batch_definition_whole_table("all").get_batch()
        quick = [i for i, gx_object in enumerate(built) if _is_map(gx_object) and _all_rows(gx_object)]
        if quick:
            judged = _validate_gx(gx_batch, name, [built[i] for i in quick], {"result_format": "BOOLEAN_ONLY"})
            outcomes.update(
                (i, _outcome(r, batch.id_columns, batch.sample_size)) for i, r in zip(quick, judged) if r.success
            )
        rest = [i for i in range(len(built)) if i not in outcomes]
        if rest:
            summaries = _validate_gx(gx_batch, name, [built[i] for i in rest], batch.result_format())
            outcomes.update((i, _outcome(r, batch.id_columns, batch.sample_size)) for i, r in zip(rest, summaries))
    finally:
        source.delete_asset(asset.name)
    return tuple(outcomes[i] for i in range(len(built))), rows


def _all_rows(gx_object: Any) -> bool:
    """Whether the expectation needs every row to pass (no ``mostly`` below 1)."""
    mostly = getattr(gx_object, "mostly", None)
    return mostly is None or mostly >= 1


def _validate_gx(gx_batch: Any, name: str, built: Sequence[Any], result_format: Mapping[str, Any]) -> list[Any]:
    """One GX validation of ``built`` over ``gx_batch``; its results in ``built``'s order."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, expectations=list(built))
    validation = gx_batch.validate(suite, result_format=dict(result_format))
    return _in_suite_order(validation.results, built)


# --- results -------------------------------------------------------------------------------------------------
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
        sample_ids=sample_ids(details.get("partial_unexpected_index_list") or (), tuple(id_columns), sample_size),
        observed=None if observed is None else str(observed),
        meta={"exception": str(exception)} if exception else {},
    )
