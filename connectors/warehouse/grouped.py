"""Several pages per transaction: a commit (and, on DuckDB, taking the write lock) per page costs more than the
page's rows once pages are small, so pages are written into one open `Batch` until it holds enough rows or is
old enough, then committed together.

Resuming stays exact: the resume point is saved in the transaction that holds the pages it covers, just before
that transaction commits (`save_at_commit`: only the group's last page's point is ever read back, so it is
written once per commit, not once per page), and a crash rolls back to the last commit, which the next run
resumes from. Counters that must only count committed pages are passed as `on_commit` callbacks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType

from connectors.warehouse.warehouse import Batch


class GroupedBatches:
    """Use as a context manager around the page loop: leaving it normally commits what is open, an exception
    rolls it back. While open, the transaction holds the DuckDB write lock, so `max_seconds` also bounds how
    long other writers in the process wait."""

    def __init__(
        self,
        begin: Callable[[], AbstractContextManager[Batch]],
        *,
        max_rows: int,
        max_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rows < 1 or max_seconds < 0:
            raise ValueError(f"max_rows must be >= 1 and max_seconds >= 0, got {max_rows} and {max_seconds}")
        self._begin = begin
        self._max_rows = max_rows
        self._max_seconds = max_seconds
        self._clock = clock
        self._open: ExitStack | None = None
        self._batch: Batch | None = None
        self._rows = 0
        self._opened_at = 0.0
        self._on_commit: list[Callable[[], None]] = []
        self._at_commit: Callable[[Batch], None] | None = None
        self.commits = 0

    @contextlib.contextmanager
    def page(self, rows: int) -> Iterator[Batch]:
        """The open batch to write one page of ``rows`` records into; commits afterwards if the group is full."""
        if self._open is None:
            stack = ExitStack()
            self._batch = stack.enter_context(self._begin())
            self._open, self._rows, self._opened_at = stack, 0, self._clock()
        assert self._batch is not None
        yield self._batch
        self._rows += rows
        if self._rows >= self._max_rows or self._clock() - self._opened_at >= self._max_seconds:
            self.commit()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the open group (the page being written) has committed; never if it rolls back."""
        if self._open is None:
            raise RuntimeError("on_commit belongs inside a page(): no group is open")
        self._on_commit.append(callback)

    def save_at_commit(self, write: Callable[[Batch], None]) -> None:
        """Have ``write`` (e.g. the resume point as it stands) run in the open group's transaction right before it
        commits; a later page's ``write`` replaces an earlier one's. Dropped if the group rolls back."""
        if self._open is None:
            raise RuntimeError("save_at_commit belongs inside a page(): no group is open")
        self._at_commit = write

    def commit(self) -> None:
        """Commit the open group now (nothing to do if none is open)."""
        if self._open is None:
            return
        if self._at_commit is not None:
            assert self._batch is not None
            self._at_commit(self._batch)
        stack, callbacks = self._open, self._on_commit
        self._open, self._batch, self._on_commit, self._at_commit = None, None, [], None
        stack.close()
        self.commits += 1
        for callback in callbacks:
            callback()

    def __enter__(self) -> GroupedBatches:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
            return
        if self._open is not None:
            stack, self._open, self._batch, self._on_commit, self._at_commit = self._open, None, None, [], None
            stack.__exit__(kind, error, traceback)  # rolls the open group back
