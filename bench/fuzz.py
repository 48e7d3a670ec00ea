"""Hostile records through landing -> harmonisation -> checks for as long as wanted (issue 13, point 3).

The same generator and path as tests/landing/test_hostile_values.py (`tests/landing/hostile.py`): records for
every raw table of both CRMs, mostly plausible with hostile values in a few fields, landed batch by batch on
each engine (the same batches on both), then the canonical and closed-loop tables are built and every check
runs, every `--build-every` records and at the end. Nothing may escape: an exception at any step is counted as
an error (its first line printed), and each batch's invariants (extracted = loaded + quarantined, a reason for
every quarantined value, the quarantine rows and loaded keys in the warehouse) are asserted as it lands.

Usage: .venv/bin/python bench/fuzz.py [--records 10000] [--engines duckdb,postgresql] [--seed 0]
                                      [--build-every 2000] [--long]
`--long` draws 1 MB strings instead of 100 KB ones. The last line is
`fuzz: records=N loaded=L quarantined=Q errors=E` (records counted once, however many engines).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from connectors.warehouse.warehouse import Warehouse  # noqa: E402
from pipelines.funnel.definitions import load_definitions  # noqa: E402
from tests.landing import hostile  # noqa: E402

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
CHUNK = 50  # examples per hypothesis run: each run has its own seed, so a long fuzz is a series of them


@contextmanager
def _warehouse(engine: str, directory: Path) -> Iterator[Warehouse]:
    """An empty warehouse: a DuckDB file in ``directory``, or a private PostgreSQL schema dropped afterwards."""
    schema = None if engine == "duckdb" else f"fuzz_{uuid.uuid4().hex[:12]}"
    url = f"duckdb:///{directory / 'fuzz.duckdb'}" if engine == "duckdb" else PG_URL
    wh = Warehouse.from_url(url, schema=schema)
    try:
        yield wh
    finally:
        if schema is not None:
            with wh.engine.begin() as conn:
                conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        wh.close()


class Errors:
    """Every exception that escaped a step: counted, its last line printed (at most `shown` of them)."""

    def __init__(self, shown: int = 20) -> None:
        self.count = 0
        self._shown = shown

    def guard(self, what: str, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except Exception as exc:  # the fuzz's point: nothing may escape, so anything that does is counted
            self.count += 1
            if self.count <= self._shown:
                last = traceback.format_exception_only(exc)[-1].strip()
                print(f"error: {what}: {last[:300]}", flush=True)
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build-every", type=int, default=2_000)
    parser.add_argument("--long", action="store_true", help="1 MB strings (default 100 KB)")
    args = parser.parse_args()
    if args.long:
        hostile.LONG_TEXT = 1_000_000  # read when the strategies are built, just below
    tables = hostile.targets()
    defs = load_definitions()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    errors = Errors()
    totals = hostile.Outcome()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        warehouses = {e: stack.enter_context(_warehouse(e, Path(tmp))) for e in engines}
        for wh in warehouses.values():
            hostile.prepare(wh, tables)

        @settings(
            max_examples=CHUNK,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=hostile.batches(tables, max_tables=6, max_records=8))
        def land_one(batch: hostile.Batch) -> None:
            if totals.records >= args.records:
                return
            sync_id = f"fuzz-{uuid.uuid4().hex[:8]}"
            outcomes = [
                errors.guard(f"landing on {e}", lambda wh=wh: hostile.land(wh, tables, batch, sync_id))
                for e, wh in warehouses.items()
            ]
            counted = [(o.records, o.loaded, o.quarantined) for o in outcomes if o is not None]
            if counted:
                totals.records += counted[0][0]
                totals.loaded += counted[0][1]
                totals.quarantined += counted[0][2]
            if len(set(counted)) > 1:
                errors.guard("engines", _raise(f"the engines landed one batch differently: {counted}"))

        built_at, chunk = 0, 0
        while totals.records < args.records:
            seed(args.seed * 1_000_003 + chunk)(land_one)()
            chunk += 1
            if totals.records - built_at < args.build_every and totals.records < args.records:
                continue
            built_at = totals.records
            for engine, wh in warehouses.items():
                step_started = time.perf_counter()
                problems = errors.guard(f"build on {engine}", lambda wh=wh: hostile.harmonise_and_check(wh, defs))
                for problem in problems or []:
                    errors.guard(f"checks on {engine}", _raise(problem))
                print(
                    f"build: engine={engine} records={totals.records} seconds={time.perf_counter() - step_started:.1f}",
                    flush=True,
                )
    print(f"fuzz_seconds: {time.perf_counter() - started:.1f} s")
    print(
        f"fuzz: records={totals.records} loaded={totals.loaded} quarantined={totals.quarantined} errors={errors.count}"
    )


def _raise(message: str) -> Callable[[], None]:
    def fail() -> None:
        raise AssertionError(message)

    return fail


if __name__ == "__main__":
    main()
