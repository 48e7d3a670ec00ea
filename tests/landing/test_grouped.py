"""Pages grouped into transactions: a group commits whole pages with their resume point, or nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.warehouse import Column, TableSpec, Warehouse
from connectors.warehouse.grouped import GroupedBatches
from connectors.warehouse.warehouse import Batch

SPEC = TableSpec("paged", [Column("id", "string"), Column("n", "integer")], primary_key="id")
EXTRACTED = datetime(2026, 1, 20, 8, 0, 0)


def _write_page(
    groups: GroupedBatches, page: int, counted: list[int], state: dict[str, int], saves: list[int] | None = None
) -> None:
    """As the connectors write a page: its rows, then the resume point (a dict the page loop advances) to be
    saved when the group commits."""
    rows = [{"id": f"{page}-{i}", "n": i} for i in range(2)]
    state["after_page"] = page

    def save(batch: Batch) -> None:
        batch.save_state("src", "paged", state, sync_id="s")
        if saves is not None:
            saves.append(state["after_page"])

    with groups.page(len(rows)) as b:
        b.upsert(SPEC, rows, sync_id="s", extracted_at=EXTRACTED)
        groups.save_at_commit(save)
        groups.on_commit(lambda: counted.append(page))


def test_pages_commit_in_groups_of_rows_and_all_land(warehouse: Warehouse) -> None:
    warehouse.ensure_table(SPEC)
    counted: list[int] = []
    state: dict[str, int] = {}
    saves: list[int] = []
    with GroupedBatches(warehouse.batch, max_rows=4, max_seconds=3600) as groups:
        for page in range(5):
            _write_page(groups, page, counted, state, saves)
            assert counted == list(range(page + 1 if page % 2 else page))  # counted only once committed
    assert groups.commits == 3
    assert saves == [1, 3, 4], "the resume point is written once per commit: the group's last page's"
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
            state: dict[str, int] = {}
            for page in range(3):
                _write_page(groups, page, counted, state)
            raise Killed  # e.g. the next page's request fails
    assert counted == [0, 1]
    assert warehouse.row_count(SPEC) == 4
    assert warehouse.get_state("src", "paged") == {"after_page": 1}


def test_a_group_also_commits_once_it_is_old_enough(warehouse: Warehouse) -> None:
    warehouse.ensure_table(SPEC)
    now = [0.0]
    counted: list[int] = []
    state: dict[str, int] = {}
    with GroupedBatches(warehouse.batch, max_rows=1000, max_seconds=5, clock=lambda: now[0]) as groups:
        _write_page(groups, 0, counted, state)
        now[0] = 6.0
        _write_page(groups, 1, counted, state)
        assert counted == [0, 1]
        _write_page(groups, 2, counted, state)
        assert counted == [0, 1]
    assert counted == [0, 1, 2] and groups.commits == 2


def test_limits_and_misuse_are_reported(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="max_rows must be >= 1"):
        GroupedBatches(warehouse.batch, max_rows=0, max_seconds=1)
    with pytest.raises(RuntimeError, match="inside a page"):
        GroupedBatches(warehouse.batch, max_rows=1, max_seconds=1).on_commit(lambda: None)
    with pytest.raises(RuntimeError, match="inside a page"):
        GroupedBatches(warehouse.batch, max_rows=1, max_seconds=1).save_at_commit(lambda batch: None)
