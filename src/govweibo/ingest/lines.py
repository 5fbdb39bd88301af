"""Streaming a file as numbered text lines, in Arrow chunks, without a Python loop per line.

Lines are cut with numpy over the raw bytes and handed to Arrow zero-copy, so the
Python cost per chunk is constant; only lines that are not valid UTF-8 take a
slow path (GB18030 is tried, as Chinese exports often use it).
"""

from __future__ import annotations

import hashlib
import io
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from govweibo.errors import IngestError
from govweibo.model import Reject

# A run of whole lines: bytes, or a view of a buffer read into.
Body = bytes | memoryview
# How much of a line over the limit is kept, to quote in its quarantine row.
LONG_LINE_HEAD = 2000


@dataclass
class LongLine:
    """A line longer than the reader's limit, skipped rather than parsed: its first bytes
    and its length (its newline included)."""

    head: bytes
    size: int

    def reject(self, line: int, limit: int) -> Reject:
        return Reject(
            line=line,
            item=0,
            field=None,
            reason=f"line of {self.size:,} bytes over the limit of {limit:,} bytes "
            "(setting max_line_mb); only its first bytes are kept here",
            raw=self.head.decode("utf-8", errors="replace")[:LONG_LINE_HEAD],
        )


@dataclass
class LineChunk:
    """Non-empty lines of one chunk: `table` has columns line (1-based) and text."""

    table: pa.Table
    empty: int = 0
    bytes_read: int = 0
    gb18030_lines: int = 0
    rejects: list[Reject] = field(default_factory=list)


class HashingReader:
    """Reads raw bytes of a file (decompressing .gz) and hashes the bytes on disk."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: io.BufferedReader = path.open("rb")
        self.sha256 = hashlib.sha256()
        self._gz = zlib.decompressobj(wbits=47) if path.suffix == ".gz" else None
        self.raw_bytes = 0
        # readinto hashes each block in a thread of its own (hashlib lets go of the
        # GIL), beside the parse of the block; one at a time, so in order.
        self._hashing: threading.Thread | None = None
        # Why the compressed stream cannot be read further (raised at the next read).
        self.damage = ""

    def hashed(self) -> None:
        """Wait for the hash of the last block read into a buffer."""
        if self._hashing is not None:
            self._hashing.join()
            self._hashing = None

    def read(self, size: int) -> bytes:
        """The next bytes of the file, decompressed; b"" at its end. A compressed stream
        that is corrupt or ends early raises IngestError once the bytes before the
        damage have been returned."""
        self.hashed()
        if self.damage:
            raise IngestError(self.damage)
        raw = self._read_raw(size)
        if self._gz is None:
            return raw
        out = self._inflate(raw)
        while not out and raw and not self.damage:
            # A small compressed read can decode to nothing; keep reading.
            raw = self._read_raw(size)
            out = self._inflate(raw)
        if not raw and not self._gz.eof and not self.damage and self.raw_bytes:
            self.damage = (
                f"{self.path}: compressed stream ends early (truncated, or corrupt) at byte "
                f"{self.raw_bytes:,}, before its end marker; the records before the damage "
                "are kept"
            )
        if not out and self.damage:
            raise IngestError(self.damage)
        return out

    def _read_raw(self, size: int) -> bytes:
        raw = self._fh.read(size)
        self.raw_bytes += len(raw)
        self.sha256.update(raw)
        return raw

    def _inflate(self, raw: bytes) -> bytes:
        assert self._gz is not None
        out: list[bytes] = []
        while raw:
            if self._gz.eof:  # another gzip member follows (concatenated .gz files)
                self._gz = zlib.decompressobj(wbits=47)
            saved = self._gz.copy()
            try:
                out.append(self._gz.decompress(raw))
            except zlib.error as exc:
                out.append(_salvage(saved, raw))
                at = self.raw_bytes - len(raw)
                self.damage = (
                    f"{self.path}: corrupt compressed stream (in the block from byte {at:,}: "
                    f"{exc}); the records before the damage are kept"
                )
                break
            raw = self._gz.unused_data if self._gz.eof else b""
        return b"".join(out)

    def readinto(self, view: memoryview) -> int:
        """Fill `view` from the file, as read() would; only for files not compressed."""
        assert self._gz is None
        self.hashed()  # `view` may be a buffer the last hash was still reading
        n = self._fh.readinto(view)
        self.raw_bytes += n
        self._hashing = threading.Thread(
            target=self.sha256.update, args=(view[:n],), name="govweibo-sha256", daemon=True
        )
        self._hashing.start()
        return n

    @property
    def compressed(self) -> bool:
        return self._gz is not None

    def close(self) -> None:
        self.hashed()
        self._fh.close()

    def checksum(self) -> str:
        self.hashed()
        return self.sha256.hexdigest()


def iter_bodies(
    reader: HashingReader,
    chunk_bytes: int,
    head: bytes = b"",
    spare: list[bytearray] | None = None,
    max_line: int | None = None,
) -> Iterator[Body | LongLine]:
    """Yield runs of whole lines of about chunk_bytes, a BOM at the start dropped; `head`:
    bytes already read from the reader. A consumer done with a run (nothing of it kept)
    may put its buffer (`view.obj`) in `spare` to be read into again. With `max_line`, a
    line longer than that is yielded as a LongLine instead, its bytes past the first few
    never held: memory stays bounded by the chunk, not the line.

    Each run is a view of a buffer of its own, read into directly: concatenating the
    previous run's partial line with a fresh read, then slicing, copied every chunk twice
    (and, with the heap bounded by bound_heap, faulted in fresh pages each time; a spare
    buffer saves even that). A line longer than a chunk is kept as the pieces read and
    joined once at its end, so every byte is copied a bounded number of times whatever
    the line lengths (re-copying the growing line on every read was quadratic)."""
    carry = head
    start = 3 if carry.startswith(b"\xef\xbb\xbf") else 0
    first = not carry
    parts: list[bytes] = []  # the line being read, when it spans reads
    held = 0
    skipping: LongLine | None = None  # the line over the limit being read past
    while True:
        if reader.compressed:
            try:
                data = reader.read(chunk_bytes)
            except IngestError:
                # A damaged stream: the whole lines read before the damage go first.
                cut = carry.rfind(b"\n", start) + 1
                if cut > start and not parts and skipping is None:
                    yield carry[start:cut]
                raise
            buf: bytes | bytearray = carry + data
            valid, eof = len(buf), not data
        else:
            size = len(carry) + chunk_bytes
            if spare and len(spare[-1]) >= size:
                reader.hashed()  # the last block's hash may still be reading this buffer
                buf = spare.pop()
            else:
                # Some room for the next run's partial first line, so it fits when spare.
                buf = bytearray(size + (1 << 16))
            buf[: len(carry)] = carry
            got = reader.readinto(memoryview(buf)[len(carry) : size])
            valid, eof = len(carry) + got, got == 0
        if first and buf[:3] == b"\xef\xbb\xbf":
            start = 3
        first = False
        carry = b""
        if parts or skipping is not None:
            # A line begun in an earlier read: to its end, or on past this read.
            nl = buf.find(b"\n", start, valid)
            end = valid if nl < 0 else nl + 1
            if skipping is not None:
                skipping.size += end - start
            else:
                parts.append(bytes(buf[start:end]))
                held += end - start
                if max_line is not None and held > max_line:
                    skipping = LongLine(b"".join(parts)[:LONG_LINE_HEAD], held)
                    parts, held = [], 0
            if nl < 0 and not eof:
                _recycle(buf, spare)
                start = 0
                continue
            if skipping is not None:
                yield skipping
                skipping = None
            elif parts:
                yield b"".join(parts)
                parts, held = [], 0
            start = end
        if valid <= start:
            if eof:
                break
            _recycle(buf, spare)
            start = 0
            continue
        if eof:
            cut = valid
        else:
            cut = buf.rfind(b"\n", start, valid) + 1
            if cut == 0:  # no line end in this read: a line longer than a chunk
                parts.append(bytes(buf[start:valid]))
                held = valid - start
                if max_line is not None and held > max_line:
                    skipping = LongLine(parts[0][:LONG_LINE_HEAD], held)
                    parts, held = [], 0
                _recycle(buf, spare)
                start = 0
                continue
        carry = bytes(buf[cut:valid])
        view = memoryview(buf)[start:cut]
        if max_line is not None and cut - start > max_line:
            yield from _split_long(view, max_line)  # a chunk larger than the line limit
        else:
            yield view
        start = 0
        if eof:
            break


def _recycle(buf: bytes | bytearray, spare: list[bytearray] | None) -> None:
    """A buffer nothing was yielded from may be read into again."""
    if spare is not None and isinstance(buf, bytearray):
        spare[:] = [buf]


def _split_long(view: memoryview, max_line: int) -> Iterator[Body | LongLine]:
    """The runs of `view`'s lines with each line over `max_line` yielded as a LongLine."""
    arr = np.frombuffer(view, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10) + 1
    if not len(ends) or ends[-1] != len(view):
        ends = np.append(ends, len(view))
    starts = np.concatenate(([0], ends[:-1]))
    pos = 0
    for i in np.flatnonzero(ends - starts > max_line):
        s, e = int(starts[i]), int(ends[i])
        if s > pos:
            yield view[pos:s]
        yield LongLine(bytes(view[s : min(e, s + LONG_LINE_HEAD)]), e - s)
        pos = e
    if pos < len(view):
        yield view[pos:]


def chunk_from_bytes(body: Body, first_line: int) -> tuple[LineChunk, int]:
    """The chunk of `body`'s lines, and how many lines it spans (blank ones included)."""
    arr = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    ends = nl + 1
    if len(body) and body[-1:] != b"\n":
        ends = np.append(ends, len(body))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lengths = np.diff(offsets)
    n = len(lengths)
    # Each element keeps its trailing newline: JSON and CSV parsers accept it, and
    # it lets Arrow use the file's bytes as they are.
    binary = pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(body)]
    )
    line_nos = np.arange(first_line, first_line + n, dtype=np.int64)
    # Blank lines (only whitespace and line ends) are counted, not parsed.
    blank = lengths <= 2
    if blank.any():
        short = np.flatnonzero(blank)
        really = [int(i) for i in short if not bytes(body[offsets[i] : offsets[i + 1]]).strip()]
        keep = np.ones(n, dtype=bool)
        keep[really] = False
        empty = len(really)
    else:
        keep = None
        empty = 0
    chunk = LineChunk(table=pa.table({}), empty=empty, bytes_read=len(body))
    try:
        text = binary.cast(pa.large_string())
    except pa.ArrowInvalid:
        text = _decode_slowly(binary, line_nos, chunk)
    table = pa.table({"line": line_nos, "text": text})
    if keep is not None:
        table = table.filter(pa.array(keep))
    if table.column("text").null_count:
        table = table.filter(table.column("text").is_valid())
    chunk.table = table
    return chunk, n


def _decode_slowly(binary: pa.Array, line_nos: np.ndarray, chunk: LineChunk) -> pa.Array:
    out: list[str | None] = []
    for i, raw in enumerate(binary.to_pylist()):
        try:
            out.append(raw.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            out.append(raw.decode("gb18030"))
            chunk.gb18030_lines += 1
        except UnicodeDecodeError as exc:
            out.append(None)
            chunk.rejects.append(
                Reject(
                    line=int(line_nos[i]),
                    item=0,
                    field=None,
                    reason=f"undecodable bytes (neither UTF-8 nor GB18030) at byte {exc.start}",
                    raw=raw.decode("utf-8", errors="replace")[:2000],
                )
            )
    return pa.array(out, pa.large_string())


def _salvage(gz: zlib._Decompress, raw: bytes) -> bytes:
    """What a decompressor makes of `raw` up to the point where it is corrupt: fed in
    small pieces, each piece's output kept until one fails."""
    out: list[bytes] = []
    step = 1024
    for i in range(0, len(raw), step):
        try:
            out.append(gz.decompress(raw[i : i + step]))
        except zlib.error:
            break
        if gz.eof:
            break
    return b"".join(out)
