"""Run a reader one batch ahead, in a thread, so parsing and storing overlap.

Parsing (the reader's own DuckDB connection) and writing (the store's) both run
in native code that releases the GIL, so on two cores the two halves of an
ingest proceed side by side. The queue is bounded: at most `depth` batches wait,
which keeps memory bounded by a few chunks whatever the file size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield what `items` yields, produced by a worker thread up to `depth` ahead.

    An exception in the worker is raised here, at the point it would have been
    raised without the thread. When the consumer stops early (an error while
    storing, Ctrl-C), the worker is told to stop and the source is closed in the
    worker's own thread, so its cleanup (closing files and connections) runs.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(obj: object) -> bool:
        while not stop.is_set():
            try:
                q.put(obj, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Raised(exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put(_DONE)

    worker = threading.Thread(target=work, name="govweibo-reader", daemon=True)
    worker.start()
    try:
        while True:
            obj = q.get()
            if obj is _DONE:
                return
            if isinstance(obj, _Raised):
                raise obj.exc
            yield obj  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc
