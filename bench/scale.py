"""crm-loop's post-extract stages at warehouse scale, side by side with a hand-written SQL baseline.

Usage: ``bench/scale.py --people N --activities M [--engine duckdb|postgres]``

Raw tables are generated straight into a fresh warehouse (``bench.scale_data``: no HTTP, no extractors). Then
every stage runs twice, each run in its own subprocess so its CPU time and peak RSS are its own:
  - crm-loop: the production entry points (``write_canonical``, ``write_closed_loop``, every data-quality suite
    via ``checks.engine.validate``, the SLA audit), exactly as the Dagster assets and checks call them;
  - baseline: ``bench.scale_baseline``, the SQL an analyst would write for the same outputs.
It prints one line per stage, the funnel stage counts of both sides and whether they agree, and last:
``scale: engine=E people=N activities=M crm_loop_s=X baseline_s=Y ratio=R peak_rss_mib=Z`` (wall seconds of the
post-extract stages; peak RSS of the whole process tree, this process and every child). On PostgreSQL the
server's own memory is not part of the RSS: it is the same server for both sides.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench import scale_baseline, scale_data  # noqa: E402

PG_URL = os.environ.get("CRM_LOOP_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
AS_OF = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # the generator's anchor: nothing happens after it
STAGES = ("canonical", "closed_loop", "checks", "sla")
FUNNEL = ("leads", "mql", "sal", "sql", "opportunity", "won", "lost")


@dataclass(frozen=True)
class Run:
    """One stage on one side, as its child process measured it: wall and CPU seconds, peak RSS."""

    wall_s: float
    cpu_s: float
    rss_mib: float
    result: dict[str, Any]


# -- child side: one stage, then a JSON line on stdout --------------------------------------------------------


def _crm_loop_stage(stage: str, url: str, schema: str | None) -> dict[str, Any]:
    """The production entry points, imported inside the child so import time counts against nobody's stage."""
    from connectors.warehouse.warehouse import Warehouse
    from pipelines.closed_loop.build import write_canonical, write_closed_loop
    from pipelines.funnel.definitions import load_definitions

    defs = load_definitions()
    wh = Warehouse.from_url(url, schema)
    try:
        if stage == "canonical":
            return {"rows": write_canonical(wh, defs)}
        if stage == "closed_loop":
            return {"rows": write_closed_loop(wh, defs, AS_OF).rows, "funnel": _funnel_counts(wh.engine, schema)}
        if stage == "checks":
            return _run_suites(wh, defs)
        from checks.sla.evaluate import audit

        result = audit(wh.engine, wh.schema, defs, AS_OF)
        return {"rules": len(result.rules), "breached": sum(r.breached for r in result.rules)}
    finally:
        wh.close()


def _run_suites(wh: Any, defs: Any) -> dict[str, Any]:
    """Every suite the Dagster code location builds (raw HubSpot, raw Salesforce, canonical, closed loop)."""
    from datetime import timedelta

    from checks.engine import validate
    from checks.suites.canonical import canonical_suites
    from checks.suites.closed_loop import closed_loop_suites
    from checks.suites.hubspot import hubspot_suites
    from checks.suites.salesforce import salesforce_suites
    from connectors.hubspot.catalog import OBJECT_TYPES
    from connectors.salesforce.catalog import OBJECTS

    max_age = timedelta(hours=36)
    suites = [
        *hubspot_suites(OBJECT_TYPES, defs, AS_OF, max_age),
        *salesforce_suites(OBJECTS, defs, AS_OF, max_age),
        *canonical_suites(defs),
        *closed_loop_suites(defs),
    ]
    results = [validate(wh.engine, wh.schema, suite) for suite in suites]
    return {"suites": len(results), "failed": sum(r.status != "passed" for r in results)}


def _funnel_counts(engine: sa.Engine, schema: str | None) -> dict[str, int]:
    table = f'"{schema}".closed_loop_leads' if schema else "closed_loop_leads"
    sql = (
        "SELECT count(*), count(mql_at), count(accepted_at), count(sql_at), count(opportunity_created_at), "
        f"count(won_at), count(lost_at) FROM {table}"
    )
    with engine.connect() as conn:
        row = conn.execute(sa.text(sql)).one()
    return dict(zip(FUNNEL, (int(v) for v in row), strict=True))


# Modules each crm-loop stage imports, loaded before the clock starts: interpreter start-up and imports are not
# warehouse work, and at small sizes they would otherwise dominate both sides.
_IMPORTS = {
    "canonical": ("pipelines.closed_loop.build",),
    "closed_loop": ("pipelines.closed_loop.build",),
    "checks": (
        "checks.engine",
        "checks.suites.canonical",
        "checks.suites.closed_loop",
        "checks.suites.hubspot",
        "checks.suites.salesforce",
    ),
    "sla": ("checks.sla.evaluate",),
}


def _child(side: str, stage: str, url: str, schema: str | None) -> None:
    """Run one stage and print one JSON line: its own wall and CPU seconds (imports excluded) and peak RSS."""
    if side == "crm_loop":
        for module in ("connectors.warehouse.warehouse", "pipelines.funnel.definitions", *_IMPORTS[stage]):
            importlib.import_module(module)
    started, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if side == "crm_loop":
        result = _crm_loop_stage(stage, url, schema)
    else:
        result = scale_baseline.run_stage(stage, sa.create_engine(url), schema)
    wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - started.ru_utime - started.ru_stime
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_kib": usage.ru_maxrss, "result": result}, default=str))


# -- parent side ---------------------------------------------------------------------------------------------


def _run_child(side: str, stage: str, url: str, schema: str | None) -> Run:
    command = [sys.executable, __file__, "--child", side, "--stage", stage, "--url", url]
    if schema:
        command += ["--schema", schema]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{side} {stage} failed:\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(float(report["wall_s"]), float(report["cpu_s"]), report["rss_kib"] / 1024, report["result"])


def _prepare(engine_name: str, people: int, activities: int, workdir: Path) -> tuple[str, str | None, float]:
    """Generate the raw tables; (warehouse URL, schema, seconds it took)."""
    started = time.perf_counter()
    cfg = scale_data.ScaleConfig(people, activities)
    if engine_name == "duckdb":
        path = workdir / "scale.duckdb"
        with duckdb.connect(str(path)) as con:
            _check_generated(scale_data.generate_duckdb(con, cfg), cfg)
        return f"duckdb:///{path}", None, time.perf_counter() - started
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    with duckdb.connect(str(workdir / "generate.duckdb")) as con:
        _check_generated(scale_data.generate_duckdb(con, cfg), cfg)
        scale_data.copy_to_postgres(con, sa.create_engine(PG_URL), schema)
    return PG_URL, schema, time.perf_counter() - started


def _check_generated(counts: dict[str, int], cfg: scale_data.ScaleConfig) -> None:
    if scale_data.activity_total(counts) != cfg.activities:
        raise RuntimeError(f"generated {scale_data.activity_total(counts)} activities, asked for {cfg.activities}")


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def bench(engine_name: str, people: int, activities: int, keep: bool = False) -> str:
    """Run everything, print the report; the last line is returned too."""
    with tempfile.TemporaryDirectory(prefix="crm_loop_scale_") as tmp:
        url, schema, gen_s = _prepare(engine_name, people, activities, Path(tmp))
        print(f"generate: engine={engine_name} people={people} activities={activities} seconds={gen_s:.1f}", flush=True)
        try:
            crm_total = base_total = 0.0
            crm_funnel: dict[str, int] = {}
            base_funnel: dict[str, int] = {}
            for stage in STAGES:
                crm = _run_child("crm_loop", stage, url, schema)
                base = _run_child("baseline", stage, url, schema)
                crm_total += crm.wall_s
                base_total += base.wall_s
                crm_funnel = crm.result.get("funnel", crm_funnel)
                base_funnel = base.result.get("funnel", base_funnel)
                print(
                    f"stage={stage} crm_loop_cpu_s={crm.cpu_s:.2f} crm_loop_wall_s={crm.wall_s:.2f} "
                    f"baseline_s={base.wall_s:.2f} ratio={_ratio(crm.wall_s, base.wall_s)} "
                    f"crm_loop_rss_mib={crm.rss_mib:.0f} baseline_rss_mib={base.rss_mib:.0f}",
                    flush=True,
                )
            print("funnel crm_loop: " + " ".join(f"{k}={crm_funnel.get(k)}" for k in FUNNEL))
            print("funnel baseline: " + " ".join(f"{k}={base_funnel.get(k)}" for k in FUNNEL))
            differ = [k for k in FUNNEL if crm_funnel.get(k) != base_funnel.get(k)]
            print("funnel agree: " + ("yes" if not differ else "NO (" + ", ".join(differ) + ")"))
        finally:
            if schema and not keep:
                _drop_schema(url, schema)
    last = (
        f"scale: engine={engine_name} people={people} activities={activities} crm_loop_s={crm_total:.2f} "
        f"baseline_s={base_total:.2f} ratio={_ratio(crm_total, base_total)} peak_rss_mib={_peak_rss_mib():.0f}"
    )
    print(last, flush=True)
    return last


def _ratio(crm: float, base: float) -> str:
    return f"{crm / base:.2f}" if base > 0 else "inf"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema (debugging)")
    parser.add_argument("--child", choices=("crm_loop", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.stage, args.url, args.schema)
        return
    bench(args.engine, args.people, args.activities, args.keep)


if __name__ == "__main__":
    main()
