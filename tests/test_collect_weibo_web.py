"""The weibo.com web collector against the project's fake server (never the real site).

The responses are written from the shapes nghuyong/WeiboSpider's weibo.com version reads
(`weibospider/spiders/tweet_by_user_id.py`, commit 1a3d3d7: `data.list`, `isLongText`,
`mblogid`, `ajax/statuses/longtext`) and from the front end's own calls to
`ajax/profile/info`, `ajax/statuses/buildComments` (`data`, `max_id`) and
`ajax/statuses/repostTimeline` (`data`, `max_page`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_collect_weibo import FakeWeibo

from govweibo.collect import collect_once, watch_add
from govweibo.collect.weibo_web import (
    COOKIE_ENV,
    LoginRequired,
    WebClient,
    load_cookie,
    web_items,
)
from govweibo.errors import ConfigError
from govweibo.ingest.sina_ids import id_to_mid
from govweibo.store import Store

COOKIE = "SUB=_2A25SECRETcookieVALUE; SUBP=0033WrSXqPxfM"
UID = "1288915263"
T0 = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
LONG_TEXT = "防诈骗提醒：陌生来电自称公检法要求转账的，一律是诈骗。请牢记三不一多。"
P1, P2, P3, PIN = "5240000000000003", "5240000000000002", "5240000000000001", "4900000000000000"


def _user(**extra: Any) -> dict[str, Any]:
    return {
        "id": int(UID),
        "idstr": UID,
        "screen_name": "平安示范市",
        "verified": True,
        "verified_type": 1,
        **extra,
    }


def _mblog(pid: str, text: str, *, comments: int = 0, reposts: int = 0, **extra: Any) -> dict:
    return {
        "visible": {"type": 0, "list_id": 0},
        "created_at": "Tue Dec 08 09:30:00 +0800 2026",
        "id": int(pid),
        "idstr": pid,
        "mid": pid,
        "mblogid": id_to_mid(pid),
        "user": _user(),
        "text": f"<p>{text}</p>",
        "text_raw": text,
        "source": "微博 weibo.com",
        "pic_ids": [],
        "pic_num": 0,
        "reposts_count": reposts,
        "comments_count": comments,
        "attitudes_count": 5,
        "isLongText": False,
        "mblogtype": 0,
        **extra,
    }


def _ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"status": 200, "headers": {}, "body": {"ok": 1, "data": data, **extra}}


def _route(path: str, query: dict[str, str], *responses: dict[str, Any]) -> dict[str, Any]:
    return {"path": path, "query": query, "responses": list(responses)}


def _timeline(page: int) -> dict[str, str]:
    return {"uid": UID, "page": str(page), "feature": "0"}


def _comments(pid: str, max_id: str = "0") -> dict[str, str]:
    return {
        "flow": "1",
        "is_reload": "1",
        "id": pid,
        "is_show_bulletin": "2",
        "is_mix": "0",
        "max_id": max_id,
        "count": "20",
        "uid": UID,
        "fetch_level": "0",
    }


def _routes() -> list[dict[str, Any]]:
    profile = {
        **_user(),
        "followers_count": 1250311,
        "friends_count": 320,
        "statuses_count": 40210,
        "verified_reason": "示范市公安局官方微博",
        "description": "示范市公安局",
        "location": "北京 东城区",
        "gender": "m",
    }
    pinned = _mblog(PIN, "置顶：报警请拨110", isTop=1, mblogtype=2)
    page1 = [pinned, _mblog(P1, "今日路况提示", comments=1)]
    page2 = [
        _mblog(P2, "暴雨蓝色预警", reposts=1),
        _mblog(P3, "防诈骗提醒：陌生来电​", isLongText=True),
    ]
    comment = {
        "created_at": "Tue Dec 08 10:00:00 +0800 2026",
        "id": 5240000000100001,
        "idstr": "5240000000100001",
        "rootid": 5240000000100001,
        "text": "请问哪条路封了？",
        "text_raw": "请问哪条路封了？",
        "like_counts": 2,
        "source": "来自北京",
        "user": {"id": 7000000001, "idstr": "7000000001", "screen_name": "路人甲"},
    }
    repost = _mblog("5240000000200001", "转发微博", retweeted_status=page2[0])
    repost["user"] = {"id": 7000000002, "idstr": "7000000002", "screen_name": "路人乙"}
    return [
        _route("/ajax/profile/info", {"uid": UID}, _ok({"user": profile})),
        _route(
            "/ajax/statuses/mymblog",
            _timeline(1),
            # Weibo slows a crawler with 418 before it answers.
            {"status": 418, "headers": {}, "raw": "I'm a teapot"},
            _ok({"since_id": "x", "list": page1, "total": 3}),
        ),
        _route(
            "/ajax/statuses/mymblog",
            _timeline(2),
            # A body cut short in transit, then the whole one.
            {"status": 200, "headers": {}, "raw": '{"ok": 1, "data": {"list": [{"id": 52'},
            _ok({"since_id": "y", "list": page2, "total": 3}),
        ),
        _route("/ajax/statuses/mymblog", _timeline(3), _ok({"since_id": "", "list": []})),
        _route(
            "/ajax/statuses/longtext",
            {"id": id_to_mid(P3)},
            _ok({"longTextContent": LONG_TEXT, "url_struct": [], "topic_struct": []}),
        ),
        _route(
            "/ajax/statuses/buildComments",
            _comments(P1),
            _ok([comment], max_id=0, total_number=1),
        ),
        _route(
            "/ajax/statuses/repostTimeline",
            {"id": P2, "page": "1", "moduleID": "feed", "count": "10"},
            _ok([repost], total_number=1, max_page=1),
        ),
    ]


@pytest.fixture
def fake() -> Iterator[FakeWeibo]:
    server = FakeWeibo(_routes())
    yield server
    server.close()


def _client(server: FakeWeibo, sleeps: list[float], **kw: Any) -> WebClient:
    return WebClient(
        cookie=kw.pop("cookie", COOKIE),
        interval_s=kw.pop("interval_s", 3.0),
        base_url=server.base_url.replace("/2/", "/"),
        sleep=sleeps.append,
        now=lambda: T0,
        **kw,
    )


def test_load_cookie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COOKIE_ENV, f"  {COOKIE}\n")
    assert load_cookie() == COOKIE
    path = tmp_path / "cookie.txt"
    path.write_text(f"Cookie: {COOKIE}\n", encoding="utf-8")
    assert load_cookie(path) == COOKIE
    monkeypatch.delenv(COOKIE_ENV)
    assert load_cookie() == ""
    with pytest.raises(ConfigError, match="cannot read cookie file"):
        load_cookie(tmp_path / "missing.txt")


def test_client_paces_backs_off_and_retries_a_cut_body(fake: FakeWeibo) -> None:
    sleeps: list[float] = []
    client = _client(fake, sleeps)
    page = client.get("ajax/statuses/mymblog", {"uid": UID, "page": 1, "feature": 0})
    assert [x["idstr"] for x in web_items(page.body)] == [PIN, P1]
    # The 418 backed off (30 s base, jittered), with no pacing before the first request.
    assert len(sleeps) == 1 and 15 <= sleeps[0] <= 45
    page = client.get("ajax/statuses/mymblog", {"uid": UID, "page": 2, "feature": 0})
    assert len(web_items(page.body)) == 2
    # Then a pacing wait (3 s ±50 %) before the next request and a back-off for the cut
    # body (which is the pause before its retry).
    assert len(sleeps) == 3 and 1.0 <= sleeps[1] <= 4.5 and 15 <= sleeps[2] <= 45
    assert fake.cookies == {COOKIE}


def test_client_reports_a_login_redirect_without_the_cookie(fake: FakeWeibo) -> None:
    fake.routes.append(
        _route(
            "/ajax/statuses/mymblog",
            {"uid": "42", "page": "1", "feature": "0"},
            {
                "status": 302,
                "headers": {"Location": "https://passport.weibo.com/visitor/visitor?a=enter"},
                "raw": "",
            },
        )
    )
    fake.routes.append(
        _route("/ajax/profile/info", {"uid": "42"}, _ok(None) | {"body": {"ok": -100}})
    )
    client = _client(fake, [])
    with pytest.raises(LoginRequired, match="cookie is missing or expired") as exc:
        client.get("ajax/statuses/mymblog", {"uid": "42", "page": 1, "feature": 0})
    assert COOKIE not in str(exc.value)
    with pytest.raises(LoginRequired):
        client.get("ajax/profile/info", {"uid": "42"})


def test_client_gives_up_after_repeated_slow_downs(fake: FakeWeibo) -> None:
    fake.routes.append(
        _route("/ajax/profile/info", {"uid": "43"}, {"status": 429, "headers": {}, "raw": ""})
    )
    sleeps: list[float] = []
    client = _client(fake, sleeps, max_retries=2)
    with pytest.raises(Exception, match="HTTP 429 after 3 attempts"):
        client.get("ajax/profile/info", {"uid": "43"})
    assert len([s for s in sleeps if s >= 15]) == 2  # two back-offs, then it gave up


def _collect(store: Store, server: FakeWeibo, tmp: Path, when: datetime, **kw: Any) -> Any:
    return collect_once(
        store,
        platform="weibo-web",
        base_url=server.base_url.replace("/2/", "/"),
        cookie=COOKIE,
        collect_dir=tmp / "spool",
        sleep=kw.pop("sleep", lambda s: None),
        now=lambda: when,
        **kw,
    )


def test_collects_a_timeline_its_comments_and_reposts(
    store: Store, fake: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, UID)
    summary = _collect(store, fake, tmp_path, T0)
    assert summary.errors == [] and summary.accounts == 1
    posts = dict(store.con.execute("SELECT post_id, author_id FROM posts").fetchall())
    assert set(posts) == {PIN, P1, P2, P3, "5240000000200001"}
    assert posts[P1] == UID and posts["5240000000200001"] == "7000000002"
    retweeted = store.con.execute(
        "SELECT retweeted_post_id FROM posts WHERE post_id = '5240000000200001'"
    ).fetchone()
    assert retweeted == (P2,)
    # The truncated post's whole text, fetched before its page was stored.
    text = store.con.execute("SELECT text, is_truncated FROM posts WHERE post_id = ?", [P3])
    assert text.fetchone() == (LONG_TEXT, False)
    comments = store.con.execute("SELECT post_id, actor_id, text FROM interactions").fetchall()
    assert comments == [(P1, "7000000001", "请问哪条路封了？")]
    obs = store.con.execute(
        "SELECT followers FROM account_observations WHERE account_id = ?", [UID]
    ).fetchall()
    assert obs == [(1250311,)]
    # The timeline cursor is complete at the newest non-pinned post.
    cursor = store.con.execute(
        "SELECT since_id, next_url FROM collect_cursors WHERE endpoint = 'ajax/statuses/mymblog'"
    ).fetchone()
    assert cursor == (P1, None)
    # The cookie went in the header only: never into the log, the spool or the URLs.
    log = store.con.execute("SELECT url FROM collect_log").fetchall()
    spooled = " ".join(Path(p).read_text(encoding="utf-8") for p in summary.spooled)
    assert "SECRET" not in " ".join(u for (u,) in log) + spooled
    assert fake.cookies == {COOKIE}


def test_second_run_stops_at_what_it_has(store: Store, fake: FakeWeibo, tmp_path: Path) -> None:
    watch_add(store, UID)
    _collect(store, fake, tmp_path, T0)
    before = dict(fake.hits)
    summary = _collect(store, fake, tmp_path, T0 + timedelta(hours=1))
    asked = {k: v - before.get(k, 0) for k, v in fake.hits.items() if v > before.get(k, 0)}
    # The profile and page 1 (which reaches the newest post held, the pinned one aside);
    # comments and reposts are not asked again, their counts have not grown.
    assert sorted(asked) == [
        f"/ajax/profile/info?uid={UID}",
        f"/ajax/statuses/mymblog?uid={UID}&page=1&feature=0",
    ]
    assert summary.stored == 0 or summary.duplicate > 0


def test_a_cut_timeline_pass_resumes_at_its_page(
    store: Store, fake: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, UID)
    _collect(store, fake, tmp_path, T0, max_pages=2)
    cursor = store.con.execute(
        "SELECT since_id, high_id, next_url FROM collect_cursors "
        "WHERE endpoint = 'ajax/statuses/mymblog'"
    ).fetchone()
    assert cursor == (None, P1, "3")
    before = dict(fake.hits)
    _collect(store, fake, tmp_path, T0 + timedelta(hours=1), max_pages=2)
    asked = sorted(k for k, v in fake.hits.items() if v > before.get(k, 0))
    assert f"/ajax/statuses/mymblog?uid={UID}&page=3&feature=0" in asked
    assert f"/ajax/statuses/mymblog?uid={UID}&page=2&feature=0" not in asked
    cursor = store.con.execute(
        "SELECT since_id, next_url FROM collect_cursors WHERE endpoint = 'ajax/statuses/mymblog'"
    ).fetchone()
    assert cursor == (P1, None)


def test_a_login_redirect_stops_the_run_with_a_clear_error(store: Store, tmp_path: Path) -> None:
    server = FakeWeibo(
        [
            _route(
                "/ajax/profile/info",
                {"uid": UID},
                {"status": 302, "headers": {"Location": "https://passport.weibo.com/"}, "raw": ""},
            )
        ]
    )
    try:
        watch_add(store, UID)
        with pytest.raises(LoginRequired, match="GOVWEIBO_WEIBO_COOKIE"):
            _collect(store, server, tmp_path, T0)
    finally:
        server.close()


def test_spool_is_valid_json_lines(store: Store, fake: FakeWeibo, tmp_path: Path) -> None:
    watch_add(store, UID)
    summary = _collect(store, fake, tmp_path, T0)
    for path in summary.spooled:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            assert isinstance(json.loads(line), dict)


def test_cli_collects_with_a_cookie_file(
    tmp_path: Path, fake: FakeWeibo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from govweibo.cli import main

    monkeypatch.setattr("govweibo.collect.weibo_web.WebClient._backoff", lambda *a: 0.0)
    monkeypatch.setattr("govweibo.collect.weibo_web.WebClient._pace", lambda self: None)
    cookie = tmp_path / "cookie.txt"
    cookie.write_text(f"Cookie: {COOKIE}\n", encoding="utf-8")
    db = ["--db", str(tmp_path / "s.duckdb")]
    runner = CliRunner()
    assert runner.invoke(main, [*db, "watch", "add", UID]).exit_code == 0
    base = fake.base_url.replace("/2/", "/")
    args = ["collect", "--platform", "weibo-web", "--base-url", base]
    result = runner.invoke(main, [*db, *args, "--cookie-file", str(cookie)])
    assert result.exit_code == 0, result.output
    assert "1 accounts" in result.output and "SECRET" not in result.output
    assert fake.cookies == {COOKIE}
    # Without a cookie Weibo's login answer is one readable line and exit 1.
    fake.routes.insert(
        0, _route("/ajax/profile/info", {"uid": UID}, _ok(None) | {"body": {"ok": -100}})
    )
    result = runner.invoke(main, [*db, *args], env={COOKIE_ENV: ""})
    assert result.exit_code == 1 and "cookie is missing or expired" in result.output
