"""Opinion and responsiveness commands: thin wrappers over the analyses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pyarrow as pa

from govweibo.cli.common import Section, emit, output_options
from govweibo.cli.index import engine_options, open_source


def slice_options(f: Any) -> Any:
    for opt in reversed(
        [
            click.option("--period", default=None, help="2011, 2011Q3, 2011-07 or FROM..TO."),
            click.option("--account", "account_id", default=None, help="One account id."),
            click.option("--sector", default=None, help="A registry sector, e.g. public_security."),
            click.option("--province", default=None, help="A province, e.g. 浙江."),
            click.option(
                "--voice",
                type=click.Choice(["public", "account"]),
                default="public",
                show_default=True,
                help="Whose words: the public's comments and mentions, or the accounts' posts.",
            ),
        ]
    ):
        f = opt(f)
    return f


def section(
    title: str,
    table: pa.Table,
    limit: int,
    columns: list[str] | None = None,
    *,
    name: str | None = None,
) -> Section:
    """The first `limit` rows of an analysis result; the table formats show `columns`."""
    key = name or title.lower().replace(" ", "_")
    return Section(key, f"{title} ({table.num_rows} rows)", table.slice(0, limit), columns)


def show(title: str, table: pa.Table, limit: int, columns: list[str] | None = None) -> None:
    emit(section(title, table, limit, columns))


@click.command("eval-sentiment")
@click.argument("labels", type=click.Path(exists=True, path_type=Path))
@output_options
@click.pass_context
def eval_sentiment_cmd(ctx: click.Context, labels: Path) -> None:
    """Accuracy and macro-F1 of the sentiment model on {content, label} JSON lines.

    The model is the one the sentiment_model setting names, else the shipped one. A label is
    positive, negative or neutral, or an emotion: like, happiness, optimism, gratitude, joy,
    love, happy (positive); sadness, anger, disgust, fear, sad, angry (negative); surprise
    (skipped).
    """
    from govweibo.cli.common import settings
    from govweibo.text.sentiment import evaluate, model_for

    r = evaluate(labels, model=model_for(settings(ctx).sentiment_model))
    emit(
        Section(
            "scores",
            f"Sentiment on {r.n} texts ({r.skipped} skipped: no polarity)",
            {
                "texts": r.n,
                "skipped": r.skipped,
                "accuracy": r.accuracy,
                "macro_f1": r.macro_f1,
                "neutral_band": r.neutral_band,
            },
        ),
        Section(
            "confusion",
            "Confusion (rows gold, columns predicted)",
            [
                {"gold": g, **dict(zip(r.labels, row, strict=True))}
                for g, row in zip(r.labels, r.confusion, strict=True)
            ],
        ),
    )


@click.command("sentiment")
@slice_options
@engine_options
@output_options
@click.pass_context
def sentiment_cmd(
    ctx: click.Context,
    period: str | None,
    account_id: str | None,
    sector: str | None,
    province: str | None,
    voice: str,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Sentiment shares (positive / negative / neutral) of a slice."""
    from govweibo.analyses.concerns import slice_sentiment

    with open_source(ctx, engine, parquet_dir) as source:
        t = slice_sentiment(
            source,
            account_id=account_id,
            sector=sector,
            province=province,
            period=period,
            voice=voice,
        )
    show("Sentiment", t, 10)


@click.command("concerns")
@slice_options
@click.option("--top", default=20, show_default=True, help="Keywords to list.")
@click.option("--clusters", default=5, show_default=True, help="Topic clusters (NMF).")
@engine_options
@output_options
@click.pass_context
def concerns_cmd(
    ctx: click.Context,
    period: str | None,
    account_id: str | None,
    sector: str | None,
    province: str | None,
    voice: str,
    top: int,
    clusters: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """What the public asks and says: keywords by keyness, #topics# and topic clusters."""
    from govweibo.analyses.concerns import concerns

    with open_source(ctx, engine, parquet_dir) as source:
        t = concerns(
            source,
            account_id=account_id,
            sector=sector,
            province=province,
            period=period,
            voice=voice,
            top=top,
            clusters=clusters,
        )
    show("Concerns", t, top * 3)


@click.command("responsiveness")
@click.option("--period", required=True, help="2011, 2011Q3, 2011-07 or FROM..TO.")
@click.option("--all-accounts", is_flag=True, help="Every account, not only government ones.")
@click.option("--limit", default=30, show_default=True, help="Rows to print.")
@engine_options
@output_options
@click.pass_context
def responsiveness_cmd(
    ctx: click.Context,
    period: str,
    all_accounts: bool,
    limit: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Reply rate, time to first reply, unanswered questions and reply hours per account."""
    from govweibo.analyses.responsiveness import responsiveness

    with open_source(ctx, engine, parquet_dir) as source:
        t = responsiveness(source, period=period, government_only=False if all_accounts else None)
    show(
        "Responsiveness",
        t.sort_by([("addressed", "descending")]),
        limit,
        [
            "screen_name",
            "sector",
            "province",
            "addressed",
            "answered",
            "reply_rate",
            "median_reply_minutes",
            "p90_reply_minutes",
            "questions",
            "unanswered_questions",
            "share_off_hours",
            "original_share",
        ],
    )


@click.command("deletions")
@click.option("--period", default=None, help="Only deletions first noticed in this period.")
@click.option("--summary", is_flag=True, help="Per account instead of per post.")
@click.option("--limit", default=30, show_default=True, help="Rows to print.")
@engine_options
@output_options
@click.pass_context
def deletions_cmd(
    ctx: click.Context,
    period: str | None,
    summary: bool,
    limit: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Posts seen in one complete timeline observation and missing from a later one."""
    from govweibo.analyses.deletions import deleted_posts, deletion_summary

    with open_source(ctx, engine, parquet_dir) as source:
        t = (deletion_summary if summary else deleted_posts)(source, period=period)
    cols = (
        None
        if summary
        else ["account_id", "post_id", "created_at", "last_seen", "first_missing", "text"]
    )
    show("Deletion audit", t, limit, cols)


@click.command("bursts")
@click.option("--period", default=None, help="2011, 2011Q3, 2011-07 or FROM..TO.")
@click.option("--unit", type=click.Choice(["hour", "day"]), default="hour", show_default=True)
@click.option("--kind", type=click.Choice(["topics", "words"]), default="topics", show_default=True)
@click.option(
    "--method",
    type=click.Choice(["threshold", "kleinberg"]),
    default="threshold",
    show_default=True,
    help="threshold: above the previous 7 days' mean + k sd; kleinberg: Kleinberg's "
    "two-state burst automaton over the term's share of the texts.",
)
@click.option("--k", default=3.0, show_default=True, help="Standard deviations above baseline.")
@click.option("--s", "s", default=2.0, show_default=True, help="kleinberg: burst rate ratio.")
@click.option(
    "--gamma", default=1.0, show_default=True, help="kleinberg: cost of entering a burst."
)
@click.option("--min-count", default=5, show_default=True, help="Smallest window count to flag.")
@click.option("--limit", default=30, show_default=True, help="Rows to print.")
@engine_options
@output_options
@click.pass_context
def bursts_cmd(
    ctx: click.Context,
    period: str | None,
    unit: str,
    kind: str,
    method: str,
    k: float,
    s: float,
    gamma: float,
    min_count: int,
    limit: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Keywords or #topics# whose volume rises above their baseline (see --method)."""
    from govweibo.analyses.bursts import bursts, why_empty
    from govweibo.cli.common import err_console

    with open_source(ctx, engine, parquet_dir) as source:
        t = bursts(
            source,
            unit=unit,
            kind=kind,
            period=period,
            method=method,
            k=k,
            s=s,
            gamma=gamma,
            min_count=min_count,
        )
    show("Bursts", t, limit)
    hint = why_empty(t)
    if hint:  # on stderr: csv/json output stays the table alone
        err_console.print(hint, markup=False)


COMMANDS = [
    eval_sentiment_cmd,
    sentiment_cmd,
    concerns_cmd,
    responsiveness_cmd,
    deletions_cmd,
    bursts_cmd,
]
