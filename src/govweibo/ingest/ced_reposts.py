"""CED repost records in bulk: the common, well-formed record is converted column-wise.

A CED repost file holds hundreds of `{mid, uid, parent, text, date}` records; the
corpus about 900,000. Converting them one by one in Python (a base62 decode and a
strptime per record) was most of the CED ingest time. Here whole columns are
checked and converted with numpy and Arrow; any record that is not plainly
well-formed is handed back to the per-record path in `ced`, which says exactly
what is wrong with it. Both paths give identical rows for the records they share.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
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
    """The records of one repost file and the source post they hang from."""

    path: Any
    items: list[Any]
    src_id: str | None
    src_time: datetime | None


@dataclass
class Converted:
    posts: pa.Table | None = None
    accounts: pa.Table | None = None
    # (file, index in file) of records the fast path left to the per-record path
    slow: list[tuple[RepostFile, int]] = field(default_factory=list)


def decode_mids(mids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Numeric ids of base62 mids (all matching [0-9A-Za-z]{1,12}) as int64, and a mask
    of those the int64 form represents exactly as `sina_ids.mid_to_id` would print them."""
    if not mids:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    padded = np.array([m.rjust(12, "0") for m in mids], dtype="S12")
    digits = _LUT[padded.view(np.uint8).reshape(-1, 12)]
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
    return pa.array([v if type(v) is str else None for v in values], pa.string())


def convert(files: list[RepostFile]) -> Converted:
    lengths = np.array([len(f.items) for f in files], np.int64)
    file_of = np.repeat(np.arange(len(files)), lengths)
    item_of = np.arange(len(file_of)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    recs = list(itertools.chain.from_iterable(f.items for f in files))
    # One pass over the records, then whole columns.
    fields = [
        (r.get("mid"), r.get("uid"), r.get("parent"), r.get("text"), r.get("date"))
        if type(r) is dict
        else _NO_FIELDS
        for r in recs
    ]
    mids, uids, parents, texts, dates = (
        (list(c) for c in zip(*fields, strict=True)) if fields else ([],) * 5
    )
    has_src = np.array([f.src_id is not None for f in files], bool)[file_of]
    ok = has_src & np.array([type(r) is dict for r in recs], bool)
    mid_arr = _strings(mids)
    mid_ok = pc.fill_null(pc.match_substring_regex(mid_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    post_ids, exact = decode_mids(pc.if_else(mid_ok, mid_arr, "0").to_pylist())
    ok &= mid_ok & exact
    # A falsy parent means a direct repost of the source, as in the per-record path.
    has_parent = np.array([bool(p) for p in parents], bool)
    par_arr = _strings(parents)
    par_ok = pc.fill_null(pc.match_substring_regex(par_arr, _MID_FULL), False).to_numpy(
        zero_copy_only=False
    )
    par_ids, par_exact = decode_mids(pc.if_else(par_ok, par_arr, "0").to_pylist())
    ok &= ~has_parent | (par_ok & par_exact)
    uid_str = [u if type(u) is str and u else str(u) if type(u) is int else None for u in uids]
    ok &= np.array([u is not None for u in uid_str], bool)
    stripped = pc.utf8_trim_whitespace(_strings(dates))
    when = pc.strptime(stripped, format=_DATE_FORMAT, unit="s", error_is_null=True)
    # Arrow rolls impossible dates over (2月30日 -> 3月2日); Python refuses them. Only a
    # date that prints back as it was read is taken here.
    same = pc.equal(pc.strftime(when, format=_DATE_FORMAT), stripped)
    ok &= pc.fill_null(same, False).to_numpy(zero_copy_only=False)

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
    text_col = _strings(texts).take(take)
    chains = [_CHAIN.findall(t) if t and "//@" in t else [] for t in text_col.to_pylist()]
    authors = pa.array(uid_str, pa.string()).take(take)
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
                "repost_chain": pa.array(chains, pa.list_(pa.string())),
            }
        ),
    )
    out.accounts = model.conform(
        "accounts",
        pa.table({"platform": model.constant("weibo", pa.string(), m), "account_id": authors}),
    )
    return out
