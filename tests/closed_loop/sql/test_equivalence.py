"""The whole SQL path (``write_canonical`` then ``write_closed_loop``) equals the pandas reference
(``build_canonical`` then ``build_closed_loop``) row by row and column by column, for every canonical table and
closed_loop_leads: on DuckDB and PostgreSQL, with the repository definitions and with definitions aligned with
the generator's SLA, audited at the anchor and 20 days before it (SLAs still pending), on sandboxes of several
seeds, one of them planting more problems than the default rates.

This is the one full-sample comparison; the per-model test modules keep to their hand-made edge cases."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_canonical, write_closed_loop
from pipelines.closed_loop.canonical import CanonicalFrames, build_canonical
from pipelines.closed_loop.closed_loop import build_closed_loop
from pipelines.closed_loop.inputs import HISTORY_TABLES, RAW_TABLES
from pipelines.closed_loop.raw import Frames, read_tables
from pipelines.closed_loop.write import Row, read_table, to_rows
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from pipelines.funnel.model import FunnelDefinitions
from sandbox.data.funnel import Rates
from tests.closed_loop.conftest import ANCHOR, aligned_definitions
from tests.closed_loop.sql.conftest import CANONICAL_SPECS, duckdb_copy, extract_duckdb, postgres_copy

AS_OF = {"anchor": ANCHOR, "anchor-20d": ANCHOR - timedelta(days=20)}
JUST_AFTER_MQL = "30 min after the last Lead MQL before anchor-20d"  # a past as_of with SLA clocks running
# More of every planted problem than the defaults (which plant each for a few percent of people at most).
PROBLEMS = Rates(
    never_contacted=0.08,
    late_first_touch=0.2,
    rejected_without_reason=0.15,
    too_few_attempts=0.2,
    missing_owner=0.08,
    stage_regression=0.1,
    duplicate=0.08,
    orphan_activity=0.05,
    malformed_email=0.05,
)


@dataclass(frozen=True)
class Build:
    """One raw warehouse (the name of the session fixture giving it) under one set of definitions."""

    dataset: str
    definitions: str

    def __str__(self) -> str:
        return f"{self.dataset.removesuffix('_path')}-{self.definitions}"


BUILDS = [
    *(Build(d, defs) for d in ("raw_duckdb_path", "raw_postgres") for defs in ("default", "aligned")),
    Build("seed5_duckdb_path", "default"),
    Build("problems_duckdb_path", "aligned"),
]


@pytest.fixture(scope="session")
def seed5_duckdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_duckdb(tmp_path_factory.mktemp("equivalence_seed5"), seed=5, size=150)


@pytest.fixture(scope="session")
def problems_duckdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_duckdb(tmp_path_factory.mktemp("equivalence_problems"), seed=7, size=120, rates=PROBLEMS)


@dataclass
class Built:
    """A private warehouse whose canonical tables the SQL path wrote, with the reference's frames beside it."""

    wh: Warehouse
    defs: FunnelDefinitions
    reference: CanonicalFrames
    history: Frames


# Fixture parameters rather than indirect ones: pytest then groups the tests by build and builds each once.
@pytest.fixture(scope="module", params=BUILDS, ids=str)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    build: Build = request.param
    directory = tmp_path_factory.mktemp("equivalence")
    path = DEFAULT_PATH if build.definitions == "default" else aligned_definitions(directory)
    defs = load_definitions(path)
    source = request.getfixturevalue(build.dataset)
    with postgres_copy(source) if isinstance(source, Warehouse) else duckdb_copy(source, directory) as wh:
        reference = build_canonical(read_tables(wh, RAW_TABLES), defs)
        write_canonical(wh, defs)
        yield Built(wh, defs, reference, read_tables(wh, HISTORY_TABLES))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    return bool(a == b)


def _keyed(rows: list[Row], spec: TableSpec) -> dict[tuple[Any, ...], Row]:
    out = {tuple(r[k] for k in spec.primary_key): r for r in rows}
    assert len(out) == len(rows), f"{spec.name}: duplicate primary keys"
    return out


def assert_same_table(spec: TableSpec, expected: pd.DataFrame, actual: pd.DataFrame) -> int:
    """Both sides through ``to_rows``; fails naming the table, each differing column and a few keys. Returns
    the row count."""
    want, got = _keyed(to_rows(expected, spec), spec), _keyed(to_rows(actual, spec), spec)
    problems: list[str] = []
    for side, only in (("reference", want.keys() - got.keys()), ("SQL", got.keys() - want.keys())):
        if only:
            problems.append(f"{spec.name}: {len(only)} rows only in the {side}, e.g. {sorted(only, key=str)[:3]}")
    common = sorted(want.keys() & got.keys(), key=str)
    for column in spec.column_names:
        keys = [k for k in common if not _same(want[k][column], got[k][column])]
        if keys:
            examples = "; ".join(f"{k}: reference {want[k][column]!r}, SQL {got[k][column]!r}" for k in keys[:3])
            problems.append(f"{spec.name}.{column}: {len(keys)} rows differ, e.g. {examples}")
    assert not problems, "\n".join(problems)
    return len(want)


def test_canonical_tables_equal_reference(built: Built) -> None:
    counts = {
        name: assert_same_table(spec, getattr(built.reference, name), read_table(built.wh, spec))
        for name, spec in CANONICAL_SPECS.items()
    }
    # Not vacuous: every table but the conflicts has rows on every sandbox.
    assert all(count > 0 for name, count in counts.items() if name != "identity_conflicts"), counts


def _as_of(built: Built, name: str) -> datetime:
    if name in AS_OF:
        return AS_OF[name]
    mqls = pd.to_datetime(built.reference.people["mql_at"]).dropna()
    last = mqls[mqls <= pd.Timestamp(AS_OF["anchor-20d"]).tz_localize(None)].max()
    return last.to_pydatetime().replace(tzinfo=UTC) + timedelta(minutes=30)


@pytest.mark.parametrize("as_of", [*AS_OF, JUST_AFTER_MQL])
def test_closed_loop_leads_equal_reference(built: Built, as_of: str) -> None:
    instant = _as_of(built, as_of)
    expected = build_closed_loop(built.reference, built.history, built.defs, instant)
    write_closed_loop(built.wh, built.defs, instant)
    actual = read_table(built.wh, CLOSED_LOOP_LEADS)
    assert assert_same_table(CLOSED_LOOP_LEADS, expected, actual) > 50
    statuses = set(actual["first_touch_sla_status"]) | set(actual["accept_reject_sla_status"])
    assert {"met", "breached"} <= statuses
    if as_of != "anchor":
        # The world as of then: nobody created later, nothing reached later.
        naive = instant.astimezone(UTC).replace(tzinfo=None)
        assert (actual["created_at"].dropna() <= naive).all() and (actual["mql_at"].dropna() <= naive).all()
    if as_of == JUST_AFTER_MQL:
        assert "pending" in statuses
