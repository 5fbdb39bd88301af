"""HTTP client pieces: rate-limit headers, bounded retries, watch list rules."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from govweibo.collect import CollectError, HttpClient, watch_add, watch_list, watch_remove
from govweibo.collect.base import parse_reset
from govweibo.errors import ConfigError
from govweibo.store import Store

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_reset_header_forms() -> None:
    assert parse_reset("30", NOW) == datetime(2026, 11, 23, 8, 0, 30, tzinfo=UTC)
    assert parse_reset("1795420800", NOW) == datetime.fromtimestamp(1795420800, UTC)
    # Mastodon sends an ISO time.
    iso = parse_reset("2026-11-23T08:05:00.000Z", NOW)
    assert iso == datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    assert parse_reset("soon", NOW) is None and parse_reset(None, NOW) is None


def test_unreachable_server_gives_up_after_bounded_retries() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    client = HttpClient(
        platform="mastodon",
        base_url=f"http://127.0.0.1:{port}/api/v1",
        token="secret",
        sleep=sleeps.append,
        now=lambda: NOW,
        timeout=2,
        max_retries=2,
    )
    with pytest.raises(CollectError, match=r"accounts/1/statuses: HTTP 0 after 3 attempt"):
        client.get("accounts/1/statuses", {"limit": 40})
    assert client.requests == 3 and len(sleeps) == 2
    assert client.url("accounts/1/statuses", {"limit": 40, "max_id": None}) == (
        f"http://127.0.0.1:{port}/api/v1/accounts/1/statuses?limit=40"
    )


def test_watch_list_rules(store: Store) -> None:
    assert watch_add(store, "@平安北京") and not watch_add(store, "平安北京")
    assert watch_add(store, "辟谣", kind="keyword")
    assert [(w.kind, w.value) for w in watch_list(store)] == [
        ("account", "平安北京"),
        ("keyword", "辟谣"),
    ]
    with pytest.raises(ConfigError):
        watch_add(store, "x", platform="myspace")
    with pytest.raises(ConfigError):
        watch_add(store, "  ")
    assert watch_remove(store, "平安北京") and not watch_remove(store, "平安北京")
