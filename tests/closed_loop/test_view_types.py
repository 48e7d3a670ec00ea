"""The analyst views have the same column types on DuckDB and PostgreSQL: the catalog's.

Views are created by the production code over an empty closed_loop_leads (types do not depend on rows) on both
engines, and each engine's information_schema is read back column by column.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import VIEWS
from connectors.warehouse.locking import write_lock
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.materialize import empty_select, replace_from
from pipelines.closed_loop.views import create_views
from tests.closed_loop.conftest import drop_schema
from tests.conftest import PG_URL, postgres_reachable

# information_schema.columns.data_type as each engine spells it -> the catalog's logical type. A type missing
# here (PostgreSQL's numeric, DuckDB's HUGEINT) fails the test by name.
ENGINE_TYPES = {
    "duckdb": {"BIGINT": "integer", "DOUBLE": "float", "VARCHAR": "string", "DATE": "date"},
    "postgresql": {"bigint": "integer", "double precision": "float", "character varying": "string", "date": "date"},
}


def view_types(wh: Warehouse) -> dict[tuple[str, str], str]:
    """(view, column) -> the engine's data_type, for every catalog view."""
    schema = wh.schema or ("main" if wh.engine.dialect.name == "duckdb" else "public")
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = :schema AND table_name IN :views"
            ).bindparams(sa.bindparam("views", expanding=True)),
            {"schema": schema, "views": [v.name for v in VIEWS]},
        ).all()
    return {(r.table_name, r.column_name): r.data_type for r in rows}


def with_views(wh: Warehouse) -> dict[tuple[str, str], str]:
    with write_lock(wh.engine), wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        replace_from(ctx, CLOSED_LOOP_LEADS, empty_select(CLOSED_LOOP_LEADS))
    create_views(wh)
    return view_types(wh)


@pytest.fixture
def both_engines(tmp_path: Path) -> Iterator[tuple[Warehouse, Warehouse]]:
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    duck = Warehouse.from_url(f"duckdb:///{tmp_path}/wh.duckdb")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg = Warehouse.from_url(PG_URL, schema=schema)
    try:
        yield duck, pg
    finally:
        duck.close()
        pg.close()
        drop_schema(schema)


def test_every_view_column_has_the_catalog_type_on_both_engines(both_engines: tuple[Warehouse, Warehouse]) -> None:
    duck, pg = both_engines
    on_duckdb, on_postgres = with_views(duck), with_views(pg)
    expected = {(v.name, c.name): c.type for v in VIEWS for c in v.columns}
    assert set(on_duckdb) == set(on_postgres) == set(expected)
    as_logical = {
        "duckdb": {k: ENGINE_TYPES["duckdb"].get(t, t) for k, t in on_duckdb.items()},
        "postgresql": {k: ENGINE_TYPES["postgresql"].get(t, t) for k, t in on_postgres.items()},
    }
    assert as_logical["duckdb"] == expected
    assert as_logical["postgresql"] == expected
    # The rates the report prints: double precision on PostgreSQL, not numeric.
    assert on_postgres[("sla_compliance_by_team", "first_touch_compliance")] == "double precision"
    assert on_duckdb[("funnel_conversion_by_month", "win_rate")] == "DOUBLE"
