"""Run a page iterator a few pages ahead of its consumer, on a background thread.

Paged APIs hand out sequential cursors: the next page can be requested as soon as the current one has arrived,
while the caller is still coercing and writing it. `prefetched` overlaps the two without changing what the
caller sees: the same pages, in the same order, and the producer's exception raised at the point where the
failing page would have been, after every page fetched before it. The producer never holds more than
``ahead`` pages the consumer has not taken, and it stops (closing the source) when the consumer leaves the
``with`` block, however it leaves.

Only the source iterator runs on the producer thread; everything done with a page (warehouse writes, resume
points) stays on the consumer's thread. Pages fetched but not yet taken are simply dropped on an early exit,
which is what a resumable caller wants: its resume point never moved past them.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Done:
    """Marks the end of the source (``error`` is None) or the exception that ended it."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _Channel(Generic[T]):
    """The hand-off between producer and consumer: at most ``ahead`` items fetched (or being fetched) and not
    yet taken, so a slot is claimed *before* the next item is requested."""

    def __init__(self, ahead: int) -> None:
        self._ahead = ahead
        self._items: deque[T | _Done] = deque()
        self._claimed = 0
        self._closed = False
        self._cond = threading.Condition()

    def claim(self) -> bool:
        """Wait for room to fetch one more item; False once the consumer has gone."""
        with self._cond:
            while self._claimed >= self._ahead and not self._closed:
                self._cond.wait()
            if self._closed:
                return False
            self._claimed += 1
            return True

    def put(self, item: T | _Done) -> None:
        with self._cond:
            if not self._closed:
                self._items.append(item)
                self._cond.notify_all()

    def take(self) -> T | _Done:
        with self._cond:
            while not self._items:
                self._cond.wait()
            self._claimed -= 1
            self._cond.notify_all()
            return self._items.popleft()

    def close(self) -> None:
        """The consumer is leaving: wake the producer, and drop what it fetched ahead."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()


def _produce(source: Iterator[T], channel: _Channel[T]) -> None:
    try:
        while channel.claim():
            try:
                item = next(source)
            except StopIteration:
                channel.put(_Done(None))
                return
            channel.put(item)
    # BaseException too: a simulated process death or KeyboardInterrupt must reach the consumer, not vanish here.
    except BaseException as exc:  # noqa: BLE001
        channel.put(_Done(exc))
    finally:
        # The source may hold a session or a cursor: close it on the thread that ran it.
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _drain(channel: _Channel[T]) -> Iterator[T]:
    while True:
        item = channel.take()
        if isinstance(item, _Done):
            if item.error is not None:
                raise item.error
            return
        yield item


@contextlib.contextmanager
def prefetched(source: Iterable[T], *, ahead: int = 1, name: str = "prefetch") -> Iterator[Iterator[T]]:
    """``with prefetched(pages) as ahead: for page in ahead: ...`` — the producer starts on entering the block
    and is stopped and joined on leaving it, so nothing touches the source afterwards."""
    if ahead < 1:
        raise ValueError(f"ahead must be at least 1 page, got {ahead}")
    channel: _Channel[Any] = _Channel(ahead)
    thread = threading.Thread(target=_produce, args=(iter(source), channel), name=name, daemon=True)
    thread.start()
    try:
        yield _drain(channel)
    finally:
        channel.close()
        thread.join()
