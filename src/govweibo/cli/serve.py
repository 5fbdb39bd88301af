"""`govweibo serve`: the web dashboard and JSON API over a store (read-only)."""

from __future__ import annotations

import click

from govweibo.cli.common import settings


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
    from govweibo.web import serve

    s = settings(ctx)
    serve(s.db, host, port, s.token, workers=workers)


COMMANDS = [serve_cmd]
