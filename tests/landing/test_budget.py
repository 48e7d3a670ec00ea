"""`ApiBudget` counts in memory and reserves from the shared tally in blocks; the run never passes its cap."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from connectors.api.budget import ApiBudget, ApiBudgetExceeded, BudgetPolicy, SharedTally, grant


class CountingTally(SharedTally):
    """The real SQLite tally, counting its writes."""

    writes = 0

    def reserve(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        self.writes += 1
        return super().reserve(*args, **kwargs)  # type: ignore[arg-type]


def _spend(budget: ApiBudget, org_used: int, org_max: int) -> None:
    budget.check()
    budget.record(org_used, org_max)


def test_grants_stop_at_the_cap_and_go_one_by_one_until_the_allowance_is_known() -> None:
    assert grant(50, 0, None) == 1
    assert grant(50, 10, 100) == 50
    assert grant(50, 90, 100) == 10
    assert grant(50, 100, 100) == 0
    assert grant(50, 120, 100) == 0


def test_the_tally_is_written_once_per_block_not_per_request(tmp_path: Path) -> None:
    tally = CountingTally(tmp_path / "tally.sqlite3")
    budget = ApiBudget(tally, org="o", run="r", policy=BudgetPolicy(0.5, 1.0), block=20)
    for n in range(100):
        _spend(budget, n, 10_000)
    # One single-request reservation before the allowance was known, then blocks of 20.
    assert tally.writes == 1 + 5
    assert tally.read("o", "r")[0] == 1 + 5 * 20
    budget.close()
    assert tally.read("o", "r")[0] == 100


def test_two_processes_sharing_a_run_stop_at_its_cap_together(tmp_path: Path) -> None:
    first, second = (
        ApiBudget(SharedTally(tmp_path / "tally.sqlite3"), org="o", run="r", policy=BudgetPolicy(0.25, 1.0), block=7)
        for _ in range(2)
    )
    made = 0
    stopped: set[int] = set()
    while len(stopped) < 2:
        for index, budget in enumerate((first, second)):
            if index in stopped:
                continue
            try:
                _spend(budget, made, 400)
                made += 1
            except ApiBudgetExceeded as exc:
                assert "cap is 100" in str(exc)
                stopped.add(index)
    assert made == 100
    assert SharedTally(tmp_path / "tally.sqlite3").read("o", "r")[0] == 100


def test_requests_made_without_a_check_are_still_counted(tmp_path: Path) -> None:
    tally = SharedTally(tmp_path / "tally.sqlite3")
    budget = ApiBudget(tally, org="o", run="r", policy=BudgetPolicy(0.5, 1.0), block=5)
    _spend(budget, 0, 100)
    for _ in range(3):
        budget.record(None, None)  # e.g. re-authentication, metered but not checked
    budget.close()
    assert tally.read("o", "r")[0] == 4


def test_the_org_ceiling_stops_and_hands_back_the_reservation(tmp_path: Path) -> None:
    tally = SharedTally(tmp_path / "tally.sqlite3")
    budget = ApiBudget(tally, org="o", run="r", policy=BudgetPolicy(0.5, 0.8), block=10)
    _spend(budget, 10, 100)
    _spend(budget, 85, 100)
    with pytest.raises(ApiBudgetExceeded, match="80% ceiling"):
        budget.check()
    assert tally.read("o", "r")[0] == 2


def test_threads_sharing_one_budget_count_every_request_and_stop_at_the_cap(tmp_path: Path) -> None:
    # A prefetching producer thread checks and records while another thread may do the same.
    tally = SharedTally(tmp_path / "tally.sqlite3")
    budget = ApiBudget(tally, org="o", run="r", policy=BudgetPolicy(0.25, 1.0), block=3)
    _spend(budget, 0, 800)  # the allowance is known from the first response: the run's cap is 200
    made = [0] * 4

    def spend(index: int) -> None:
        with contextlib.suppress(ApiBudgetExceeded):
            while True:
                _spend(budget, 0, 800)
                made[index] += 1

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    budget.close()
    # Every request is counted once. A check and its record are two steps, so a request in flight on each other
    # thread may pass the last check: the overshoot is bounded by the threads (a prefetching sync has one).
    assert tally.read("o", "r")[0] == 1 + sum(made)
    assert 200 <= 1 + sum(made) <= 200 + len(threads) - 1
