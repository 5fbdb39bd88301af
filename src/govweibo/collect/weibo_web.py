"""Weibo through its public web endpoints (weibo.com's ajax API), for today's Weibo.

Sina's open API grants few researchers the permissions the API collector needs; the web
front end reads the same data from JSON endpoints, which the crawlers researchers use
call too (nghuyong/WeiboSpider `tweet_by_user_id.py`, `comment.py`, `repost.py` and
`user.py` of its 2022-2024 weibo.com version; dataabc/weibo-crawler). Per watched account
and run:
1. `ajax/profile/info?uid=` (or `screen_name=`) -> the account and an observation.
2. `ajax/statuses/mymblog?uid=&page=1&feature=0`: the timeline snapshot (a timeline
   observation, so the deletion audit works), then pages 2.. until the last run's newest
   post or an empty page. Pages are numbered, so a pass resumes at the page it reached.
3. `ajax/statuses/longtext?id=<mblogid>` for truncated posts (`isLongText`).
4. `ajax/statuses/buildComments` (flow=1: newest first, `max_id` paging) and
   `ajax/statuses/repostTimeline` (numbered pages) of posts whose counts grew past what
   the store holds.

Endpoints that need a login are called with the user's own browser cookie, from a file
or GOVWEIBO_WEIBO_COOKIE. It travels in the Cookie header only: never in a URL, the
request log, the spool or a message. Requests are paced (one every `interval_s` seconds,
jittered); 418, 429 and 403 (Weibo's answers to a crawler it wants to slow) back off
exponentially. A redirect to the login page, or `{"ok": -100}`, stops the run with an
error saying the cookie is missing or expired.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govweibo.collect import state
from govweibo.collect.base import CollectError, HttpClient, Page, TokenError
from govweibo.collect.weibo import WeiboCollector, _safe, held_counts
from govweibo.errors import ConfigError

COOKIE_ENV = "GOVWEIBO_WEIBO_COOKIE"
DEFAULT_WEB_BASE_URL = "https://weibo.com/"
PROFILE = "ajax/profile/info"
TIMELINE = "ajax/statuses/mymblog"
LONGTEXT = "ajax/statuses/longtext"
COMMENTS = "ajax/statuses/buildComments"
REPOSTS = "ajax/statuses/repostTimeline"
# weibo.com's own pages ask for 20 comments and 10 reposts a page.
COMMENTS_COUNT = 20
REPOSTS_COUNT = 10
# Weibo answers a crawler going too fast with 418 ("I'm a teapot"), 429 or 403.
SLOW_DOWN = {403, 418, 429}
_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36 govweibo"
)


class LoginRequired(TokenError):
    """Weibo sent the login page: the cookie is missing or expired."""


def load_cookie(cookie_file: Path | None = None) -> str:
    """The browser cookie from a file, else GOVWEIBO_WEIBO_COOKIE; '' when neither is set
    (public endpoints are tried without one)."""
    if cookie_file is not None:
        try:
            text = cookie_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read cookie file {cookie_file}: {exc.strerror}") from None
    else:
        text = os.environ.get(COOKIE_ENV, "")
    # A cookie copied from the browser's request headers may carry the header's name.
    cookie = " ".join(text.split())
    return cookie.removeprefix("Cookie:").removeprefix("cookie:").strip()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is Weibo's way of asking for a login: report it, never follow it.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebClient(HttpClient):
    """GET weibo.com JSON with the user's cookie, at a polite pace, backing off when told."""

    def __init__(self, *, cookie: str, interval_s: float = 3.0, **kwargs: Any) -> None:
        kwargs.setdefault("backoff_s", 30.0)
        super().__init__(platform="weibo", token="", **kwargs)
        self._cookie = cookie
        self.interval_s = interval_s
        self._last: float | None = None
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _pace(self) -> None:
        if self._last is not None and self.interval_s > 0:
            due = self.interval_s * random.uniform(0.5, 1.5)
            wait = due - (time.monotonic() - self._last)
            if wait > 0:
                self.sleep(wait)

    def get(self, endpoint: str, params: dict[str, Any]) -> Page:
        """One response; slow-down answers, 5xx and broken bodies are retried."""
        url = self.url(endpoint, params)
        page: Page | None = None
        for attempt in range(self.max_retries + 1):
            self._pace()
            page = self._request(url)
            self._last = time.monotonic()
            problem = _problem(page)
            self._log(page, endpoint, url, problem)
            if problem is None:
                return page
            if problem == "login":
                raise LoginRequired(
                    f"weibo {endpoint}: Weibo asked for a login (HTTP {page.status}); the "
                    f"cookie is missing or expired: copy a fresh one from your browser into "
                    f"{COOKIE_ENV} or the --cookie-file"
                )
            if problem == "client":
                raise CollectError(f"weibo {endpoint}: HTTP {page.status}{_message(page.body)}")
            if attempt < self.max_retries:
                self.sleep(self._backoff(attempt, None))
                self._last = None  # the back-off was the pause
        assert page is not None
        if _problem(page) == "broken":
            return page  # spooled as it came: ingest quarantines it, the caller notes it
        raise CollectError(
            f"weibo {endpoint}: HTTP {page.status}{_message(page.body)} after "
            f"{self.max_retries + 1} attempts"
        )

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/json, text/plain, */*",
            "User-Agent": _USER_AGENT,
            "Referer": self.base_url,
            "X-Requested-With": "XMLHttpRequest",
        }
        if self._cookie:
            headers["Cookie"] = self._cookie
        return headers

    def _open(self, req: urllib.request.Request) -> Any:
        return self._opener.open(req, timeout=self.timeout)


def _problem(page: Page) -> str | None:
    if 300 <= page.status < 400 or page.status == 401:
        return "login"
    if isinstance(page.body, dict) and str(page.body.get("ok")) == "-100":
        return "login"
    if page.status in SLOW_DOWN or page.status == 0 or page.status >= 500:
        return "retry"
    if page.status >= 400:
        return "client"
    if page.body is None:
        # A login page served as 200 HTML, or a body cut short in transit.
        head = page.raw.lstrip()[:2000].lower()
        if head.startswith("<") and ("passport" in head or "login" in head):
            return "login"
        return "broken"
    return None


def _message(body: Any) -> str:
    if isinstance(body, dict) and (body.get("msg") or body.get("message")):
        return f", {body.get('msg') or body.get('message')}"
    return ""


def web_items(body: Any) -> list[dict[str, Any]]:
    """The records of a weibo.com response: data.list (timelines) or data (comments,
    reposts); [] for an empty page or an `{"ok": 0}` answer."""
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    if isinstance(data, dict):
        data = data.get("list")
    return [x for x in data if isinstance(x, dict)] if isinstance(data, list) else []


def _id(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get("idstr") or obj.get("id")
    return str(value) if value is not None and str(value).isdigit() else None


@dataclass
class WeiboWebCollector(WeiboCollector):
    """The API collector's loop over weibo.com's endpoints; the same watch list, cursors,
    spool and ingest (format `weibo-web`), stored as platform 'weibo'."""

    fmt = "weibo-web"

    def _page(
        self,
        account: str,
        endpoint: str,
        params: dict[str, Any],
        *,
        about: str | None = None,
        timeline: bool = False,
    ) -> Page:
        """Fetch, spool and store one response. `about`: the post a comment or repost page
        belongs to, which the response itself does not name."""
        page = self.client.get(endpoint, params)
        beside = self._long_texts(account, web_items(page.body)) if endpoint == TIMELINE else []
        path = self._spool_named(account, endpoint, page, about, beside)
        self._store(account, endpoint, [page], timeline=timeline, spooled=path)
        self._tick(account, endpoint, len(web_items(page.body)))
        if page.body is None:
            self.summary.errors.append(f"{account} {endpoint}: malformed page, stopped")
        return page

    def _spool_named(
        self,
        account: str,
        endpoint: str,
        page: Page,
        about: str | None,
        beside: list[tuple[str, Page]],
    ) -> Path:
        """Each response in a folder of its own, named the way the weibo-web reader reads
        what a body leaves out: `buildComments-<post id>-…` names the comments' post, and
        a timeline page's long texts lie beside it as `longtext-<mblogid>.json`."""
        self._seq += 1
        stamp = page.fetched_at.strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.collect_dir / self.platform / _safe(account) / f"{stamp}-{self._seq:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for mblogid, text_page in beside:
            _write(folder / f"longtext-{_safe(mblogid)}.json", text_page)
        name = endpoint.rsplit("/", 1)[-1] + (f"-{about}" if about else "")
        return _write(folder / f"{name}.jsonl", page)

    def collect_account(self, value: str) -> None:
        key = {"uid": value} if value.isdigit() else {"screen_name": value}
        profile = self._page(value, PROFILE, key)
        user = (profile.body or {}).get("data", {}).get("user") if profile.body else None
        uid = _id(user) or (value if value.isdigit() else None)
        if uid is None:
            self.summary.errors.append(f"{value}: {PROFILE} gave no user; timeline skipped")
            return
        self.summary.accounts += 1
        posts = self._timeline(value, uid)
        self._replies(value, posts)

    def _timeline(self, account: str, uid: str) -> list[dict[str, Any]]:
        """Snapshot page 1, then older pages down to the last run's newest post."""
        cur = state.get_cursor(self.store, self.platform, account, TIMELINE)
        posts: list[dict[str, Any]] = []
        high = cur.high_id if cur.next_url else None
        # A pass cut short resumes at the page it had reached (next_url holds its number).
        first = int(cur.next_url) if cur.next_url else 1
        pages = [1] + list(range(max(first, 2), max(first, 2) + self.max_pages - 1))
        for number in pages:
            page = self._page(
                account,
                TIMELINE,
                {"uid": uid, "page": number, "feature": 0},
                timeline=number == 1,
            )
            if page.body is None:
                return posts  # the cursor stays: the next run asks for this page again
            items = web_items(page.body)
            posts.extend(items)
            # A pinned post heads page 1 whatever its age: it says nothing of how far
            # back the page reaches.
            ids = [i for x in items if (i := _id(x)) and not _pinned(x)]
            high = _newest([high, *ids])
            reached = bool(cur.since_id and ids and min(map(int, ids)) <= int(cur.since_id))
            if not ids or reached:
                self._save(account, TIMELINE, state.Cursor(since_id=high))
                return posts
            if number > 1 or first == 1:
                self._save(
                    account,
                    TIMELINE,
                    state.Cursor(since_id=cur.since_id, high_id=high, next_url=str(number + 1)),
                )
        return posts

    def _save(self, account: str, endpoint: str, cursor: state.Cursor) -> None:
        state.save_cursor(self.store, self.platform, account, endpoint, cursor, self.now())

    def _long_texts(self, account: str, posts: list[dict[str, Any]]) -> list[tuple[str, Page]]:
        """The whole texts of a page's truncated posts, fetched before the page is stored
        (the store keeps the first text it gets)."""
        out: list[tuple[str, Page]] = []
        for post in posts:
            mblogid = post.get("mblogid")
            if post.get("isLongText") and isinstance(mblogid, str) and mblogid:
                try:
                    page = self.client.get(LONGTEXT, {"id": mblogid})
                except CollectError as exc:
                    if isinstance(exc, TokenError):
                        raise
                    self.summary.errors.append(f"{account} {LONGTEXT} {mblogid}: {exc}")
                    continue
                if page.body is not None:
                    out.append((mblogid, page))
        return out

    def _replies(self, account: str, posts: list[dict[str, Any]]) -> None:
        held = held_counts(self.store, self.platform, [p for p in map(_id, posts) if p])
        for post in posts:
            pid = _id(post)
            if not pid:
                continue
            have_c, have_r = held.get(pid, (0, 0))
            uid = _id(post.get("user")) or ""
            if _int(post.get("comments_count")) > have_c:
                self._comments(account, pid, uid)
            if _int(post.get("reposts_count")) > have_r:
                self._reposts(account, pid)

    def _comments(self, account: str, pid: str, uid: str) -> None:
        """Newest first (flow=1), max_id paging, down to the newest comment seen before."""
        key = f"{COMMENTS}#{pid}"
        cur = state.get_cursor(self.store, self.platform, account, key)
        max_id, high = cur.max_id or "0", cur.high_id
        for _ in range(self.max_pages):
            params = {
                "flow": 1,
                "is_reload": 1,
                "id": pid,
                "is_show_bulletin": 2,
                "is_mix": 0,
                "max_id": max_id,
                "count": COMMENTS_COUNT,
                "uid": uid,
                "fetch_level": 0,
            }
            page = self._page(account, COMMENTS, params, about=pid)
            if page.body is None:
                return
            ids = [i for i in map(_id, web_items(page.body)) if i]
            high = _newest([high, *ids])
            nxt = str(page.body.get("max_id") or "0")
            reached = bool(cur.since_id and ids and min(map(int, ids)) <= int(cur.since_id))
            if not ids or nxt == "0" or reached:
                self._save(account, key, state.Cursor(since_id=high))
                return
            max_id = nxt
            self._save(account, key, state.Cursor(cur.since_id, max_id, high))

    def _reposts(self, account: str, pid: str) -> None:
        key = f"{REPOSTS}#{pid}"
        cur = state.get_cursor(self.store, self.platform, account, key)
        first = int(cur.next_url) if cur.next_url else 1
        high = cur.high_id
        for number in range(first, first + self.max_pages):
            params = {"id": pid, "page": number, "moduleID": "feed", "count": REPOSTS_COUNT}
            page = self._page(account, REPOSTS, params, about=pid)
            if page.body is None:
                return
            ids = [i for i in map(_id, web_items(page.body)) if i]
            high = _newest([high, *ids])
            last = _int(page.body.get("max_page")) or number
            reached = bool(cur.since_id and ids and min(map(int, ids)) <= int(cur.since_id))
            if not ids or number >= last or reached:
                self._save(account, key, state.Cursor(since_id=high))
                return
            self._save(
                account, key, state.Cursor(cur.since_id, None, high, next_url=str(number + 1))
            )

    def collect_keyword(self, keyword: str) -> None:
        raise CollectError(
            f"#{keyword}: keyword watches are not collected through the web endpoints "
            "(weibo.com's search returns HTML pages, not JSON); use the API collector"
        )


def _write(path: Path, page: Page) -> Path:
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as fh:
        if page.body is not None:
            fh.write(json.dumps(page.body, ensure_ascii=False) + "\n")
        else:  # broken: kept as it came on one line, so ingest quarantines it
            fh.write(page.raw.replace("\r", " ").replace("\n", " ") + "\n")
    tmp.replace(path)
    return path


def _pinned(post: dict[str, Any]) -> bool:
    return bool(post.get("isTop")) or post.get("mblogtype") == 2


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _newest(ids: list[str | None]) -> str | None:
    known = [int(i) for i in ids if i]
    return str(max(known)) if known else None


__all__ = [
    "COOKIE_ENV",
    "DEFAULT_WEB_BASE_URL",
    "LoginRequired",
    "WebClient",
    "WeiboWebCollector",
    "load_cookie",
    "web_items",
]
