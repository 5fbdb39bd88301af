"""Collector state in the store: the watch list, paging cursors and the request log.

The tables (watch_list, collect_cursors, collect_log) are created by the store's
schema migration to version 2 (`govweibo.store.schema.COLLECT_TABLES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govweibo.errors import ConfigError
from govweibo.store import Store

PLATFORMS = ("weibo", "mastodon")
KINDS = ("account", "keyword")


@dataclass
class Watch:
    platform: str
    kind: str
    value: str
    added_at: datetime


@dataclass
class Cursor:
    since_id: str | None = None
    max_id: str | None = None
    high_id: str | None = None
    next_url: str | None = None


def _check(platform: str, kind: str, value: str) -> str:
    if platform not in PLATFORMS:
        raise ConfigError(f"unknown platform '{platform}' (known: {', '.join(PLATFORMS)})")
    if kind not in KINDS:
        raise ConfigError(f"unknown watch kind '{kind}' (known: {', '.join(KINDS)})")
    # A keyword is a Weibo topic (#辟谣#) or a Mastodon hashtag (#Warntag): the '#'s are
    # how people write them, not part of the keyword.
    value = value.strip().lstrip("@") if kind == "account" else value.strip().strip("#").strip()
    if not value:
        raise ConfigError("a watch needs a non-empty value")
    return value


def watch_add(store: Store, value: str, *, platform: str = "weibo", kind: str = "account") -> bool:
    """Add a watch; False when it was already there."""
    value = _check(platform, kind, value)
    before = len(watch_list(store, platform=platform))
    store.con.execute(
        "INSERT INTO watch_list VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [platform, kind, value, datetime.now(UTC)],
    )
    return len(watch_list(store, platform=platform)) > before


def watch_remove(
    store: Store, value: str, *, platform: str = "weibo", kind: str = "account"
) -> bool:
    """Remove a watch and its paging cursors; False when there was no such watch."""
    value = _check(platform, kind, value)
    row = store.con.execute(
        "SELECT count(*) FROM watch_list WHERE platform = ? AND kind = ? AND value = ?",
        [platform, kind, value],
    ).fetchone()
    store.con.execute(
        "DELETE FROM watch_list WHERE platform = ? AND kind = ? AND value = ?",
        [platform, kind, value],
    )
    # The cursors' account: the watch itself, '#<keyword>' for a keyword.
    account = value if kind == "account" else f"#{value}"
    store.con.execute(
        "DELETE FROM collect_cursors WHERE platform = ? AND account = ?", [platform, account]
    )
    return bool(row and row[0])


def watch_list(store: Store, *, platform: str | None = None) -> list[Watch]:
    sql = "SELECT platform, kind, value, added_at FROM watch_list"
    params: list[Any] = []
    if platform:
        sql += " WHERE platform = ?"
        params.append(platform)
    rows = store.con.execute(sql + " ORDER BY platform, kind, value", params).fetchall()
    return [Watch(*r) for r in rows]


def get_cursor(store: Store, platform: str, account: str, endpoint: str) -> Cursor:
    row = store.con.execute(
        "SELECT since_id, max_id, high_id, next_url FROM collect_cursors "
        "WHERE platform = ? AND account = ? AND endpoint = ?",
        [platform, account, endpoint],
    ).fetchone()
    return Cursor(*row) if row else Cursor()


def save_cursor(
    store: Store, platform: str, account: str, endpoint: str, cursor: Cursor, now: datetime
) -> None:
    store.con.execute(
        "INSERT OR REPLACE INTO collect_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            platform,
            account,
            endpoint,
            cursor.since_id,
            cursor.max_id,
            cursor.high_id,
            cursor.next_url,
            now,
        ],
    )


def log_request(
    store: Store,
    *,
    platform: str,
    endpoint: str,
    url: str,
    status: int | None,
    records: int,
    elapsed_ms: int,
    message: str,
    when: datetime,
) -> None:
    """One row per HTTP request; `url` never carries the token (it travels in a header)."""
    store.con.execute(
        "INSERT INTO collect_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [when, platform, endpoint, url, status, records, elapsed_ms, message[:500]],
    )
