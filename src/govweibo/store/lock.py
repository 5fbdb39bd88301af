"""Opening a store file that another process may hold.

DuckDB lets one process open a file read-write, or any number of processes open it
read-only, never both. govweibo's writers therefore let go of the file between batches when
someone waits for it (`Store(share=True)`) and its readers (`serve`, `status`, the analyses)
hold it only while they read; an open that meets the other side's lock retries until
`lock_wait` seconds have passed, then fails with a message naming the process that holds it.

A writer that reopens the file between batches would win nearly every race against readers
polling for it, so readers announce that they are waiting: they hold a shared `flock` on
`<store>.readers-waiting` while they retry, and a writer about to reopen lets them in first
(for at most `YIELD_S` seconds, so that a stream of readers cannot stall an ingest). A
writer that waits announces itself the same way (`<store>.writer-waiting`): a long-lived
reader (the web app) closes the file when idle once it sees that (`writer_waiting`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import duckdb

from govweibo.errors import StoreError

logger = logging.getLogger(__name__)

POLL_S = 0.02  # between attempts; a batch boundary of the writer lasts about this long
YIELD_S = 2.0  # longest a writer lets waiting readers go first at one reopen
_LOCK_ERROR = "Could not set lock on file"
_PID = re.compile(r"\(PID (\d+)\)")


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and _LOCK_ERROR in str(exc)


def connect(
    path: str,
    *,
    read_only: bool,
    config: dict[str, Any],
    wait: float,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `path`, retrying for `wait` seconds while another process
    holds the file; raises StoreError (naming that process) when it still does."""
    if path == ":memory:":
        return _connect(path, read_only, config)
    deadline = time.monotonic() + wait
    if not read_only:
        _let_readers_in(path, min(deadline, time.monotonic() + YIELD_S))
    try:
        return _connect(path, read_only, config)
    except duckdb.Error as exc:
        if not is_lock_error(exc):
            raise StoreError(f"cannot open store {path}: {exc}") from None
        if wait <= 0:
            raise StoreError(_busy_message(path, str(exc), wait)) from None
        logger.info("store %s is held by %s; waiting", path, _holder(str(exc)))
    with _announce(path + (".readers-waiting" if read_only else ".writer-waiting")):
        while True:
            time.sleep(POLL_S)
            try:
                return _connect(path, read_only, config)
            except duckdb.Error as exc:
                if not is_lock_error(exc):
                    raise StoreError(f"cannot open store {path}: {exc}") from None
                if time.monotonic() >= deadline:
                    raise StoreError(_busy_message(path, str(exc), wait)) from None


def _connect(path: str, read_only: bool, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=read_only, config=config)


def _busy_message(path: str, error: str, wait: float) -> str:
    return (
        f"store {path} is held by another process ({_holder(error)}); waited {wait:g} s "
        "(setting lock_wait). Try again when it has finished."
    )


def _holder(error: str) -> str:
    """'PID 123: govweibo ingest big.jsonl' from DuckDB's lock error, as far as known."""
    m = _PID.search(error)
    if not m:
        return "process unknown"
    pid = int(m.group(1))
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"PID {pid}"
    args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    # Drop the interpreter: 'python -m govweibo ...' and '.venv/bin/govweibo ...' alike.
    while args and ("python" in Path(args[0]).name or args[0] == "-m"):
        args = args[1:]
    if args:
        args[0] = Path(args[0]).name
    command = " ".join(args)
    return f"PID {pid}: {command[:120]}" if command else f"PID {pid}"


@contextmanager
def _announce(name: str) -> Iterator[None]:
    """Hold a shared lock on the file `name` while waiting for the store."""
    fh: IO[bytes] | None
    try:
        fh = open(name, "ab")  # noqa: SIM115 - held across the with block
    except OSError:  # a read-only folder: no announcement, the open still retries
        fh = None
    try:
        if fh is not None:
            fcntl.flock(fh, fcntl.LOCK_SH)
        yield
    finally:
        if fh is not None:
            fh.close()  # closing drops the lock


def _announced(name: str) -> bool:
    """Whether some process holds a lock on `name` (is waiting for the store)."""
    if not os.path.exists(name):
        return False
    try:
        fh = open(name, "ab")  # noqa: SIM115 - closed below
    except OSError:
        return False
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        fh.close()


def writer_waiting(path: str) -> bool:
    """Whether a writer is waiting for the store at `path` (a reader should let go)."""
    return _announced(path + ".writer-waiting")


def readers_waiting(path: str) -> bool:
    """Whether readers are waiting for the store at `path` (a writer should let go)."""
    return _announced(path + ".readers-waiting")


def _let_readers_in(path: str, until: float) -> None:
    """Before a writer opens the file: wait while readers announce they are waiting."""
    while readers_waiting(path) and time.monotonic() < until:
        time.sleep(POLL_S)
