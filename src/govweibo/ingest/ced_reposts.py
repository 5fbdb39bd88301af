"""CED repost records in bulk: the common, well-formed record is converted column-wise.

A CED repost file holds hundreds of `{mid, uid, parent, text, date}` records; the
corpus about 900,000. Converting them one by one in Python (a base62 decode and a
strptime per record) was most of the CED ingest time. Here the native scan reads a
batch's files and converts each plainly well-formed record as it goes (ingest/_scan/
reposts.c); files it declines, or all of them where the extension is not built, are
read by json.loads and their columns checked and converted with numpy and Arrow. Any
record that is not plainly well-formed is handed back to the per-record path in `ced`,
which says exactly what is wrong with it. All paths give identical rows for the records
they share (tests/test_ced_reposts.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
from govweibo.ingest.sina_fast import _sina_scan, large_strings
from govweibo.ingest.sina_ids import ALPHABET

_MID_FULL = r"^[0-9A-Za-z]{1,12}$"
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})[:：]")
_LUT = np.zeros(256, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _LUT[ord(_c)] = _i
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_BEIJING_OFFSET_S = 8 * 3600
_EARLIEST_S, _LATEST_S = 946_684_800, 4_102_444_800  # 2000-01-01, 2100-01-01 UTC


@dataclass
class RepostFile:
    """The records of one repost file and the source post they hang from: parsed by
    json.loads (`items`), or scanned natively into columns (`columns`, its slice of its
    batch's scan, with `raw`, the file's bytes, parsed only if a record needs the
    per-record path)."""

    path: Any
    items_: list[Any] | None
    src_id: str | None
    src_time: datetime | None
    columns: pa.Table | None = None
    raw: bytes | None = None

    @property
    def items(self) -> list[Any]:
        if self.items_ is None:
            self.items_ = json.loads(self.raw or b"[]")
        return self.items_

    @property
    def count(self) -> int:
        return self.columns.num_rows if self.columns is not None else len(self.items)


# The columns the native scan reads from each repost record, then what it makes of them.
_SCANNED = ("mid", "uid", "parent", "text", "date")
_DERIVED = ("post_id", "parent_id")


def read_repost_files(
    entries: list[tuple[Any, bytes, str | None, datetime | None]], native: bool = True
) -> list[RepostFile | ValueError]:
    """The records of each (path, bytes, source id, source time), in order, or the error
    that says it is not a JSON array. `native`: scan them with the extension where it is
    built, all in one call (the scan also converts each plainly well-formed record: its ids
    and time, `fast`); json.loads reads the files it declines."""
    raws = [raw for _, raw, _, _ in entries]
    scanned = _sina_scan.scan_reposts(raws) if native and _sina_scan is not None else None
    table = None
    rows: list[int] = []
    if scanned is not None:
        rows, cols, created, fast = scanned
        n = sum(r for r in rows if r > 0)
        names = (*_SCANNED, *_DERIVED)
        arrays = {name: large_strings(col, n) for name, col in zip(names, cols, strict=True)}
        values = np.frombuffer(created[0], np.int64)
        valid = np.frombuffer(created[1], np.uint8)
        arrays["created_us"] = pa.array(values, pa.int64(), mask=valid == 0)
        arrays["fast"] = pa.array(np.frombuffer(fast, np.uint8).astype(bool))
        table = pa.table(arrays)
    out: list[RepostFile | ValueError] = []
    start = 0
    for i, (path, raw, src_id, src_time) in enumerate(entries):
        if table is not None and rows[i] >= 0:
            count = rows[i]
            out.append(RepostFile(path, None, src_id, src_time, table.slice(start, count), raw))
            start += count
            continue
        try:
            items = json.loads(raw)
        except ValueError as exc:  # not JSON, not UTF-8, an integer Python will not convert
            out.append(ValueError(str(exc)))
            continue
        except RecursionError:
            out.append(ValueError("nested too deeply"))
            continue
        if not isinstance(items, list):
            out.append(ValueError("expected a JSON array of reposts"))
            continue
        out.append(RepostFile(path, items, src_id, src_time))
    return out


def read_repost_file(
    path: Any, raw: bytes, src_id: str | None, src_time: datetime | None, native: bool = True
) -> RepostFile:
    """One file's records (read_repost_files); raises ValueError where it is not a JSON
    array of them."""
    (got,) = read_repost_files([(path, raw, src_id, src_time)], native)
    if isinstance(got, ValueError):
        raise got
    return got


@dataclass
class Converted:
    posts: pa.Table | None = None
    accounts: pa.Table | None = None
    # (file, index in file) of records the fast path left to the per-record path
    slow: list[tuple[RepostFile, int]] = field(default_factory=list)


def decode_mids(mids: pa.Array | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Numeric ids of base62 mids (all matching [0-9A-Za-z]{1,12}) as int64, and a mask
    of those the int64 form represents exactly as `sina_ids.mid_to_id` would print them."""
    if len(mids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    arr = mids if isinstance(mids, pa.Array) else pa.array(mids, pa.string())
    padded = pc.utf8_lpad(arr, 12, "0").cast(pa.large_string())
    # Every value is now 12 bytes long: the data buffer is an n x 12 matrix.
    start = np.frombuffer(padded.buffers()[1], np.int64)[padded.offset]
    raw = np.frombuffer(padded.buffers()[2], np.uint8)[start : start + 12 * len(padded)]
    digits = _LUT[raw.reshape(-1, 12)]
    weights = np.array([62**3, 62**2, 62, 1], dtype=np.int64)
    g0, g1, g2 = (digits[:, k : k + 4] @ weights for k in (0, 4, 8))
    # Each 4-character group is printed as 7 decimal digits; larger values, and ids
    # beyond int64, take the per-record path.
    ok = (g1 < 10**7) & (g2 < 10**7) & (g0 < 92_233)
    ids = np.where(ok, g0, 0) * 10**14 + g1 * 10**7 + g2
    return ids, ok


_NO_FIELDS = (None, None, None, None, None)


def _strings(values: list[Any]) -> pa.Array:
    """The values that are strings, others NULL (a JSON number is not a mid)."""
    return pa.array([v if type(v) is str else None for v in values], pa.large_string())


def _unencodable(values: list[Any]) -> np.ndarray:
    """Where a string holds a lone surrogate (json.loads lets `\\ud800` through; Arrow
    cannot store it): those records take the per-record path, which quarantines them."""
    bad = np.zeros(len(values), bool)
    for i, v in enumerate(values):
        if type(v) is str and not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                bad[i] = True
    return bad


@dataclass
class _Rows:
    """Records of some files, a row each, and what the fast path makes of them: `fast`
    where it takes the record, with its ids (`parent_id` NULL: the source post is the
    parent) and time; the rest go to the per-record path."""

    files: list[RepostFile]
    cols: pa.Table  # mid, uid, text, post_id, parent_id (strings), created_us (int64)
    fast: np.ndarray

    def __post_init__(self) -> None:
        lengths = np.array([f.count for f in self.files], np.int64)
        # each row's file, and its index within that file
        self.file_of = np.repeat(np.arange(len(self.files)), lengths)
        starts = np.cumsum(lengths) - lengths
        self.item_of = np.arange(len(self.file_of)) - starts[self.file_of]


def _scanned_rows(files: list[RepostFile]) -> _Rows:
    """Files the native scan read: it did the conversion record by record."""
    names = ["mid", "uid", "text", *_DERIVED]
    keep = [*names, "created_us", "fast"]
    parts = [f.columns.select(keep) for f in files if f.columns is not None]
    both = pa.concat_tables(parts).combine_chunks()
    cols = pa.table({k: both.column(k).cast(pa.string()) for k in names})
    cols = cols.append_column("created_us", both.column("created_us"))
    return _Rows(files, cols, both.column("fast").to_numpy(zero_copy_only=False))


def _parsed_rows(files: list[RepostFile]) -> _Rows:
    """Files json.loads read (no extension, or a file the scan declined): converted
    column-wise with numpy and Arrow."""
    recs = [r for f in files for r in f.items]
    fields = [
        (r.get("mid"), r.get("uid"), r.get("parent"), r.get("text"), r.get("date"))
        if type(r) is dict
        else _NO_FIELDS
        for r in recs
    ]
    mids, uids, parents, texts, dates = (
        (list(c) for c in zip(*fields, strict=True)) if fields else ([],) * 5
    )
    # Strings Arrow cannot hold are blanked here; the record goes the per-record way.
    unencodable = np.zeros(len(recs), bool)
    for col in (mids, uids, parents, texts, dates):
        unencodable |= _unencodable(col)
    if unencodable.any():
        mids, uids, parents, texts, dates = (
            [None if unencodable[i] else v for i, v in enumerate(col)]
            for col in (mids, uids, parents, texts, dates)
        )
    uid_str = [u if type(u) is str and u else str(u) if type(u) is int else None for u in uids]
    mid_arr = _strings(mids).cast(pa.string())
    par_arr = _strings(parents).cast(pa.string())
    ok = np.array([type(r) is dict for r in recs], bool) & ~unencodable
    # A falsy parent means a direct repost of the source, as in the per-record path.
    has_parent = np.array([bool(p) for p in parents], bool)
    mid_ok = pc.fill_null(pc.match_substring_regex(mid_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    post_ids, exact = decode_mids(pc.if_else(mid_ok, mid_arr, "0"))
    ok &= mid_ok & exact
    par_ok = pc.fill_null(pc.match_substring_regex(par_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    par_ids, par_exact = decode_mids(pc.if_else(par_ok, par_arr, "0"))
    ok &= ~has_parent | (par_ok & par_exact)
    uid_arr = pa.array(uid_str, pa.string())
    ok &= uid_arr.is_valid().to_numpy(zero_copy_only=False)
    stripped = pc.utf8_trim_whitespace(_strings(dates).cast(pa.string()))
    when = pc.strptime(stripped, format=_DATE_FORMAT, unit="s", error_is_null=True)
    # Arrow rolls impossible dates over (2月30日 -> 3月2日); Python refuses them. Only a
    # date that prints back as it was read is taken here.
    ok &= _prints_back(when, stripped).to_numpy(zero_copy_only=False)
    secs = pc.fill_null(pc.cast(when, pa.int64()), 0).to_numpy()
    # Times outside 2000-2100 (UTC) are quarantined by the per-record path.
    utc = secs - _BEIJING_OFFSET_S
    ok &= (utc >= _EARLIEST_S) & (utc < _LATEST_S)
    cols = pa.table(
        {
            "mid": mid_arr,
            "uid": uid_arr,
            "text": _strings(texts).cast(pa.string()),
            "post_id": pa.array(post_ids).cast(pa.string()),
            "parent_id": pa.array(par_ids, mask=~has_parent).cast(pa.string()),
            "created_us": pa.array((secs - _BEIJING_OFFSET_S) * 1_000_000, pa.int64()),
        }
    )
    return _Rows(files, cols, ok)


def convert(files: list[RepostFile]) -> Converted:
    """The posts and their authors' accounts of the records the fast path takes, and the
    records it leaves to the per-record path (`slow`)."""
    out = Converted()
    scanned = [f for f in files if f.columns is not None]
    parsed = [f for f in files if f.columns is None]
    posts, accounts = [], []
    for rows in (
        _scanned_rows(scanned) if scanned else None,
        _parsed_rows(parsed) if parsed else None,
    ):
        if rows is None:
            continue
        ok = rows.fast & np.array([f.src_id is not None for f in rows.files], bool)[rows.file_of]
        slow = np.flatnonzero(~ok)
        out.slow += [(rows.files[rows.file_of[i]], int(rows.item_of[i])) for i in slow]
        keep = np.flatnonzero(ok)
        if not len(keep):
            continue
        post, account = _tables(rows, keep)
        posts.append(post)
        accounts.append(account)
    if posts:
        out.posts = pa.concat_tables(posts)
        out.accounts = pa.concat_tables(accounts)
    return out


def _tables(rows: _Rows, keep: np.ndarray) -> tuple[pa.Table, pa.Table]:
    cols = rows.cols.take(pa.array(keep)) if len(keep) < rows.cols.num_rows else rows.cols
    cols = cols.combine_chunks()
    m = len(keep)
    src = pa.array([f.src_id for f in rows.files], pa.string()).take(pa.array(rows.file_of[keep]))
    parent = cols.column("parent_id")
    authors = cols.column("uid")
    posts = pa.table(
        {
            "platform": model.constant("weibo", pa.string(), m),
            "post_id": cols.column("post_id"),
            "mid": cols.column("mid"),
            "author_id": authors,
            "created_at": cols.column("created_us").cast(model.TS),
            "text": cols.column("text"),
            "retweeted_post_id": src,
            "parent_post_id": pc.if_else(parent.is_valid(), parent, src),
            "repost_chain": _chains(cols.column("text")),
        }
    )
    accounts = pa.table(
        {"platform": model.constant("weibo", pa.string(), m), "account_id": authors}
    )
    return model.conform("posts", posts), model.conform("accounts", accounts)


def _prints_back(when: pa.Array, text: pa.Array) -> pa.Array:
    """Whether each parsed time prints back as the text it was read from, in _DATE_FORMAT
    (`YYYY-MM-DD HH:MM:SS`): the text has that exact shape and each field of the time is
    the text's (Arrow's strftime did the same and was most of the conversion's time)."""
    shape = pc.match_substring_regex(text, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    same = pc.fill_null(shape, False)
    for part, start in (
        (pc.year, 0),
        (pc.month, 5),
        (pc.day, 8),
        (pc.hour, 11),
        (pc.minute, 14),
        (pc.second, 17),
    ):
        width = 4 if start == 0 else 2
        field = pc.utf8_slice_codeunits(
            pc.if_else(same, text, "0000-00-00 00:00:00"), start, start + width
        )
        same = pc.and_(same, pc.equal(part(when), pc.cast(field, pa.int64())))
    return pc.fill_null(same, False)


def _chains(texts: pa.Array) -> pa.Array:
    """The `//@name:` chain of each text, by Python's `re` as in the per-record path; only
    texts holding `//@` go through it."""
    has = pc.fill_null(pc.match_substring(texts, "//@"), False).to_numpy(zero_copy_only=False)
    where = np.flatnonzero(has)
    found = [_CHAIN.findall(t) for t in texts.take(pa.array(where)).to_pylist()]
    counts = np.zeros(len(texts), np.int32)
    counts[where] = [len(f) for f in found]
    offsets = np.zeros(len(texts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    names = pa.array([n for f in found for n in f], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), names)
