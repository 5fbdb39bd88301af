"""dataabc/weibo-crawler's output folder: post CSVs, users.csv, JSON, SQLite.

The tool (github.com/dataabc/weibo-crawler, weibo.py, versions 2019-2025 read) writes,
under `weibo/`:

- `<screen_name>/<user_id>.csv` (or `<user_id>/<user_id>.csv`): one row per post of the
  account, the reposted post in `源…` columns; read column-wise by `weibo_crawler_csv`.
- `users.csv`: one row per crawled account, `用户id,昵称,性别,生日,所在地,学习经历,公司,
  注册时间,阳光信用,微博数,粉丝数,关注数,简介,主页,头像,高清头像,微博等级,会员等级,是否认证,
  认证类型,认证信息` (2020), `+上次记录微博信息` (2023), `IP属地` after `所在地` (2025). Old
  versions append a row at every crawl; newer ones write an account once.
- `<screen_name>/<user_id>.json`: `{"user": {...}, "weibo": [...]}`, the tool's own
  dicts (`attitudes_count`, `created_at`, `full_created_at`, nested `retweet`).
- `weibodata.db` (SQLite, `write_mode` "sqlite", 2023-): tables `user`, `weibo`
  (reposted posts as rows of their own, linked by `retweet_id`), `comments`, `reposts`.

None of them records when the crawl ran: counts and profiles are observed at
`--observed-at`, else at the file's modification time (noted as `time_basis`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import ReadOptions, Source, observed_at_for
from govweibo.ingest.crawler_csv import CrawlerError, parse_count
from govweibo.ingest.weibo_crawler_csv import (
    Crawl,
    chain,
    clean_text,
    post_header,
    read_posts,
    text_lines,
)
from govweibo.ingest.weibo_time import TimeFormatError, best_time, resolve_time
from govweibo.model import Account, AccountObservation, Batch, Interaction, Post, Reject

USERS_FIRST = ("用户id", "昵称", "性别")
SQLITE_MAGIC = b"SQLite format 3\x00"
_JSON_HEAD = re.compile(rb'^\s*\{\s*"(user|weibo)"\s*:')
BATCH_RECORDS = 50_000


def _first_line(head: bytes) -> list[str]:
    first = head.decode("utf-8-sig", errors="ignore").split("\n", 1)[0]
    return [c.strip().strip('"') for c in first.rstrip("\r").split(",")]


def time_basis(opts: ReadOptions) -> str:
    return "--observed-at" if opts.observed_at is not None else "file mtime"


class WeiboCrawlerReader:
    name = "weibo-crawler"
    description = "dataabc/weibo-crawler output: weibo/<name>/<uid>.csv|.json, users.csv, SQLite"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return crawl_files(self, path) is not None
        suffix = path.suffix.lower()
        if suffix == ".csv":
            cols = _first_line(head)
            return post_header(cols) or (tuple(cols[:3]) == USERS_FIRST and "粉丝数" in cols)
        if suffix == ".json":
            # The tool's user dict: the Sina field names (weiboSpider's are nickname, ...).
            return (
                bool(_JSON_HEAD.match(head))
                and b'"screen_name"' in head
                and (b'"followers_count"' in head or b'"attitudes_count"' in head)
            )
        if suffix == ".db" and head.startswith(SQLITE_MAGIC):
            return {"user", "weibo"} <= _sqlite_tables(path)
        return False

    def files(self, path: Path) -> list[Path]:
        return (crawl_files(self, path) or []) if path.is_dir() else [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        if source.path.is_dir():
            yield from self._read_folder(source, opts)
            return
        source.notes["time_basis"] = time_basis(opts)
        suffix = source.path.suffix.lower()
        if suffix == ".db":
            yield from _read_sqlite(source)
            return
        if suffix == ".json":
            yield from _read_json(source)
            return
        head = source.path.open("rb").read(4096)
        cols = _first_line(head)
        if tuple(cols[:3]) == USERS_FIRST:
            yield from _read_users(source)
            return
        if not post_header(cols):
            raise IngestError(f"{source.path}: not a weibo-crawler post list or users.csv")
        crawl = Crawl(*author_of(source.path), observed_at=source.observed_at)
        crawl.notes["time_from_id"] = 0
        yield from read_posts(source, crawl)
        source.notes.update(crawl.notes)

    def _read_folder(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        """The tool's `weibo/` folder as one run (a run per file costs a merge of the
        store each: most of the time of a crawl of many accounts); each file read as
        alone, its rejects naming it, its counts stamped with its own mtime."""
        digest = hashlib.sha256()
        files = crawl_files(self, source.path) or []
        for path in files:
            sub = Source(path=path, observed_at=observed_at_for(path, opts))
            for batch in self.read(sub, opts):
                for reject in batch.rejects:
                    reject.path = str(path.resolve())
                yield batch
            rel = path.relative_to(source.path).as_posix()
            digest.update(f"{rel}\0{sub.checksum() or ''}\n".encode())
            for key, value in sub.notes.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    source.notes[key] = source.notes.get(key, 0) + value
                else:
                    source.notes.setdefault(key, value)
        source.notes["files"] = len(files)
        source.notes["checksum"] = digest.hexdigest()


# What the tool writes besides its data: downloads (with not_downloaded.txt logs) and
# the Markdown pages of 2025.
BYPRODUCT_DIRS = frozenset({"img", "video", "live_photo", "comment_img"})
BYPRODUCT_SUFFIXES = frozenset({".md"})


def crawl_files(reader: WeiboCrawlerReader, root: Path) -> list[Path] | None:
    """The files of a `weibo/` folder as the tool leaves it (users.csv at the top), or
    None if the folder holds anything else: then each file is detected on its own, so a
    folder mixing tools' files is still read, file by file."""
    users = root / "users.csv"
    if not users.is_file():
        return None
    with users.open("rb") as fh:
        if tuple(_first_line(fh.read(4096))[:3]) != USERS_FIRST:
            return None
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in BYPRODUCT_DIRS and not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() in BYPRODUCT_SUFFIXES:
                continue
            with path.open("rb") as fh:
                head = fh.read(4096)
            if not reader.detect(path, head):
                return None
            out.append(path)
    return out


def author_of(path: Path) -> tuple[str, str | None]:
    """The account a post file is about: its name is `<user_id>.csv`; the folder is the
    account's screen name unless the tool was set to name folders by id."""
    uid = path.stem.strip()
    if not uid.isdigit():
        raise IngestError(f"{path}: weibo-crawler names post files <user_id>.csv")
    folder = path.parent.name
    name = None if folder in (uid, "weibo", "") else folder
    return uid, name


def _int(value: Any, fld: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CrawlerError(fld, f"not a count: {value!r}")
    if isinstance(value, int):
        return value
    return parse_count(str(value), fld)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def _day(value: Any) -> datetime | None:
    text = str(value or "").strip()
    try:
        return resolve_time(text)[0] if text else None
    except TimeFormatError:
        return None  # a registration date is a profile detail, not worth a quarantine


def _str(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def user_rows(rec: dict[str, Any], observed: datetime) -> tuple[Account, AccountObservation]:
    """One profile (the tool's dict, users.csv's Chinese names or the SQLite columns)."""

    def pick(*keys: str) -> Any:
        return next((rec[k] for k in keys if rec.get(k) not in (None, "")), None)

    uid = _str(pick("用户id", "id"))
    if uid is None or not uid.isdigit():
        raise CrawlerError("用户id", f"not an account id: {uid!r}")
    vtype = _str(pick("认证类型", "verified_type"))
    account = Account(
        "weibo",
        uid,
        screen_name=_str(pick("昵称", "screen_name", "nick_name")),
        description=_str(pick("简介", "description", "bio")),
        url=_str(pick("主页", "profile_url", "main_page_url")),
        verified=_bool(pick("是否认证", "verified")),
        verified_type=int(vtype) if vtype and vtype.lstrip("-").isdigit() else None,
        verified_reason=_str(pick("认证信息", "verified_reason")),
        location=_str(pick("所在地", "location")),
        gender=_str(pick("性别", "gender")),
        created_at=_day(pick("注册时间", "registration_time", "reg_date")),
        profile_observed_at=observed,
    )
    obs = AccountObservation(
        "weibo",
        uid,
        observed,
        followers=_int(pick("粉丝数", "followers_count", "follower_count"), "粉丝数"),
        friends=_int(pick("关注数", "follow_count"), "关注数"),
        statuses=_int(pick("微博数", "statuses_count"), "微博数"),
    )
    return account, obs


def _read_users(source: Source) -> Iterator[Batch]:
    import csv

    rows = csv.reader(text_lines(source))
    cols = [c.strip().lstrip("\ufeff") for c in next(rows, [])]
    batch = Batch()
    latest: dict[str, tuple[Account, AccountObservation]] = {}
    superseded = 0
    for line, row in enumerate(rows, start=2):
        if not any(c.strip() for c in row):
            batch.empty += 1
            continue
        batch.records_read += 1
        if row and row[0].lstrip("\ufeff") == cols[0]:
            batch.records_read -= 1
            batch.empty += 1  # the header again (a file some runs appended to)
            continue
        rec = dict(zip(cols, (c.lstrip("\ufeff") for c in row), strict=False))
        try:
            account, obs = user_rows(rec, source.observed_at)
        except CrawlerError as exc:
            batch.rejects.append(Reject(line, 0, str(exc), exc.field, ",".join(row)[:2000]))
            continue
        # Old versions append a row per crawl, with no crawl time: all are "observed" at
        # the file's time, so the last row (the latest crawl) stands for the account.
        superseded += account.account_id in latest
        latest[account.account_id] = (account, obs)
    if superseded:
        source.notes["users_superseded"] = superseded
    batch.bytes_read = source.reader.raw_bytes if source.reader else 0
    if latest:
        batch.primary["accounts"] = model.records_to_table(
            "accounts", [a for a, _ in latest.values()]
        )
        batch.primary["account_observations"] = model.records_to_table(
            "account_observations", [o for _, o in latest.values()]
        )
    yield batch


class _Posts:
    """Post records of the JSON and SQLite outputs, gathered into batches."""

    def __init__(self, source: Source):
        self.source = source
        self.batch = Batch()
        self.posts: list[Post] = []
        self.carried: list[Post] = []
        self.accounts: dict[str, Account] = {}
        self.from_id = 0
        self.reported = 0

    def account(self, uid: Any, name: Any = None) -> str | None:
        text = _str(uid)
        if text is None or not text.isdigit():
            return None
        known = self.accounts.get(text)
        if known is None or (known.screen_name is None and _str(name)):
            self.accounts[text] = Account("weibo", text, screen_name=_str(name))
        return text

    def post(self, rec: dict[str, Any], author: str | None, retweet_id: str | None = None) -> Post:
        pid = _str(rec.get("id"))
        if pid is None or not pid.isdigit():
            raise CrawlerError("id", f"not a numeric post id: {pid!r}")
        shown = _str(rec.get("full_created_at")) or _str(rec.get("created_at"))
        try:
            when, kind = best_time(shown, pid, self.source.observed_at)
        except TimeFormatError as exc:
            raise CrawlerError("created_at", str(exc)) from None
        if when is None:
            raise CrawlerError("created_at", "no time and an id that encodes none")
        self.from_id += kind == "id"
        text = clean_text(str(rec.get("text") or ""))
        pics = _str(rec.get("pics"))
        return Post(
            "weibo",
            pid,
            mid=_str(rec.get("bid")),
            author_id=author,
            created_at=when,
            text=text,
            source=_str(rec.get("source")),
            reposts=_int(rec.get("reposts_count"), "reposts_count"),
            comments=_int(rec.get("comments_count"), "comments_count"),
            likes=_int(rec.get("attitudes_count"), "attitudes_count"),
            counts_observed_at=self.source.observed_at,
            retweeted_post_id=retweet_id,
            repost_chain=chain(text),
            is_truncated=bool(re.search(r"(\.\.\.|…)\s*(展开)?全文\s*$", text)),
            pic_count=len(pics.split(",")) if pics else 0,
            has_video=bool(_str(rec.get("video_url"))),
            has_url="http" in text,
        )

    def reject(self, line: int, item: int, exc: CrawlerError, raw: Any) -> None:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        self.batch.rejects.append(Reject(line, item, str(exc), exc.field, text[:2000]))

    def flush(self, final: bool = False) -> Batch | None:
        if not final and len(self.posts) < BATCH_RECORDS:
            return None
        batch, self.batch = self.batch, Batch()
        if self.posts:
            batch.primary["posts"] = model.records_to_table("posts", self.posts)
        if self.carried:
            batch.secondary["posts"] = model.records_to_table("posts", self.carried)
        if self.accounts:
            batch.secondary["accounts"] = model.records_to_table(
                "accounts", list(self.accounts.values())
            )
        # Progress takes increments of bytes read.
        read = self.source.reader.raw_bytes if self.source.reader else 0
        if final and self.source.reader is None:
            read = self.source.path.stat().st_size
        batch.bytes_read, self.reported = read - self.reported, read
        self.posts, self.carried, self.accounts = [], [], {}
        if final:
            self.source.notes["time_from_id"] = self.from_id
        return batch


def _read_json(source: Source) -> Iterator[Batch]:
    # The tool rewrites this file whole at every save (json.load + json.dump of all of
    # it), so one file is no larger than the tool itself held in memory.
    reader = source.open()
    raw = b"".join(iter(lambda: reader.read(1 << 20), b""))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IngestError(f"{source.path}: not a weibo-crawler JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("weibo", []), list):
        raise IngestError(f"{source.path}: no 'weibo' list")
    acc = _Posts(source)
    user = data.get("user")
    owner = None
    if isinstance(user, dict):
        acc.batch.records_read += 1
        try:
            account, obs = user_rows(user, source.observed_at)
            acc.batch.primary["accounts"] = model.records_to_table("accounts", [account])
            acc.batch.primary["account_observations"] = model.records_to_table(
                "account_observations", [obs]
            )
            owner = account.account_id
        except CrawlerError as exc:
            acc.reject(0, 0, exc, user)
    for item, rec in enumerate(data.get("weibo") or [], start=1):
        acc.batch.records_read += 1
        if not isinstance(rec, dict):
            acc.reject(0, item, CrawlerError("weibo", "not an object"), rec)
            continue
        try:
            author = acc.account(rec.get("user_id"), rec.get("screen_name")) or owner
            rt = rec.get("retweet")
            rt_id = None
            if isinstance(rt, dict) and rt:
                try:
                    rt_post = acc.post(rt, acc.account(rt.get("user_id"), rt.get("screen_name")))
                    acc.carried.append(rt_post)
                    rt_id = rt_post.post_id
                except CrawlerError as exc:
                    acc.reject(0, item, CrawlerError("retweet." + exc.field, str(exc)), rt)
            acc.posts.append(acc.post(rec, author, rt_id))
        except CrawlerError as exc:
            acc.reject(0, item, exc, rec)
        done = acc.flush()
        if done is not None:
            yield done
    last = acc.flush(final=True)
    if last is not None:
        yield last


def _sqlite_tables(path: Path) -> set[str]:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error:
        return set()


def _read_sqlite(source: Source) -> Iterator[Batch]:
    con = sqlite3.connect(f"file:{source.path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        tables = _sqlite_tables(source.path)
        acc = _Posts(source)
        users = []
        for line, row in enumerate(con.execute("SELECT * FROM user"), start=1):
            acc.batch.records_read += 1
            try:
                users.append(user_rows(dict(row), source.observed_at))
            except CrawlerError as exc:
                acc.reject(line, 3, exc, dict(row))
        if users:
            acc.batch.primary["accounts"] = model.records_to_table(
                "accounts", [a for a, _ in users]
            )
            acc.batch.primary["account_observations"] = model.records_to_table(
                "account_observations", [o for _, o in users]
            )
        for line, row in enumerate(con.execute("SELECT * FROM weibo"), start=1):
            rec = dict(row)
            acc.batch.records_read += 1
            try:
                author = acc.account(rec.get("user_id"), rec.get("screen_name"))
                acc.posts.append(acc.post(rec, author, _str(rec.get("retweet_id"))))
            except CrawlerError as exc:
                acc.reject(line, 0, exc, rec)
            done = acc.flush()
            if done is not None:
                yield done
        if "comments" in tables:
            _sqlite_comments(con, acc)
        if "reposts" in tables:
            for line, row in enumerate(con.execute("SELECT * FROM reposts"), start=1):
                rec = dict(row)
                acc.batch.records_read += 1
                try:
                    author = acc.account(rec.get("user_id"), rec.get("user_screen_name"))
                    post = acc.post(
                        {**rec, "attitudes_count": rec.get("like_count")},
                        author,
                        _str(rec.get("weibo_id")),
                    )
                    acc.posts.append(post)
                except CrawlerError as exc:
                    acc.reject(line, 2, exc, rec)
        last = acc.flush(final=True)
        if last is not None:
            yield last
    finally:
        con.close()


def _sqlite_comments(con: sqlite3.Connection, acc: _Posts) -> None:
    """The comments table (2023-): comments on the crawled posts, each with its author."""
    comments: list[Interaction] = []
    for line, row in enumerate(con.execute("SELECT * FROM comments"), start=1):
        rec = dict(row)
        acc.batch.records_read += 1
        try:
            cid = _str(rec.get("id"))
            if cid is None or not cid.isdigit():
                raise CrawlerError("id", f"not a comment id: {cid!r}")
            when, kind = best_time(_str(rec.get("created_at")), cid, acc.source.observed_at)
            if when is None:
                raise CrawlerError("created_at", "no time")
            actor = acc.account(rec.get("user_id"), rec.get("user_screen_name"))
            root = _str(rec.get("root_id"))
            comments.append(
                Interaction(
                    "weibo",
                    cid,
                    "comment",
                    actor_id=actor,
                    actor_name=_str(rec.get("user_screen_name")),
                    post_id=_str(rec.get("weibo_id")),
                    reply_to_id=root if root and root != cid else None,
                    created_at=when,
                    text=clean_text(str(rec.get("text") or "")),
                    likes=_int(rec.get("like_count"), "like_count"),
                )
            )
            acc.from_id += kind == "id"
        except (CrawlerError, TimeFormatError) as exc:
            err = exc if isinstance(exc, CrawlerError) else CrawlerError("created_at", str(exc))
            acc.reject(line, 1, err, rec)
    if comments:
        acc.batch.primary["interactions"] = model.records_to_table("interactions", comments)
