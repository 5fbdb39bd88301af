"""The govweibo command line: parse, call one library function, render."""

from __future__ import annotations

import sys
from typing import Any

import click

from govweibo import __version__
from govweibo import settings as settings_mod
from govweibo.errors import GovweiboError


class GovweiboGroup(click.Group):
    """Turns every GovweiboError into one readable line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovweiboError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=GovweiboGroup)
@click.version_option(__version__, prog_name="govweibo")
@click.option("--db", default=None, help=settings_mod.BY_NAME["db"].help + " [env GOVWEIBO_DB]")
@click.option(
    "--config",
    default=None,
    help=settings_mod.BY_NAME["config"].help + " [env GOVWEIBO_CONFIG]",
)
@click.pass_context
def main(ctx: click.Context, db: str | None, config: str | None) -> None:
    """An open observatory for government microblog accounts."""
    ctx.obj = settings_mod.load({"db": db, "config": config})


def commands() -> None:
    # Explicit registration: one module per command group.
    from govweibo.cli import (
        collect,
        demo,
        index,
        ingest,
        opinion,
        propagation,
        registry,
        serve,
        store,
    )

    for module in (ingest, store, registry, index, opinion, propagation, collect, serve, demo):
        for cmd in module.COMMANDS:
            main.add_command(cmd)


commands()
