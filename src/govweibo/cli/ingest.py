"""`govweibo ingest`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from govweibo.cli.common import byte_progress, console, open_store, render_table, settings
from govweibo.errors import ConfigError
from govweibo.ingest import IngestSummary, ReadOptions, ingest
from govweibo.ingest.plugins import describe
from govweibo.store.parquet_sink import ParquetSink


def _parse_when(value: str | None, flag: str = "--observed-at") -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{flag} {value!r}: expected an ISO date such as 2011-12-31T23:59:59+08:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="auto",
    metavar="NAME",
    # A plain name, not a click.Choice: plugin readers are found only when a run asks
    # (runner.reader_named checks the name and lists the known ones).
    help="Source format (see 'govweibo formats'); auto-detected by default.",
)
@click.option(
    "--year", type=int, default=None, help="Year for dates that carry none (crawler CSV)."
)
@click.option(
    "--observed-at",
    default=None,
    help="When the data was collected (ISO 8601); default: each file's modification time.",
)
@click.option(
    "--timeline",
    is_flag=True,
    help="The files are complete timelines of their authors (feeds the deletion audit).",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Column mapping file (TOML) for generic csv/jsonl input.",
)
@click.option(
    "--to-parquet",
    "to_parquet",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the Parquet layout in this folder instead of the store (streaming; for "
    "inputs too large for one DuckDB file).",
)
@click.pass_context
def ingest_cmd(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    year: int | None,
    observed_at: str | None,
    timeline: bool,
    mapping: Path | None,
    to_parquet: Path | None,
) -> None:
    """Read microblog data files or folders into the store (idempotent)."""
    opts = ReadOptions(
        observed_at=_parse_when(observed_at),
        year=year,
        timeline=timeline,
        mapping=mapping,
        chunk_bytes=int(settings(ctx).chunk_mb) << 20,
        max_line_bytes=int(settings(ctx).max_line_mb) << 20,
    )
    sink = ParquetSink(to_parquet) if to_parquet else open_store(ctx)
    with sink as store, byte_progress() as bar:
        tasks: dict[str, Any] = {}

        def progress(event: str, path: str, value: Any) -> None:
            if event == "start":
                tasks[path] = bar.add_task(Path(path).name, total=value or None)
            elif event == "advance":
                bar.advance(tasks[path], value)
            elif event == "done":
                bar.remove_task(tasks.pop(path))

        summary = ingest(store, list(paths), fmt=fmt, options=opts, progress=progress)
    print_summary(summary)


def print_summary(summary: IngestSummary) -> None:
    rows: list[tuple[object, ...]] = [
        (f.path, f.format, f.records_read, f.stored, f.duplicate, f.rejected, f.empty, f.status)
        for f in summary.files
    ]
    if len(rows) > 25:
        shown = rows[:20]
        shown.append(
            (f"... {len(rows) - 20} more files (see 'govweibo runs')", "", "", "", "", "", "", "")
        )
        rows = shown
    rows.append(
        (
            "total",
            "",
            summary.total("records_read"),
            summary.total("stored"),
            summary.total("duplicate"),
            summary.total("rejected"),
            summary.total("empty"),
            "",
        )
    )
    render_table(
        "Ingest summary",
        ["file", "format", "read", "stored", "duplicate", "rejected", "empty", "status"],
        rows,
    )
    for f in summary.failed:
        console.print(Text(f"failed {f.path}: {f.message}", style="red"))
    for path, why in summary.skipped:
        console.print(Text(f"skipped {path}: {why}"))
    if summary.links:
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.links.items())
        console.print(f"Crawler comments linked to their posts by time: {counts}")
    if summary.total("rejected"):
        console.print("Rejected records are in the quarantine: govweibo quarantine")


@click.command("formats")
def formats_cmd() -> None:
    """List the source formats, built-in and plugin, in detection order."""
    infos = describe()
    render_table(
        "Formats (detection order)",
        ["format", "description", "from"],
        [(i.name, i.description or f"not loaded: {i.error}", i.origin) for i in infos],
    )


COMMANDS = [ingest_cmd, formats_cmd]
