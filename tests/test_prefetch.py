from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from govweibo.ingest.prefetch import prefetched


def test_yields_everything_in_order_from_another_thread() -> None:
    threads = set()

    def gen() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetched(gen(), depth=2)) == list(range(50))
    assert threads == {"govweibo-reader"}


def test_an_error_in_the_reader_is_raised_to_the_consumer_after_earlier_items() -> None:
    def gen() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3: broken")

    got = []
    with pytest.raises(ValueError, match="line 3"):
        for x in prefetched(gen()):
            got.append(x)
    assert got == [1, 2]


def test_stopping_early_closes_the_reader_in_its_thread() -> None:
    closed = threading.Event()

    def gen() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for x in prefetched(gen()):
            if x == 3:
                raise RuntimeError("storing failed")
    assert closed.is_set()
