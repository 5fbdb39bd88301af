"""The native fast path for chunks of Sina status lines (ingest/_scan/), as Arrow tables.

A chunk whose every line is a plain, valid status object is mapped in C, in one pass
over the bytes, to the same rows the SQL path (weibo_sql) would give; any other chunk
(a comment, a user record, an API page, a value of another shape, a record that would
be quarantined, bytes that are not UTF-8) is declined whole and mapped in SQL. Where
the extension was not built (no C compiler at install), every chunk goes the SQL way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

try:
    from govweibo.ingest import _sina_scan  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - exercised where no compiler was present
    _sina_scan = None

AVAILABLE = _sina_scan is not None

# Column order and types of weibo_sql.entity_query's rows (role first).
POST_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("post_id", pa.string()),
    ("mid", pa.string()),
    ("author_id", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")),
    ("text", pa.string()),
    ("source", pa.string()),
    ("reposts", pa.int64()),
    ("comments", pa.int64()),
    ("likes", pa.int64()),
    ("retweeted_post_id", pa.string()),
    ("repost_chain", pa.list_(pa.string())),
    ("is_truncated", pa.bool_()),
    ("pic_count", pa.int32()),
    ("has_video", pa.bool_()),
    ("has_url", pa.bool_()),
]
USER_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("account_id", pa.string()),
    ("screen_name", pa.string()),
    ("description", pa.string()),
    ("url", pa.string()),
    ("verified", pa.bool_()),
    ("verified_type", pa.int32()),
    ("verified_reason", pa.string()),
    ("province_code", pa.string()),
    ("city_code", pa.string()),
    ("location", pa.string()),
    ("gender", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")),
    ("followers", pa.int64()),
    ("friends", pa.int64()),
    ("statuses", pa.int64()),
    ("favourites", pa.int64()),
]


@dataclass
class FastChunk:
    records: int
    empty: int
    posts: pa.Table  # the records (role 'p')
    reposted: pa.Table  # the posts they repost (role 's')
    users: pa.Table  # their authors, then the reposted posts' authors (role 's')


def scan(body: bytes | memoryview, now: float | None = None, parts: int = 2) -> FastChunk | None:
    """The chunk's rows, or None when it must be mapped in SQL. The chunk is cut into
    `parts` runs of lines, scanned side by side in threads of their own."""
    if _sina_scan is None:
        return None
    now_us = int((time.time() if now is None else now) * 1_000_000)
    got = _sina_scan.scan(body, now_us, parts)
    if got is None:
        return None
    posts = [_table(part["posts"][0], POST_COLUMNS, "p") for part in got]
    reposted = [_table(part["posts"][1], POST_COLUMNS, "s") for part in got]
    users = [_table(part["users"][k], USER_COLUMNS, "s") for k in (0, 1) for part in got]
    return FastChunk(
        sum(part["records"] for part in got),
        sum(part["empty"] for part in got),
        pa.concat_tables(posts),
        pa.concat_tables(reposted),
        pa.concat_tables(users),
    )


# The scan's columns come as buffers it filled (bytes-like, not copied).
def _mask(valid: Any, n: int) -> pa.Buffer | None:
    flags = np.frombuffer(valid, dtype=np.uint8)
    if n == 0 or flags.all():
        return None
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def large_strings(col: tuple[Any, Any, Any], n: int) -> pa.Array:
    """A string column the scan filled (64-bit offsets, bytes, a validity byte per row)."""
    offsets, data, valid = col
    return pa.Array.from_buffers(
        pa.large_string(), n, [_mask(valid, n), pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _strings(col: tuple[Any, Any, Any], n: int) -> pa.Array:
    return large_strings(col, n).cast(pa.string())


def _column(spec: pa.DataType, col: Any, n: int) -> pa.Array:
    if pa.types.is_string(spec):
        return _strings(col, n)
    if pa.types.is_list(spec):
        offsets, valid, item_offsets, item_data = col
        items = _strings((item_offsets, item_data, b""), memoryview(item_offsets).nbytes // 8 - 1)
        arr = pa.Array.from_buffers(
            pa.large_list(pa.string()),
            n,
            [_mask(valid, n), pa.py_buffer(offsets)],
            children=[items],
        )
        return arr.cast(spec)
    values, valid = col
    ints = np.frombuffer(values, dtype=np.int64)
    mask = np.frombuffer(valid, dtype=np.uint8) == 0
    if pa.types.is_timestamp(spec):
        return pa.array(ints, type=pa.int64(), mask=mask).cast(spec)
    if pa.types.is_boolean(spec):
        return pa.array(ints.astype(bool), mask=mask)
    return pa.array(ints, mask=mask).cast(spec)


def _table(part: dict[str, Any], columns: list[tuple[str, pa.DataType]], role: str) -> pa.Table:
    n = int(part["rows"])
    from govweibo.model import constant

    arrays = {"role": constant(role, pa.string(), n)}
    for name, spec in columns:
        arrays[name] = _column(spec, part[name], n)
    return pa.table(arrays)
