"""The reliability campaign: kills, a fault storm, hostile records and concurrent runs, each judged against an
uninterrupted reference.

Usage: .venv/bin/python bench/chaos.py [--people 300] [--kills 20] [--fuzz-records 10000] [--postgres]

One sandbox serves every scenario; every run is ``crm-loop sync`` as a fresh process configured by the
environment, as cron would start it.
  - kills: ``--kills`` times, the sandbox changes (records modified, deleted, archived), then a sync starts into
    one warehouse and is killed with SIGKILL at a random moment; a last sync runs to the end;
  - fault storm: a sync into a fresh warehouse while the sandbox answers 10% of requests with 5xx, 10% with
    429, cuts 5% of bodies and adds latency;
  - fuzz: ``bench/fuzz.py`` with ``--fuzz-records`` hostile records (its invariants hold: no error escapes,
    extracted = loaded + quarantined, a reason per quarantined value);
  - concurrent: two syncs at once on one DuckDB file (the second must be refused in one line, the first must
    finish), and with ``--postgres`` two syncs at once on one PostgreSQL schema (both must finish).
The reference is one uninterrupted sync of the sandbox's final state into a fresh warehouse of the same engine.
"Identical" compares every table both hold, except the run bookkeeping (sync runs and state, quarantine, check
results, SLA history), by their live rows (a history of runs keeps tombstones of records deleted or archived
along the way, which a fresh sync never sees), raw tables without the extraction's own columns, with EXCEPT ALL
both ways. Before the last sync after the kills the sandbox clock moves past the search windows' lag: a change
made within it before a run starts belongs to the next run by design.
Prints one line per scenario, ``chaos: scenario=S identical=yes|no detail``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.demo import sandbox_environment  # noqa: E402
from sandbox.control import Control  # noqa: E402
from sandbox.server.app import Sandbox  # noqa: E402

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
BOOKKEEPING = {"sync_runs", "sync_state", "quarantine", "check_results", "sla_compliance", "sla_daily_snapshots"}
EXTRACTION_COLUMNS = {"_sync_id", "_extracted_at", "_deleted_at", "_is_deleted"}
LAG_SECONDS = 120  # more than the HubSpot search window's lag (connectors.hubspot.sync.ObjectSyncConfig.lag)
CRM_LOOP = str(Path(sys.executable).with_name("crm-loop"))


class Runs:
    """Starts ``crm-loop sync`` processes against the sandbox, one warehouse URL (and schema) each."""

    def __init__(self, info: dict[str, Any], work: Path) -> None:
        self.info, self.work = info, work
        # Configured as production's (dagster_home/dagster.yaml), event log storage included.
        self.home = work / "dagster_home"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", self.home / "dagster.yaml")

    def start(self, url: str, schema: str = "") -> subprocess.Popen[str]:
        env = {**os.environ, **sandbox_environment(self.info, url, self.work / "alerts.jsonl")}
        env["DAGSTER_HOME"] = str(self.home)
        env["CRM_LOOP_WAREHOUSE_SCHEMA"] = schema
        return subprocess.Popen(
            [CRM_LOOP, "sync"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def complete(self, url: str, schema: str = "") -> tuple[int, str]:
        proc = self.start(url, schema)
        _, err = proc.communicate()
        return proc.returncode, err


Columns = dict[str, dict[str, str]]  # table -> column -> data type


def _columns(conn: sa.Connection, where: str) -> Columns:
    out: Columns = {}
    for table, column, kind in conn.execute(
        sa.text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE {where} ORDER BY table_name, ordinal_position"
        )
    ).all():
        out.setdefault(str(table), {})[str(column)] = str(kind).upper()
    return out


def _comparable(column: str, kind: str) -> str:
    """A column as compared: floating point rounded to 9 digits (an average summed in another order differs
    in its last bits, not in meaning)."""
    if kind in ("DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT"):
        return f'ROUND(CAST("{column}" AS NUMERIC(38, 12)), 9)'
    return f'"{column}"'


def _differences(conn: sa.Connection, a: Columns, b: Columns, qualify: tuple[str, str]) -> list[str]:
    """Tables whose compared rows differ (EXCEPT ALL both ways); ``qualify`` prefixes each side's tables."""
    differ = []
    for table in sorted(set(a) & set(b) - BOOKKEEPING):
        columns = [c for c in a[table] if c in b[table] and c not in EXTRACTION_COLUMNS]
        deleted = next((c for c in ("_is_deleted", "is_deleted") if c in a[table]), None)
        live = f"WHERE NOT COALESCE({deleted}, FALSE)" if deleted else ""
        cols = ", ".join(_comparable(c, a[table][c]) for c in columns)
        one, two = (f'SELECT {cols} FROM {prefix}"{table}" {live}' for prefix in qualify)
        extra = conn.execute(
            sa.text(
                f"SELECT (SELECT COUNT(*) FROM ({one} EXCEPT ALL {two}) x) + "
                f"(SELECT COUNT(*) FROM ({two} EXCEPT ALL {one}) y)"
            )
        ).scalar_one()
        if extra:
            differ.append(f"{table}({extra})")
    return differ + [f"only on one side: {t}" for t in sorted((set(a) ^ set(b)) - BOOKKEEPING)]


def postgres_compare(engine: sa.Engine, left: str, right: str) -> list[str]:
    """Two schemas of one PostgreSQL database."""
    with engine.connect() as conn:
        a, b = (_columns(conn, f"table_schema = '{s}'") for s in (left, right))
        return _differences(conn, a, b, (f'"{left}".', f'"{right}".'))


def duckdb_compare(left: Path, right: Path) -> list[str]:
    """Two DuckDB files, attached read-only to one in-memory database."""
    engine = sa.create_engine("duckdb:///:memory:")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"ATTACH '{left}' AS l (READ_ONLY)")
            conn.exec_driver_sql(f"ATTACH '{right}' AS r (READ_ONLY)")
            a, b = (_columns(conn, f"table_catalog = '{c}' AND table_schema = 'main'") for c in ("l", "r"))
            return _differences(conn, a, b, ("l.main.", "r.main."))
    finally:
        engine.dispose()


def mutate(control: Control, rng: random.Random) -> None:
    """Changes a nightly run would meet: modified and deleted Salesforce rows, modified and archived contacts."""
    seed = rng.randrange(1 << 30)
    control.action("salesforce", "modify_random", object="Lead", n=5, seed=seed)
    control.action("salesforce", "delete_random", object="Task", n=3, seed=seed + 1)
    control.action("hubspot", "modify_random", type="contacts", n=5)
    control.action("hubspot", "archive_random", type="contacts", n=1)


def report(scenario: str, differences: list[str], detail: str = "") -> None:
    shown = "; ".join(differences[:8]) if differences else ""
    print(
        f"chaos: scenario={scenario} identical={'no' if differences else 'yes'} {detail} {shown}".rstrip(), flush=True
    )


def kills(runs: Runs, control: Control, work: Path, count: int, rng: random.Random) -> Path:
    warehouse = work / "killed.duckdb"
    url = f"duckdb:///{warehouse}"
    for _ in range(count):
        mutate(control, rng)
        proc = runs.start(url)
        time.sleep(rng.uniform(2.0, 25.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    # A search window ends the source's clock minus a lag (search indexing trails writes): a change made within
    # that lag before a run starts belongs to the next run by design. Move past it, as a night would.
    control.advance_clock(LAG_SECONDS)
    code, err = runs.complete(url)
    if code != 0:
        raise SystemExit(f"chaos: the last sync after the kills exited {code}: {err.strip()[-500:]}")
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--fuzz-records", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="also two concurrent runs on PostgreSQL")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("kill9",), help="run only this scenario (debugging)")
    parser.add_argument("--keep", type=Path, help="keep the scenario warehouses in this directory (debugging)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        (work / "dagster_home").mkdir(exist_ok=True)
        with Sandbox(seed=args.seed, size=args.people, workdir=work / "sandbox") as box:
            control, runs = Control(box.control_url), Runs(box.info(), work)
            killed = kills(runs, control, work, args.kills, rng)
            reference = work / "reference.duckdb"
            code, err = runs.complete(f"duckdb:///{reference}")
            if code != 0:
                raise SystemExit(f"chaos: the reference sync exited {code}: {err.strip()[-500:]}")
            report("kill9", duckdb_compare(killed, reference), f"kills={args.kills}")
            if args.only:
                return

            control.faults(rate_5xx=0.10, rate_429=0.10, truncate_rate=0.05, latency_ms=20)
            stormed = work / "storm.duckdb"
            code, err = runs.complete(f"duckdb:///{stormed}")
            control.reset_faults()
            report("fault_storm", duckdb_compare(stormed, reference) if code == 0 else [f"exit {code}"])

            shared = work / "concurrent.duckdb"
            first, second = runs.start(f"duckdb:///{shared}"), None
            time.sleep(3.0)
            second = runs.start(f"duckdb:///{shared}")
            _, err_second = second.communicate()
            _, err_first = first.communicate()
            refused = (
                second.returncode == 1 and "already writing" in err_second and len(err_second.strip().splitlines()) == 1
            )
            outcome = duckdb_compare(shared, reference) if first.returncode == 0 else [f"first exit {first.returncode}"]
            report("concurrent_duckdb", outcome + ([] if refused else ["second run not refused in one line"]))

            if args.postgres:
                engine = sa.create_engine(PG_URL)
                one, two = f"chaos_{uuid.uuid4().hex[:8]}", f"chaos_{uuid.uuid4().hex[:8]}"
                try:
                    runs.complete(PG_URL, one)
                    pair = [runs.start(PG_URL, two), runs.start(PG_URL, two)]
                    codes = [p.wait() for p in pair]
                    outcome = postgres_compare(engine, one, two) if codes == [0, 0] else [f"exits {codes}"]
                    report("concurrent_postgres", outcome)
                finally:
                    with engine.begin() as conn:
                        for schema in (one, two):
                            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    engine.dispose()

    fuzz = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fuzz.py"), "--records", str(args.fuzz_records), "--engines", "duckdb"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    last = fuzz.stdout.strip().splitlines()[-1] if fuzz.stdout.strip() else f"exit {fuzz.returncode}"
    report("fuzz", [] if fuzz.returncode == 0 and last.endswith("errors=0") else [last], last)


if __name__ == "__main__":
    main()
