"""dataabc/weiboSpider (the cookie-based crawler of weibo.cn): its CSV, TXT and JSON files.

Read (github.com/dataabc/weiboSpider): the single-file weiboSpider.py of 2018-2020 and
the weibo_spider package (writer/csv_writer.py, txt_writer.py, json_writer.py, 2020-).
Every version writes `weibo/<nickname>/<user_id>.{csv,txt,json}` (or `<user_id>/` with
`result_dir_name`). weibo.cn shows a post by its base62 id (`M_J9X65gwqJ`), which the tool
keeps as `微博id`; the numeric id is computed from it. `发布时间` is `YYYY-MM-DD HH:MM`
(Beijing time; the tool resolved `今天`, `N分钟前`, `MM月DD日` against its clock). Absent
values are written `无`.

- CSV: `微博id,微博正文,[头条文章url,]原始图片url,[被转发微博原始图片url,是否为原创微博,]
  [微博视频url,]发布位置,发布时间,发布工具,点赞数,转发数,评论数` (columns read by name;
  the package writes the header again at every run, so repeated headers are skipped).
- JSON: `{"user": {id, nickname, weibo_num, following, followers, ...}, "weibo": [...]}`
  with the same fields under their English names (`up_num`, `retweet_num`, ...).
- TXT: a `用户信息` block (nickname, id, posts, following, followers) per run, then each
  post's text followed by `微博位置`, `发布时间`, `点赞数`, `转发数`, `评论数`, `发布工具` lines
  (`：` in the package, `: ` and the counts on one line in older versions). A TXT post
  has no id: where the same folder holds the account's CSV or JSON, the TXT gives only
  the profile counts; alone, its posts get an id made from author, time and text.

A repost's text is the reposting comment, `原始用户: …` and `转发内容: …`: weibo.cn names
the reposted post's author but not its id, so no reposted post is stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govweibo import model
from govweibo.errors import IngestError
from govweibo.ingest.base import ReadOptions, Source
from govweibo.ingest.crawler_csv import CrawlerError, parse_count
from govweibo.ingest.sina_ids import mid_to_id
from govweibo.ingest.weibo_crawler import time_basis
from govweibo.ingest.weibo_crawler_csv import chain
from govweibo.ingest.weibo_time import TimeFormatError, best_time
from govweibo.model import Account, AccountObservation, Batch, Post, Reject

# CSV header -> the field name the package's JSON uses.
CSV_FIELDS = {
    "微博id": "id",
    "微博正文": "content",
    "头条文章url": "article_url",
    "原始图片url": "original_pictures",
    "原始图片": "original_pictures",
    "被转发微博原始图片url": "retweet_pictures",
    "被转发微博原始图片": "retweet_pictures",
    "是否为原创微博": "original",
    "微博视频url": "video_url",
    "发布位置": "publish_place",
    "发布时间": "publish_time",
    "发布工具": "publish_tool",
    "点赞数": "up_num",
    "转发数": "retweet_num",
    "评论数": "comment_num",
}
NONE = "无"
_USER_BLOCK = re.compile(
    r"用户信息[：:]?[ \t]*\n((?:[^\n]*(?:用户昵称|用户id|微博数|关注数|粉丝数)[^\n]*\n?)+)"
)
_USER_LINE = re.compile(r"(用户昵称|用户id|微博数|关注数|粉丝数)\s*[：:]\s*(.*)")
_POSTS_HEAD = re.compile(r"^(?:原创)?微博内容\s*[：:]\s*\n", re.M)
_FIELDS = re.compile(
    r"^(?:微博位置[：:] ?(?P<place>[^\n]*)\n)?"
    r"发布时间[：:] ?(?P<time>[^\n]*)\n"
    r"点赞数[：:] ?(?P<up>\d+)[ \t]*\n?[ \t]*转发数[：:] ?(?P<rt>\d+)[ \t]*\n?[ \t]*"
    r"评论数[：:] ?(?P<cm>\d+)[ \t]*(?:\n发布工具[：:] ?(?P<tool>[^\n]*))?",
    re.M,
)


def _cols(head: bytes) -> list[str]:
    first = head.decode("utf-8-sig", errors="ignore").split("\n", 1)[0]
    return [c.strip() for c in first.rstrip("\r").split(",")]


class WeiboSpiderCookieReader:
    name = "weibospider-cookie"
    description = "dataabc/weiboSpider (weibo.cn, cookie): weibo/<nickname>/<uid>.csv|.txt|.json"

    def detect(self, path: Path, head: bytes) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            cols = _cols(head)
            return cols[:2] == ["微博id", "微博正文"] and "发布时间" in cols
        if suffix == ".txt":
            text = head.decode("utf-8-sig", errors="ignore").lstrip()
            if not text.startswith("用户信息"):
                text = head.decode("gb18030", errors="ignore").lstrip()
            return text.startswith("用户信息") and "用户昵称" in text
        if suffix == ".json":
            return b'"nickname"' in head and b'"weibo_num"' in head and b'"user"' in head
        return False

    def files(self, path: Path) -> list[Path]:
        return [path]

    def read(self, source: Source, opts: ReadOptions) -> Iterator[Batch]:
        source.notes["time_basis"] = time_basis(opts)
        uid, nickname = owner_of(source.path)
        acc = _Acc(source, uid, nickname)
        suffix = source.path.suffix.lower()
        text, size = source.read_text()
        acc.batch.bytes_read = size
        if suffix == ".csv":
            _read_csv(text, acc)
        elif suffix == ".json":
            _read_json(text, acc)
        else:
            _read_txt(text, acc)
        source.notes["time_from_id"] = acc.from_id
        yield acc.finish()


def owner_of(path: Path) -> tuple[str, str | None]:
    uid = path.stem.strip()
    if not uid.isdigit():
        raise IngestError(f"{path}: weiboSpider names its files <user_id>.csv|.txt|.json")
    folder = path.parent.name
    return uid, None if folder in (uid, "weibo", "") else folder


def _value(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in ("", NONE) else text


def _count(value: Any, fld: str) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _value(value)
    return None if text is None else parse_count(text, fld)


class _Acc:
    """The rows one file gives: its posts, the account, the profile counts."""

    def __init__(self, source: Source, uid: str, nickname: str | None):
        self.source = source
        self.uid = uid
        self.batch = Batch()
        self.posts: list[Post] = []
        self.account = Account("weibo", uid, screen_name=nickname)
        self.observation: AccountObservation | None = None
        self.from_id = 0

    def profile(self, rec: dict[str, Any]) -> None:
        """The user dict (JSON) or the TXT block: screen name and counts at the crawl."""
        uid = _value(rec.get("id"))
        if uid is not None and uid != self.uid:
            raise CrawlerError("id", f"user id {uid} in a file named for {self.uid}")
        self.account = Account(
            "weibo",
            self.uid,
            screen_name=_value(rec.get("nickname")) or self.account.screen_name,
            description=_value(rec.get("description")),
            verified_reason=_value(rec.get("verified_reason")),
            location=_value(rec.get("location")),
            gender={"男": "m", "女": "f"}.get(str(rec.get("gender") or "")),
            profile_observed_at=self.source.observed_at,
        )
        self.observation = AccountObservation(
            "weibo",
            self.uid,
            self.source.observed_at,
            followers=_count(rec.get("followers"), "followers"),
            friends=_count(rec.get("following"), "following"),
            statuses=_count(rec.get("weibo_num"), "weibo_num"),
        )

    def post(self, rec: dict[str, Any], synthetic_id: bool = False) -> Post:
        """A post from the package's field names (the CSV's are mapped to them)."""
        content = str(rec.get("content") or "")
        shown = _value(rec.get("publish_time"))
        mid = _value(rec.get("id"))
        if synthetic_id:
            key = f"{self.uid}|{shown}|{content}".encode()
            pid, mid = "txt:" + hashlib.sha1(key).hexdigest()[:20], None
        else:
            try:
                pid = mid_to_id(mid or "")
            except ValueError:
                raise CrawlerError("微博id", f"not a weibo.cn post id: {mid!r}") from None
        try:
            when, kind = best_time(shown, None if synthetic_id else pid, self.source.observed_at)
        except TimeFormatError as exc:
            raise CrawlerError("发布时间", str(exc)) from None
        if when is None:
            raise CrawlerError("发布时间", "no time")
        self.from_id += kind == "id"
        pics = _value(rec.get("original_pictures"))
        video = _value(rec.get("video_url"))
        return Post(
            "weibo",
            pid,
            mid=mid,
            author_id=self.uid,
            created_at=when,
            text=content,
            source=_value(rec.get("publish_tool")),
            reposts=_count(rec.get("retweet_num"), "转发数"),
            comments=_count(rec.get("comment_num"), "评论数"),
            likes=_count(rec.get("up_num"), "点赞数"),
            counts_observed_at=self.source.observed_at,
            repost_chain=chain(content),
            is_truncated=False,  # the tool follows 全文 links to the whole text
            pic_count=len(pics.split(",")) if pics else 0,
            has_video=video is not None,
            has_url="http" in content,
        )

    def add(
        self, line: int, item: int, rec: dict[str, Any], raw: str, synthetic: bool = False
    ) -> None:
        self.batch.records_read += 1
        try:
            self.posts.append(self.post(rec, synthetic))
        except CrawlerError as exc:
            self.batch.rejects.append(Reject(line, item, str(exc), exc.field, raw[:2000]))

    def finish(self) -> Batch:
        batch = self.batch
        if self.posts:
            batch.primary["posts"] = model.records_to_table("posts", self.posts)
        if self.observation is not None:
            batch.primary["accounts"] = model.records_to_table("accounts", [self.account])
            batch.primary["account_observations"] = model.records_to_table(
                "account_observations", [self.observation]
            )
        else:
            batch.secondary["accounts"] = model.records_to_table("accounts", [self.account])
        return batch


def _read_csv(text: str, acc: _Acc) -> None:
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip().lstrip("\ufeff") for c in next(rows, [])]
    fields = [CSV_FIELDS.get(c) for c in header]
    repeated = 0
    for line, row in enumerate(rows, start=2):
        if not any(c.strip() for c in row):
            acc.batch.empty += 1
            continue
        if [c.strip().lstrip("\ufeff") for c in row] == header:
            repeated += 1  # every run of the package writes the header again
            acc.batch.empty += 1
            continue
        if len(row) != len(header):
            acc.batch.records_read += 1
            reason = f"{len(row)} cells for {len(header)} columns"
            acc.batch.rejects.append(Reject(line, 0, reason, "row", ",".join(row)[:2000]))
            continue
        rec = {f: cell for f, cell in zip(fields, row, strict=True) if f is not None}
        acc.add(line, 0, rec, ",".join(row))
    if repeated:
        acc.source.notes["repeated_headers"] = repeated


def _read_json(text: str, acc: _Acc) -> None:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise IngestError(f"{acc.source.path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise IngestError(f"{acc.source.path}: not a weiboSpider JSON object")
    user = data.get("user")
    if isinstance(user, dict):
        acc.batch.records_read += 1
        try:
            acc.profile(user)
        except CrawlerError as exc:
            raw = json.dumps(user, ensure_ascii=False)
            acc.batch.rejects.append(Reject(0, 0, str(exc), exc.field, raw[:2000]))
    for item, rec in enumerate(data.get("weibo") or [], start=1):
        raw = json.dumps(rec, ensure_ascii=False, default=str)
        if not isinstance(rec, dict):
            acc.batch.records_read += 1
            acc.batch.rejects.append(Reject(0, item, "not an object", "weibo", raw[:2000]))
            continue
        acc.add(0, item, rec, raw)


def _read_txt(text: str, acc: _Acc) -> None:
    text = text.replace("\r\n", "\n")
    users = list(_USER_BLOCK.finditer(text))
    for block in users:
        rec: dict[str, Any] = {}
        keys = {"用户昵称": "nickname", "用户id": "id", "微博数": "weibo_num"}
        keys.update({"关注数": "following", "粉丝数": "followers"})
        for m in _USER_LINE.finditer(block.group(1)):
            rec[keys[m.group(1)]] = m.group(2).strip()
        acc.batch.records_read += 1
        line = text.count("\n", 0, block.start()) + 1
        try:
            acc.profile(rec)  # the last block (the latest run) stands
        except CrawlerError as exc:
            acc.batch.rejects.append(Reject(line, 0, str(exc), exc.field, block.group(0)))
    sibling = next(
        (p for p in (acc.source.path.with_suffix(s) for s in (".csv", ".json")) if p.is_file()),
        None,
    )
    found = 0
    for start, end in _post_spans(text, users):
        pos = start
        for m in _FIELDS.finditer(text, start, end):
            content = re.sub(r"^\d+:", "", text[pos : m.start()].strip("\n"))
            pos = m.end()
            found += 1
            if sibling is not None:
                continue
            rec = {
                "content": content,
                "publish_place": m.group("place"),
                "publish_time": m.group("time"),
                "up_num": m.group("up"),
                "retweet_num": m.group("rt"),
                "comment_num": m.group("cm"),
                "publish_tool": m.group("tool"),
            }
            line = text.count("\n", 0, m.start()) + 1
            acc.add(line, 0, rec, text[m.start() : m.end()], synthetic=True)
    if sibling is not None and found:
        acc.source.notes["txt_posts_read_from"] = sibling.name
        acc.source.notes["txt_posts_skipped"] = found


def _post_spans(text: str, users: list[re.Match[str]]) -> list[tuple[int, int]]:
    """The stretches of text holding posts: after each `微博内容` heading, to the next
    user block."""
    bounds = [u.start() for u in users[1:]] + [len(text)]
    spans = []
    for head in _POSTS_HEAD.finditer(text):
        end = next(b for b in bounds if b > head.end())
        spans.append((head.end(), end))
    return spans
