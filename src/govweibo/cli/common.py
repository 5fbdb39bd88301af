"""Helpers shared by the command modules: opening the store, progress, output.

Every command that prints tables builds `Section`s from the library's result and hands them
to `emit`, which writes them in the format the user chose (`output_options`): a boxed table
on a terminal, a plain tab-separated table otherwise, or CSV, JSON, NDJSON for scripts.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeAlias

import click
import pyarrow as pa
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

FORMATS = ("table", "plain", "csv", "json", "ndjson")
MACHINE_FORMATS = ("csv", "json", "ndjson")
_BY_SUFFIX = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
_OUTPUT_KEY = "govweibo.output"
# Exit codes (README, "Exit codes"): 0 all well; 1 an error (one line on stderr); 2 a usage
# error (click's); 3 the command finished, but part of its input failed or was rejected.
EXIT_PARTIAL = 3


def settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


@contextmanager
def open_store(ctx: click.Context, *, read_only: bool = False) -> Iterator[Store]:
    s = settings(ctx)
    # Writers hold the file only while they write, readers wait for it (store/lock.py).
    store = Store(
        s.db,
        read_only=read_only,
        threads=s.threads,
        memory_limit=s.memory_limit,
        lock_wait=s.lock_wait,
        share=not read_only,
    )
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
        # --quiet, or no terminal to redraw on: no bar (logging reports each file).
        disable=quiet(),
    )


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().meta.get("govweibo.quiet"))


# Output ------------------------------------------------------------------------------------

Rows: TypeAlias = pa.Table | Sequence[Mapping[str, Any]] | Mapping[str, Any]


@dataclass
class Section:
    """One table of a command's output.

    `data` is the library's result: an Arrow table, a list of row dicts, or one dict (a
    record: shown as measure/value rows, written as one JSON object). `columns` are what the
    table formats show (default: all); csv, json and ndjson keep every column, raw.
    """

    name: str
    title: str
    data: Rows
    columns: Sequence[str] | None = None
    digits: int = 3


@dataclass
class Output:
    fmt: str
    path: Path | None


def output_options(f: Callable[..., Any] | None = None, *, flag: str = "--format") -> Any:
    """`--format` and `-o/--output` for a command that prints tables (see `emit`).

    `flag` renames `--format` where a command has one already (ingest's source format).
    """
    if f is None:
        return functools.partial(output_options, flag=flag)

    @functools.wraps(f)
    def wrapper(*args: Any, output_format: str | None, output_path: Path | None, **kw: Any) -> Any:
        fmt = output_format or (_BY_SUFFIX.get(output_path.suffix.lower()) if output_path else None)
        if fmt is None:
            fmt = "plain" if output_path is not None or not sys.stdout.isatty() else "table"
        click.get_current_context().meta[_OUTPUT_KEY] = Output(fmt, output_path)
        return f(*args, **kw)

    # Our own list: wraps() shares the wrapped function's, which click would extend.
    wrapper.__click_params__ = list(getattr(f, "__click_params__", []))  # type: ignore[attr-defined]
    wrapper = click.option(
        "-o",
        "--output",
        "output_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the output to this file (format from its suffix: .csv .json .ndjson).",
    )(wrapper)
    wrapper = click.option(
        flag,
        "output_format",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format [default: table on a terminal, else plain (tab-separated)].",
    )(wrapper)
    return wrapper


def output_format() -> str:
    """The format the current command writes ('table' when it has no output options)."""
    out = click.get_current_context().meta.get(_OUTPUT_KEY)
    return out.fmt if out else "table"


def emit(*sections: Section, notes: Sequence[str] = ()) -> None:
    """Write the sections in the chosen format to stdout or the -o file.

    JSON: one section is written as its rows (an array) or its record (an object); several as
    an object keyed by section name. NDJSON: one object per row (with a "section" key when
    there are several). CSV: the rows with a header of column keys; several sections are
    separated by a blank line and a `# name` line. Notes (hints for people) go to the table
    formats, and to stderr for the machine formats.
    """
    ctx = click.get_current_context()
    out: Output = ctx.meta.get(_OUTPUT_KEY) or Output("table", None)
    if out.path is None:
        _write(out.fmt, sections, notes, sys.stdout)
        return
    with out.path.open("w", encoding="utf-8", newline="") as fh:
        _write(out.fmt, sections, notes, fh)
    n = sum(len(_records(s.data)) for s in sections)
    if not quiet():
        err_console.print(f"wrote {n} rows to {out.path}", markup=False)


def _write(fmt: str, sections: Sequence[Section], notes: Sequence[str], fh: IO[str]) -> None:
    if fmt == "table":
        con = console if fh is sys.stdout else Console(file=fh, highlight=False, width=160)
        for s in sections:
            cols, rows = _shown(s, _lang())
            render_table(s.title, cols, rows, con=con, labelled=True)
        for note in notes:
            con.print(note, markup=False)
        return
    if fmt == "plain":
        for s in sections:
            cols, rows = _shown(s)
            fh.write(f"# {s.title}\n")
            fh.write("\t".join(cols) + "\n")
            for row in rows:
                fh.write("\t".join(_plain_cell(v) for v in row) + "\n")
        for note in notes:
            fh.write(f"# {note}\n")
        return
    for note in notes:
        if not quiet():
            err_console.print(note, markup=False)
    several = len(sections) > 1
    if fmt == "json":
        if several:
            doc: Any = {s.name: _json_data(s.data) for s in sections}
        else:
            doc = _json_data(sections[0].data) if sections else []
        fh.write(json.dumps(doc, ensure_ascii=False, default=_json_default, allow_nan=False))
        fh.write("\n")
    elif fmt == "ndjson":
        for s in sections:
            for rec in _records(s.data):
                obj = {"section": s.name, **rec} if several else rec
                fh.write(json.dumps(_clean(obj), ensure_ascii=False, default=_json_default))
                fh.write("\n")
    else:
        for i, s in enumerate(sections):
            recs = _records(s.data)
            cols = _all_columns(s.data, recs)
            if several:
                fh.write(("\n" if i else "") + f"# {s.name}\n")
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for rec in recs:
                w.writerow([_csv_cell(rec.get(c)) for c in cols])


def _records(data: Rows) -> list[dict[str, Any]]:
    if isinstance(data, pa.Table):
        return data.to_pylist()
    if isinstance(data, Mapping):
        return [dict(data)]
    return [dict(r) for r in data]


def _all_columns(data: Rows, recs: list[dict[str, Any]]) -> list[str]:
    if isinstance(data, pa.Table):
        return list(data.column_names)
    cols: dict[str, None] = {}
    for rec in recs:
        cols.update(dict.fromkeys(rec))
    return list(cols)


def _shown(s: Section, lang: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and formatted rows for the table formats: for people (`lang` given: codes
    by name, Beijing times, thousands separators) or plain (raw keys, ISO-like times)."""
    if isinstance(s.data, Mapping):
        keys = [k for k in (s.columns or list(s.data)) if k in s.data]
        if lang is None:
            return ["measure", "value"], [(k, _fmt(s.data[k], s.digits)) for k in keys]
        from govweibo import labels

        return ["measure", "value"], [
            (labels.header(k, lang), _display(k, s.data[k], s.digits, lang)) for k in keys
        ]
    recs = _records(s.data)
    present = _all_columns(s.data, recs)
    cols = [c for c in s.columns if c in present] if s.columns else present
    if lang is None:
        return cols, [tuple(_fmt(rec.get(c), s.digits) for c in cols) for rec in recs]
    return cols, [tuple(_display(c, rec.get(c), s.digits, lang) for c in cols) for rec in recs]


def _display(column: str, v: Any, digits: int, lang: str) -> Any:
    from govweibo import labels

    shaped = labels.PERCENT_COLUMNS | labels.RATIO_COLUMNS | labels.DURATION_COLUMNS
    if isinstance(v, float) and column not in shaped:
        return _fmt(v, digits)  # scores and probabilities keep their digits
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, default=_json_default)
    return labels.cell(column, v, lang)


def _fmt(v: Any, digits: int) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.{digits}f}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S%z" if v.tzinfo else "%Y-%m-%d %H:%M:%S")
    return v


def _plain_cell(v: Any) -> str:
    if v is None:
        return ""
    # One line per row and one tab per column, whatever the data holds.
    return str(v).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(_clean(v), ensure_ascii=False, default=_json_default)
    return v


def _clean(v: Any) -> Any:
    """NaN and infinities -> None (JSON has no such numbers), recursively."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _json_data(data: Rows) -> Any:
    if isinstance(data, Mapping):
        return _clean(dict(data))
    return _clean(_records(data))


def _json_default(v: Any) -> Any:
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


def render_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    con: Console | None = None,
    labelled: bool = False,
) -> None:
    table = Table(title=title, title_justify="left")
    for col in _headers(list(columns)) if labelled else columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        # Text, not markup: values come from the data and may contain [brackets].
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    (con or console).print(table)


def _lang() -> str:
    ctx = click.get_current_context(silent=True)
    return str(settings(ctx).lang) if ctx and ctx.find_root().obj else "zh"


def _headers(columns: list[str]) -> list[str]:
    """Headers in the reader's language (the `lang` setting); the other formats keep keys."""
    from govweibo import labels

    return labels.headers(columns, _lang())
