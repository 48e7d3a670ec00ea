"""The whole nightly job against its reference: a bare paging loop plus the hand-written post-extract SQL.

Usage: .venv/bin/python bench/nightly.py [--people 20000] [--reps 2]

One sandbox serves every run. Each repetition, interleaved so drift in the shared machine's speed hits both:
  - crm-loop: ``crm-loop sync`` as a fresh process (what cron runs: start-up, Dagster, extraction of both CRMs,
    harmonisation, the closed loop, every check, the digest) into a new DuckDB warehouse, configured through the
    same environment variables as production;
  - reference: ``bench/bare_loop.py`` over the same objects, contact history and associations (plain
    ``requests``, largest pages and batches, JSON lines), then
    ``bench/scale_baseline.py``'s stages on the raw tables crm-loop landed (the baseline writes only ``bl_``
    tables, so it reads exactly what crm-loop extracted).
Prints per repetition and median wall seconds, ending with one line
``nightly: people=N crm_loop_s=X reference_s=Y ratio=R`` (medians).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bare_loop, scale_baseline  # noqa: E402
from connectors.hubspot.catalog import ASSOCIATION_PAIRS, OBJECT_TYPES  # noqa: E402
from connectors.hubspot.history import HISTORY_PROPERTIES  # noqa: E402
from connectors.hubspot.pacing import PacingPolicy  # noqa: E402
from connectors.salesforce.catalog import OBJECTS  # noqa: E402
from pipelines.demo import sandbox_environment  # noqa: E402
from sandbox.server.app import Sandbox  # noqa: E402

STAGES = ("canonical", "closed_loop", "checks", "sla")


def crm_loop_sync(info: dict[str, object], warehouse: Path, work: Path) -> float:
    """Wall seconds of one ``crm-loop sync`` process; its output goes to a log beside the warehouse."""
    env = {**os.environ, **sandbox_environment(info, f"duckdb:///{warehouse}", work / "alerts.jsonl")}
    # Configured as production's (dagster_home/dagster.yaml): its event log storage is part of what cron runs.
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env["DAGSTER_HOME"] = str(home)
    log = warehouse.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("crm-loop")), "sync"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.perf_counter() - started
    # The run's own per-asset lines (`[i/n] ok <asset> <rows> rows <s>s`): the slowest say where the time went.
    timed = [line.split() for line in log.read_text(errors="replace").splitlines() if line.startswith("[")]
    slowest = sorted(
        (float(w[-1][:-1]), w[2]) for w in timed if len(w) >= 4 and w[-1].endswith("s") and _number(w[-1][:-1])
    )
    print("slowest steps: " + ", ".join(f"{name} {s:.1f}s" for s, name in slowest[-6:][::-1]), flush=True)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{tail}\nnightly: crm-loop sync exited {done.returncode} (its last lines above)")
    return seconds


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def reference(info: dict[str, object], warehouse: Path, out_path: Path) -> tuple[float, float]:
    """(bare loop seconds, baseline SQL seconds) for one repetition."""
    started = time.perf_counter()
    with out_path.open("w") as out:
        bare_loop.salesforce(info["salesforce"], OBJECTS, out)  # type: ignore[arg-type]
        # The nightly job also reads contact history and every association: so does the reference, through the
        # same endpoints at their largest batches, under the same pacing window.
        ids: dict[str, list[str]] = {}
        pacer = bare_loop.TenSecondPacer(PacingPolicy())
        hubspot: dict[str, Any] = info["hubspot"]  # type: ignore[assignment]
        bare_loop.hubspot(hubspot, OBJECT_TYPES, out, ids, pacer)
        bare_loop.hubspot_history(hubspot, ids.get("contacts", []), HISTORY_PROPERTIES, out, pacer)
        bare_loop.hubspot_associations(hubspot, ASSOCIATION_PAIRS, ids, out, pacer)
    extract_s = time.perf_counter() - started
    engine = sa.create_engine(f"duckdb:///{warehouse}")
    started = time.perf_counter()
    try:
        for stage in STAGES:
            scale_baseline.run_stage(stage, engine, None)
    finally:
        engine.dispose()
    return extract_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000, help="people in the generated funnel")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of each side, interleaved")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.reps < 1 or args.people < 1:
        parser.error("--reps and --people must be at least 1")

    crm_runs: list[float] = []
    reference_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-nightly-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        with Sandbox(seed=args.seed, size=args.people, workdir=work / "sandbox") as box:
            print(f"sandbox_seed_time: {time.perf_counter() - started:.2f} s", flush=True)
            info = box.info()
            for rep in range(args.reps):
                warehouse = work / f"nightly_{rep}.duckdb"
                crm_s = crm_loop_sync(info, warehouse, work)
                page = warehouse.with_name("report.html")  # the leaders' report asset writes it beside the file
                if page.exists():
                    print(f"rep={rep} report_html_bytes={page.stat().st_size}", flush=True)
                bare_s, sql_s = reference(info, warehouse, work / f"bare_{rep}.jsonl")
                crm_runs.append(crm_s)
                reference_runs.append(bare_s + sql_s)
                print(
                    f"rep={rep} crm_loop_s={crm_s:.2f} bare_s={bare_s:.2f} baseline_sql_s={sql_s:.2f} "
                    f"reference_s={bare_s + sql_s:.2f}",
                    flush=True,
                )
    crm, ref = statistics.median(crm_runs), statistics.median(reference_runs)
    print(f"nightly: people={args.people} crm_loop_s={crm:.2f} reference_s={ref:.2f} ratio={crm / ref:.2f}")


if __name__ == "__main__":
    main()
