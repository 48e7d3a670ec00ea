"""What loading the Dagster code location costs before the first request: `import pipelines.definitions`.

Usage: .venv/bin/python bench/import_time.py [--repeat 3]
Each repetition imports in a fresh interpreter and measures there (CPU seconds of this process, wall seconds),
so nothing is cached between repetitions; the median is reported. `import dagster` alone is measured the same
way in the same run as the floor no code location can go below. Prints `name: value unit` lines; the last is
`import: cpu_s=X wall_s=Y`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys, time
cpu, wall = time.process_time(), time.perf_counter()
import {module}
print(json.dumps({{"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
                  "great_expectations": "great_expectations" in sys.modules}}))
"""


def measure(module: str) -> dict[str, float | bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float | bool] = json.loads(out.strip().splitlines()[-1])
    return result


def median_of(module: str, repeat: int) -> tuple[float, float, bool]:
    runs = [measure(module) for _ in range(repeat)]
    return (
        statistics.median(float(r["cpu_s"]) for r in runs),
        statistics.median(float(r["wall_s"]) for r in runs),
        any(bool(r["great_expectations"]) for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    floor_cpu, floor_wall, _ = median_of("dagster", args.repeat)
    cpu, wall, gx = median_of("pipelines.definitions", args.repeat)
    print(f"import dagster (floor): cpu_s={floor_cpu:.2f} wall_s={floor_wall:.2f}")
    print(f"great_expectations imported by the code location: {'yes' if gx else 'no'}")
    print(f"code location over dagster alone: {cpu / floor_cpu:.2f} x cpu")
    print(f"import: cpu_s={cpu:.2f} wall_s={wall:.2f}")


if __name__ == "__main__":
    main()
