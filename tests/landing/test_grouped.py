"""Pages grouped into transactions: a group commits whole pages with their resume point, or nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.warehouse import Column, TableSpec, Warehouse
from connectors.warehouse.grouped import GroupedBatches

SPEC = TableSpec("paged", [Column("id", "string"), Column("n", "integer")], primary_key="id")
EXTRACTED = datetime(2026, 1, 20, 8, 0, 0)


def _write_page(groups: GroupedBatches, page: int, counted: list[int]) -> None:
    rows = [{"id": f"{page}-{i}", "n": i} for i in range(2)]
    with groups.page(len(rows)) as b:
        b.upsert(SPEC, rows, sync_id="s", extracted_at=EXTRACTED)
        b.save_state("src", "paged", {"after_page": page}, sync_id="s")
        groups.on_commit(lambda: counted.append(page))


def test_pages_commit_in_groups_of_rows_and_all_land(warehouse: Warehouse) -> None:
    warehouse.ensure_table(SPEC)
    counted: list[int] = []
    with GroupedBatches(warehouse.batch, max_rows=4, max_seconds=3600) as groups:
        for page in range(5):
            _write_page(groups, page, counted)
            assert counted == list(range(page + 1 if page % 2 else page))  # counted only once committed
    assert groups.commits == 3
    assert counted == [0, 1, 2, 3, 4]
    assert warehouse.row_count(SPEC) == 10
    assert warehouse.get_state("src", "paged") == {"after_page": 4}


def test_a_crash_rolls_back_the_open_group_to_the_last_committed_resume_point(warehouse: Warehouse) -> None:
    warehouse.ensure_table(SPEC)
    counted: list[int] = []

    class Killed(Exception):
        pass

    with pytest.raises(Killed):
        with GroupedBatches(warehouse.batch, max_rows=4, max_seconds=3600) as groups:
            for page in range(3):
                _write_page(groups, page, counted)
            raise Killed  # e.g. the next page's request fails
    assert counted == [0, 1]
    assert warehouse.row_count(SPEC) == 4
    assert warehouse.get_state("src", "paged") == {"after_page": 1}


def test_a_group_also_commits_once_it_is_old_enough(warehouse: Warehouse) -> None:
    warehouse.ensure_table(SPEC)
    now = [0.0]
    counted: list[int] = []
    with GroupedBatches(warehouse.batch, max_rows=1000, max_seconds=5, clock=lambda: now[0]) as groups:
        _write_page(groups, 0, counted)
        now[0] = 6.0
        _write_page(groups, 1, counted)
        assert counted == [0, 1]
        _write_page(groups, 2, counted)
        assert counted == [0, 1]
    assert counted == [0, 1, 2] and groups.commits == 2


def test_limits_and_misuse_are_reported(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="max_rows must be >= 1"):
        GroupedBatches(warehouse.batch, max_rows=0, max_seconds=1)
    with pytest.raises(RuntimeError, match="inside a page"):
        GroupedBatches(warehouse.batch, max_rows=1, max_seconds=1).on_commit(lambda: None)
