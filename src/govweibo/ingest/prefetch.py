"""Run a reader one batch ahead, in a thread, so parsing and storing overlap.

Parsing (the reader's own DuckDB connection) and writing (the store's) both run
in native code that releases the GIL, so on two cores the two halves of an
ingest proceed side by side. The queue is bounded: at most `depth` batches wait,
and the reader starts a batch only when the consumer has let go of an older one, so at
most `depth + 1` batches are alive at once whatever the file size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_M_MMAP_THRESHOLD = -3


def bound_heap(threshold: int = 8 << 20) -> None:
    """Serve allocations over `threshold` bytes by mmap, returned to the system on free.

    glibc raises its mmap threshold each time a large block is freed, after which
    32 MB chunk buffers come from the heap, which fragments and never shrinks: a
    reader thread and a writer thread freeing such buffers in turn grew the process
    by hundreds of MB. A fixed threshold keeps memory bounded by the live batches.
    Does nothing where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)
    except (OSError, AttributeError):
        pass


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield what `items` yields, produced by a worker thread up to `depth` ahead.

    An exception in the worker is raised here, at the point it would have been
    raised without the thread. When the consumer stops early (an error while
    storing, Ctrl-C), the worker is told to stop and the source is closed in the
    worker's own thread, so its cleanup (closing files and connections) runs.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    # One slot per batch alive: the one the consumer holds, and those produced ahead.
    slots = threading.Semaphore(depth + 1)

    def put(obj: object) -> bool:
        while not stop.is_set():
            try:
                q.put(obj, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def acquire() -> bool:
        while not stop.is_set():
            if slots.acquire(timeout=0.1):
                return True
        return False

    def work() -> None:
        try:
            while acquire():
                try:
                    item = next(items)
                except StopIteration:
                    break
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
            slots.release()
    finally:
        stop.set()
        worker.join()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc
