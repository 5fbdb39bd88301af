"""Commands that keep watching accounts: watch add/remove/list, collect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govweibo import collect as collect_mod
from govweibo.cli.common import (
    EXIT_PARTIAL,
    Section,
    console,
    emit,
    open_store,
    output_options,
    settings,
)
from govweibo.collect.run import COLLECTORS
from govweibo.collect.state import PLATFORMS
from govweibo.collect.weibo import CollectSummary
from govweibo.collect.weibo_web import load_cookie

_platform = click.option(
    "--platform", type=click.Choice(PLATFORMS), default="weibo", show_default=True
)
_kind = click.option(
    "--keyword",
    "kind",
    flag_value="keyword",
    help="Watch a keyword (Weibo: a #topic#, Mastodon: a hashtag) instead of an account.",
)


@click.group("watch")
def watch_cmd() -> None:
    """The watch list: accounts (uid or screen name) and keywords to collect."""


@watch_cmd.command("add")
@click.argument("values", nargs=-1, required=True)
@_platform
@_kind
@click.pass_context
def watch_add_cmd(ctx: click.Context, values: tuple[str, ...], platform: str, kind: str) -> None:
    """Add accounts (or, with --keyword, keywords) to the watch list."""
    kind = kind or "account"
    with open_store(ctx) as store:
        for value in values:
            added = collect_mod.watch_add(store, value, platform=platform, kind=kind)
            console.print(f"{'added' if added else 'already watched'}: {platform} {kind} {value}")


@watch_cmd.command("remove")
@click.argument("values", nargs=-1, required=True)
@_platform
@_kind
@click.pass_context
def watch_remove_cmd(ctx: click.Context, values: tuple[str, ...], platform: str, kind: str) -> None:
    """Remove watches (an account's paging cursors go with it)."""
    kind = kind or "account"
    with open_store(ctx) as store:
        for value in values:
            gone = collect_mod.watch_remove(store, value, platform=platform, kind=kind)
            console.print(f"{'removed' if gone else 'not watched'}: {platform} {kind} {value}")


@watch_cmd.command("list")
@click.option("--platform", type=click.Choice(PLATFORMS), default=None)
@output_options
@click.pass_context
def watch_list_cmd(ctx: click.Context, platform: str | None) -> None:
    """List the watch list."""
    with open_store(ctx) as store:
        rows = collect_mod.watch_list(store, platform=platform)
    emit(
        Section(
            "watches",
            f"Watch list ({len(rows)})",
            [
                {"platform": w.platform, "kind": w.kind, "value": w.value, "added_at": w.added_at}
                for w in rows
            ],
        )
    )


@click.command("collect")
@click.option("--once", "mode", flag_value="once", default=True, help="One run (the default).")
@click.option("--every", default=None, help="Run again every interval, e.g. 15m, 1h.")
@click.option("--max-runs", type=int, default=None, help="With --every: stop after N runs.")
@click.option(
    "--platform",
    type=click.Choice(list(COLLECTORS)),
    default="weibo",
    show_default=True,
    help="weibo: Sina's open API (token); weibo-web: weibo.com's web endpoints (your "
    "browser cookie), the same watch list; mastodon.",
)
@click.option("--base-url", default=None, help="API base URL (default: the platform's).")
@click.option("--max-pages", type=int, default=5, show_default=True, help="Pages per endpoint.")
@click.option("--count", type=int, default=100, show_default=True, help="Records per page.")
@click.option(
    "--snapshot-pages", type=int, default=1, show_default=True, help="Timeline pages re-read."
)
@click.option("--mentions", is_flag=True, help="Also collect posts mentioning the token's owner.")
@click.option(
    "--collect-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Spool folder for fetched pages (default: 'collect' beside the store).",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File holding the access token (else GOVWEIBO_<PLATFORM>_TOKEN; Mastodon may go "
    "without one).",
)
@click.option(
    "--cookie-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="weibo-web: file holding your logged-in weibo.com cookie (else "
    "GOVWEIBO_WEIBO_COOKIE); never logged.",
)
@click.pass_context
def collect_cmd(
    ctx: click.Context,
    mode: str,
    every: str | None,
    max_runs: int | None,
    platform: str,
    base_url: str | None,
    max_pages: int,
    count: int,
    snapshot_pages: int,
    mentions: bool,
    collect_dir: Path | None,
    token_file: Path | None,
    cookie_file: Path | None,
) -> None:
    """Fetch what is new for every watched account and keyword; store it through ingest.

    Exits 3 when a watch failed (the others go on; each failure is printed).
    """
    web = platform == "weibo-web"
    token = "" if web else collect_mod.load_token(platform, token_file)
    cookie = load_cookie(cookie_file) if web else ""
    spool = collect_dir or Path(settings(ctx).db).resolve().parent / "collect"
    kwargs: dict[str, Any] = dict(
        platform=platform,
        base_url=base_url,
        token=token,
        cookie=cookie,
        interval_s=settings(ctx).web_interval,
        collect_dir=spool,
        max_pages=max_pages,
        count=count,
        snapshot_pages=snapshot_pages,
        mentions=mentions,
    )
    failed = False

    def render(run: int, s: CollectSummary) -> None:
        nonlocal failed
        failed = failed or bool(s.errors)
        _render(run, s)

    with open_store(ctx) as store:
        if every is None:
            render(1, collect_mod.collect_once(store, **kwargs))
        else:
            collect_mod.collect_every(
                store,
                collect_mod.parse_interval(every),
                max_runs=max_runs,
                on_run=render,
                **kwargs,
            )
    if failed:
        ctx.exit(EXIT_PARTIAL)


def _render(run: int, s: CollectSummary) -> None:
    console.print(
        f"run {run} ({s.platform}): {s.accounts} accounts, "
        + (f"{s.keywords} keywords, " if s.keywords else "")
        + f"{s.requests} requests, "
        f"{s.pages} pages, {s.records} records: {s.stored} stored, {s.duplicate} duplicate, "
        f"{s.rejected} quarantined"
    )
    for err in s.errors:
        console.print(f"  problem: {err}")


COMMANDS = [watch_cmd, collect_cmd]
