"""`govweibo index`, `govweibo rank`, `govweibo report`: the yearly map-and-index product."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pyarrow as pa

from govweibo.cli.common import (
    Section,
    console,
    emit,
    err_console,
    open_store,
    output_options,
    settings,
)
from govweibo.errors import ConfigError

LISTS = {
    "overall": (None, None),
    "agencies": (None, "agency"),
    "officials": (None, "official"),
    "sector": ("sector", None),
    "level": ("level", None),
    "province": ("province", None),
    "region": ("region", None),
}


def period_options(f: Any) -> Any:
    f = click.option(
        "--method",
        default="govweibo",
        show_default=True,
        help="Index preset (govweibo, bci) or the path of your own TOML method file.",
    )(f)
    f = click.option(
        "--period",
        required=True,
        help="A year (2011), quarter (2011Q3), month (2011-07) or FROM..TO dates.",
    )(f)
    return f


def engine_options(f: Any) -> Any:
    f = click.option(
        "--parquet",
        "parquet_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Parquet layout to read when the engine is spark (see govweibo export).",
    )(f)
    f = click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark"]),
        default=None,
        help="Analysis engine [env GOVWEIBO_ENGINE; default duckdb].",
    )(f)
    return f


@contextmanager
def open_source(
    ctx: click.Context, engine: str | None, parquet_dir: Path | None, *, read_only: bool = True
) -> Iterator[Any]:
    """The tables a command reads: the DuckDB store, or Spark over a Parquet layout.

    With Spark no store file is opened: the layout may be all there is.
    """
    from govweibo.store.engines import open_tables

    s = settings(ctx)
    name = engine or s.engine
    if name == "spark":
        yield open_tables(name, parquet_dir=parquet_dir, spark_master=s.spark_master)
        return
    with open_store(ctx, read_only=read_only) as store:
        yield open_tables(name, store=store)


def _save(table: pa.Table, out: Path | None) -> None:
    if out is None:
        return
    if out.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    elif out.suffix == ".csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, out)
    else:
        raise ConfigError(f"--out {out}: use a .csv or .parquet file name")
    err_console.print(f"wrote {table.num_rows} rows to {out}", markup=False)


@click.command("index")
@period_options
@engine_options
@click.option("--all-accounts", is_flag=True, help="Score every account, not only government ones.")
@click.option("--top", default=20, show_default=True, help="Rows to print.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Save all rows (.csv/.parquet)."
)
@click.option(
    "--sensitivity", is_flag=True, help="Also perturb the weights and report rank stability."
)
@click.option("--draws", default=1000, show_default=True, help="Weight draws for --sensitivity.")
@click.option("--spread", default=0.25, show_default=True, help="Relative weight perturbation.")
@output_options
@click.pass_context
def index_cmd(
    ctx: click.Context,
    period: str,
    method: str,
    engine: str | None,
    parquet_dir: Path | None,
    all_accounts: bool,
    top: int,
    out: Path | None,
    sensitivity: bool,
    draws: int,
    spread: float,
) -> None:
    """Compute the influence index per account for a period."""
    from govweibo.analyses.index import compute_index

    with open_source(ctx, engine, parquet_dir) as source:
        idx = compute_index(
            source,
            period=period,
            method=method,
            government_only=not all_accounts,
        )
    sections = [
        Section(
            "index",
            f"Index {period} ({method}), {idx.num_rows} accounts",
            idx.slice(0, top),
            [
                "rank",
                "screen_name",
                "kind",
                "sector",
                "level",
                "province",
                "communication",
                "service",
                "interaction",
                "recognition",
                "score",
            ],
            digits=2,
        )
    ]
    if sensitivity:
        from govweibo.analyses.sensitivity import summarise_sensitivity, weight_sensitivity

        draws_table = weight_sensitivity(idx, method=method, draws=draws, spread=spread)
        sections.append(
            Section(
                "sensitivity",
                f"Rank stability over {draws} weight draws within ±{spread:.0%}",
                summarise_sensitivity(draws_table),
                digits=2,
            )
        )
    emit(*sections)
    _save(idx, out)


@click.command("rank")
@period_options
@engine_options
@click.option(
    "--list",
    "which",
    type=click.Choice(list(LISTS)),
    default="overall",
    show_default=True,
    help="Which ranking list.",
)
@click.option("--top", default=20, show_default=True, help="Accounts per list (or per group).")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Save the list (.csv/.parquet)."
)
@output_options
@click.pass_context
def rank_cmd(
    ctx: click.Context,
    period: str,
    method: str,
    engine: str | None,
    parquet_dir: Path | None,
    which: str,
    top: int,
    out: Path | None,
) -> None:
    """Rank accounts for a period: overall, agencies, officials, or within sector/level/province."""
    from govweibo.analyses.base import Period
    from govweibo.analyses.index import compute_index
    from govweibo.analyses.rankings import group_rank_change, rank_change

    with open_source(ctx, engine, parquet_dir) as source:
        idx = compute_index(source, period=period, method=method)
        prev = compute_index(source, period=Period.parse(period).previous(), method=method)
    by, kind = LISTS[which]
    # The change shown beside the group rank is the change within the group (the overall
    # one stays in the saved file as rank_change).
    table = group_rank_change(rank_change(idx, prev), prev, by=by, kind=kind, top_n=top)
    emit(
        Section(
            "ranking",
            f"Ranking {period}: {which}",
            table,
            [
                "group",
                "group_rank",
                "group_rank_change",
                "screen_name",
                "kind",
                "sector",
                "level",
                "province",
                "score",
            ],
            digits=2,
        )
    )
    _save(table, out)


@click.command("report")
@period_options
@engine_options
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Report file to write.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True
)
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default=None, help="Labels [setting lang]."
)
@click.option(
    "--top",
    default=10,
    show_default=True,
    help="Accounts shown per ranking list (--export writes every row).",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write every table of the report to this folder.",
)
@click.option(
    "--export-format", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.pass_context
def report_cmd(
    ctx: click.Context,
    period: str,
    method: str,
    engine: str | None,
    parquet_dir: Path | None,
    out: Path,
    fmt: str,
    lang: str | None,
    top: int,
    export_dir: Path | None,
    export_format: str,
) -> None:
    """Write the self-contained yearly/monthly report (HTML prints cleanly to PDF)."""
    from govweibo.report.yearly import build_report, export_tables, render_html, render_markdown

    with open_source(ctx, engine, parquet_dir) as source:
        data = build_report(
            source, period=period, method=method, lang=lang or settings(ctx).lang, top_n=top
        )
    text = render_html(data) if fmt == "html" else render_markdown(data)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", markup=False)
    if export_dir is not None:
        paths = export_tables(data, export_dir, fmt=export_format)
        console.print(f"wrote {len(paths)} tables to {export_dir}", markup=False)


COMMANDS = [index_cmd, rank_cmd, report_cmd]
