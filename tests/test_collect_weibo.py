"""The Weibo collector against a local fake server replaying recorded responses."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from govweibo.analyses.deletions import deleted_posts
from govweibo.collect import TokenError, collect_once, watch_add
from govweibo.store import Store

ROUTES = Path(__file__).parent / "fixtures" / "collect" / "weibo_routes.json"
A = "5000000001"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOKEN = "2.00SECRETtokenVALUE"


class FakeWeibo:
    """Replays routes by path + exact query; each route's responses play in order."""

    def __init__(self, routes: list[dict[str, Any]]) -> None:
        self.routes = routes
        self.played: Counter[int] = Counter()
        self.hits: Counter[str] = Counter()
        self.auth: set[str] = set()
        self.cookies: set[str] = set()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/2/"

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        with self.lock:
            self.hits[req.path] += 1
            self.auth.add(req.headers.get("Authorization", ""))
            self.cookies.add(req.headers.get("Cookie", ""))
            index = next(
                (
                    i
                    for i, r in enumerate(self.routes)
                    if r["path"] == url.path and r["query"] == query
                ),
                None,
            )
            if index is None:
                status, headers, data = 404, {}, b'{"error": "no such route"}'
            else:
                responses = self.routes[index]["responses"]
                resp = responses[min(self.played[index], len(responses) - 1)]
                self.played[index] += 1
                status, headers = resp["status"], resp["headers"]
                data = resp["raw"].encode() if "raw" in resp else json.dumps(resp["body"]).encode()
        req.send_response(status)
        for k, v in headers.items():
            req.send_header(k, v)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _routes(first_snapshot_only: bool = False) -> list[dict[str, Any]]:
    routes = json.loads(ROUTES.read_text(encoding="utf-8"))["routes"]
    if first_snapshot_only:
        for r in routes:
            if r["query"].get("page") == "1":
                r["responses"] = r["responses"][:1]
    return routes


@pytest.fixture
def fake() -> Iterator[FakeWeibo]:
    server = FakeWeibo(_routes())
    yield server
    server.close()


def _run(store: Store, server: FakeWeibo, tmp: Path, when: datetime, **kw: Any) -> Any:
    return collect_once(
        store,
        base_url=server.base_url,
        token=TOKEN,
        collect_dir=tmp / "spool",
        max_pages=kw.pop("max_pages", 5),
        count=3,
        sleep=kw.pop("sleep", lambda s: None),
        now=lambda: when,
        **kw,
    )


def _counts(store: Store) -> dict[str, int]:
    return {
        t: int(store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
        for t in ("posts", "interactions", "accounts", "quarantine")
    }


def _tl(extra: str) -> str:
    return f"/2/statuses/user_timeline.json?{extra}"


def test_first_run_stores_pages_backs_off_and_quarantines(
    store: Store, fake: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, A)
    sleeps: list[float] = []
    summary = _run(store, fake, tmp_path, T0, sleep=sleeps.append)
    posts = store.con.execute("SELECT post_id FROM posts ORDER BY post_id").fetchall()
    assert [p[0] for p in posts] == [str(4100000000000000 + n) for n in range(1, 7)]
    kinds = store.con.execute("SELECT kind, count(*) FROM interactions GROUP BY ALL").fetchall()
    assert sorted(kinds) == [("comment", 1), ("reply", 1)]
    obs = store.con.execute(
        "SELECT followers FROM account_observations WHERE account_id = ?", [A]
    ).fetchall()
    assert obs == [(1250311,)]
    # The truncated repost page is quarantined; the run went on.
    q = store.con.execute("SELECT reason FROM quarantine").fetchall()
    assert len(q) == 1 and summary.rejected == 1
    # users/show said Remaining 0 / Reset 7 s: wait; the 429 said Reset 30 s: wait again.
    assert len(sleeps) == 3 and 6.9 <= sleeps[0] <= 7.1 and 30 <= sleeps[1] <= 31
    assert 0 < sleeps[2] < 6  # the 500 on comments: a short back-off with jitter
    assert fake.hits[_tl(f"uid={A}&max_id=4100000000000003&count=3")] == 2  # 429, then 200
    assert fake.hits["/2/comments/show.json?id=4100000000000006&count=3"] == 2  # 500, then 200
    assert summary.requests == sum(fake.hits.values()) == 8
    # Every page went through the spool; the token never reached a URL or the log.
    assert len(list((tmp_path / "spool" / "weibo" / A).glob("weibo-*.jsonl"))) == 6
    log = store.con.execute("SELECT url, status FROM collect_log").fetchall()
    assert len(log) == 8 and (TOKEN not in " ".join(u for u, _ in log))
    assert fake.auth == {f"OAuth2 {TOKEN}"}
    cursor = store.con.execute(
        "SELECT since_id, max_id FROM collect_cursors WHERE endpoint = ?",
        ["statuses/user_timeline.json"],
    ).fetchone()
    assert cursor == ("4100000000000006", None)
    # The malformed repost page left its cursor unadvanced: the next run asks again.
    reposts = store.con.execute(
        "SELECT since_id, max_id FROM collect_cursors WHERE endpoint LIKE 'statuses/repost%'"
    ).fetchall()
    assert reposts == [(None, None)]
    assert any("malformed page" in e for e in summary.errors)


def test_second_run_fetches_nothing_twice_and_sees_the_deletion(
    store: Store, fake: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, A)
    _run(store, fake, tmp_path, T0)
    first = Counter(fake.hits)
    _run(store, fake, tmp_path, T0 + timedelta(hours=1))
    second = fake.hits - first
    # Only the profile and the timeline snapshot are asked again, by design.
    assert set(second) == {f"/2/users/show.json?uid={A}", _tl(f"uid={A}&count=3&page=1")}
    ids = {r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()}
    assert "4100000000000007" in ids and len(ids) == 7
    gone = deleted_posts(store)
    assert gone.column("post_id").to_pylist() == ["4100000000000005"]
    cursor = store.con.execute(
        "SELECT since_id FROM collect_cursors WHERE endpoint = ?", ["statuses/user_timeline.json"]
    ).fetchone()
    assert cursor == ("4100000000000007",)


class Stop(Exception):
    pass


def test_interrupted_run_resumes_without_gaps_or_refetching(tmp_path: Path) -> None:
    clean_server, server = FakeWeibo(_routes(True)), FakeWeibo(_routes(True))
    try:
        with Store(tmp_path / "clean.duckdb") as clean:
            watch_add(clean, A)
            _run(clean, clean_server, tmp_path / "c", T0)
            expected = _counts(clean)
        with Store(tmp_path / "killed.duckdb") as st:
            watch_add(st, A)
            pages: list[str] = []

            def stop_after_first_timeline_page(event: str, detail: str) -> None:
                pages.append(detail)
                if "user_timeline" in detail and len(pages) == 3:
                    raise Stop

            with pytest.raises(Stop):
                _run(st, server, tmp_path / "k", T0, progress=stop_after_first_timeline_page)
            assert "comments" not in " ".join(server.hits)
            _run(st, server, tmp_path / "k", T0 + timedelta(minutes=5))
            assert _counts(st) == expected
        paged = [u for u in server.hits if "max_id" in u or "comments" in u or "repost" in u]
        assert all(server.hits[u] == clean_server.hits[u] for u in paged)
    finally:
        clean_server.close()
        server.close()


def test_refused_token_names_the_endpoint(store: Store, fake: FakeWeibo, tmp_path: Path) -> None:
    watch_add(store, "5000000099")
    with pytest.raises(TokenError, match=r"users/show.json.*21327") as info:
        _run(store, fake, tmp_path, T0)
    assert TOKEN not in str(info.value)
    status = store.con.execute("SELECT status, message FROM collect_log").fetchall()
    assert status == [(400, "token")]


def test_max_pages_leaves_a_cursor_the_next_run_continues(
    store: Store, fake: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, A)
    _run(store, fake, tmp_path, T0, max_pages=1)
    cursor = store.con.execute(
        "SELECT since_id, max_id, high_id FROM collect_cursors WHERE endpoint = ?",
        ["statuses/user_timeline.json"],
    ).fetchone()
    assert cursor == (None, "4100000000000000", "4100000000000006")
    _run(store, fake, tmp_path, T0 + timedelta(hours=1))
    assert store.con.execute("SELECT count(*) FROM posts").fetchone() == (7,)
    assert fake.hits[_tl(f"uid={A}&max_id=4100000000000000&count=3")] == 1
    assert fake.hits[_tl(f"uid={A}&max_id=4100000000000003&count=3")] == 2  # 429, then 200


KILLED = """
import os, sys
from datetime import datetime
from govweibo.collect import collect_once
from govweibo.store import Store

ticks = []
def die(event, detail):
    ticks.append(detail)
    if len(ticks) == 3:
        os._exit(9)  # no clean-up at all, as with kill -9

with Store(sys.argv[1]) as store:
    collect_once(store, base_url=sys.argv[2], token="t", collect_dir=sys.argv[3], count=3,
                 sleep=lambda s: None, now=lambda: datetime.fromisoformat(sys.argv[4]),
                 progress=die)
"""


def test_killed_process_resumes(tmp_path: Path) -> None:
    import subprocess
    import sys

    server = FakeWeibo(_routes(True))
    try:
        db = tmp_path / "k.duckdb"
        with Store(db) as st:
            watch_add(st, A)
        args = [str(db), server.base_url, str(tmp_path / "spool"), T0.isoformat()]
        proc = subprocess.run([sys.executable, "-c", KILLED, *args], timeout=120)
        assert proc.returncode == 9
        assert not any("comments" in u for u in server.hits)
        with Store(db) as st:
            assert st.con.execute("SELECT count(*) FROM posts").fetchone() == (6,)
            _run(st, server, tmp_path, T0 + timedelta(minutes=5))
            assert _counts(st) == {"posts": 6, "interactions": 2, "accounts": 2, "quarantine": 1}
        paged = [u for u in server.hits if "max_id" in u]
        assert [server.hits[u] for u in sorted(paged)] == [1, 2]  # the 429 was retried once
    finally:
        server.close()
