"""Keyword watches and Mastodon mentions against the local fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_collect_weibo import TOKEN, FakeWeibo

from govweibo.collect import collect_once, watch_add
from govweibo.collect.base import PermissionDenied
from govweibo.store import Store

DIR = Path(__file__).parent / "fixtures" / "collect"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
BBK = "109380000000000101"
LENA = "109500000000000077"
ME = "109412345678901234"


def _fake(name: str) -> Iterator[FakeWeibo]:
    server = FakeWeibo(json.loads((DIR / name).read_text(encoding="utf-8"))["routes"])
    yield server
    server.close()


@pytest.fixture
def weibo() -> Iterator[FakeWeibo]:
    yield from _fake("weibo_search_routes.json")


@pytest.fixture
def mastodon() -> Iterator[FakeWeibo]:
    yield from _fake("mastodon_tag_routes.json")


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.arrow(sql).to_pylist()


def test_weibo_keyword_pages_until_the_last_run(
    store: Store, weibo: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, "#辟谣#", kind="keyword")
    kw: dict[str, Any] = dict(
        base_url=weibo.base_url, token=TOKEN, collect_dir=tmp_path, count=3, sleep=lambda s: 0
    )
    s = collect_once(store, now=lambda: T0, **kw)
    assert (s.keywords, s.accounts, s.requests, s.stored, s.errors) == (1, 0, 2, 4, [])
    ids = [r["post_id"] for r in _rows(store, "SELECT post_id FROM posts ORDER BY 1")]
    assert ids == [f"41000000000001{n:02d}" for n in (2, 3, 4, 5)]
    cur = _rows(store, "SELECT account, endpoint, since_id, max_id FROM collect_cursors")
    assert cur == [
        {"account": "#辟谣", "endpoint": "search/topics.json", "since_id": "4100000000000105",
         "max_id": None}
    ]  # fmt: skip
    assert (tmp_path / "weibo" / "_辟谣").is_dir()
    # Next run: page 1 reaches what was seen, so page 2 is not asked for again.
    s2 = collect_once(store, now=lambda: T0.replace(hour=9), **kw)
    assert (s2.requests, s2.stored, s2.duplicate) == (1, 1, 2)
    assert weibo.hits["/2/search/topics.json?q=%E8%BE%9F%E8%B0%A3&count=3&page=2"] == 1


def test_weibo_search_without_permission_names_the_advanced_interface(
    store: Store, weibo: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, "谣言", kind="keyword")
    watch_add(store, "辟谣", kind="keyword")
    s = collect_once(
        store, base_url=weibo.base_url, token=TOKEN, collect_dir=tmp_path, count=3,
        sleep=lambda x: 0, now=lambda: T0,
    )  # fmt: skip
    # The refused watch is noted; the run goes on with the next one.
    assert s.keywords == 1 and len(s.errors) == 1
    assert "search/topics.json" in s.errors[0] and "error 10014" in s.errors[0]
    assert "advanced interface" in s.errors[0] and TOKEN not in s.errors[0]
    log = _rows(store, "SELECT status, message FROM collect_log WHERE status = 403")
    assert log == [{"status": 403, "message": "permission"}]


def test_permission_denied_is_not_a_token_error() -> None:
    from govweibo.collect import TokenError

    assert not issubclass(PermissionDenied, TokenError)


def test_mastodon_hashtag_timeline_without_a_token(
    store: Store, mastodon: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, "#Warntag", platform="mastodon", kind="keyword")
    base = mastodon.base_url.replace("/2/", "/api/v1/")
    kw: dict[str, Any] = dict(
        platform="mastodon", base_url=base, token="", collect_dir=tmp_path, count=2,
        sleep=lambda s: 0,
    )  # fmt: skip
    s = collect_once(store, now=lambda: T0, **kw)
    assert (s.platform, s.keywords, s.requests, s.rejected, s.errors) == (
        "mastodon", 1, 2, 0, []
    )  # fmt: skip
    assert mastodon.auth == {""}  # public endpoint: no Authorization header at all
    posts = _rows(store, "SELECT post_id, platform, parent_post_id FROM posts ORDER BY 1")
    assert [p["post_id"] for p in posts] == [
        "113600000000000280", "113600000000000290", "113600000000000300"
    ]  # fmt: skip
    assert {p["platform"] for p in posts} == {"mastodon:127.0.0.1"}
    cur = _rows(store, "SELECT since_id, max_id FROM collect_cursors WHERE account = '#Warntag'")
    assert cur == [{"since_id": "113600000000000300", "max_id": None}]
    s2 = collect_once(store, now=lambda: T0.replace(hour=9), **kw)
    assert (s2.requests, s2.stored) == (1, 1)


def test_mastodon_mentions_become_interactions(
    store: Store, mastodon: FakeWeibo, tmp_path: Path
) -> None:
    watch_add(store, "Warntag", platform="mastodon", kind="keyword")
    base = mastodon.base_url.replace("/2/", "/api/v1/")
    s = collect_once(
        store, platform="mastodon", base_url=base, token="tok", collect_dir=tmp_path, count=2,
        mentions=True, sleep=lambda x: 0, now=lambda: T0,
    )  # fmt: skip
    assert s.errors == [] and mastodon.auth == {"Bearer tok"}
    rows = _rows(
        store,
        "SELECT interaction_id, kind, actor_id, post_id, target_account_id, text "
        "FROM interactions ORDER BY interaction_id",
    )
    assert rows == [
        # The BBK's answer to Lena: a reply row; its mention of Lena is that reply's address.
        {"interaction_id": "113600000000000280", "kind": "reply", "actor_id": BBK,
         "post_id": "113600000000000290", "target_account_id": LENA,
         "text": rows[0]["text"]},
        {"interaction_id": f"113600000000000290:mention:{BBK}", "kind": "mention",
         "actor_id": LENA, "post_id": "113600000000000290", "target_account_id": BBK,
         "text": None},
        # From the notifications (--mentions): a status naming the token's owner.
        {"interaction_id": f"113600000000000295:mention:{ME}", "kind": "mention",
         "actor_id": LENA, "post_id": "113600000000000295", "target_account_id": ME,
         "text": None},
        {"interaction_id": f"113600000000000300:mention:{ME}", "kind": "mention",
         "actor_id": BBK, "post_id": "113600000000000300", "target_account_id": ME,
         "text": None},
    ]  # fmt: skip
    assert rows[0]["text"].startswith("@lena Danke")
    # The follow notification carries no status and stores nothing.
    n = store.con.execute("SELECT count(*) FROM posts").fetchone()
    assert n == (4,)
    # The BBK's profile: a verified rel="me" link to its bund.de site, links kept in text.
    acc = _rows(
        store,
        f"SELECT verified, verified_reason, description FROM accounts WHERE account_id = '{BBK}'",
    )[0]
    assert acc["verified"] is True
    assert acc["verified_reason"] == "mastodon:verified-link https://www.bbk.bund.de"
    assert "Impressum (https://www.bbk.bund.de/DE/Service/Impressum" in acc["description"]
    assert "Website: https://www.bbk.bund.de" in acc["description"]


def test_mastodon_pages_are_at_most_40(store: Store, tmp_path: Path) -> None:
    # Asking for 100 and getting Mastodon's 40 must not look like a last page.
    from govweibo.collect.base import HttpClient
    from govweibo.collect.mastodon import MastodonCollector

    client = HttpClient(platform="mastodon", base_url="http://127.0.0.1:9/api/v1/", token="")
    c = MastodonCollector(store, client, tmp_path, lambda: T0, count=100)
    assert c.count == 40 and c.summary.platform == "mastodon"


def test_mastodon_mentions_without_a_token_is_noted(
    store: Store, mastodon: FakeWeibo, tmp_path: Path
) -> None:
    base = mastodon.base_url.replace("/2/", "/api/v1/")
    s = collect_once(
        store, platform="mastodon", base_url=base, token="", collect_dir=tmp_path,
        mentions=True, sleep=lambda x: 0, now=lambda: T0,
    )  # fmt: skip
    assert s.errors == ["mastodon --mentions reads notifications: it needs a token"]
    assert s.requests == 0


def test_keyword_watches_drop_hashes_and_take_their_cursor_when_removed(store: Store) -> None:
    from govweibo.collect import watch_list, watch_remove
    from govweibo.collect.state import Cursor, save_cursor

    assert watch_add(store, "#辟谣#", kind="keyword")
    assert not watch_add(store, "辟谣", kind="keyword")  # the same topic
    assert [(w.kind, w.value) for w in watch_list(store)] == [("keyword", "辟谣")]
    save_cursor(store, "weibo", "#辟谣", "search/topics.json", Cursor("41"), T0)
    assert watch_remove(store, "#辟谣", kind="keyword")
    assert store.con.execute("SELECT count(*) FROM collect_cursors").fetchone() == (0,)
