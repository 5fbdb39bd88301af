"""Helpers shared by the command modules: opening the store, progress, tables."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from govweibo.settings import Settings
from govweibo.store import Store


def _width() -> int | None:
    # Wide enough for paths and reasons when output is captured (CI logs, tests).
    return None if sys.stdout.isatty() else 160


console = Console(highlight=False, width=_width())
err_console = Console(stderr=True, highlight=False)


def settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@contextmanager
def open_store(ctx: click.Context, *, read_only: bool = False) -> Iterator[Store]:
    s = settings(ctx)
    store = Store(s.db, read_only=read_only, threads=s.threads, memory_limit=s.memory_limit)
    try:
        yield store
    finally:
        store.close()


def byte_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def render_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        # Text, not markup: values come from the data and may contain [brackets].
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)
