"""Reading Weibo web responses from files: one response body per file (a saved page,
pretty-printed or not) or JSON lines of bodies, streamed in bounded blocks; the read loop
the weibo-mobile, weibo-web and weibospider-jsonl readers share (`read_responses`); the
post ids collectors put in file names; longtext files saved beside a page.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.weibo_html import (
    Context,
    FieldError,
    clean_text,
    comment_records,
    mid_of,
    numeric_post_id,
    status_records,
    user_records,
)
from govweibo.model import Batch, Post, Reject

# A whole-file document (a saved page) is parsed in memory; JSON lines stream.
MAX_DOCUMENT_BYTES = 256 << 20
# Records per batch when streaming JSON lines.
BATCH_RECORDS = 5000


def decode(raw: bytes, source: Source) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        source.notes["encoding"] = "gb18030"
        return raw.decode("gb18030", errors="replace")


def json_units(source: Source, chunk_bytes: int) -> Iterator[tuple[int, Any, str]]:
    """(line, parsed or None, raw text) per JSON value: the whole file when it is one
    document (a saved response, pretty-printed or not), else one per line, streamed.
    Line 0 stands for the whole file; `parsed` None with raw text means malformed."""
    reader = source.open()
    head = reader.read(min(chunk_bytes, 1 << 16))
    # The first line whole, to tell lines from a document: a line of JSON lines of bodies
    # is often longer than the first read (m.weibo.cn pages run to hundreds of KB).
    while b"\n" not in head and len(head) < MAX_DOCUMENT_BYTES:
        more = reader.read(1 << 20)
        if not more:
            break
        head += more
    first_line = head.split(b"\n", 1)[0].strip()
    document = head.lstrip()[:1] == b"["
    if not document and first_line:
        try:
            json.loads(first_line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            document = True  # a pretty-printed or one-line document spread over lines
    if document:
        parts, size = [head], len(head)
        while block := reader.read(chunk_bytes):
            size += len(block)
            if size > MAX_DOCUMENT_BYTES:
                raise IngestError(
                    f"{source.path}: a single JSON document over {MAX_DOCUMENT_BYTES >> 20} "
                    "MB; save responses one per line (JSON lines) to stream them"
                )
            parts.append(block)
        text = decode(b"".join(parts), source)
        try:
            yield 0, json.loads(text), text
            return
        except json.JSONDecodeError as exc:
            first = _line(1, text.lstrip().split("\n", 1)[0])
            if first[1] is None:  # a broken document, not lines: one reject
                yield exc.lineno, None, text[:2000]
                return
        # Not one document: JSON lines whose first line is longer than the sniff.
        # split("\n"), not splitlines(): JSON strings may hold U+0085 or U+2028 raw.
        for line_no, raw in enumerate(text.rstrip("\n").split("\n"), start=1):
            yield _line(line_no, raw)
        return
    carry = head
    line_no = 0
    # Lines are cut from blocks of at most 8 MB: the block and its lines are what a
    # JSON-lines file holds in memory at once, whatever its size.
    block_bytes = min(chunk_bytes, 8 << 20)
    while True:
        block = reader.read(block_bytes)
        lines = (carry + block).split(b"\n")
        if block:
            carry = lines.pop()
        elif lines and not lines[-1].strip():
            lines.pop()  # the end of the last line
        for raw_line in lines:
            line_no += 1
            yield _line(line_no, decode(raw_line, source))
        if not block:
            return


def _line(line_no: int, raw: str) -> tuple[int, Any, str]:
    text = raw.strip()
    if not text:
        return line_no, None, ""
    try:
        return line_no, json.loads(text), text
    except json.JSONDecodeError:
        return line_no, None, text


# unit kinds a reader's `units` function returns
STATUS, USER, COMMENT, LONGTEXT = "status", "user", "comment", "longtext"
# A record mapped by a function of the reader's own: extras["map"](obj, ctx).
ROWS = "rows"
Unit = tuple[str, Any, dict[str, Any]]  # kind, object, extras (post_id, label, when)


def read_responses(
    source: Source,
    opts: ReadOptions,
    units: Callable[[Any, Context], list[Unit]],
    record_time: Callable[[Any], datetime | None] | None = None,
) -> Iterator[Batch]:
    """The shared read loop: JSON values of the file -> units -> canonical rows.

    `units(doc, ctx)` splits one response (or one JSON line) into records; an empty list
    counts as an empty response. `record_time(doc)` is the crawl time a record carries
    (WeiboSpider's crawl_time), used over the file's (opts.observed_at, else its mtime).
    """
    base = Context(opts.platform or "weibo", source.observed_at)
    basis = "observed-at" if opts.observed_at is not None else "file mtime"
    used_record_time = False
    base.longtext_files = sibling_longtexts(source.path)
    batch = Batch()
    records: list[Any] = []
    nested: list[Any] = []
    for line, doc, raw in json_units(source, opts.chunk_bytes):
        batch.bytes_read += len(raw) + 1
        if doc is None:
            if raw:
                batch.records_read += 1
                batch.rejects.append(Reject(line, 0, "malformed JSON", None, raw[:2000]))
            else:
                batch.empty += 1
            continue
        ctx = base
        when = record_time(doc) if record_time else None
        if when is not None:
            used_record_time = True
            ctx = Context(
                base.platform, when, base.stats, base.longtexts, base.longtext_files, base.users
            )
        try:
            found = units(doc, ctx)
        except FieldError as exc:
            batch.records_read += 1
            batch.rejects.append(Reject(line, 0, str(exc), exc.field, raw[:2000]))
            continue
        if not found:
            batch.empty += 1
        for item, (kind, obj, extra) in enumerate(found):
            batch.records_read += 1
            try:
                out, inner = map_unit(kind, obj, extra, ctx)
            except (FieldError, ValueError, TypeError, KeyError, AttributeError) as exc:
                fld = getattr(exc, "field", None)
                text = json.dumps(obj, ensure_ascii=False)[:2000]
                batch.rejects.append(Reject(line, item, str(exc), fld, text))
                continue
            records.extend(out)
            nested.extend(inner)
        if len(records) >= BATCH_RECORDS:
            yield _finish(batch, records, nested, opts.timeline)
            batch, records, nested = Batch(), [], []
            base.users.clear()
    yield _finish(batch, records, nested, opts.timeline)
    source.notes["time_basis"] = (
        f"crawl_time ({basis} where a record has none)" if used_record_time else basis
    )
    for key in ("time_from_id", "long_text", "longtext_files_beside", "retweeted_without_user"):
        if base.stats[key]:
            source.notes[key] = base.stats[key]


def map_unit(
    kind: str, obj: Any, extra: dict[str, Any], ctx: Context
) -> tuple[list[Any], list[Any]]:
    if kind == STATUS:
        post, inner = status_records(obj, ctx, extra.get("label", ""))
        return [post], inner
    if kind == USER:
        return user_records(obj, ctx, extra.get("label", "user")), []
    if kind == COMMENT:
        rows = comment_records(obj, ctx, extra.get("post_id"), extra.get("label", ""))
        return [rows[0]], rows[1:]
    if kind == LONGTEXT:
        return [longtext_post(obj, extra.get("post_id"), ctx)], []
    if kind == ROWS:
        primary, inner = extra["map"](obj, ctx)
        return list(primary), list(inner)
    raise ValueError(f"unknown unit kind {kind!r}")


def longtext_post(text: Any, post_id: str | None, ctx: Context) -> Post:
    """A longtext response read alone: the post's whole text, nothing else (it fills
    the text of a post stored without one; status files pick up longtext files beside
    them, see sibling_longtexts)."""
    if post_id is None:
        raise FieldError(
            "id",
            "a longtext response names no post: name the file "
            "longtext-<id>.json (the id or the mblogid)",
        )
    body = clean_text(text)
    if not body:
        raise FieldError("longTextContent")
    return Post(ctx.platform, post_id, mid=mid_of(post_id), text=body, is_truncated=False)


def _finish(batch: Batch, records: list[Any], nested: list[Any], timeline: bool) -> Batch:
    for table, rows in model.group_records(records).items():
        batch.primary[table] = _table(table, rows)
    if timeline:
        # --timeline: the file is a complete observation of its authors' timelines (the
        # deletion audit compares them); the posts it stands for, not reposted originals.
        seen = [r for r in records if isinstance(r, Post) and r.author_id]
        batch.secondary["timeline_sightings"] = pa.table(
            {
                "platform": pa.array([p.platform for p in seen], pa.string()),
                "account_id": pa.array([p.author_id for p in seen], pa.string()),
                "post_id": pa.array([p.post_id for p in seen], pa.string()),
                "observed_at": pa.array([p.counts_observed_at for p in seen], model.TS),
            }
        )
    # A user's rows come once per batch, however many statuses carry the user.
    unique = list({id(r): r for r in nested}.values())
    for table, rows in model.group_records(unique).items():
        batch.secondary[table] = _table(table, rows)
    return batch


def _table(table: str, rows: list[Any]) -> pa.Table:
    """model.records_to_table, column-wise: one attrgetter call per row gives the row's
    tuple and zip turns them into columns (5x faster on 30,000 posts, 0.36 s against
    1.8 s; the same table)."""
    schema = model.schema_of(table)
    if not rows:
        return model.empty_table(table)
    values = zip(*map(attrgetter(*schema.names), rows), strict=True)
    return pa.Table.from_arrays(
        [pa.array(col, type=fld.type) for col, fld in zip(values, schema, strict=True)],
        schema=schema,
    )


# File names the collectors (and this project's docs) give responses: the endpoint, then
# the id it was asked about: `longtext-4607667449893429.json`, `hotflow-K3dsQFvJr-p2.json`.
_NAMED_ID = re.compile(
    r"^(?:longtext|extend|hotflow|buildComments|comments|repostTimeline|show)[-_]"
    # A numeric id, or a base62 mid (8-9 characters for ids since 2010).
    r"([0-9A-Za-z]{8,20})(?:[-_][^/]*)?\.json(?:l|\.gz|l\.gz)?$",
    re.I,
)


def id_from_name(path: Path) -> str | None:
    m = _NAMED_ID.match(path.name)
    return numeric_post_id(m.group(1)) if m else None


@lru_cache(maxsize=64)
def _longtext_index(folder: str, mtime_ns: int) -> dict[str, Path]:
    """Longtext responses in `folder` (longtext-<id>.json, extend-<id>.json) by post id;
    listed once per folder state, not once per file read (mtime_ns keys the cache)."""
    out: dict[str, Path] = {}
    try:
        names = [e for e in os.scandir(folder) if e.name.lower().startswith(("longtext", "extend"))]
    except OSError:
        return out
    for entry in names:
        pid = id_from_name(Path(entry.path))
        if pid is not None:
            out[pid] = Path(entry.path)
    return out


def sibling_longtexts(path: Path) -> dict[str, Path]:
    """The longtext files saved beside `path`, by post id: a timeline file shows long
    posts cut short, and the store keeps the first text it saw, so the join happens here,
    while reading (Context.long_text reads a file only for a post that needs it)."""
    if path.name.lower().startswith(("longtext", "extend")):
        return {}
    try:
        mtime = path.parent.stat().st_mtime_ns
    except OSError:
        return {}
    return _longtext_index(str(path.parent.resolve()), mtime)


def is_comment(item: dict[str, Any]) -> bool:
    """A comment, not a status, in a list both kinds of endpoint return as `data`."""
    if "reposts_count" in item or "retweeted_status" in item or "mblogid" in item:
        return False
    return any(k in item for k in ("rootid", "floor_number", "like_count", "like_counts"))


def item_units(items: list[Any], post_id: str | None) -> list[Unit]:
    """Units of a `data` list: comments (hotflow, buildComments) or statuses
    (repostTimeline), told apart by their fields."""
    out: list[Unit] = []
    for obj in items:
        if isinstance(obj, dict) and is_comment(obj):
            out.append((COMMENT, obj, {"post_id": post_id}))
        else:
            out.append((STATUS, obj, {}))
    return out


def is_empty_response(doc: dict[str, Any]) -> bool:
    """`{"ok":0,"msg":"这里还没有内容"}`, `{"ok":-100,"url":...}` (login wall) and the like."""
    ok = doc.get("ok")
    return ok is not None and str(ok) != "1" and not doc.get("data")


def json_name(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"))


def epoch(value: Any) -> datetime | None:
    """A crawl time in Unix seconds (or milliseconds), or None."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:
        number /= 1000
    return datetime.fromtimestamp(number, UTC)
