"""The ingest run: pick readers, stream batches into the store, keep provenance."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govweibo.errors import FormatDetectionError, IngestError
from govweibo.ingest.base import Reader, ReadOptions, Source, observed_at_for
from govweibo.ingest.prefetch import bound_heap, prefetched
from govweibo.model import Batch
from govweibo.store import Store
from govweibo.store.parquet_sink import ParquetSink

HEAD_BYTES = 4096
logger = logging.getLogger(__name__)
# Batches are committed (their stage files published with the run's running totals)
# in groups of about this many rows: a killed run loses at most one group, which a
# re-run restores.
COMMIT_ROWS = 250_000

# progress(event, path, value): ("start", path, total_bytes), ("advance", path, bytes),
# ("done", path, run_row).
Progress = Callable[[str, str, Any], None]


@dataclass
class FileResult:
    path: str
    format: str
    run_id: int | None
    records_read: int = 0
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    empty: int = 0
    status: str = "done"
    message: str = ""


@dataclass
class IngestSummary:
    files: list[FileResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Crawler comments linked to their posts after the files were read (crawler_csv).
    links: dict[str, int] | None = None

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status != "done"]


def readers() -> list[Reader]:
    """The built-in readers (ingest.READERS) and the plugins, in detection order."""
    from govweibo.ingest.plugins import all_readers

    return all_readers()


def reader_named(name: str) -> Reader:
    for r in readers():
        if r.name == name:
            return r
    from govweibo.ingest.plugins import failed_plugin

    broken = failed_plugin(name)
    if broken is not None:
        raise broken
    names = ", ".join(r.name for r in readers())
    raise FormatDetectionError(f"unknown format '{name}' (known: auto, {names})")


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with path.open("rb") as fh:
        raw = fh.read(HEAD_BYTES)
    if path.suffix == ".gz":
        import zlib

        try:
            raw = zlib.decompressobj(wbits=47).decompress(raw)
        except zlib.error:
            return b""
    return raw


def detect(path: Path) -> Reader | None:
    head = _head(path)
    return next((r for r in readers() if r.detect(path, head)), None)


def plan(paths: list[Path], fmt: str) -> tuple[list[tuple[Reader, Path]], list[tuple[str, str]]]:
    """Which reader reads which unit (a file, or a folder a folder-format owns)."""
    units: list[tuple[Reader, Path]] = []
    skipped: list[tuple[str, str]] = []
    forced = None if fmt == "auto" else reader_named(fmt)

    def visit(path: Path, explicit: bool) -> None:
        if path.name.startswith(".") and not explicit:
            return
        if path.is_dir():
            owner = forced if forced and forced.detect(path, b"") else detect(path)
            if owner is not None:
                units.append((owner, path))
                return
            for child in sorted(path.iterdir()):
                visit(child, False)
            return
        reader = forced or detect(path)
        if reader is not None:
            units.append((reader, path))
        elif explicit:
            raise FormatDetectionError(
                f"{path}: no reader recognises this file; pass --format "
                f"({', '.join(r.name for r in readers())})"
            )
        else:
            skipped.append((str(path), "no reader recognises this file"))

    for path in paths:
        if not path.exists():
            raise IngestError(f"{path}: no such file or folder")
        visit(path, True)
    return units, skipped


def ingest(
    store: Store | ParquetSink,
    paths: list[str | Path],
    *,
    fmt: str = "auto",
    options: ReadOptions | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Read every path into the store; bad records go to quarantine, never lost."""
    opts = options or ReadOptions()
    bound_heap()
    units, skipped = plan([Path(p) for p in paths], fmt)
    summary = IngestSummary(skipped=skipped)
    for reader, path in units:
        result = _ingest_unit(store, reader, path, opts, progress)
        summary.files.append(result)
        _log_result(result)
    if isinstance(store, Store) and any(reader.name == "crawler-csv" for reader, _ in units):
        # Crawler comment lists name their post only by its time: link them now that the
        # post lists of the same crawl may be in the store too. (A Parquet sink cannot be
        # queried: link_comments can be run later on a store that holds the same runs.)
        from govweibo.ingest.crawler_csv import link_comments

        summary.links = link_comments(store).as_dict()
    return summary


def _log_result(f: FileResult) -> None:
    counts = (
        f"{f.records_read} read, {f.stored} stored, {f.duplicate} duplicate, "
        f"{f.rejected} rejected (run {f.run_id})"
    )
    if f.status == "failed":
        logger.warning("%s (%s) failed: %s; %s", f.path, f.format, f.message, counts)
    else:
        logger.info("%s (%s): %s", f.path, f.format, counts)


def _rows(batch: Batch) -> int:
    tables = [*batch.primary.values(), *batch.secondary.values()]
    return sum(t.num_rows for t in tables) + len(batch.rejects)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    # os.walk and one stat a file: Path.rglob and is_file took three times as long.
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:  # a broken link
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def _ingest_unit(
    store: Store | ParquetSink,
    reader: Reader,
    path: Path,
    opts: ReadOptions,
    progress: Progress | None,
) -> FileResult:
    spath = str(path.resolve())
    try:
        size = _size(path)
        observed = observed_at_for(path, opts)
    except OSError as exc:  # unreadable metadata: the run still records why it failed
        size, observed = 0, None
        setup_error: str | None = _reason(exc)
    else:
        setup_error = None
    run = store.begin_run(spath, reader.name, opts.recorded(), size)
    if progress:
        progress("start", spath, size)
    status, message = "done", ""
    source = Source(path=path, observed_at=observed) if observed is not None else None
    try:
        if source is None:
            raise IngestError(f"{path}: {setup_error}")
        pending = 0
        for batch in prefetched(reader.read(source, opts)):
            pending += _rows(batch)
            store.write(run, batch, commit=pending >= COMMIT_ROWS)
            if pending >= COMMIT_ROWS:
                pending = 0
            if progress:
                progress("advance", spath, batch.bytes_read)
    except IngestError as exc:
        status, message = "failed", str(exc)
    except KeyboardInterrupt:
        store.finish_run(run, checksum=None, status="interrupted", message="interrupted")
        raise
    except Exception as exc:
        # Whatever goes wrong inside one file fails that file's run, never the command:
        # the next file goes on, and what this one had read so far is kept.
        status, message = "failed", f"{path}: {_reason(exc)}"
    if source is not None and source.notes:
        notes = [f"{k}={v}" for k, v in source.notes.items() if k != "checksum"]
        message = "; ".join(([message] if message else []) + notes)
    try:
        checksum = source.checksum() if source is not None else None
    except Exception:  # the file's hash is provenance, not a reason to lose the run
        checksum = None
    try:
        row = store.finish_run(run, checksum=checksum, status=status, message=message)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        # The run stays 'running' in the store; the next run marks it interrupted.
        status = "failed"
        message = "; ".join(m for m in (message, f"finishing the run: {_reason(exc)}") if m)
        row = {"records_read": 0, "stored": 0, "duplicate": 0, "rejected": 0, "empty": 0}
    if progress:
        progress("done", spath, row)
    return FileResult(
        path=spath,
        format=reader.name,
        run_id=run.run_id,
        records_read=row["records_read"],
        stored=row["stored"],
        duplicate=row["duplicate"],
        rejected=row["rejected"],
        empty=row["empty"],
        status=status,
        message=message,
    )


def _reason(exc: BaseException) -> str:
    """One line naming an unexpected error, short enough for the runs table."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
