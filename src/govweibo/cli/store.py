"""Commands that look at the store itself: status, runs, quarantine, settings."""

from __future__ import annotations

from pathlib import Path

import click

from govweibo import settings as settings_mod
from govweibo.cli.common import console, open_store, render_table, settings
from govweibo.store import inspect
from govweibo.store.parquet import export_parquet


@click.command("status")
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """Print what is in the store: table counts, time span, platforms."""
    with open_store(ctx, read_only=True) as store:
        info = inspect.status(store)
    render_table(
        f"Store {info.path} (schema version {info.schema_version})",
        ["table", "rows"],
        [*info.counts.items(), *info.collect_counts.items()],
    )
    if info.first_post:
        console.print(f"posts from {info.first_post:%Y-%m-%d} to {info.last_post:%Y-%m-%d}")
    for platform, accounts, verified, posts in info.platforms:
        console.print(f"{platform}: {accounts} accounts ({verified} verified), {posts} posts")


@click.command("runs")
@click.option("--limit", default=50, show_default=True, help="How many recent runs to show.")
@click.pass_context
def runs_cmd(ctx: click.Context, limit: int) -> None:
    """List ingest runs (provenance): source, format, checksum, counts, status."""
    with open_store(ctx, read_only=True) as store:
        rows = inspect.runs(store, limit=limit)
    render_table(
        "Ingest runs",
        ["run", "source", "format", "read", "stored", "dup", "rejected", "status", "finished"],
        [
            (
                r["run_id"],
                r["source_path"],
                r["format"],
                r["records_read"],
                r["stored"],
                r["duplicate"],
                r["rejected"],
                r["status"],
                r["finished_at"],
            )
            for r in rows
        ],
    )


@click.command("quarantine")
@click.option("--limit", default=100, show_default=True, help="How many rejects to show.")
@click.option("--source", default=None, help="Only rejects from files whose path contains this.")
@click.option("--raw", is_flag=True, help="Also print each rejected record's raw text.")
@click.pass_context
def quarantine_cmd(ctx: click.Context, limit: int, source: str | None, raw: bool) -> None:
    """List rejected records with file, line, field and reason."""
    with open_store(ctx, read_only=True) as store:
        total, rows = inspect.quarantine(store, limit=limit, source=source)
    cols = ["file", "line", "item", "field", "reason"] + (["raw"] if raw else [])
    render_table(
        f"Quarantine ({total} records)",
        cols,
        [
            (r["source_path"], r["line"], r["item"], r["field"], r["reason"])
            + ((r["raw"],) if raw else ())
            for r in rows
        ],
    )


@click.command("settings")
@click.pass_context
def settings_cmd(ctx: click.Context) -> None:
    """Show every setting, its value and where the value came from."""
    s = settings(ctx)
    render_table(
        "Settings (flag > GOVWEIBO_* env > config file > default)",
        ["setting", "value", "from", "env", "help"],
        [
            (d.name, _shown(d.name, getattr(s, d.name)), s.source(d.name), d.env, d.help)
            for d in settings_mod.SETTINGS
        ],
    )


@click.command("export")
@click.option(
    "--parquet",
    "parquet_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the partitioned Parquet layout (platform and month).",
)
@click.option("--table", "tables", multiple=True, help="Only these tables (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty folder.")
@click.pass_context
def export_cmd(
    ctx: click.Context, parquet_dir: Path, tables: tuple[str, ...], overwrite: bool
) -> None:
    """Write every table as partitioned Parquet (for Spark and other engines)."""
    with open_store(ctx, read_only=True) as store:
        counts = export_parquet(
            store, parquet_dir, tables=list(tables) or None, overwrite=overwrite
        )
    render_table(f"Exported to {parquet_dir}", ["table", "rows"], list(counts.items()))


def _shown(name: str, value: object) -> object:
    return "(set)" if name == "token" and value else value


COMMANDS = [status_cmd, runs_cmd, quarantine_cmd, settings_cmd, export_cmd]
