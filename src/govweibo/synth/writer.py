"""Streaming JSON-lines output in the Sina open-API shape, built from precomputed pieces.

Records are assembled by string concatenation rather than `json.dumps`: user objects are
rendered once per account and spliced in, texts come from templates checked to need no
escaping, and dates come from lookup tables. This is what makes 10M posts feasible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from gzip import GzipFile
from pathlib import Path
from typing import BinaryIO

import numpy as np

TZ = timezone(timedelta(hours=8))
T0 = datetime(2009, 8, 1, tzinfo=TZ)  # all times are int seconds since this instant
DAY = 86400


def rel(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> int:
    return int((datetime(y, m, d, hh, mm, ss, tzinfo=TZ) - T0).total_seconds())


def rel_iso(s: str) -> int:
    """'2011-02-10' or '2011-02-10 09:30' -> seconds since T0 (Beijing time)."""
    dt = datetime.fromisoformat(s)
    return int((dt.replace(tzinfo=TZ) - T0).total_seconds())


def to_datetime(t: int) -> datetime:
    return T0 + timedelta(seconds=int(t))


T_END = rel(2011, 12, 31, 23, 59, 59)

# English names regardless of locale: strftime would follow LC_TIME.
_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NDAYS = T_END // DAY + 60
_DAY_PRE: list[str] = []
_DAY_SUF: list[str] = []
for _d in range(_NDAYS):
    _dt = T0 + timedelta(days=_d)
    _DAY_PRE.append(f"{_WD[_dt.weekday()]} {_MON[_dt.month - 1]} {_dt.day:02d} ")
    _DAY_SUF.append(f" +0800 {_dt.year}")
_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
WEEKDAY0 = T0.weekday()


def ts(t: int) -> str:
    """Sina's created_at: 'Tue May 31 17:46:55 +0800 2011'."""
    d, s = divmod(t, DAY)
    return _DAY_PRE[d] + _HMS[s] + _DAY_SUF[d]


def weekday(t: np.ndarray) -> np.ndarray:
    return (t // DAY + WEEKDAY0) % 7


# Status and comment ids share one space: base + seconds * SLOTS + a running counter, so ids
# grow with time (as Sina's did) and are unique while fewer than SLOTS records are written.
ID_BASE = 3_000_000_000_000_000
ID_SLOTS = 50_000_000


class Ids:
    def __init__(self) -> None:
        self.counter = 0

    def take(self, t: np.ndarray) -> np.ndarray:
        n = len(t)
        seq = (np.arange(self.counter, self.counter + n, dtype=np.int64)) % ID_SLOTS
        self.counter += n
        return ID_BASE + t.astype(np.int64) * ID_SLOTS + seq


def _anchor(url: str, name: str) -> str:
    return json.dumps(f'<a href="{url}" rel="nofollow">{name}</a>', ensure_ascii=False)


SOURCES = (
    _anchor("http://weibo.com", "新浪微博"),
    _anchor("http://app.weibo.com/t/feed/5g0B8s", "iPhone客户端"),
    _anchor("http://app.weibo.com/t/feed/6vtZb0", "Android客户端"),
    _anchor("http://m.weibo.com", "新浪微博手机版"),
    _anchor("http://app.weibo.com/t/feed/2Ln9eD", "皮皮时光机"),
)
SOURCE_P_GOV = np.array([0.62, 0.1, 0.08, 0.08, 0.12])
SOURCE_P_PUBLIC = np.array([0.45, 0.22, 0.2, 0.13, 0.0])


def pic_urls(uid: int, sid: int) -> str:
    return (
        f'[{{"thumbnail_pic":"http://ww{1 + sid % 4}.sinaimg.cn/thumbnail/'
        f'{uid:08x}jw1d{sid % 10**10:x}.jpg"}}]'
    )


def user_parts(
    uid: int,
    name: str,
    province: str,
    city: str,
    location: str,
    description: str,
    url: str,
    gender: str,
    created: int,
    verified: bool,
    vtype: int,
    reason: str,
) -> tuple[str, str]:
    """The fixed head and tail of a user object; counts go between them."""
    head = (
        f'{{"id":{uid},"idstr":"{uid}","screen_name":"{name}","name":"{name}",'
        f'"province":"{province}","city":"{city}","location":"{location}",'
        f'"description":"{description}","url":"{url}","gender":"{gender}",'
    )
    tail = (
        f'"created_at":"{ts(created)}","verified":{"true" if verified else "false"},'
        f'"verified_type":{vtype},"verified_reason":"{reason}"}}'
    )
    return head, tail


def user_json(head: str, tail: str, followers: int, friends: int, statuses: int, favs: int) -> str:
    return (
        f'{head}"followers_count":{followers},"friends_count":{friends},'
        f'"statuses_count":{statuses},"favourites_count":{favs},{tail}'
    )


def status_head(
    t: int, sid: int, text: str, source: str, reposts: int, comments: int, likes: int, pics: str
) -> str:
    """A status object up to and including `"user":`; the caller appends user and close."""
    return (
        f'{{"created_at":"{ts(t)}","id":{sid},"idstr":"{sid}","mid":"{sid}","text":"{text}",'
        f'"source":{source},"reposts_count":{reposts},"comments_count":{comments},'
        f'"attitudes_count":{likes},"pic_urls":{pics},"user":'
    )


def comment_core(t: int, cid: int, text: str, source: str, user: str) -> str:
    """A comment object without its closing brace."""
    return (
        f'{{"created_at":"{ts(t)}","id":{cid},"idstr":"{cid}","mid":"{cid}",'
        f'"text":"{text}","source":{source},"user":{user}'
    )


class JsonlFile:
    """Buffered JSON-lines output that counts lines and bytes (of JSON, before any
    compression). With `gzip`, the file is `<path>.gz`, compressed at level 1 (fast; about
    a fifth of the size), with no time stamp in its header, so the same seed still gives
    byte-identical files."""

    def __init__(self, path: Path, *, gzip: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path.with_name(path.name + ".gz") if gzip else path
        self._fh: GzipFile | BinaryIO = (
            GzipFile(self.path, "wb", compresslevel=1, mtime=0) if gzip else open(self.path, "wb")  # noqa: SIM115 - closed in close()
        )
        self._buf: list[str] = []
        self.lines = 0
        self.bytes = 0

    def add(self, line: str) -> None:
        self._buf.append(line)
        if len(self._buf) >= 2048:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            data = ("\n".join(self._buf) + "\n").encode("utf-8")
            self._fh.write(data)
            self.lines += len(self._buf)
            self.bytes += len(data)
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()


class Sink:
    """Where statuses and comments go: the dumps, plus the timeline observations."""

    def __init__(
        self,
        out: Path,
        users: list[str],
        timeline_users: dict[int, tuple[str, str]],
        t1: int,
        t2: int,
        progress: Callable[[str, int], None] | None,
        *,
        gzip: bool = False,
    ) -> None:
        # The two big dumps; the snapshots and timelines are small.
        self.statuses = JsonlFile(out / "statuses.jsonl", gzip=gzip)
        self.comments = JsonlFile(out / "comments.jsonl", gzip=gzip)
        self.tl = (
            JsonlFile(out / "timelines" / f"{to_datetime(t1):%Y-%m-%d}.jsonl"),
            JsonlFile(out / "timelines" / f"{to_datetime(t2):%Y-%m-%d}.jsonl"),
        )
        self.users = users
        self.timeline_users = timeline_users
        self.t1, self.t2 = t1, t2
        self.progress = progress
        self.ids = Ids()
        self.n_status = self.n_repost = self.n_comment = self.n_reply = 0
        self._next_report = 20_000

    def status(self, author: int, t: int, head: str, tail: str, *, deleted: bool = False) -> None:
        """Write one status; `tail` is '' or ',"retweeted_status":{...}' (no closing brace)."""
        if not deleted:
            self.statuses.add(head + self.users[author] + tail + "}")
            self.n_status += 1
            if tail:
                self.n_repost += 1
            if self.n_status >= self._next_report:
                self._next_report += 20_000
                if self.progress:
                    self.progress("statuses", self.n_status)
        tu = self.timeline_users.get(author)
        if tu is not None:
            if t <= self.t1:
                self.tl[0].add(head + tu[0] + tail + "}")
            if t <= self.t2 and not deleted:
                self.tl[1].add(head + tu[1] + tail + "}")

    def comment(self, line: str, reply: bool) -> None:
        self.comments.add(line)
        if reply:
            self.n_reply += 1
        else:
            self.n_comment += 1

    def close(self) -> None:
        for f in (self.statuses, self.comments, *self.tl):
            f.close()
