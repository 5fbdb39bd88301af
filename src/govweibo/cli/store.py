"""Commands that look at the store itself: status, runs, quarantine, settings."""

from __future__ import annotations

from pathlib import Path

import click

from govweibo import settings as settings_mod
from govweibo.cli.common import Section, emit, open_store, output_options, settings
from govweibo.store import inspect
from govweibo.store.parquet import export_parquet


@click.command("status")
@output_options
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """Print what is in the store: table counts, time span, platforms."""
    with open_store(ctx, read_only=True) as store:
        info = inspect.status(store)
    emit(
        Section(
            "store",
            "Store",
            {
                "path": info.path,
                "schema_version": info.schema_version,
                "first_post": info.first_post,
                "last_post": info.last_post,
            },
        ),
        Section(
            "tables",
            f"Tables of {info.path}",
            [
                {"table": name, "rows": n}
                for name, n in [*info.counts.items(), *info.collect_counts.items()]
            ],
        ),
        Section(
            "platforms",
            "Platforms",
            [
                {"platform": p, "accounts": a, "verified": v, "posts": n}
                for p, a, v, n in info.platforms
            ],
        ),
    )


@click.command("runs")
@click.option("--limit", default=50, show_default=True, help="How many recent runs to show.")
@output_options
@click.pass_context
def runs_cmd(ctx: click.Context, limit: int) -> None:
    """List ingest runs (provenance): source, format, checksum, counts, status."""
    with open_store(ctx, read_only=True) as store:
        rows = inspect.runs(store, limit=limit)
    emit(
        Section(
            "runs",
            "Ingest runs",
            rows,
            [
                "run_id",
                "source_path",
                "format",
                "records_read",
                "stored",
                "duplicate",
                "rejected",
                "status",
                "finished_at",
            ],
        )
    )


@click.command("quarantine")
@click.option("--limit", default=100, show_default=True, help="How many rejects to show.")
@click.option("--source", default=None, help="Only rejects from files whose path contains this.")
@click.option("--raw", is_flag=True, help="Also print each rejected record's raw text.")
@output_options
@click.pass_context
def quarantine_cmd(ctx: click.Context, limit: int, source: str | None, raw: bool) -> None:
    """List rejected records with file, line, field and reason."""
    with open_store(ctx, read_only=True) as store:
        total, rows = inspect.quarantine(store, limit=limit, source=source)
    cols = ["source_path", "line", "item", "field", "reason"] + (["raw"] if raw else [])
    if not raw:  # csv/json keep every column they are given: the raw text only on request
        rows = [{k: v for k, v in r.items() if k != "raw"} for r in rows]
    emit(Section("quarantine", f"Quarantine ({total} records)", rows, cols))


@click.command("settings")
@output_options
@click.pass_context
def settings_cmd(ctx: click.Context) -> None:
    """Show every setting, its value and where the value came from."""
    s = settings(ctx)
    emit(
        Section(
            "settings",
            "Settings (flag > GOVWEIBO_* env > config file > default)",
            [
                {
                    "setting": d.name,
                    "value": _shown(d.name, getattr(s, d.name)),
                    "from": s.source(d.name),
                    "env": d.env,
                    "help": d.help,
                }
                for d in settings_mod.SETTINGS
            ],
        )
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
@output_options
@click.pass_context
def export_cmd(
    ctx: click.Context, parquet_dir: Path, tables: tuple[str, ...], overwrite: bool
) -> None:
    """Write every table as partitioned Parquet (for Spark and other engines)."""
    with open_store(ctx, read_only=True) as store:
        counts = export_parquet(
            store, parquet_dir, tables=list(tables) or None, overwrite=overwrite
        )
    emit(
        Section(
            "tables",
            f"Exported to {parquet_dir}",
            [{"table": t, "rows": n} for t, n in counts.items()],
        )
    )


@click.command("doctor")
@output_options
@click.pass_context
def doctor_cmd(ctx: click.Context) -> None:
    """Versions, optional parts (native reader, Java/Spark, Chromium) and the store's schema."""
    from govweibo.doctor import diagnose

    s = settings(ctx)
    emit(Section("checks", "govweibo doctor", diagnose(s.db, lock_wait=min(s.lock_wait, 5.0))))


def _shown(name: str, value: object) -> object:
    return "(set)" if name == "token" and value else value


COMMANDS = [status_cmd, runs_cmd, quarantine_cmd, settings_cmd, export_cmd, doctor_cmd]
