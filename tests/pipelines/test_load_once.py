"""What a run loads once instead of per step: the code location without Great Expectations or any other library
only a step needs (pandas, pyarrow, SQLAlchemy, DuckDB, the CRM clients), the definitions file parsed once per
content, one warehouse engine per URL and schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import close_shared_warehouses, shared_warehouse
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions

ROOT = Path(__file__).resolve().parents[2]


# Libraries a step needs but declaring the definitions does not: each costs the code location load time.
NOT_AT_LOAD = (
    "great_expectations",
    "checks.engine",
    "pandas",
    "pyarrow",
    "sqlalchemy",
    "duckdb",
    "simple_salesforce",
    "hubspot",
)


def test_loading_the_code_location_imports_no_step_libraries() -> None:
    probe = f"import sys, pipelines.definitions; print(sorted(m for m in {NOT_AT_LOAD!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", f"imported when the code location loads: {out.stdout.strip()}"


def test_definitions_are_parsed_once_per_content(tmp_path: Path) -> None:
    copy = tmp_path / "definitions.yaml"
    copy.write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_definitions(copy)
    assert load_definitions(copy) is first
    edited = DEFAULT_PATH.read_text(encoding="utf-8").replace('\nversion: "', '\nversion: "edited-', 1)
    copy.write_text(edited, encoding="utf-8")
    assert load_definitions(copy).version.startswith("edited-"), "an edit is picked up without a restart"


def test_one_warehouse_per_url_and_schema_until_closed(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    wh = shared_warehouse(WarehouseResource(url=url))
    assert shared_warehouse(WarehouseResource(url=url)) is wh
    assert shared_warehouse(WarehouseResource(url=url, db_schema="other")) is not wh
    with wh.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    close_shared_warehouses()
    assert shared_warehouse(WarehouseResource(url=url)) is not wh, "closed engines are not handed out again"
    close_shared_warehouses()
