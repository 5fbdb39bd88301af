"""The Mastodon collector against the local fake server (same loop as Weibo)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_collect_weibo import FakeWeibo

import govweibo.ingest as ingest_mod
from govweibo.collect import collect_once, watch_add
from govweibo.ingest.mastodon import MastodonReader
from govweibo.store import Store

ROUTES = Path(__file__).parent / "fixtures" / "collect" / "mastodon_routes.json"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_mod, "READERS", [MastodonReader(), *ingest_mod.READERS])


def test_collect_mastodon_account(store: Store, tmp_path: Path) -> None:
    server = FakeWeibo(json.loads(ROUTES.read_text(encoding="utf-8"))["routes"])
    base = server.base_url.replace("/2/", "/api/v1/")
    try:
        watch_add(store, "@bundesregierung", platform="mastodon")
        sleeps: list[float] = []
        kw = dict(platform="mastodon", base_url=base, token="tok", collect_dir=tmp_path, count=2)
        s = collect_once(store, sleep=sleeps.append, now=lambda: T0, **kw)  # type: ignore[arg-type]
        assert (s.accounts, s.requests, s.rejected) == (1, 4, 0)
        assert sleeps == [300.0]  # Remaining 0 until the ISO reset time, 5 minutes later
        assert server.auth == {"Bearer tok"}
        platforms = store.arrow("SELECT DISTINCT platform FROM posts").column(0).to_pylist()
        assert platforms == ["mastodon:127.0.0.1"]
        n = store.con.execute("SELECT count(*) FROM posts").fetchone()[0]  # type: ignore[index]
        assert n == 5  # 3 own statuses, the boosted one, the citizen's question
        kinds = store.con.execute("SELECT count(*) FROM interactions").fetchone()
        assert kinds == (2,)
        seen = store.con.execute("SELECT count(*) FROM timeline_sightings").fetchone()
        assert seen == (2,)
        # Second run: the snapshot again, nothing older, no context (replies all held).
        before = sum(server.hits.values())
        s2 = collect_once(store, now=lambda: T0.replace(hour=9), sleep=sleeps.append, **kw)  # type: ignore[arg-type]
        assert s2.requests == sum(server.hits.values()) - before == 2
    finally:
        server.close()
