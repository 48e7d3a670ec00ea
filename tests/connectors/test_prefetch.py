"""`prefetched`: the same pages in the same order, never more than ``ahead`` fetched and not taken, the source's
exception at the page that failed, and a producer that stops (its source closed) however the consumer leaves."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from connectors.api.prefetch import prefetched


class SourceFailed(Exception):
    pass


class ProcessKilled(BaseException):
    """Like the connector tests' stand-in for a dying process: not an Exception."""


def _failing_after(n: int, error: BaseException) -> Iterator[int]:
    yield from range(n)
    raise error


@pytest.mark.parametrize("ahead", [1, 3])
def test_pages_arrive_complete_and_in_order(ahead: int) -> None:
    with prefetched(range(200), ahead=ahead) as pages:
        assert list(pages) == list(range(200))


def test_an_empty_source_yields_nothing() -> None:
    with prefetched([]) as pages:
        assert list(pages) == []


@pytest.mark.parametrize("ahead", [1, 2, 4])
def test_the_producer_runs_ahead_exactly_as_far_as_allowed(ahead: int) -> None:
    total = 12
    cond = threading.Condition()
    taken = 0  # pages the consumer has taken; it holds page ``taken - 1``
    started: list[int] = []
    too_far: list[tuple[int, int]] = []

    def source() -> Iterator[int]:
        for i in range(total):
            with cond:
                started.append(i)
                if i - taken >= ahead:
                    too_far.append((i, taken))
                cond.notify_all()
            yield i

    with prefetched(source(), ahead=ahead) as pages:
        for page in pages:
            with cond:
                taken += 1
                bound = min(taken + ahead, total)
                # It does look ahead: the pages up to the bound get requested while this one is "written"...
                assert cond.wait_for(lambda bound=bound: len(started) >= bound, timeout=30)
                # ...and no further until the next page is taken (it cannot start one without this lock).
                assert len(started) == bound
            assert page == taken - 1
    assert too_far == []


@pytest.mark.parametrize("error", [SourceFailed("page 3 failed"), ProcessKilled("died fetching page 3")])
def test_the_source_exception_surfaces_after_the_pages_fetched_before_it(error: BaseException) -> None:
    got: list[int] = []
    with pytest.raises(type(error)) as raised, prefetched(_failing_after(3, error), ahead=2) as pages:
        for page in pages:
            got.append(page)
    assert raised.value is error
    assert got == [0, 1, 2]


def _endless(closed_on: list[str], started: list[int]) -> Iterator[int]:
    try:
        i = 0
        while True:
            started.append(i)
            yield i
            i += 1
    finally:
        closed_on.append(threading.current_thread().name)


def test_leaving_early_stops_the_producer_and_closes_the_source() -> None:
    closed_on: list[str] = []
    started: list[int] = []
    with prefetched(_endless(closed_on, started), ahead=2, name="prefetch endless") as pages:
        for page in pages:
            if page == 4:
                break
    # Joined on exit: the source was closed on its own thread before the block ended, at most 2 pages ahead.
    assert closed_on == ["prefetch endless"]
    assert len(started) <= 5 + 2


def test_a_consumer_error_stops_the_producer_and_propagates_unchanged() -> None:
    closed_on: list[str] = []
    started: list[int] = []
    with pytest.raises(SourceFailed, match="write failed"), prefetched(_endless(closed_on, started)) as pages:
        for page in pages:
            if page == 1:
                raise SourceFailed("write failed")
    assert closed_on == ["prefetch"]
    assert len(started) <= 2 + 1


def test_ahead_must_be_at_least_one_page() -> None:
    with pytest.raises(ValueError, match="at least 1 page"), prefetched(range(3), ahead=0):
        pass
