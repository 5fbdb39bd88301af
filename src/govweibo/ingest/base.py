"""What every reader shares: options, the reader interface, provenance notes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from govweibo.errors import IngestError
from govweibo.ingest.lines import HashingReader
from govweibo.model import Batch

BEIJING_OFFSET_HOURS = 8


@dataclass
class ReadOptions:
    """Options a reader honours. `observed_at` None means: the file's modification time."""

    observed_at: datetime | None = None
    year: int | None = None
    timeline: bool = False
    chunk_bytes: int = 32 << 20
    mapping: Path | None = None
    platform: str = "weibo"
    # Read with the native extension where it is built: plain Sina status chunks
    # (ingest/sina_fast.py) and CED repost files (ced_reposts.py). False: SQL and
    # json.loads only (the parity tests compare the two).
    native: bool = True
    # A line longer than this is quarantined by its first bytes, never held whole
    # (setting max_line_mb).
    max_line_bytes: int = 64 << 20

    def recorded(self) -> dict[str, Any]:
        """The options worth recording in ingest_runs (so a run can be reproduced)."""
        out: dict[str, Any] = {}
        if self.observed_at is not None:
            out["observed_at"] = self.observed_at.isoformat()
        if self.year is not None:
            out["year"] = self.year
        if self.timeline:
            out["timeline"] = True
        if self.mapping is not None:
            out["mapping"] = str(self.mapping)
        return out


@dataclass
class Source:
    """One file being read, with what the run learns about it while reading."""

    path: Path
    observed_at: datetime
    reader: HashingReader | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def open(self) -> HashingReader:
        self.reader = HashingReader(self.path)
        return self.reader

    def read_text(self) -> tuple[str, int]:
        """The whole file as text (UTF-8, else GB18030, noted) and its size in bytes; for
        small tabular exports. Streaming formats read chunks instead."""
        reader = self.open()
        raw = b"".join(iter(lambda: reader.read(1 << 20), b""))
        try:
            return raw.decode("utf-8-sig"), len(raw)
        except UnicodeDecodeError:
            pass
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"{self.path}: neither UTF-8 nor GB18030 (bad byte at offset {exc.start})"
            ) from None
        self.notes["encoding"] = "gb18030"
        return text, len(raw)

    def checksum(self) -> str | None:
        if "checksum" in self.notes:
            return str(self.notes.pop("checksum"))
        return self.reader.checksum() if self.reader else None


def observed_at_for(path: Path, opts: ReadOptions) -> datetime:
    if opts.observed_at is not None:
        return opts.observed_at.astimezone(UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class Reader(Protocol):
    """A source format. `detect` sees the first bytes; `read` streams batches."""

    name: str
    description: str

    def detect(self, path: Path, head: bytes) -> bool: ...

    def files(self, path: Path) -> list[Path]:
        """The files this reader reads under `path` (a folder format may own a tree)."""
        ...

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]: ...
