"""Sina Weibo collector: profile, timeline snapshot, new posts, comments and reposts.

Per watched account and run:
1. `users/show.json` -> an account observation (followers, statuses ...).
2. A snapshot of the recent timeline (`snapshot_pages` pages, no since_id), stored with
   `timeline=True` under one observed_at, so the deletion audit sees vanished posts.
3. New posts since the last run: `statuses/user_timeline.json` with since_id, paged
   backwards with max_id. The snapshot doubles as the first page; paging stops at the
   previous high-water mark. The cursor is saved after each stored page.
4. Comments (`comments/show.json`) and reposts (`statuses/repost_timeline.json`) of posts
   whose counts grew past what the store holds, paged the same way.
Per watched keyword: `search/topics.json` (posts under the topic #keyword#), an advanced
interface the app must be granted; without it the watch stops with an error naming that.
Every page is written to the spool folder and stored through `govweibo.ingest.ingest`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo.collect import state
from govweibo.collect.base import CollectError, HttpClient, Page, PermissionDenied
from govweibo.ingest import ReadOptions, ingest
from govweibo.store import Store

DEFAULT_BASE_URL = "https://api.weibo.com/2/"
TIMELINE = "statuses/user_timeline.json"
# open.weibo.com/wiki/2/search/topics: "搜索某一话题下的微博", access level 高级接口
# (需要授权); q is the topic between two #, count at most 50, page; only the newest
# 200 results are returned.
SEARCH = "search/topics.json"
SEARCH_MAX_COUNT = 50
PLATFORM = "weibo"
logger = logging.getLogger(__name__)

# progress(event, detail): called after each stored page ("page", "<endpoint> <n> records").
Progress = Callable[[str, str], None]


@dataclass
class CollectSummary:
    platform: str
    accounts: int = 0
    keywords: int = 0
    requests: int = 0
    pages: int = 0
    records: int = 0
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    spooled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class WeiboCollector:
    store: Store
    client: HttpClient
    collect_dir: Path
    now: Callable[[], datetime]
    max_pages: int = 5
    count: int = 100
    snapshot_pages: int = 1
    progress: Progress | None = None
    summary: CollectSummary = field(default_factory=lambda: CollectSummary(PLATFORM))
    _seq: int = 0
    # What a subclass for another platform changes.
    platform = PLATFORM  # watch list, cursors, spool folder
    fmt = "weibo-api"  # the ingest reader of spooled pages
    count_param = "count"

    def __post_init__(self) -> None:
        self.summary.platform = self.platform

    @property
    def stored_platform(self) -> str:
        """The platform value the reader writes (Mastodon adds the instance host)."""
        return self.platform

    # -- spool and store -------------------------------------------------
    def _spool(self, account: str, endpoint: str, pages: list[Page]) -> Path:
        folder = self.collect_dir / self.platform / _safe(account)
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        stamp = pages[0].fetched_at.strftime("%Y%m%dT%H%M%S%fZ")
        slug = endpoint.removesuffix(".json").replace("/", "_")
        path = folder / f"{self.platform}-{slug}-{stamp}-{self._seq:04d}.jsonl"
        tmp = path.with_suffix(".part")
        with tmp.open("w", encoding="utf-8") as fh:
            for page in pages:
                if page.body is not None:
                    fh.write(json.dumps(page.body, ensure_ascii=False) + "\n")
                else:  # malformed: kept as-is on one line, so ingest quarantines it
                    fh.write(page.raw.replace("\r", " ").replace("\n", " ") + "\n")
        tmp.replace(path)
        return path

    def _store(
        self,
        account: str,
        endpoint: str,
        pages: list[Page],
        *,
        timeline: bool = False,
        spooled: Path | None = None,
    ) -> int:
        """Spool the pages (unless a subclass has: `spooled`) and ingest the file."""
        path = spooled or self._spool(account, endpoint, pages)
        opts = ReadOptions(
            observed_at=pages[0].fetched_at, timeline=timeline, platform=self.stored_platform
        )
        result = ingest(self.store, [path], fmt=self.fmt, options=opts)
        s = self.summary
        s.spooled.append(str(path))
        s.pages += len(pages)
        s.records += result.total("records_read")
        s.stored += result.total("stored")
        s.duplicate += result.total("duplicate")
        s.rejected += result.total("rejected")
        return sum(len(_items(p.body)) for p in pages) or (1 if pages[0].body else 0)

    def _tick(self, account: str, endpoint: str, n: int) -> None:
        # Called once a page is stored and its cursor saved (a safe place to stop).
        logger.info("%s %s: %d records", account, endpoint, n)
        if self.progress:
            self.progress("page", f"{account} {endpoint}: {n} records")

    # -- paging ----------------------------------------------------------
    def _paged(
        self,
        account: str,
        endpoint: str,
        cursor_key: str,
        params: dict[str, Any],
        *,
        start_max: str | None = None,
        seen: list[str] | None = None,
        exhausted: bool = False,
    ) -> list[dict[str, Any]]:
        """since_id/max_id paging with a cursor saved after each stored page."""
        cur = state.get_cursor(self.store, self.platform, account, cursor_key)
        if cur.max_id and cur.high_id and seen and min(map(int, seen)) > int(cur.high_id):
            # Resuming an unfinished pass while the snapshot does not reach back to it:
            # keep the old high-water mark, so the next run fetches the gap.
            high: str | None = cur.high_id
        else:
            high = _max_id([cur.high_id, *(seen or [])])
        max_id = cur.max_id or start_max
        # The snapshot already reached what we hold, or the whole timeline.
        reached = bool(cur.since_id and seen and min(map(int, seen)) <= int(cur.since_id))
        done = cur.max_id is None and (reached or exhausted)
        records: list[dict[str, Any]] = []
        pages = 0
        while not done and pages < self.max_pages:
            page = self.client.get(
                endpoint,
                {
                    **params,
                    "since_id": cur.since_id,
                    "max_id": max_id,
                    self.count_param: self.count,
                },
            )
            n = self._store(account, endpoint, [page])
            pages += 1
            items = _items(page.body)
            records.extend(items)
            ids = [i for i in map(_id, items) if i]
            if page.body is None:
                # Keep the cursor before this page: the next run asks for it again.
                self.summary.errors.append(f"{account} {endpoint}: malformed page, stopped")
                state.save_cursor(
                    self.store,
                    self.platform,
                    account,
                    cursor_key,
                    state.Cursor(cur.since_id, max_id, high),
                    self.now(),
                )
                self._tick(account, endpoint, n)
                return records
            if not ids:
                max_id, done = None, True
            else:
                high = _max_id([high, *ids])
                max_id = str(min(map(int, ids)) - 1)
                if len(ids) < self.count or (cur.since_id and int(max_id) <= int(cur.since_id)):
                    max_id, done = None, True
            nxt = state.Cursor(cur.since_id, max_id, high) if not done else state.Cursor(high)
            state.save_cursor(self.store, self.platform, account, cursor_key, nxt, self.now())
            self._tick(account, endpoint, n)
        if done:
            state.save_cursor(
                self.store, self.platform, account, cursor_key, state.Cursor(high), self.now()
            )
        return records

    # -- one account -----------------------------------------------------
    def collect_account(self, value: str) -> None:
        key = {"uid": value} if value.isdigit() else {"screen_name": value}
        profile = self.client.get("users/show.json", key)
        self._tick(value, "users/show.json", self._store(value, "users/show.json", [profile]))
        uid = _id(profile.body) if isinstance(profile.body, dict) else None
        uid = uid or (value if value.isdigit() else None)
        if uid is None:
            self.summary.errors.append(f"{value}: users/show gave no id; timeline skipped")
            return
        self.summary.accounts += 1
        snapshot = [
            self.client.get(TIMELINE, {"uid": uid, "count": self.count, "page": n})
            for n in range(1, self.snapshot_pages + 1)
        ]
        self._tick(value, TIMELINE, self._store(value, TIMELINE, snapshot, timeline=True))
        posts = [it for p in snapshot for it in _items(p.body)]
        seen = [i for i in map(_id, posts) if i]
        start = str(min(map(int, seen)) - 1) if seen else None
        exhausted = all(p.body is not None for p in snapshot) and (
            len(_items(snapshot[-1].body)) < self.count
        )
        posts += self._paged(
            value, TIMELINE, TIMELINE, {"uid": uid}, start_max=start, seen=seen, exhausted=exhausted
        )
        self._replies(value, posts)

    def _replies(self, account: str, posts: list[dict[str, Any]]) -> None:
        held = held_counts(self.store, self.stored_platform, [p for p in map(_id, posts) if p])
        for post in posts:
            pid = _id(post)
            if not pid:
                continue
            have_c, have_r = held.get(pid, (0, 0))
            if int(post.get("comments_count") or 0) > have_c:
                key = f"comments/show.json#{pid}"
                self._paged(account, "comments/show.json", key, {"id": pid})
            if int(post.get("reposts_count") or 0) > have_r:
                key = f"statuses/repost_timeline.json#{pid}"
                self._paged(account, "statuses/repost_timeline.json", key, {"id": pid})

    # -- one keyword -----------------------------------------------------
    def collect_keyword(self, keyword: str) -> None:
        """Posts under the topic #keyword#, newest first, down to what the last run saw.

        search/topics pages by number, not by id, so an unfinished pass cannot resume:
        the next run starts again at page 1 (the API keeps only the newest 200 anyway).
        """
        topic = keyword.strip().strip("#")
        key = f"#{topic}"
        cur = state.get_cursor(self.store, self.platform, key, SEARCH)
        count = min(self.count, SEARCH_MAX_COUNT)
        high = cur.since_id
        for number in range(1, self.max_pages + 1):
            try:
                page = self.client.get(SEARCH, {"q": topic, "count": count, "page": number})
            except PermissionDenied as exc:
                raise CollectError(
                    f"{exc}. Keyword watches on Weibo use search/topics.json, an advanced "
                    "interface (高级接口) that Sina grants per app on application at "
                    "open.weibo.com; Sina's open API has no other search endpoint"
                ) from None
            n = self._store(key, SEARCH, [page])
            if page.body is None:  # keep the old cursor: the next run reads it again
                self.summary.errors.append(f"{key} {SEARCH}: malformed page, stopped")
                self._tick(key, SEARCH, n)
                return
            ids = [i for i in map(_id, _items(page.body)) if i]
            high = _max_id([high, *ids])
            self._tick(key, SEARCH, n)
            if len(ids) < count or (cur.since_id and min(map(int, ids)) <= int(cur.since_id)):
                break
        self.summary.keywords += 1
        state.save_cursor(self.store, self.platform, key, SEARCH, state.Cursor(high), self.now())

    def collect_mentions(self) -> None:
        """Posts mentioning the token's own account (useful when it is the watched one)."""
        self._paged("@me", "statuses/mentions.json", "statuses/mentions.json", {})


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):  # Mastodon pages are bare arrays
        return [x for x in body if isinstance(x, dict)]
    if isinstance(body, dict):
        for key in ("statuses", "comments", "reposts", "users"):
            if isinstance(body.get(key), list):
                return [x for x in body[key] if isinstance(x, dict)]
    return []


def _id(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get("idstr") or obj.get("id")
    return str(value) if value is not None and str(value).isdigit() else None


def _max_id(ids: list[str | None]) -> str | None:
    known = [int(i) for i in ids if i]
    return str(max(known)) if known else None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def held_counts(store: Store, platform: str, post_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Comments and reposts the store already holds for these posts."""
    if not post_ids:
        return {}
    rows = store.con.execute(
        """SELECT p.pid,
             (SELECT count(*) FROM interactions i
              WHERE i.platform = $2 AND i.post_id = p.pid AND i.kind IN ('comment', 'reply')),
             (SELECT count(*) FROM posts r
              WHERE r.platform = $2 AND r.retweeted_post_id = p.pid)
           FROM (SELECT unnest($1::VARCHAR[]) AS pid) p""",
        [post_ids, platform],
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


__all__ = ["DEFAULT_BASE_URL", "CollectError", "CollectSummary", "WeiboCollector"]
