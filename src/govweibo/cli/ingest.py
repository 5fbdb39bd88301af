"""`govweibo ingest`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from govweibo.cli.common import (
    EXIT_PARTIAL,
    Section,
    byte_progress,
    emit,
    open_store,
    output_format,
    output_options,
    settings,
)
from govweibo.errors import ConfigError
from govweibo.ingest import IngestSummary, ReadOptions, ingest
from govweibo.ingest.plugins import describe
from govweibo.ingest.runner import reader_named
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
@output_options(flag="--output-format")
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
    """Read microblog data files or folders into the store (idempotent).

    Exits 3 when a file failed or records were rejected (see `govweibo quarantine`).
    """
    if fmt != "auto" and mapping is None and getattr(reader_named(fmt), "needs_mapping", False):
        # Before the store is opened: every file of the run would fail the same way.
        raise ConfigError(f"format '{fmt}' needs --mapping FILE.toml (docs/ingest.md)")
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
    if summary.failed or summary.total("rejected"):
        ctx.exit(EXIT_PARTIAL)


COUNTS = ("records_read", "stored", "duplicate", "rejected", "empty")


def print_summary(summary: IngestSummary) -> None:
    files = [
        {"path": f.path, "format": f.format, "run_id": f.run_id}
        | {c: getattr(f, c) for c in COUNTS}
        | {"status": f.status, "message": f.message}
        for f in summary.files
    ]
    cols = ["path", "format", *COUNTS, "status"]
    table_formats = output_format() in ("table", "plain")
    if table_formats and len(files) > 25:
        more = {"path": f"... {len(files) - 20} more files (see 'govweibo runs')"}
        files = [*files[:20], more]
    if table_formats:
        files.append({"path": "total"} | {c: summary.total(c) for c in COUNTS})
    notes = [f"failed {f.path}: {f.message}" for f in summary.failed]
    notes += [f"skipped {path}: {why}" for path, why in summary.skipped]
    if summary.links:
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.links.items())
        notes.append(f"Crawler comments linked to their posts by time: {counts}")
    if summary.total("rejected"):
        notes.append("Rejected records are in the quarantine: govweibo quarantine")
    emit(Section("files", "Ingest summary", files, cols), notes=notes)


@click.command("formats")
@output_options
def formats_cmd() -> None:
    """List the source formats, built-in and plugin, in detection order."""
    infos = describe()
    emit(
        Section(
            "formats",
            "Formats (detection order)",
            [
                {
                    "format": i.name,
                    "description": i.description or f"not loaded: {i.error}",
                    "from": i.origin,
                }
                for i in infos
            ],
        )
    )


COMMANDS = [ingest_cmd, formats_cmd]
