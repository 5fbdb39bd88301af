"""Collectors: keep watching accounts, fetch what is new, store it through ingest."""

from __future__ import annotations

from govweibo.collect.base import CollectError, HttpClient, TokenError, load_token
from govweibo.collect.run import collect_every, collect_once, parse_interval
from govweibo.collect.state import Watch, watch_add, watch_list, watch_remove
from govweibo.collect.weibo import DEFAULT_BASE_URL, CollectSummary

__all__ = [
    "DEFAULT_BASE_URL",
    "CollectError",
    "CollectSummary",
    "HttpClient",
    "TokenError",
    "Watch",
    "collect_every",
    "collect_once",
    "load_token",
    "parse_interval",
    "watch_add",
    "watch_list",
    "watch_remove",
]
