"""A small fake of Sina's open API whose data appears as a clock moves (tests only).

Statuses, reposts and comments are held with their creation times; a request sees what
was posted by `clock` (so a test can walk through a day hour by hour), paged the way the
API pages (`since_id`, `max_id`, `count`, `page`). Loopback only. Shapes follow
open.weibo.com's documentation of users/show, statuses/user_timeline,
statuses/repost_timeline and comments/show, as tests/fixtures/collect/weibo_routes.json.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEIJING = timezone(timedelta(hours=8))


def post_id(when: datetime, seq: int) -> int:
    # Sina ids carry their second: (id >> 22) + 515483463 (ingest/weibo_time.py).
    return ((int(when.timestamp()) - 515483463) << 22) + seq


def sina_time(when: datetime) -> str:
    return when.astimezone(BEIJING).strftime("%a %b %d %H:%M:%S %z %Y")


class FakeSina:
    def __init__(self) -> None:
        self.clock = datetime(2000, 1, 1, tzinfo=UTC)
        self.users: dict[str, dict[str, Any]] = {}
        self.posts: list[tuple[datetime, dict[str, Any]]] = []
        self._seq = 0
        self.requests = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/2/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the world ------------------------------------------------------------
    def user(self, uid: str, name: str, **extra: Any) -> dict[str, Any]:
        user = {
            "id": int(uid),
            "idstr": uid,
            "screen_name": name,
            "name": name,
            "followers_count": 1000,
            "friends_count": 10,
            "statuses_count": 100,
            "verified": False,
            "verified_type": -1,
            "created_at": "Mon Mar 01 10:00:00 +0800 2010",
            **extra,
        }
        self.users[uid] = user
        return user

    def post(self, uid: str, when: datetime, text: str, *, repost_of: int | None = None) -> int:
        self._seq += 1
        pid = post_id(when, self._seq)
        status: dict[str, Any] = {
            "id": pid,
            "idstr": str(pid),
            "mid": str(pid),
            "created_at": sina_time(when),
            "text": text,
            "source": "微博 weibo.com",
            "uid": uid,
            "reposts_count": 0,
            "comments_count": 0,
            "attitudes_count": 0,
        }
        if repost_of is not None:
            status["retweeted_id"] = repost_of
        self.posts.append((when, status))
        return pid

    # -- serving --------------------------------------------------------------
    def _visible(self) -> list[dict[str, Any]]:
        return [s for when, s in self.posts if when <= self.clock]

    def _status(self, s: dict[str, Any], visible: list[dict[str, Any]]) -> dict[str, Any]:
        out = {k: v for k, v in s.items() if k not in ("uid", "retweeted_id")}
        out["user"] = self.users[s["uid"]]
        out["reposts_count"] = sum(1 for r in visible if r.get("retweeted_id") == s["id"])
        if s.get("retweeted_id"):
            root = next(r for r in visible if r["id"] == s["retweeted_id"])
            out["retweeted_status"] = self._status(root, visible)
        return out

    def _page(self, items: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        items = sorted(items, key=lambda s: -s["id"])
        if q.get("since_id"):
            items = [s for s in items if s["id"] > int(q["since_id"])]
        if q.get("max_id"):
            items = [s for s in items if s["id"] <= int(q["max_id"])]
        count, page = int(q.get("count", 20)), int(q.get("page", 1))
        return items[(page - 1) * count : page * count]

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with self.lock:
            self.requests += 1
            visible = self._visible()
            status, body = 200, self._answer(url.path, q, visible)
            if body is None:
                status, body = 404, {"error": "no such route", "error_code": 20000}
        data = json.dumps(body, ensure_ascii=False).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def _answer(self, path: str, q: dict[str, str], visible: list[dict[str, Any]]) -> Any:
        if path == "/2/users/show.json":
            user = self.users.get(q.get("uid", ""))
            if user is None:
                user = next(
                    (u for u in self.users.values() if u["screen_name"] == q.get("screen_name")),
                    None,
                )
            return user
        if path == "/2/statuses/user_timeline.json":
            own = [s for s in visible if s["uid"] == q.get("uid")]
            page = self._page(own, q)
            return {"statuses": [self._status(s, visible) for s in page], "total_number": len(own)}
        if path == "/2/statuses/repost_timeline.json":
            reps = [s for s in visible if str(s.get("retweeted_id")) == q.get("id")]
            page = self._page(reps, q)
            return {"reposts": [self._status(s, visible) for s in page], "total_number": len(reps)}
        if path == "/2/comments/show.json":
            return {"comments": [], "total_number": 0}
        return None
