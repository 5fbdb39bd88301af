"""CED repost records in bulk: the common, well-formed record is converted column-wise.

A CED repost file holds hundreds of `{mid, uid, parent, text, date}` records; the
corpus about 900,000. Converting them one by one in Python (a base62 decode and a
strptime per record) was most of the CED ingest time. Here whole columns are
checked and converted with numpy and Arrow; any record that is not plainly
well-formed is handed back to the per-record path in `ced`, which says exactly
what is wrong with it. Both paths give identical rows for the records they share.
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


@dataclass
class RepostFile:
    """The records of one repost file and the source post they hang from: parsed by
    json.loads (`items`), or scanned natively into columns (`columns`, with `raw`, the
    file's bytes, parsed only if a record needs the per-record path)."""

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


# The columns the native scan reads from each repost record.
_SCANNED = ("mid", "uid", "parent", "text", "date")


def read_repost_file(
    path: Any, raw: bytes, src_id: str | None, src_time: datetime | None, native: bool = True
) -> RepostFile:
    """The file's records; raises ValueError (or json's) where it is not a JSON array.
    `native`: scan it with the extension where it is built."""
    scanned = _sina_scan.scan_reposts(raw) if native and _sina_scan is not None else None
    if scanned is not None:
        rows, cols = scanned
        table = pa.table(
            {name: large_strings(col, rows) for name, col in zip(_SCANNED, cols, strict=True)}
        )
        return RepostFile(path, None, src_id, src_time, table, raw)
    items = json.loads(raw)
    if not isinstance(items, list):
        raise ValueError("expected a JSON array of reposts")
    return RepostFile(path, items, src_id, src_time)


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


def _columns(f: RepostFile) -> tuple[pa.Table, np.ndarray | None, np.ndarray | None]:
    """A file's records as string columns, with whether each is a JSON object and has a
    parent (Python's truth of the value, as the per-record path tests it); None for
    both where the native scan read the file (every record an object, every value a
    string or NULL: decided on the whole column, in `convert`)."""
    if f.columns is not None:
        return f.columns, None, None
    recs = f.items
    fields = [
        (r.get("mid"), r.get("uid"), r.get("parent"), r.get("text"), r.get("date"))
        if type(r) is dict
        else _NO_FIELDS
        for r in recs
    ]
    mids, uids, parents, texts, dates = (
        (list(c) for c in zip(*fields, strict=True)) if fields else ([],) * 5
    )
    uid_str = [u if type(u) is str and u else str(u) if type(u) is int else None for u in uids]
    table = pa.table(
        {
            "mid": _strings(mids),
            "uid": pa.array(uid_str, pa.large_string()),
            "parent": _strings(parents),
            "text": _strings(texts),
            "date": _strings(dates),
        }
    )
    is_dict = np.array([type(r) is dict for r in recs], bool)
    return table, is_dict, np.array([bool(p) for p in parents], bool)


def convert(files: list[RepostFile]) -> Converted:
    lengths = np.array([f.count for f in files], np.int64)
    file_of = np.repeat(np.arange(len(files)), lengths)
    item_of = np.arange(len(file_of)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    parts = [_columns(f) for f in files]
    empty = pa.table({k: pa.array([], pa.large_string()) for k in _SCANNED})
    cols = pa.concat_tables([p[0] for p in parts] or [empty]).combine_chunks()
    cols = pa.table({k: cols.column(k).cast(pa.string()) for k in _SCANNED})
    # Scanned files: every record an object; a uid of "" is no uid, and a parent is there
    # when it is a non-empty string, as the per-record path reads them.
    scanned = np.repeat([p[1] is None for p in parts], lengths)
    is_dict = np.ones(len(file_of), bool)
    has_parent = pc.fill_null(pc.greater(pc.utf8_length(cols.column("parent")), 0), False)
    has_parent = has_parent.to_numpy(zero_copy_only=False).copy()
    if not scanned.all():
        parsed = ~scanned
        is_dict[parsed] = np.concatenate([p[1] for p in parts if p[1] is not None])
        has_parent[parsed] = np.concatenate([p[2] for p in parts if p[2] is not None])
    uid = cols.column("uid")
    blank = pc.and_(pa.array(scanned), pc.equal(pc.utf8_length(uid), 0))
    cols = cols.set_column(1, "uid", pc.if_else(blank, None, uid))
    has_src = np.array([f.src_id is not None for f in files], bool)[file_of]
    ok = has_src & is_dict
    mid_arr = cols.column("mid").combine_chunks()
    mid_ok = pc.fill_null(pc.match_substring_regex(mid_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    post_ids, exact = decode_mids(pc.if_else(mid_ok, mid_arr, "0"))
    ok &= mid_ok & exact
    # A falsy parent means a direct repost of the source, as in the per-record path.
    par_arr = cols.column("parent").combine_chunks()
    par_ok = pc.fill_null(pc.match_substring_regex(par_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    par_ids, par_exact = decode_mids(pc.if_else(par_ok, par_arr, "0"))
    ok &= ~has_parent | (par_ok & par_exact)
    ok &= cols.column("uid").is_valid().to_numpy(zero_copy_only=False)
    stripped = pc.utf8_trim_whitespace(cols.column("date").combine_chunks())
    when = pc.strptime(stripped, format=_DATE_FORMAT, unit="s", error_is_null=True)
    # Arrow rolls impossible dates over (2月30日 -> 3月2日); Python refuses them. Only a
    # date that prints back as it was read is taken here.
    same = _prints_back(when, stripped)
    ok &= same.to_numpy(zero_copy_only=False)

    out = Converted(slow=[(files[file_of[i]], int(item_of[i])) for i in np.flatnonzero(~ok)])
    keep = np.flatnonzero(ok)
    if not len(keep):
        return out
    take = pa.array(keep)
    secs = pc.cast(when.take(take), pa.int64()).to_numpy()
    created = pa.array((secs - _BEIJING_OFFSET_S) * 1_000_000, pa.int64()).cast(model.TS)
    own_ids = pa.array(post_ids[keep]).cast(pa.string())
    src = pa.array([f.src_id for f in files], pa.string()).take(pa.array(file_of[keep]))
    parent_ids = pc.if_else(
        pa.array(has_parent[keep]), pa.array(par_ids[keep]).cast(pa.string()), src
    )
    text_col = cols.column("text").combine_chunks().take(take)
    authors = cols.column("uid").combine_chunks().take(take)
    m = len(keep)
    out.posts = model.conform(
        "posts",
        pa.table(
            {
                "platform": model.constant("weibo", pa.string(), m),
                "post_id": own_ids,
                "mid": mid_arr.take(take),
                "author_id": authors,
                "created_at": created,
                "text": text_col,
                "retweeted_post_id": src,
                "parent_post_id": parent_ids,
                "repost_chain": _chains(text_col),
            }
        ),
    )
    out.accounts = model.conform(
        "accounts",
        pa.table({"platform": model.constant("weibo", pa.string(), m), "account_id": authors}),
    )
    return out


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
