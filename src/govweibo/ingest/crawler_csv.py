"""CSV exports of Weibo web crawlers (Chinese headers, year-less times, display counts).

Two shapes are known: post lists (`WB_text`, `forward`, `comment`, `like`,
`weibo_url`, and `Time` or `WB_from` carrying `5月31日 23:54 来自 client`) and
comment lists (`user_name`, `user_url`, `weibo_content`, `comment_time`, `comment_like`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.sina_ids import mid_to_id
from govweibo.model import Account, Batch, Interaction, Post, Reject

BEIJING = timezone(timedelta(hours=8))
POST_COLUMNS = {"WB_text", "weibo_url", "forward", "comment", "like"}
COMMENT_COLUMNS = {"user_name", "user_url", "weibo_content", "comment_time"}
_URL = re.compile(r"https?://(?:www\.)?weibo\.com/(\d+)/([0-9A-Za-z]+)")
# Numeric ids, or the personal domain a profile link shows instead (kept as the id,
# as the CED corpus does).
_USER_URL = re.compile(r"https?://(?:www\.)?weibo\.com/(?:u/)?([0-9A-Za-z_\-]+)/?$")
_MD = re.compile(r"(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})")
_FULL = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})")
_SOURCE = re.compile(r"来自\s*(.+?)\s*(?:已编辑)?\s*$")
_COUNT_WORDS = {"转发", "评论", "赞", ""}  # what the page shows when a count is zero
TRUNCATION_MARKS = ("...展开全文", "展开全文")


class CrawlerError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"field '{field}': {message}")
        self.field = field


def parse_count(value: str, field: str) -> int:
    """'123' -> 123; '1万+' -> 10000 (a lower bound); '转发' (zero shown as a label) -> 0."""
    text = value.strip()
    if text in _COUNT_WORDS:
        return 0
    if text.isdigit():
        return int(text)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([万亿])\+?", text)
    if m:
        scale = 10_000 if m.group(2) == "万" else 100_000_000
        return int(float(m.group(1)) * scale)
    raise CrawlerError(field, f"not a count: {text[:30]!r}")


def parse_time(value: str, year: int | None, field: str) -> datetime:
    text = value.strip()
    m = _FULL.search(text)
    if m:
        y, mo, d, h, mi = (int(g) for g in m.groups())
    else:
        m = _MD.search(text)
        if not m:
            raise CrawlerError(field, f"no date in {text[:40]!r}")
        if year is None:
            raise CrawlerError(field, f"{text[:20]!r} has no year; pass --year")
        mo, d, h, mi = (int(g) for g in m.groups())
        y = year
    try:
        return datetime(y, mo, d, h, mi, tzinfo=BEIJING)
    except ValueError:
        raise CrawlerError(field, f"impossible date {text[:40]!r}") from None


class CrawlerCsvReader:
    name = "crawler-csv"
    description = "Weibo web-crawler CSV exports (post lists and comment lists, Chinese headers)"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".csv":
            return False
        first = head.decode("utf-8-sig", errors="ignore").splitlines()[:1]
        cols = set(first[0].split(",")) if first else set()
        return cols >= POST_COLUMNS or cols >= COMMENT_COLUMNS

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        text, size = source.read_text()
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            return
        cols = [h.strip() for h in header]
        if opts.year is not None:
            source.notes["year"] = opts.year
        elif _MD.search(text) and not _FULL.search(text):
            # Every row would be rejected for the same reason: say it once.
            raise IngestError(
                f"{source.path}: times like '5月31日 23:54' carry no year; pass --year YEAR"
            )
        if set(cols) >= POST_COLUMNS:
            yield _read_rows(
                cols,
                rows,
                size,
                "posts",
                _post_row_empty,
                lambda rec, row: _post(rec, row, cols, opts, source),
            )
        elif set(cols) >= COMMENT_COLUMNS:
            yield _read_rows(
                cols,
                rows,
                size,
                "interactions",
                _comment_row_empty,
                lambda rec, row: _comment(rec, opts),
            )
        else:
            raise IngestError(f"{source.path}: header is neither a post list nor a comment list")


def _read_rows(
    cols: list[str],
    rows: Iterator[list[str]],
    size: int,
    table: str,
    is_empty: Callable[[dict[str, str], list[str]], bool],
    convert: Callable[[dict[str, str], list[str]], tuple[Any, Account]],
) -> Batch:
    """One pass over the data rows: empty rows counted, bad ones quarantined, the rest
    converted to one record and its author each."""
    batch = Batch(bytes_read=size)
    records: list[Any] = []
    authors: dict[str, Account] = {}
    for line, row in enumerate(rows, start=2):
        rec = dict(zip(cols, row, strict=False))
        if is_empty(rec, row):
            batch.empty += 1
            continue
        batch.records_read += 1
        try:
            record, author = convert(rec, row)
        except CrawlerError as exc:
            batch.rejects.append(
                Reject(
                    line=line, item=0, field=exc.field, reason=str(exc), raw=",".join(row)[:2000]
                )
            )
            continue
        records.append(record)
        authors.setdefault(author.account_id, author)
    if records:
        batch.primary[table] = model.records_to_table(table, records)
        batch.secondary["accounts"] = model.records_to_table("accounts", list(authors.values()))
    return batch


def _post_row_empty(rec: dict[str, str], row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _comment_row_empty(rec: dict[str, str], row: list[str]) -> bool:
    # A row with only the post's time and no commenter or text is an empty slot.
    return not any(rec.get(k, "").strip() for k in ("user_name", "user_url", "weibo_content"))


def _post(
    rec: dict[str, str], row: list[str], cols: list[str], opts: ReadOptions, source: Source
) -> tuple[Post, Account]:
    if len(row) != len(cols):
        raise CrawlerError("row", f"{len(row)} cells for {len(cols)} columns")
    m = _URL.search(rec.get("weibo_url", ""))
    if not m:
        raise CrawlerError(
            "weibo_url", f"no account and post id in {rec.get('weibo_url', '')[:60]!r}"
        )
    uid, mid = m.groups()
    when_text = rec.get("Time") or rec.get("WB_from") or rec.get("S_txt2") or ""
    created = parse_time(when_text, opts.year, "Time" if rec.get("Time") else "WB_from")
    reposts, comments, likes = (
        parse_count(rec.get(k, ""), k) for k in ("forward", "comment", "like")
    )
    body = rec.get("WB_text", "")
    src = _SOURCE.search(rec.get("WB_from", "") or rec.get("S_txt2", ""))
    post = Post(
        platform="weibo",
        post_id=mid_to_id(mid),
        mid=mid,
        author_id=uid,
        created_at=created,
        text=body,
        source=src.group(1).strip() if src else None,
        reposts=reposts,
        comments=comments,
        likes=likes,
        counts_observed_at=source.observed_at,
        repost_chain=re.findall(r"//@([^:：\s/]{1,40})[:：]", body),
        is_truncated=body.rstrip().endswith(TRUNCATION_MARKS),
        pic_count=1 if rec.get("缩略图", "").strip() else 0,
        has_video=bool(rec.get("WB_video", "").strip()),
        has_url="http" in body,
    )
    return post, Account(platform="weibo", account_id=uid)


def _comment(rec: dict[str, str], opts: ReadOptions) -> tuple[Interaction, Account]:
    m = _USER_URL.search(rec.get("user_url", "").strip())
    if not m:
        raise CrawlerError("user_url", f"no account id in {rec.get('user_url', '')[:60]!r}")
    created = parse_time(rec.get("comment_time", ""), opts.year, "comment_time")
    likes = parse_count(rec.get("comment_like", ""), "comment_like")
    name = rec.get("user_name", "").strip()
    body = rec.get("weibo_content", "")
    # The page prefixes each comment with "name：".
    for sep in ("：", ":"):
        if name and body.startswith(name + sep):
            body = body[len(name) + 1 :]
            break
    # These exports carry no comment id: the natural key is who, when and what.
    actor = m.group(1)
    key = hashlib.sha1(f"{actor}|{created.isoformat()}|{body}".encode()).hexdigest()
    comment = Interaction(
        platform="weibo",
        interaction_id="csv:" + key[:20],
        kind="comment",
        actor_id=actor,
        actor_name=name or None,
        created_at=created,
        text=body,
        likes=likes,
    )
    return comment, Account("weibo", actor, screen_name=name or None)
