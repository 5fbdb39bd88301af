"""Collection runs: once over the watch list, or every N minutes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from govweibo.collect import state
from govweibo.collect.base import CollectError, HttpClient, Page, Sleep, TokenError
from govweibo.collect.mastodon import MastodonCollector
from govweibo.collect.weibo import DEFAULT_BASE_URL, CollectSummary, Progress, WeiboCollector
from govweibo.collect.weibo_web import DEFAULT_WEB_BASE_URL, WebClient, WeiboWebCollector
from govweibo.errors import ConfigError
from govweibo.store import Store

DEFAULT_BASE_URLS: dict[str, str | None] = {
    "weibo": DEFAULT_BASE_URL,
    "weibo-web": DEFAULT_WEB_BASE_URL,
    "mastodon": None,
}
COLLECTORS: dict[str, type[WeiboCollector]] = {
    "weibo": WeiboCollector,
    "weibo-web": WeiboWebCollector,
    "mastodon": MastodonCollector,
}
# weibo-web is another way to the same accounts: it reads the 'weibo' watch list and
# stores platform 'weibo' (post ids are the same on both).
WATCH_PLATFORM = {"weibo-web": "weibo"}
logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def collect_once(
    store: Store,
    *,
    platform: str = "weibo",
    base_url: str | None = None,
    token: str = "",
    cookie: str = "",
    interval_s: float = 3.0,
    collect_dir: Path,
    max_pages: int = 5,
    count: int = 100,
    snapshot_pages: int = 1,
    mentions: bool = False,
    sleep: Sleep = time.sleep,
    now: Callable[[], datetime] = _utcnow,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> CollectSummary:
    """Collect every watch (accounts, keywords) of `platform` once.

    A refused token (or, on weibo-web, a cookie Weibo no longer accepts) stops the run;
    any other failure is noted and the next watch goes on. `token` is the API's access
    token; `cookie` and `interval_s` (seconds between requests, jittered) are weibo-web's.
    """
    if platform not in COLLECTORS:
        raise ConfigError(
            f"no collector for platform '{platform}' (known: {', '.join(COLLECTORS)})"
        )
    base_url = base_url or DEFAULT_BASE_URLS[platform]
    if not base_url:
        raise ConfigError(f"{platform}: pass --base-url, e.g. https://social.example/api/v1/")

    watched = WATCH_PLATFORM.get(platform, platform)

    def log(page: Page | None, endpoint: str, url: str, elapsed: int, outcome: str) -> None:
        status = page.status if page else None
        logger.debug("%s %s -> %s in %d ms %s", endpoint, url, status, elapsed, outcome)
        state.log_request(
            store,
            platform=watched,
            endpoint=endpoint,
            url=url,
            status=status,
            records=_count(page),
            elapsed_ms=elapsed,
            message=outcome if page is None or page.body is not None else "malformed body",
            when=page.fetched_at if page else now(),
        )

    client: HttpClient
    if platform == "weibo-web":
        client = WebClient(
            cookie=cookie,
            interval_s=interval_s,
            base_url=base_url,
            sleep=sleep,
            now=now,
            timeout=timeout,
            log=log,
        )
    else:
        client = HttpClient(
            platform=platform,
            base_url=base_url,
            token=token,
            sleep=sleep,
            now=now,
            timeout=timeout,
            log=log,
        )
    collector = COLLECTORS[platform](
        store,
        client,
        Path(collect_dir),
        now,
        max_pages=max_pages,
        count=count,
        snapshot_pages=snapshot_pages,
        progress=progress,
    )
    watches = state.watch_list(store, platform=watched)
    try:
        for watch in watches:
            try:
                if watch.kind == "keyword":
                    collector.collect_keyword(watch.value)
                else:
                    collector.collect_account(watch.value)
            except TokenError:
                raise
            except CollectError as exc:  # includes PermissionDenied: the next watch goes on
                logger.warning("%s %s: %s", watch.kind, watch.value, exc)
                # Named by its watch: the message alone may name only the endpoint.
                collector.summary.errors.append(f"{watch.kind} {watch.value}: {exc}")
        if mentions:
            try:
                collector.collect_mentions()
            except TokenError:
                raise
            except CollectError as exc:
                logger.warning("mentions: %s", exc)
                collector.summary.errors.append(str(exc))
    finally:
        collector.summary.requests = client.requests
    return collector.summary


def parse_interval(text: str) -> float:
    """'15m', '1h', '90s' or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise ConfigError(f"bad interval '{text}' (use e.g. 90s, 15m, 1h)")
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    seconds = float(m.group(1)) * factor
    if seconds <= 0:
        raise ConfigError("the interval must be positive")
    return seconds


def collect_every(
    store: Store,
    interval: float,
    *,
    max_runs: int | None = None,
    sleep: Sleep = time.sleep,
    on_run: Callable[[int, CollectSummary], None] | None = None,
    **kwargs: object,
) -> list[CollectSummary]:
    """collect_once every `interval` seconds; `max_runs` bounds the loop (None: forever)."""
    summaries: list[CollectSummary] = []
    run = 0
    while max_runs is None or run < max_runs:
        started = time.monotonic()
        summary = collect_once(store, sleep=sleep, **kwargs)  # type: ignore[arg-type]
        run += 1
        if on_run:
            on_run(run, summary)
        if max_runs is not None:  # an endless loop keeps no history
            summaries.append(summary)
        if max_runs is not None and run >= max_runs:
            break
        store.release()  # readers (serve, status) may open the store until the next run
        sleep(max(0.0, interval - (time.monotonic() - started)))
    return summaries


def _count(page: Page | None) -> int:
    from govweibo.collect.weibo import _items
    from govweibo.collect.weibo_web import web_items

    return len(_items(page.body) or web_items(page.body)) if page else 0
