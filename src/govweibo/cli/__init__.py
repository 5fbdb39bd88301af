"""The govweibo command line: parse, call one library function, render."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from govweibo import __version__
from govweibo import settings as settings_mod
from govweibo.errors import GovweiboError

# Exit codes: README, "Exit codes"; 3 (EXIT_PARTIAL) is in cli/common.py.
EXIT_ERROR = 1


class GovweiboGroup(click.Group):
    """Turns every GovweiboError into one readable line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovweiboError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=GovweiboGroup)
@click.version_option(__version__, prog_name="govweibo")
@click.option("--db", default=None, help=settings_mod.BY_NAME["db"].help + " [env GOVWEIBO_DB]")
@click.option(
    "--config",
    default=None,
    help=settings_mod.BY_NAME["config"].help + " [env GOVWEIBO_CONFIG]",
)
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors; no progress bars.")
@click.option("-v", "--verbose", is_flag=True, help="Also debug messages (each request, batch).")
@click.option(
    "--log-file",
    default=None,
    help=settings_mod.BY_NAME["log_file"].help + " [env GOVWEIBO_LOG_FILE]",
)
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    config: str | None,
    quiet: bool,
    verbose: bool,
    log_file: str | None,
) -> None:
    """An open observatory for government microblog accounts."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    ctx.obj = settings_mod.load({"db": db, "config": config, "log_file": log_file})
    ctx.meta["govweibo.quiet"] = quiet
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    _log_to(ctx, ctx.obj.log_file, level)


class _Terse(logging.Formatter):
    """Progress as it is; 'warning: ...' where something needs attention (stderr)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def _log_to(ctx: click.Context, log_file: str, level: int) -> None:
    """Send the library's log records (progress, warnings) to stderr or a file for this
    command; the handler goes when the command ends (CliRunner runs many in one process)."""
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Terse())
    root = logging.getLogger("govweibo")
    root.setLevel(level)
    root.addHandler(handler)

    def remove() -> None:
        root.removeHandler(handler)
        handler.close()

    ctx.call_on_close(remove)


def commands() -> None:
    # Explicit registration: one module per command group.
    from govweibo.cli import (
        collect,
        demo,
        index,
        ingest,
        observe,
        opinion,
        propagation,
        registry,
        serve,
        store,
    )

    modules = (ingest, store, registry, index, opinion, propagation, collect, observe, serve, demo)
    for module in modules:
        for cmd in module.COMMANDS:
            main.add_command(cmd)


commands()
