"""How fast the sandbox seeds and how much memory it holds, by dataset size.

Usage: .venv/bin/python bench/sandbox_seed.py [--sizes 2000,50000]
Each size runs in its own process so peak memory is that size's alone. Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(size: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from sandbox.server.app import Sandbox

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        box = Sandbox(seed=1, size=size, workdir=Path(tmp) / "sb").start()
        seconds = time.perf_counter() - started
        records = sum(sum(side.values()) for side in box.info()["records"].values())
        db_mib = (Path(tmp) / "sb" / "sandbox.sqlite3").stat().st_size / 2**20
        box.stop()
    return {
        "seconds": seconds,
        "records": records,
        "db_mib": db_mib,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,50000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], check=True, capture_output=True, text=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"seed_time_{size}_people: {m['seconds']:.1f} s")
        print(f"records_{size}_people: {m['records']:.0f} records")
        print(f"seed_rate_{size}_people: {m['records'] / m['seconds']:.0f} records/s")
        print(f"peak_rss_{size}_people: {m['rss_mib']:.0f} MiB")
        print(f"sqlite_size_{size}_people: {m['db_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
