"""CSV exports of Weibo web crawlers (Chinese headers, year-less times, display counts).

Two shapes are known: post lists (`WB_text`, `forward`, `comment`, `like`,
`weibo_url`, and `Time` or `WB_from` carrying `5月31日 23:54 来自 client`) and
comment lists (`user_name`, `user_url`, `weibo_content`, `comment_time`, `comment_like`,
and `pub_time`, the commented post's publication time: no post id). The reader stores
comments without a post; `link_comments`, run after ingest, finds each one's post by that
time among the posts of the crawled account.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

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


# Linking comments to their posts, after ingest ---------------------------------------------


@dataclass
class LinkSummary:
    """What link_comments did with the crawler comments that had no post."""

    pending: int = 0  # crawler comments without a post when the step began
    linked: int = 0  # exactly one candidate post: post_id and target_account_id filled
    ambiguous: int = 0  # more than one post of the crawled accounts in that minute
    unmatched: int = 0  # no post of the crawled accounts in that minute (not ingested?)
    no_account: int = 0  # no post list of the same crawl (folder) in the store, no account_id
    unknown_time: int = 0  # the post's time could not be read back (file gone or changed)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def comment_post_times(path: Path, year: int | None) -> dict[str, datetime | None]:
    """interaction_id -> the commented post's publication time (`pub_time`, to the minute)
    for every comment the reader stores from a crawler comment list; {} for a post list.
    `year` is the one the file was ingested with (times carry none)."""
    source = Source(path=path, observed_at=datetime.now(BEIJING))
    text, _ = source.read_text()
    rows = csv.reader(io.StringIO(text, newline=""))
    cols = [h.strip() for h in next(rows, [])]
    if not set(cols) >= COMMENT_COLUMNS:
        return {}
    opts = ReadOptions(year=year)
    out: dict[str, datetime | None] = {}
    for row in rows:
        rec = dict(zip(cols, row, strict=False))
        if _comment_row_empty(rec, row):
            continue
        try:
            comment, _ = _comment(rec, opts)
        except CrawlerError:
            continue  # quarantined by the reader: not in the store
        try:
            when: datetime | None = parse_time(rec.get("pub_time", ""), year, "pub_time")
        except CrawlerError:
            when = None
        # The same comment twice with two post times names no one post.
        seen = out.get(comment.interaction_id, when)
        out[comment.interaction_id] = when if seen == when else None
    return out


_PENDING_SQL = (
    "SELECT i.platform, i.interaction_id FROM interactions i "
    "JOIN ingest_runs r ON i.run_id = r.run_id "
    "WHERE i.post_id IS NULL AND r.format = 'crawler-csv'"
)
# Every crawler file ingested, newest first: a comment's pub_time is read back from it.
_RUNS_SQL = (
    "SELECT source_path, options FROM ingest_runs WHERE format = 'crawler-csv' "
    "AND status = 'done' ORDER BY run_id DESC"
)
# The accounts whose posts a crawler export held, by the file they came from.
_AUTHORS_SQL = (
    "SELECT DISTINCT r.source_path, p.author_id FROM posts p "
    "JOIN ingest_runs r ON p.run_id = r.run_id "
    "WHERE r.format = 'crawler-csv' AND p.author_id IS NOT NULL"
)
_POSTS_SQL = (
    "SELECT platform, post_id, author_id, created_at FROM posts "
    "WHERE created_at >= ? AND created_at < ?"
)


def link_comments(store: Any, *, account_id: str | None = None) -> LinkSummary:
    """Link crawler comments to their post: the post published in the comment's `pub_time`
    minute by the account the export is about. Fills `interactions.post_id` and
    `target_account_id`; never overwrites a post a comment already has.

    The account is `account_id` if given, else the authors of the crawler post lists
    ingested from the comment file's folder (a crawl is exported as one folder). Without
    either the comment stays unlinked (`no_account`): any account's post of that minute
    could be a wrong match, and a link is never undone. The comment list holds no post id,
    so the post times are read back from the comment files named in `ingest_runs` (with the
    year they were ingested with).
    """
    from govweibo.store.links import LINKS_SCHEMA, fill_interaction_posts

    pending = store.arrow(_PENDING_SQL).to_pylist()
    summary = LinkSummary(pending=len(pending))
    if not pending:
        return summary
    wanted = {(r["platform"], r["interaction_id"]) for r in pending}
    # interaction_id -> (pub_time, folder of the comment file)
    times: dict[str, tuple[datetime | None, Path]] = {}
    for run in store.arrow(_RUNS_SQL).to_pylist():
        path = Path(run["source_path"])
        if not path.is_file():
            continue
        year = json.loads(run["options"] or "{}").get("year")
        try:
            found = comment_post_times(path, year)
        except IngestError:
            continue
        for iid, when in found.items():
            times.setdefault(iid, (when, path.parent))
    authors: dict[Path, set[str]] = {}
    for row in store.arrow(_AUTHORS_SQL).to_pylist():
        authors.setdefault(Path(row["source_path"]).parent, set()).add(row["author_id"])
    minutes = [w for w, _ in (times.get(i, (None, Path())) for _, i in wanted) if w is not None]
    by_minute: dict[tuple[str, datetime], list[tuple[str, str]]] = {}
    if minutes:
        # One query for the span, matched here: crawler times are whole minutes, so a
        # post with seconds (from another source) still falls in the comment's minute.
        span = [min(minutes), max(minutes) + timedelta(minutes=1)]
        for p in store.arrow(_POSTS_SQL, span).to_pylist():
            minute = p["created_at"].replace(second=0, microsecond=0)
            by_minute.setdefault((p["platform"], minute), []).append((p["post_id"], p["author_id"]))
    links = []
    for platform, iid in sorted(wanted):
        when, folder = times.get(iid, (None, Path()))
        if when is None:
            summary.unknown_time += 1
            continue
        owners = {account_id} if account_id else authors.get(folder)
        if not owners:
            summary.no_account += 1
            continue
        cands = {
            (pid, author) for pid, author in by_minute.get((platform, when), []) if author in owners
        }
        if not cands:
            summary.unmatched += 1
        elif len(cands) > 1:
            summary.ambiguous += 1
        else:
            ((pid, author),) = cands
            links.append((platform, iid, pid, author))
    columns: list[list[str]] = [[], [], [], []]
    for row in links:
        for col, value in zip(columns, row, strict=True):
            col.append(value)
    table = pa.table(columns, schema=LINKS_SCHEMA)
    summary.linked = fill_interaction_posts(store, table)
    return summary
