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

from govweibo.model import Reject

# A run of whole lines: bytes, or a view of a buffer read into.
Body = bytes | memoryview


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

    def hashed(self) -> None:
        """Wait for the hash of the last block read into a buffer."""
        if self._hashing is not None:
            self._hashing.join()
            self._hashing = None

    def read(self, size: int) -> bytes:
        self.hashed()
        raw = self._fh.read(size)
        self.raw_bytes += len(raw)
        self.sha256.update(raw)
        if self._gz is None:
            return raw
        if not raw:
            return self._gz.flush()
        out = self._gz.decompress(raw)
        while not out and not self._gz.eof:
            # A small compressed read can decode to nothing; keep reading.
            more = self._fh.read(size)
            if not more:
                return self._gz.flush()
            self.raw_bytes += len(more)
            self.sha256.update(more)
            out = self._gz.decompress(more)
        return out

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
) -> Iterator[Body]:
    """Yield runs of whole lines of about chunk_bytes, a BOM at the start dropped; `head`:
    bytes already read from the reader. A consumer done with a run (nothing of it kept)
    may put its buffer (`view.obj`) in `spare` to be read into again.

    Each run is a view of a buffer of its own, read into directly: concatenating the
    previous run's partial line with a fresh read, then slicing, copied every chunk twice
    (and, with the heap bounded by bound_heap, faulted in fresh pages each time; a spare
    buffer saves even that)."""
    carry = head
    start = 3 if carry.startswith(b"\xef\xbb\xbf") else 0
    first = not carry
    while True:
        if reader.compressed:
            data = reader.read(chunk_bytes)
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
        if valid <= start:
            break
        if eof:
            cut = valid
        else:
            cut = buf.rfind(b"\n", start, valid) + 1
            if cut == 0:
                carry = bytes(buf[:valid])  # a line longer than the chunk: read on
                continue
        carry = bytes(buf[cut:valid])
        yield memoryview(buf)[start:cut]
        start = 0
        if eof:
            break


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
