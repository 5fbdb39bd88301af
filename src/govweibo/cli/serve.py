"""`govweibo serve`: the web dashboard and JSON API over a store (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from govweibo.cli.common import settings
from govweibo.errors import ConfigError

WEB_MODULES = ("fastapi", "starlette", "uvicorn")


def web_serve() -> Callable[..., Any]:
    """`govweibo.web.serve`, or a clear error when the web extra is not installed."""
    try:
        from govweibo.web import serve
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in WEB_MODULES:
            raise ConfigError(
                f"the dashboard needs the web extra ({exc.name} is missing): "
                "pip install 'govweibo[web]'"
            ) from None
        raise
    return serve


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; beyond loopback a token (GOVWEIBO_TOKEN) is required.",
)
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, help="Server processes.")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the dashboard (overview, rankings, accounts, data health) and /api/."""
    s = settings(ctx)
    web_serve()(s.db, host, port, s.token, workers=workers, lock_wait=s.lock_wait)


COMMANDS = [serve_cmd]
