"""A scripted day of the demo world, replayed to the observer through a fake Sina open API.

`scripted_day` writes the day: 18 July 2011, the demo world's rainstorm in 武汉
(synth/events.py), seen by an observer that polls hourly. Quiet hours of ordinary posts;
at 08:30 (Beijing time) 武汉发布 warns of the rainstorm and the public reposts it by the
dozen; at 09:10 an unverified account spreads a rumour, at 10:10 平安武汉 debunks it;
武汉公安, watched and in 湖北, says nothing all day. `SinaReplay` serves it on 127.0.0.1
as users/show, statuses/user_timeline, statuses/repost_timeline and comments/show answer
(only what was posted by its `clock`), and `replay` runs `run_cycle` once per simulated
hour with the collector pointed at it. Expected: one burst (placed in 湖北), one rumour
(not the debunk) and one silence, each once, at the cycles in `ScriptedDay.expected`.
No network beyond loopback, and nothing is written outside the folder it is given.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from govweibo.labels import BEIJING
from govweibo.observe.loop import CycleResult, run_cycle
from govweibo.store import Store
from govweibo.synth.events import EMERGENCY_CITY

GOV = {"verified": True, "verified_type": 1}
QUIET = (
    "今日天气晴好，提醒市民注意防晒补水。",
    "【便民服务】社保卡业务可在线办理，足不出户。",
    "周末图书馆开放时间调整，请读者留意。",
    "【安全提示】电动车请勿在楼道充电。",
    "地铁新线路试运行，欢迎市民体验并提出意见。",
    "【招聘】市属事业单位公开招聘工作人员公告。",
)
DISTRICTS = ("光谷", "汉口", "武昌", "青山", "汉阳")
WARNING = f"【暴雨红色预警】{EMERGENCY_CITY}暴雨持续，多处道路积水严重，请市民减少出行。"
SAFETY = f"{EMERGENCY_CITY}暴雨期间出行请注意安全，遇险请拨打110。"
# The shipped rumour model labels this likely_rumour from its text alone (an hour of
# cascade with no reposts); the debunk is an official clarification and never an alert.
RUMOUR = f"紧急扩散！{EMERGENCY_CITY}长江大桥被洪水冲垮，已有上百人遇难，政府封锁消息不让报道，大家快转！"
DEBUNK = (
    f"【辟谣】网传“{EMERGENCY_CITY}长江大桥被洪水冲垮、上百人遇难”系谣言。经核实，大桥运行正常，"
    "请勿信谣传谣。"
)


@dataclass
class ScriptedPost:
    when: datetime
    uid: str
    text: str
    repost_of: int | None = None  # index of the reposted post in ScriptedDay.posts


@dataclass
class ScriptedDay:
    start: datetime  # the first cycle (UTC)
    hours: int  # cycles, one an hour
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: list[ScriptedPost] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)  # alert kind -> cycle it fires

    def user(self, uid: str, name: str, **extra: Any) -> None:
        self.users[uid] = {
            "id": int(uid), "idstr": uid, "screen_name": name, "name": name,
            "followers_count": 1000, "friends_count": 10, "statuses_count": 100,
            "verified": False, "verified_type": -1,
            "created_at": "Mon Mar 01 10:00:00 +0800 2010", **extra,
        }  # fmt: skip

    def post(self, uid: str, when: datetime, text: str, repost_of: int | None = None) -> int:
        self.posts.append(ScriptedPost(when, uid, text, repost_of))
        return len(self.posts) - 1


def scripted_day(hours: int = 9, reposts: int = 25) -> ScriptedDay:
    """The rainstorm day, observed hourly from 06:00 Beijing time for `hours` cycles."""
    start = datetime(2011, 7, 17, 22, 0, tzinfo=UTC)  # 06:00 on the 18th in Beijing
    event = start + timedelta(hours=2, minutes=30)
    day = ScriptedDay(start, hours, expected={"burst": 4, "rumour": 5, "silence": 7})
    day.user("1001", "武汉发布", verified_reason="武汉市人民政府新闻办公室官方微博", **GOV)
    day.user("1002", "武汉公安", verified_reason="武汉市公安局官方微博", **GOV)
    day.user("1005", "平安武汉", verified_reason="武汉市公安局官方微博", **GOV)
    day.user("1004", "北京发布", verified_reason="北京市人民政府新闻办公室官方微博", **GOV)
    day.user("1006", "热点爆料哥")
    for n in range(reposts):
        day.user(str(2000 + n), f"网友{n:02d}")
    day.watched = ["1001", "1002", "1005", "1004", "1006"]
    for back in range(3, 0, -1):  # three ordinary days before
        for i, uid in enumerate(("1001", "1002", "1005", "1004")):
            when = start - timedelta(days=back) + timedelta(hours=3 + i)
            day.post(uid, when, QUIET[(back + i) % len(QUIET)])
    day.post("1006", start - timedelta(days=1), "今天的晚霞真好看，随手一拍。")
    day.post("1004", start + timedelta(minutes=50), QUIET[4])  # a quiet morning elsewhere
    root = day.post("1001", event, WARNING)
    for n in range(reposts):
        text = f"{EMERGENCY_CITY}暴雨太大了，{DISTRICTS[n % 5]}积水到膝盖"
        day.post(str(2000 + n), event + timedelta(minutes=1 + n), text, repost_of=root)
    day.post("1005", event + timedelta(minutes=30), SAFETY)
    day.post("1006", event + timedelta(minutes=40), RUMOUR)
    day.post("1005", event + timedelta(minutes=100), DEBUNK)
    return day


def _post_id(when: datetime, seq: int) -> int:
    # Sina ids carry their second: (id >> 22) + 515483463 (ingest/weibo_time.py).
    return ((int(when.timestamp()) - 515483463) << 22) + seq


class SinaReplay:
    """The day as Sina's open API on 127.0.0.1 (a free port), showing what was posted by
    `clock`; paged as the API pages (since_id, max_id, count, page). Use with `with`."""

    def __init__(self, day: ScriptedDay):
        self.day, self.clock = day, day.start
        self.statuses: list[tuple[datetime, dict[str, Any]]] = []
        for seq, p in enumerate(day.posts, 1):
            pid = _post_id(p.when, seq)
            status = {
                "id": pid, "idstr": str(pid), "mid": str(pid), "text": p.text, "uid": p.uid,
                "created_at": p.when.astimezone(BEIJING).strftime("%a %b %d %H:%M:%S %z %Y"),
                "source": "微博 weibo.com", "comments_count": 0, "attitudes_count": 0,
            }  # fmt: skip
            if p.repost_of is not None:
                status["retweeted_id"] = self.statuses[p.repost_of][1]["id"]
            self.statuses.append((p.when, status))
        self._lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                replay._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/2/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SinaReplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _status(self, s: dict[str, Any], visible: list[dict[str, Any]]) -> dict[str, Any]:
        out = {k: v for k, v in s.items() if k not in ("uid", "retweeted_id")}
        out["user"] = self.day.users[s["uid"]]
        out["reposts_count"] = sum(1 for r in visible if r.get("retweeted_id") == s["id"])
        if s.get("retweeted_id"):
            root = next(r for r in visible if r["id"] == s["retweeted_id"])
            out["retweeted_status"] = self._status(root, visible)
        return out

    @staticmethod
    def _page(items: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        items = sorted(items, key=lambda s: -s["id"])
        if q.get("since_id"):
            items = [s for s in items if s["id"] > int(q["since_id"])]
        if q.get("max_id"):
            items = [s for s in items if s["id"] <= int(q["max_id"])]
        count, page = int(q.get("count", 20)), int(q.get("page", 1))
        return items[(page - 1) * count : page * count]

    def answer(self, path: str, q: dict[str, str]) -> Any:
        """The API's answer to one request (None: no such route)."""
        visible = [s for when, s in self.statuses if when <= self.clock]
        if path == "/2/users/show.json":
            found = self.day.users.get(q.get("uid", ""))
            by_name = (
                u for u in self.day.users.values() if u["screen_name"] == q.get("screen_name")
            )
            return found or next(by_name, None)
        if path in ("/2/statuses/user_timeline.json", "/2/statuses/repost_timeline.json"):
            reposts = path.endswith("repost_timeline.json")
            own = [
                s for s in visible
                if (str(s.get("retweeted_id")) == q.get("id") if reposts else s["uid"] == q.get("uid"))
            ]  # fmt: skip
            page = [self._status(s, visible) for s in self._page(own, q)]
            return {"reposts" if reposts else "statuses": page, "total_number": len(own)}
        if path == "/2/comments/show.json":
            return {"comments": [], "total_number": 0}
        return None

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        with self._lock:
            body = self.answer(url.path, dict(urllib.parse.parse_qsl(url.query)))
        status = 200 if body is not None else 404
        if body is None:
            body = {"error": "no such route", "error_code": 20000}
        data = json.dumps(body, ensure_ascii=False).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)


CONFIG = """every = "1h"
[collect]
platform = "weibo"
base_url = "{base_url}"
token_file = "token.txt"
spool = "spool"
[rules.burst]
min_posts = 10
window_hours = 3
[rules.silence]
hours = 3
[rules.questions]
enabled = false
"""


def replay(
    store: Store,
    workdir: Path,
    day: ScriptedDay | None = None,
    *,
    on_cycle: Callable[[CycleResult], None] | None = None,
) -> list[CycleResult]:
    """Observe the scripted day hour by hour: the replay server, a config and a dummy
    token in `workdir`, the day's accounts on the watch list, one `run_cycle` an hour."""
    from govweibo.collect import watch_add
    from govweibo.observe.config import load_config

    day = day or scripted_day()
    workdir.mkdir(parents=True, exist_ok=True)
    for uid in day.watched:
        watch_add(store, uid)
    results = []
    with SinaReplay(day) as server:
        (workdir / "token.txt").write_text("2.00REPLAY\n", encoding="utf-8")
        path = workdir / "observe.toml"
        path.write_text(CONFIG.format(base_url=server.base_url), encoding="utf-8")
        config = load_config(path)
        for hour in range(day.hours):
            server.clock = day.start + timedelta(hours=hour)
            result = run_cycle(store, config, now=lambda: server.clock, sleep=lambda s: None)
            results.append(result)
            if on_cycle:
                on_cycle(result)
    return results


__all__ = ["ScriptedDay", "SinaReplay", "replay", "scripted_day"]
