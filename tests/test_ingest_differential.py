"""One behaviour, two paths (issue #23): the native readers and the SQL/json.loads readers
give the same rows, the same rejects and the same reasons on damaged and hostile input.

Mutations come from tests/damage.py (seeded) and from Hypothesis. For Sina status lines
the native scan either maps a chunk or declines it whole (then SQL maps it, as with
native=False), so every chunk the scan takes is compared with SQL's mapping of it, and
whole files are compared through the reader. CED folders of damaged repost files are
read with native=True and native=False and compared batch for batch.
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from damage import (
    HOSTILE,
    ced_repost,
    ced_reposts,
    ced_source,
    good_lines,
    line,
    mutate,
    sina_lines,
    status,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govweibo.ingest import ReadOptions, sina_fast, weibo_sql
from govweibo.ingest.base import Source
from govweibo.ingest.ced import CedReader
from govweibo.ingest.lines import chunk_from_bytes
from govweibo.ingest.sina_fast import _sina_scan
from govweibo.ingest.weibo_api import WeiboApiReader, _fast_batch, map_chunk
from govweibo.model import Batch

pytestmark = pytest.mark.skipif(not sina_fast.AVAILABLE, reason="native extension not built")
OBSERVED = datetime(2012, 1, 1, tzinfo=UTC)
# Fuzz budget: scripts/sanitize.sh raises it (GOVWEIBO_FUZZ_EXAMPLES) under the sanitizers.
EXAMPLES = int(os.environ.get("GOVWEIBO_FUZZ_EXAMPLES", "120"))


def _rows(batches: list[Batch]) -> dict[str, Any]:
    """Everything a reader yielded, order-free: rows of each table, rejects, counts."""
    out: dict[str, Any] = {"records": 0, "empty": 0, "rejects": []}
    for b in batches:
        out["records"] += b.records_read
        out["empty"] += b.empty
        out["rejects"] += [(r.line, r.item, r.field, r.reason, r.path) for r in b.rejects]
        for role, tables in (("primary", b.primary), ("secondary", b.secondary)):
            for name, table in tables.items():
                rows = [json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist()]
                out.setdefault(f"{role}.{name}", []).extend(rows)
    return {k: sorted(v, key=str) if isinstance(v, list) else v for k, v in out.items()}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for macro in weibo_sql.MACROS:
        c.execute(macro)
    return c


def _chunk_agrees(con: duckdb.DuckDBPyConnection, body: bytes) -> bool:
    """Compare the native mapping of a chunk with SQL's; True if the scan took it."""
    fast = sina_fast.scan(body)
    if fast is None:
        return False  # declined whole: SQL maps it, exactly as with native=False
    source = Source(path=Path("x.jsonl"), observed_at=OBSERVED)
    sql = map_chunk(con, chunk_from_bytes(body, 1)[0], source, ReadOptions(native=False))
    assert not sql.rejects, (body[:300], sql.rejects)
    native = _fast_batch(fast, len(body), source, ReadOptions())
    assert _rows([native]) == _rows([sql]), body[:300]
    return True


def test_mutated_status_lines_map_alike(con: duckdb.DuckDBPyConnection) -> None:
    lines = sina_lines(seed=2023, n=600)
    taken = sum(_chunk_agrees(con, bad + b"\n") for bad in lines)
    # Some mutations leave a valid status (a changed digit, a flipped letter): those are
    # what the native path takes, and what this test compares.
    assert taken > 20


def test_hostile_values_in_every_slot_map_alike(con: duckdb.DuckDBPyConnection) -> None:
    good = line(status(1))
    for slot in (b'"reposts_count": ', b'"verified_type": ', b'"created_at": ', b'"id": '):
        at = good.find(slot) + len(slot)
        end = good.find(b",", at)
        for value in HOSTILE:
            _chunk_agrees(con, good[:at] + value + good[end:])


def test_a_nested_key_at_the_end_of_the_buffer_is_declined() -> None:
    # The scan once read a byte past the buffer here (scripts/sanitize.sh checks it).
    for tail in (b'"user":', b'"retweeted_status":', b'"page_info":', b'"user": '):
        body = b'{"text": "a", "created_at": "Tue May 31 17:46:55 +0800 2011", ' + tail
        assert sina_fast.scan(bytes(body)) is None


def test_keys_that_are_not_utf8_are_left_to_sql() -> None:
    good = line(status(1))
    for key in (b'"\xff": 1, ', b'"\xe4\xb8": 1, ', b'"\xed\xa0\x80": 1, ', b'"\xc0\xaf": 1, '):
        assert sina_fast.scan(good[:1] + key + good[1:]) is None
    assert sina_fast.scan(good[:1] + '"键": 1, '.encode() + good[1:]) is not None


def _read(reader: Any, path: Path, native: bool) -> dict[str, Any]:
    source = Source(path=path, observed_at=OBSERVED)
    opts = ReadOptions(native=native, chunk_bytes=4096, max_line_bytes=20_000)
    return _rows(list(reader.read(source, opts)))


def test_damaged_files_read_alike_through_the_reader(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = sina_lines(seed=7, n=120)
    for i in range(0, len(lines), 6):
        body = b"".join(
            (good_lines(500 + i * 10, 1) if rng.random() < 0.5 else b"") + bad + b"\n"
            for bad in lines[i : i + 6]
        )
        if i % 4 == 0:
            body += b'{"text": "' + b"x" * 30_000 + b'"}\n' + good_lines(900 + i, 2)
        path = tmp_path / f"f{i}.jsonl"
        path.write_bytes(body)
        assert _read(WeiboApiReader(), path, True) == _read(WeiboApiReader(), path, False), i


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(0, 10_000),
    st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8)), min_size=1, max_size=3),
    st.sampled_from([b"", *HOSTILE]),
)
def test_hypothesis_splices_map_alike(
    con: duckdb.DuckDBPyConnection, i: int, splices: list[tuple[float, bytes]], value: bytes
) -> None:
    b = bytearray(line(status(i)).rstrip(b"\n"))
    if value:
        at = b.find(b'"reposts_count": ') + len(b'"reposts_count": ')
        b[at : b.find(b",", at)] = value
    for where, data in splices:
        at = int(where * len(b))
        b[at:at] = data
    _chunk_agrees(con, bytes(b) + b"\n")


# ---- CED -------------------------------------------------------------------------------

_CED_VALUES: list[object] = [
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "1999-12-31 23:59:59",
    "2000-01-01 08:00:00",
    "2099-12-31 23:59:59",
    "2100-01-01 08:00:00",
    "2011-02-29 10:00:00",
    "07月01日 09:30",
    "",
    None,
    12,
    1e20,
    "\ud800",
    "zvUd" + "Z" * 20,
    "ZZZZZZZZZZZZ",
    "a b",
    [],
    {},
    True,
]


def _ced_folder(root: Path, seed: int, events: int) -> Path:
    rng = random.Random(seed)
    (root / "original-microblog").mkdir(parents=True)
    (root / "rumor-repost").mkdir()
    for e in range(events):
        name = f"{e}_zvU{e:05d}_{1000 + e}.json"
        src = ced_source(time=rng.choice([1309420800, 1309420800, 1e20, "x", 946684799]))
        (root / "original-microblog" / name).write_text(json.dumps(src))
        recs = []
        for k in range(rng.randint(0, 6)):
            rec = ced_repost(e * 100 + k)
            if rng.random() < 0.6:
                rec[rng.choice(["mid", "uid", "parent", "text", "date"])] = rng.choice(_CED_VALUES)
            recs.append(rec)
        raw = ced_reposts(*recs) if recs else b"[]"
        if rng.random() < 0.3:
            raw = mutate(rng, raw) if len(raw) > 2 else raw
        if rng.random() < 0.1:
            raw = raw.replace(b'"kids": []', b'"kids": [' + b"1" * 4301 + b"]", 1)
        (root / "rumor-repost" / name).write_bytes(raw)
    return root


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_ced_folders_read_alike(tmp_path: Path, seed: int) -> None:
    folder = _ced_folder(tmp_path / "ced", seed, events=60)
    native, slow = _read(CedReader(), folder, True), _read(CedReader(), folder, False)
    assert native == slow
    assert native["rejects"], "the corpus holds damage"
    assert native.get("primary.posts"), "and records that are fine"


def _exact(data: bytes) -> np.ndarray:
    """`data` in a buffer of exactly its size (a bytes object has a spare NUL after its
    end, which hides a one-byte over-read from AddressSanitizer)."""
    return np.frombuffer(data, np.uint8).copy()


def test_the_scans_stay_inside_their_buffers() -> None:
    """Every prefix of damaged lines and repost files, each in a buffer of its own size:
    under scripts/sanitize.sh a read past the end is an error."""
    rng = random.Random(11)
    for bad in sina_lines(seed=11, n=EXAMPLES):
        for cut in {len(bad), rng.randrange(1, len(bad) + 1), bad.find(b'"user":') + 7}:
            if cut > 0:
                sina_fast.scan(_exact(bad[:cut]), parts=1)
    raw = ced_reposts(ced_repost(1), ced_repost(2, parent="zvUd00001"))
    for cut in range(1, len(raw) + 1):
        _sina_scan.scan_reposts([_exact(raw[:cut])])
