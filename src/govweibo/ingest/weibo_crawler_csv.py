"""The post CSVs of dataabc/weibo-crawler (`weibo/<screen_name>/<user_id>.csv`), column-wise.

Header versions read (dataabc/weibo-crawler, weibo.py `get_result_headers`):

- 2019-2020: `id,bid,正文,原始图片url,视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户`
  (13); `头条文章url` after `正文` from 2020 (14); `完整日期` last from 2023 (15); 2025:
  `Live Photo视频url` after `视频url`, `是否编辑过`, `编辑次数` (18).
- Unless the crawl kept originals only, `是否原创,源用户id,源用户昵称` follow, then `源微博` + each
  main column for the reposted post. A row of an original post stops after `是否原创`; the
  reposted post's part holds no `是否编辑过`/`编辑次数` (the tool sets them on the reposting
  post only), so its row is shorter than the header.
- Versions of 2024-2025 with the 15-column header write a `live_photo_url` value after
  `视频url` that the header does not name: every later cell is one to the right. Such rows
  are recognised (`是否原创` one cell late, or one cell past the header) and read with
  the extra column.

`日期` is a day (`YYYY-MM-DD`) before 2023 and `YYYY-MM-DDTHH:MM:SS` after; `完整日期` is
`YYYY-MM-DD HH:MM:SS`; all Beijing time. Ids end in a TAB from 2023 (for Excel).

DuckDB's CSV scanner cuts each batch of rows into cells (every row padded to one width:
rows of original posts are short, and the layouts differ in length), which come back as
Arrow columns; each row's layout, times, counts and flags are computed on the columns,
and Python looks only at the cells Arrow cannot read (relative times, display counts).
Measured against DuckDB's own read_csv of the same files: docs/benchmarks.md.
"""

from __future__ import annotations

import codecs
import csv
import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import Source
from govweibo.ingest.crawler_csv import CrawlerError, parse_count
from govweibo.ingest.weibo_time import (
    DAY,
    ID_TIME_MIN,
    ID_TIME_OFFSET,
    RELATIVE,
    TimeFormatError,
    resolve_time,
    time_from_id,
)
from govweibo.model import Batch, Reject

BATCH_ROWS = 50_000
MAIN_FIRST = ("id", "bid", "正文")
EDIT_COLUMNS = ("是否编辑过", "编辑次数")
LIVE = "Live Photo视频url"
TRUE_FALSE = ("True", "False")
# The columns read; a reposted post's are the same with the prefix `源微博`.
WANTED = (
    "id",
    "bid",
    "正文",
    "原始图片url",
    "视频url",
    "日期",
    "完整日期",
    "工具",
    "点赞数",
    "评论数",
    "转发数",
)
RT = "源微博"
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CHAIN = re.compile(r"//@([^:：\s/]{1,40})[:：]")
TRUNCATED = r"(\.\.\.|…)\s*(展开)?全文\s*$"
BEIJING_US = 8 * 3600 * 1_000_000
NO_STR = pa.scalar(None, pa.string())


def post_header(cols: list[str]) -> bool:
    return tuple(cols[:3]) == MAIN_FIRST and "日期" in cols and "点赞数" in cols


def clean_text(text: str) -> str:
    """Text the tool saved as Weibo's HTML (its `remove_html_tag` off) as plain text."""
    if "<" not in text or not _TAG.search(text):
        return text
    return html.unescape(_TAG.sub("", _BR.sub("\n", text)))


def chain(text: str | None) -> list[str]:
    return _CHAIN.findall(text) if text and "//@" in text else []


@dataclass
class Layout:
    """Where each wanted column sits in a row of one shape."""

    name: str
    index: dict[str, int]
    flag: int | None  # the `是否原创` cell, None where the crawl kept originals only


def layouts(cols: list[str]) -> list[Layout]:
    """The row shapes a header admits: as written, and with the unnamed live-photo cell."""
    has_rt = "是否原创" in cols
    main = cols[: cols.index("是否原创")] if has_rt else list(cols)
    shapes = [("header", main)]
    if LIVE not in main and "视频url" in main and "完整日期" in main:
        at = main.index("视频url") + 1
        shapes.append(("live-photo", [*main[:at], LIVE, *main[at:]]))
    out = []
    for name, keys in shapes:
        index = {k: i for i, k in enumerate(keys)}
        flag = None
        if has_rt:
            flag = len(keys)
            rt_keys = ["源用户id", "源用户昵称"] + [RT + k for k in keys if k not in EDIT_COLUMNS]
            index.update({k: flag + 1 + i for i, k in enumerate(rt_keys)})
        out.append(Layout(name, index, flag))
    return out


def shape_masks(cells: list[pa.Array], shapes: list[Layout]) -> list[pa.Array]:
    """Per row, whether it is written in each layout (at most one holds). Where the crawl
    kept reposts, the `是否原创` cell tells (True/False where the layout puts it); else the
    row's length, an empty cell reading as NULL: no cell past the header's width is the
    header's layout, exactly one is the live-photo one."""
    n = len(cells[0])
    nothing = pa.nulls(n, pa.string())

    def cell(i: int) -> pa.Array:
        return cells[i] if i < len(cells) else nothing

    masks = []
    for shape in shapes:
        if shape.flag is not None:
            mask = pc.is_in(cell(shape.flag), pa.array(TRUE_FALSE))
            if shape is shapes[0]:
                # A row cut before `是否原创` (never written so by the tool): the post alone.
                cut = pc.and_(pc.is_null(cell(shape.flag)), pc.is_null(cell(shape.flag + 1)))
                mask = pc.or_(mask, cut)
        else:
            width = len(shapes[0].index)
            extra = len(shape.index) - width
            mask = pc.is_null(cell(width + extra))
            if extra:
                mask = pc.and_(mask, pc.is_valid(cell(width + extra - 1)))
        masks.append(pc.fill_null(mask, False))
    for i in range(1, len(masks)):
        masks[i] = pc.and_(masks[i], pc.invert(masks[0]))
    return masks


def text_lines(source: Source) -> Iterator[str]:
    """The file as lines (ends kept, split at \\n only: Weibo texts hold U+2028 and the
    like, which str.splitlines would split at), decoded as UTF-8 in 1 MB reads."""
    reader = source.open()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    rest = ""
    offset = 0
    while True:
        raw = reader.read(1 << 20)
        try:
            text = rest + decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"{source.path}: not UTF-8 (bad byte near offset {offset + exc.start})"
            ) from None
        offset += len(raw)
        if not raw:
            if text:
                yield text
            return
        parts = text.split("\n")
        rest = parts.pop()
        for part in parts:
            yield part + "\n"


@dataclass
class Crawl:
    """What one post file says about its rows: their author, the crawl time."""

    author_id: str
    screen_name: str | None
    observed_at: datetime
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.notes[key] = self.notes.get(key, 0) + n


def read_posts(source: Source, crawl: Crawl) -> Iterator[Batch]:
    """Rows in batches of BATCH_ROWS: DuckDB's CSV scanner cuts the file into cells
    (every row padded to one width, short or long), Arrow does the rest."""
    with source.path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), None)
    if header is None:
        return
    cols = [h.strip().lstrip("\ufeff") for h in header]
    shapes = layouts(cols)
    width = max(len(s.index) + (s.flag is not None) for s in shapes) + 4
    names = {f"c{i}": "VARCHAR" for i in range(width)}
    con = _connection()
    try:
        # parallel=false: the parallel scanner refuses padded rows whose texts hold line
        # breaks (the tool's "\n"-joined text); serial also keeps the rows in file order.
        result = con.execute(
            "SELECT * FROM read_csv(?, columns=?, auto_detect=false, header=false, skip=1, "
            "delim=',', quote='\"', escape='\"', null_padding=true, parallel=false)",
            [str(source.path), names],
        )
        stream = result.to_arrow_reader(BATCH_ROWS)
        record = 1
        held: Batch | None = None
        for chunk in stream:
            if held is not None:
                yield held
            held = _convert(chunk, record, shapes, len(cols), crawl)
            record += chunk.num_rows
    except duckdb.Error as exc:
        raise IngestError(f"{source.path}: {str(exc).splitlines()[0]}") from None
    # Provenance: the file's hash, in a pass of its own (DuckDB read the bytes).
    reader = source.open()
    while reader.read(8 << 20):
        pass
    # Progress counts bytes: DuckDB does not say how far it is, so the last batch
    # reports the whole file.
    last = held if held is not None else Batch()
    last.bytes_read = reader.raw_bytes
    yield last


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB (in memory), kept for the next file: opening one took 15 ms,
    a tenth of the time of a file of 2,000 rows."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
    return con


def _needed(shapes: list[Layout], width: int) -> list[int]:
    """The cells a row is read from: the wanted columns and those that tell its layout."""
    names = {*WANTED, "源用户id", "源用户昵称", *(RT + k for k in WANTED)}
    out = {i for s in shapes for k, i in s.index.items() if k in names}
    for s in shapes:
        if s.flag is not None:
            out |= {s.flag, s.flag + 1}
        out |= {len(s.index) - 1, len(s.index)}
    return sorted(i for i in out if i < width)


def _columns(
    cells: list[pa.Array], shapes: list[Layout], masks: list[pa.Array]
) -> dict[str, pa.Array]:
    """The wanted cells of every row, each row read in its layout."""
    names = [*WANTED, "是否原创", "源用户id", "源用户昵称", *(RT + k for k in WANTED)]
    n = len(cells[0])
    out = {}
    for k in names:
        col = pa.nulls(n, pa.string())
        for shape, mask in zip(shapes, masks, strict=True):
            i = shape.index.get(k) if k != "是否原创" else shape.flag
            if i is not None and i < len(cells):
                col = pc.if_else(mask, cells[i], col)
        out[k] = col
    return out


def _convert(
    chunk: pa.RecordBatch, record: int, shapes: list[Layout], header: int, crawl: Crawl
) -> Batch:
    batch = Batch()
    # DuckDB reads an empty cell as NULL; a cell of blanks is made NULL too where it is
    # read (a text keeps its own spaces; ids and counts are trimmed later).
    cells = list(chunk.columns)
    for j in _needed(shapes, len(cells)):
        cells[j] = pc.if_else(_has_text(pc.utf8_trim_whitespace(cells[j])), cells[j], NO_STR)
    filled = np.sum([_np(pc.is_valid(c)) for c in cells], axis=0)
    empty = filled == 0
    batch.empty = int(empty.sum())
    batch.records_read = chunk.num_rows - batch.empty
    masks = shape_masks(cells, shapes)
    fits = np.any([_np(m) for m in masks], axis=0) & ~empty
    lines = np.arange(record + 1, record + 1 + chunk.num_rows)
    for i in np.flatnonzero(~fits & ~empty):
        raw = ",".join(c[i].as_py() or "" for c in chunk.columns).rstrip(",")
        reason = f"{int(filled[i])} filled cells fit no layout of the {header} columns"
        batch.rejects.append(Reject(int(lines[i]), 0, reason, "row", raw[:2000]))
    keep = pa.array(fits)
    if not fits.any():
        return batch
    cols = {k: v.filter(keep) for k, v in _columns(cells, shapes, masks).items()}
    lines = lines[fits]
    raws = chunk.filter(keep)
    n = len(lines)
    post = _posts(cols, "", crawl, n)
    bad = post.pop("_error")
    original = _posts(cols, RT, crawl, n)
    rt_bad = original.pop("_error")
    is_repost = pc.fill_null(pc.equal(cols["是否原创"], "False"), False)
    has_rt = pc.and_(is_repost, pc.is_valid(original["post_id"]))
    # A repost whose original cannot be read keeps the post; the original is quarantined.
    rt_failed = pc.and_(is_repost, pc.is_valid(rt_bad))
    post["retweeted_post_id"] = pc.if_else(
        pc.and_(has_rt, pc.is_null(rt_bad)), original["post_id"], NO_STR
    )
    ok = pc.is_null(bad)
    for i in np.flatnonzero(~_np(ok)):
        fld, reason = str(bad[i]).split("\x00", 1)
        batch.rejects.append(Reject(int(lines[i]), 0, reason, fld, _raw(raws, int(i))))
    for i in np.flatnonzero(_np(pc.and_(rt_failed, ok))):
        fld, reason = str(rt_bad[i]).split("\x00", 1)
        batch.rejects.append(Reject(int(lines[i]), 1, reason, RT + fld, _raw(raws, int(i))))
    posts = _table(post).filter(ok)
    batch.primary["posts"] = posts
    keep_rt = pc.and_(pc.and_(has_rt, pc.is_null(rt_bad)), ok)
    originals = _table(original).filter(keep_rt)
    if originals.num_rows:
        batch.secondary["posts"] = originals
    authors = [model.Account("weibo", crawl.author_id, screen_name=crawl.screen_name)]
    rt_ids = cols["源用户id"].filter(keep_rt).to_pylist()
    rt_names = cols["源用户昵称"].filter(keep_rt).to_pylist()
    seen = {crawl.author_id}
    for uid, name in zip(rt_ids, rt_names, strict=True):
        uid = (uid or "").strip()
        if uid.isdigit() and uid not in seen:
            seen.add(uid)
            authors.append(model.Account("weibo", uid, screen_name=(name or "").strip() or None))
    batch.secondary["accounts"] = model.records_to_table("accounts", authors)
    return batch


def _raw(chunk: pa.RecordBatch, i: int) -> str:
    """A row as it read (cells joined, trailing empty ones dropped), for the quarantine."""
    return ",".join(c[i].as_py() or "" for c in chunk.columns).rstrip(",")[:2000]


def _has_text(text: pa.Array) -> pa.Array:
    """Which cells hold text (not null, not empty)."""
    return pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)


def _np(mask: pa.Array) -> np.ndarray:
    """A boolean mask as numpy, null as False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _table(cols: dict[str, Any]) -> pa.Table:
    return model.conform("posts", pa.table(cols))


def _error(errors: pa.Array, mask: pa.Array, fld: str, reason: str) -> pa.Array:
    """The first error of each row: `errors` where set, else `fld\\0reason` where `mask`."""
    return pc.coalesce(errors, pc.if_else(mask, pa.scalar(f"{fld}\x00{reason}"), NO_STR))


def _posts(cols: dict[str, pa.Array], prefix: str, crawl: Crawl, n: int) -> dict[str, Any]:
    """Canonical post columns from the wanted cells (the post's, or with `prefix` the
    reposted post's), and `_error`: the first field that could not be read, per row."""
    errors = pa.nulls(n, pa.string())
    ids = pc.utf8_trim_whitespace(pc.replace_substring(cols[prefix + "id"], "\ufeff", ""))
    numeric = pc.fill_null(pc.match_substring_regex(ids, r"^\d{1,19}$"), False)
    errors = _error(errors, pc.invert(numeric), "id", "not a numeric post id")
    ids = pc.if_else(numeric, ids, NO_STR)
    text = cols[prefix + "正文"]
    created, errors = _times(cols, prefix, ids, crawl, errors)
    counts = {}
    for fld, out in (("转发数", "reposts"), ("评论数", "comments"), ("点赞数", "likes")):
        counts[out], errors = _counts(cols[prefix + fld], fld, errors)
    pics = pc.utf8_trim_whitespace(cols[prefix + "原始图片url"])
    has_pics = pc.fill_null(pc.greater(pc.utf8_length(pics), 0), False)
    pic_count = pc.if_else(has_pics, pc.add(pc.count_substring(pics, ","), 1), 0)
    video = pc.utf8_trim_whitespace(cols[prefix + "视频url"])
    text = _clean(text)
    source = pc.utf8_trim_whitespace(cols[prefix + "工具"])
    mid = pc.utf8_trim_whitespace(cols[prefix + "bid"])
    author: Any = model.constant(crawl.author_id, pa.string(), n)
    if prefix:
        uid = pc.utf8_trim_whitespace(cols["源用户id"])
        author = pc.if_else(
            pc.fill_null(pc.match_substring_regex(uid, r"^\d+$"), False), uid, NO_STR
        )
    chains: list[list[str]] = [[]] * n
    for i in np.flatnonzero(_np(pc.match_substring(text, "//@"))):
        chains[i] = chain(text[i].as_py())
    return {
        "platform": model.constant("weibo", pa.string(), n),
        "post_id": ids,
        "mid": pc.if_else(pc.greater(pc.utf8_length(mid), 0), mid, NO_STR),
        "author_id": author,
        "created_at": created,
        "text": text,
        "source": pc.if_else(pc.greater(pc.utf8_length(source), 0), source, NO_STR),
        **counts,
        "counts_observed_at": model.constant(crawl.observed_at, model.TS, n),
        "repost_chain": pa.array(chains, pa.list_(pa.string())),
        "is_truncated": pc.fill_null(pc.match_substring_regex(text, TRUNCATED), False),
        "pic_count": pc.cast(pic_count, pa.int32()),
        "has_video": pc.fill_null(pc.greater(pc.utf8_length(video), 0), False),
        "has_url": pc.fill_null(pc.match_substring(text, "http"), False),
        "_error": errors,
    }


def _clean(text: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(text, r"<[a-zA-Z/!]")).as_py():
        return text
    return pa.array([None if t is None else clean_text(t) for t in text.to_pylist()], pa.string())


def _times(
    cols: dict[str, pa.Array], prefix: str, ids: pa.Array, crawl: Crawl, errors: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """created_at: `完整日期`, else an exact `日期`, else the second the id encodes, else
    the day alone; the rest (relative texts) resolved in Python against the crawl time."""
    full = pc.utf8_trim_whitespace(cols[prefix + "完整日期"])
    day = pc.utf8_trim_whitespace(cols[prefix + "日期"])
    exact = pc.coalesce(
        pc.strptime(full, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True),
        pc.strptime(day, format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True),
        pc.strptime(day, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True),
        pc.strptime(day, format="%Y-%m-%d %H:%M", unit="us", error_is_null=True),
    )
    exact_us = pc.subtract(pc.cast(exact, pa.int64()), BEIJING_US)
    id_num = pc.cast(ids, pa.int64())
    dated = pc.fill_null(pc.greater_equal(id_num, ID_TIME_MIN), False)
    id_us = pc.multiply(pc.add(pc.shift_right(id_num, 22), ID_TIME_OFFSET), 1_000_000)
    id_us = pc.if_else(dated, id_us, pa.scalar(None, pa.int64()))
    day_us = pc.subtract(
        pc.cast(pc.strptime(day, format="%Y-%m-%d", unit="us", error_is_null=True), pa.int64()),
        BEIJING_US,
    )
    from_id = pc.and_(pc.is_null(exact_us), pc.is_valid(id_us))
    by_day = pc.and_(pc.and_(pc.is_null(exact_us), pc.is_null(id_us)), pc.is_valid(day_us))
    out = pc.coalesce(exact_us, id_us, day_us)
    shown = pc.or_(_has_text(full), _has_text(day))
    rest = np.flatnonzero(_np(pc.and_(pc.is_null(out), shown)))
    crawl.add("time_from_id", pc.sum(from_id).as_py() or 0)
    crawl.add("time_day_only", pc.sum(by_day).as_py() or 0)
    if len(rest):
        values = out.to_numpy(zero_copy_only=False).astype("float64")
        fixed = np.full(len(values), np.nan)
        for i in rest:
            text = (full[i].as_py() or day[i].as_py() or "").strip()
            ident = ids[i].as_py()
            try:
                when, kind = resolve_time(text, crawl.observed_at) if text else (None, "")
            except TimeFormatError:
                when, kind = None, ""
            if kind in (DAY, RELATIVE, "") and ident and time_from_id(ident) is not None:
                when, kind = time_from_id(ident), "id"
            if when is None:
                continue
            crawl.add("time_from_id" if kind == "id" else f"time_{kind}", 1)
            fixed[i] = when.timestamp() * 1_000_000
        merged = np.where(np.isnan(values), fixed, values)
        out = pa.array(merged, pa.float64(), mask=np.isnan(merged)).cast(pa.int64())
    errors = _error(errors, pc.is_null(out), "日期", "no time in 日期 or 完整日期")
    return pc.cast(out, model.TS), errors


def _counts(values: pa.Array, fld: str, errors: pa.Array) -> tuple[pa.Array, pa.Array]:
    text = pc.utf8_trim_whitespace(values)
    digits = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,18}$"), False)
    out = pc.cast(pc.if_else(digits, text, NO_STR), pa.int64())
    odd = np.flatnonzero(_np(pc.and_(pc.invert(digits), pc.greater(pc.utf8_length(text), 0))))
    if len(odd):
        fixed = out.to_pylist()
        failed = np.zeros(len(fixed), dtype=bool)
        for i in odd:
            try:
                fixed[i] = parse_count(text[i].as_py(), fld)
            except CrawlerError:
                failed[i] = True
        out = pa.array(fixed, pa.int64())
        errors = _error(errors, pa.array(failed), fld, "not a count")
    return out, errors
