"""ingest/lines.py: cutting runs of lines (linear, over-long lines skipped), damaged .gz."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from govweibo.errors import IngestError
from govweibo.ingest.lines import HashingReader, LongLine, iter_bodies


def _cut(path: Path, chunk: int, max_line: int | None) -> list[bytes | LongLine]:
    out: list[bytes | LongLine] = []
    for body in iter_bodies(HashingReader(path), chunk, spare=[], max_line=max_line):
        out.append(body if isinstance(body, LongLine) else bytes(body))
    return out


def _lines(parts: list[bytes | LongLine]) -> list[bytes | int]:
    """Lines of the runs, a skipped line as its length."""
    got: list[bytes | int] = []
    for p in parts:
        if isinstance(p, LongLine):
            got.append(p.size)
        else:
            got += p.splitlines(keepends=True)
    return got


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("chunk", [7, 64, 1000])
def test_runs_hold_every_line_once_and_long_ones_are_skipped(
    tmp_path: Path, chunk: int, gz: bool
) -> None:
    rng = random.Random(chunk)
    lines = [b"x" * rng.choice([0, 3, 50, 130, 400]) + b"\n" for _ in range(60)]
    data = b"".join(lines) + b"tail"
    path = tmp_path / ("f.jsonl.gz" if gz else "f.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    assert _lines(_cut(path, chunk, None)) == [*lines, b"tail"]
    want = [len(x) if len(x) > 100 else x for x in lines] + [b"tail"]
    parts = _cut(path, chunk, 100)
    assert _lines(parts) == want
    for p in parts:
        if isinstance(p, LongLine):
            # its first bytes: at least the limit's worth, at most 2,000
            assert set(p.head) <= set(b"x\n") and 100 < len(p.head) <= min(p.size, 2000)


def test_a_line_spanning_many_reads_is_copied_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"a\n" + b"y" * 50_000 + b"\nb\n")
    # 1-byte reads: quadratic re-copying would be 50,000 reads of a growing line.
    assert _lines(_cut(path, 1, None)) == [b"a\n", b"y" * 50_000 + b"\n", b"b\n"]
    assert _lines(_cut(path, 1, 1000)) == [b"a\n", 50_001, b"b\n"]


def test_concatenated_gzip_members_are_one_stream(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\n") + gzip.compress(b"b\n"))
    assert _lines(_cut(path, 1 << 16, None)) == [b"a\n", b"b\n"]


def test_a_truncated_stream_yields_the_lines_before_then_fails(tmp_path: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(20_000))
    packed = gzip.compress(data)
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    got: list[bytes] = []
    with pytest.raises(IngestError, match="ends early"):
        for body in iter_bodies(HashingReader(path), 1 << 20):
            got.append(bytes(body))  # type: ignore[arg-type]
    text = b"".join(got)
    assert text and data.startswith(text) and text.endswith(b"\n")
    path.write_bytes(packed[:100] + bytes(b ^ 0xFF for b in packed[100:200]) + packed[200:])
    with pytest.raises(IngestError, match="compressed stream"):
        list(iter_bodies(HashingReader(path), 1 << 20))
