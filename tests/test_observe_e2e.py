"""The observer end to end: a fake Weibo through an event, alerts by webhook and e-mail.

The scripted day (Beijing time; served by observe.replay.SinaReplay): three quiet days of ordinary posts by the watched
accounts; at 09:30 a rainstorm in 武汉 (the city's release account posts, the public
reposts it by the dozen, the police's second account tells people to take care); at
10:10 an unverified account spreads a rumour; at 11:10 the police debunk it. 武汉公安
is watched, is in 湖北 and says nothing. The observer runs hourly from 08:00. Expected:
one burst (cycle 3, placed in 湖北), one rumour (cycle 4, not the debunk), one silence
(武汉公安, cycle 6, once the event has run its 3 hours), each delivered once through the
webhook and the SMTP server, and nothing else.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from govweibo.collect import watch_add
from govweibo.observe import list_alerts, load_config, run_cycle
from govweibo.observe.loop import CycleResult
from govweibo.observe.replay import ScriptedDay, SinaReplay
from govweibo.store import Store

T0 = datetime(2026, 7, 18, 0, 0, tzinfo=UTC)  # 08:00 Beijing
EVENT = T0 + timedelta(minutes=90)
RUMOUR = "紧急扩散！武汉长江大桥被洪水冲垮，已有上百人遇难，政府封锁消息不让报道，大家快转！"
DEBUNK = (
    "【辟谣】网传“武汉长江大桥被洪水冲垮、上百人遇难”系谣言。经核实，大桥运行正常，请勿信谣传谣。"
)
GOV = {"verified": True, "verified_type": 1}
QUIET = [
    "今日天气晴好，提醒市民注意防晒补水。",
    "【便民服务】社保卡业务可在线办理，足不出户。",
    "周末图书馆开放时间调整，请读者留意。",
    "【安全提示】电动车请勿在楼道充电。",
    "地铁新线路试运行，欢迎市民体验并提出意见。",
    "【招聘】市属事业单位公开招聘工作人员公告。",
]


def _world(fake: ScriptedDay) -> None:
    fake.user("1001", "武汉发布", verified_reason="武汉市人民政府新闻办公室官方微博", **GOV)
    fake.user("1002", "武汉公安", verified_reason="武汉市公安局官方微博", **GOV)
    fake.user("1005", "平安武汉", verified_reason="武汉市公安局官方微博", **GOV)
    fake.user("1004", "北京发布", verified_reason="北京市人民政府新闻办公室官方微博", **GOV)
    fake.user("1006", "热点爆料哥")
    for n in range(40):
        fake.user(str(2000 + n), f"网友{n:02d}")
    for day in range(3, 0, -1):
        for i, uid in enumerate(("1001", "1002", "1005", "1004")):
            when = T0 - timedelta(days=day) + timedelta(hours=1 + i)
            fake.post(uid, when, QUIET[(day + i) % len(QUIET)])
    fake.post("1006", T0 - timedelta(days=1), "今天的晚霞真好看，随手一拍。")
    root = fake.post(
        "1001", EVENT, "【暴雨红色预警】武汉暴雨持续，多处道路积水严重，请市民减少出行。"
    )
    for n in range(25):
        fake.post(
            str(2000 + n),
            EVENT + timedelta(minutes=1 + n),
            f"武汉暴雨太大了，{['光谷', '汉口', '武昌', '青山', '汉阳'][n % 5]}积水到膝盖",
            repost_of=root,
        )
    fake.post("1005", EVENT + timedelta(minutes=30), "武汉暴雨期间出行请注意安全，遇险请拨打110。")
    fake.post("1006", EVENT + timedelta(minutes=40), RUMOUR)
    fake.post("1005", EVENT + timedelta(minutes=100), DEBUNK)


class Webhook:
    """Records every POST; the first one answers 500 (delivery retries it)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers["Content-Length"]))
                hook.attempts += 1
                status = 500 if hook.attempts == 1 else 200
                if status == 200:
                    hook.bodies.append(json.loads(data))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                box.messages.append(envelope.content)
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[SinaReplay, Webhook, Mailbox, Path]]:
    day = ScriptedDay(start=T0, hours=8)
    _world(day)
    fake, hook, mail = SinaReplay(day).__enter__(), Webhook(), Mailbox()
    (tmp_path / "token.txt").write_text("2.00FAKE\n", encoding="utf-8")
    config = tmp_path / "observe.toml"
    config.write_text(
        f"""every = "1h"
[collect]
platform = "weibo"
base_url = "{fake.base_url}"
token_file = "token.txt"
spool = "spool"
[rules.burst]
min_posts = 10
window_hours = 3
[rules.silence]
hours = 3
[rules.questions]
enabled = false
[deliver.webhook]
url = "{hook.url}"
retries = 2
[deliver.email]
host = "127.0.0.1"
port = {mail.port}
to = ["duty-officer@example.org"]
""",
        encoding="utf-8",
    )
    yield fake, hook, mail, config
    fake.__exit__()
    hook.close()
    mail.close()


def _cycles(store: Store, fake: SinaReplay, config: Path, hours: range) -> list[CycleResult]:
    cfg = load_config(config)
    out = []
    for h in hours:
        fake.clock = T0 + timedelta(hours=h)
        out.append(run_cycle(store, cfg, now=lambda: fake.clock, sleep=lambda s: None))
    return out


def test_an_event_raises_each_alert_once_at_its_cycle(
    tmp_path: Path, world: tuple[SinaReplay, Webhook, Mailbox, Path]
) -> None:
    fake, hook, mail, config = world
    with Store(tmp_path / "s.duckdb") as store:
        for uid in ("1001", "1002", "1005", "1004", "1006"):
            watch_add(store, uid)
        results = _cycles(store, fake, config, range(0, 8))
        assert all(not r.errors or r.errors == [] for r in results[1:]), [r.errors for r in results]
        opened = {r.cycle: [(a.kind, a.subject) for a in r.opened] for r in results}
        kinds = {r.cycle: sorted(a.kind for a in r.opened) for r in results}
        assert kinds == {
            1: [],
            2: [],
            3: ["burst"],
            4: ["rumour"],
            5: [],
            6: ["silence"],
            7: [],
            8: [],
        }, opened
        alerts = {a.kind: a for a in list_alerts(store)}
        burst = alerts["burst"].evidence
        assert burst["province"] == "湖北"
        assert "暴雨" in {burst["term"], *burst["related"]}
        assert burst["started_at"] == EVENT.isoformat()
        rumour = alerts["rumour"].evidence
        assert rumour["text"].startswith("紧急扩散") and rumour["author"] == "热点爆料哥"
        silence = alerts["silence"].evidence
        assert silence["name"] == "武汉公安" and silence["province"] == "湖北"
        # The burst was found again in later cycles, but fired once.
        assert alerts["burst"].last_cycle is not None and alerts["burst"].last_cycle > 3
    # Every alert reached the webhook exactly once (after one 500 and a retry) and the
    # mailbox exactly once.
    sent = [a["alert_id"] for body in hook.bodies for a in body["alerts"]]
    assert sorted(sent) == sorted(a.alert_id for a in alerts.values())
    assert hook.attempts == len(hook.bodies) + 1
    assert len(mail.messages) == 3
    text = b"".join(mail.messages).decode("utf-8", errors="replace")
    assert "duty-officer@example.org" in text


def test_a_killed_observer_resumes_without_duplicates(
    tmp_path: Path, world: tuple[SinaReplay, Webhook, Mailbox, Path]
) -> None:
    fake, hook, mail, config = world
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        for uid in ("1001", "1002", "1005", "1004", "1006"):
            watch_add(store, uid)
        _cycles(store, fake, config, range(0, 3))
    # A process that dies in the middle of the next cycle: its transaction never commits.
    with Store(path) as store:
        cfg = load_config(config)
        fake.clock = T0 + timedelta(hours=3)

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt

        import govweibo.observe.loop as loop

        original = loop.alerts_mod.record
        loop.alerts_mod.record = boom  # type: ignore[assignment]
        try:
            with pytest.raises(KeyboardInterrupt):
                run_cycle(store, cfg, now=lambda: fake.clock, sleep=lambda s: None)
        finally:
            loop.alerts_mod.record = original  # type: ignore[assignment]
    with Store(path) as store:
        results = _cycles(store, fake, config, range(3, 8))
        kinds = sorted(a.kind for r in results for a in r.opened)
        assert kinds == ["rumour", "silence"]
        assert results[0].cycle == 4  # the killed cycle left no trace
        total = store.con.execute("SELECT count(*) FROM alerts").fetchone()
        assert total == (3,)
        posts = store.con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone()
        assert posts is not None and posts[0] == posts[1] == len(fake.statuses)
    sent = [a["alert_id"] for body in hook.bodies for a in body["alerts"]]
    assert len(sent) == len(set(sent)) == 3
