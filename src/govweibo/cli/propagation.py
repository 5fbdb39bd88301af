"""`govweibo cascades`, `govweibo rumour-score`, `govweibo eval-rumour`."""

from __future__ import annotations

from pathlib import Path

import click

from govweibo.cli.common import Section, emit, err_console, output_options
from govweibo.cli.index import engine_options, open_source
from govweibo.cli.opinion import section, show


@click.command("cascades")
@click.option("--min-size", default=1, show_default=True, help="Only cascades at least this big.")
@click.option("--limit", default=20, show_default=True, help="Rows to print (largest first).")
@click.option("--root", default=None, help="One root post id: print its tree's metrics.")
@click.option(
    "--svg",
    type=click.Path(path_type=Path),
    default=None,
    help="With --root: write the tree as an SVG picture.",
)
@engine_options
@output_options
@click.pass_context
def cascades_cmd(
    ctx: click.Context,
    min_size: int,
    limit: int,
    root: str | None,
    svg: Path | None,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Repost cascades: size, depth, breadth, structural virality, timing, who reposted."""
    from govweibo.analyses.cascades import cascade_tree, cascades
    from govweibo.report.cascade_svg import tree_svg

    with open_source(ctx, engine, parquet_dir) as source:
        if root is not None:
            tree = cascade_tree(source, root)
            if svg is not None:
                svg.write_text(tree_svg(tree, title=f"cascade of {root}"), encoding="utf-8")
                err_console.print(f"wrote {svg}", markup=False)
            show(
                f"Cascade of {root}",
                tree,
                limit,
                [
                    "post_id",
                    "parent_post_id",
                    "via",
                    "depth",
                    "subtree_size",
                    "author_id",
                    "created_at",
                ],
            )
            return
        table = cascades(source)
    table = table.filter(table.column("size").to_numpy() >= min_size)
    show(
        "Cascades",
        table.sort_by([("size", "descending")]),
        limit,
        [
            "root_post_id",
            "size",
            "depth",
            "max_breadth",
            "structural_virality",
            "time_to_50pct_s",
            "time_to_90pct_s",
            "lifetime_s",
            "gov_repost_share",
            "verified_repost_share",
        ],
    )


@click.command("rumour-score")
@click.option(
    "--hours",
    type=float,
    default=None,
    help="Only use the first N hours of each cascade (early detection).",
)
@click.option("--limit", default=20, show_default=True, help="Rows to print (most likely first).")
@engine_options
@output_options
@click.pass_context
def rumour_score_cmd(
    ctx: click.Context,
    hours: float | None,
    limit: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Triage source posts: likely or unlikely rumour (calibrated probability), official
    clarification, or out of the model's domain, with the evidence seen and the reason."""
    from govweibo.analyses.rumours import score_posts

    with open_source(ctx, engine, parquet_dir) as source:
        table = score_posts(source, hours=hours)
    show(
        "Rumour triage",
        table.sort_by([("rumour_probability", "descending")]),
        limit,
        ["text", "author", "evidence", "label", "rumour_probability", "reason", "post_id"],
    )


@click.command("eval-rumour")
@click.argument("ced_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--hours", type=float, default=None, help="Only the first N hours of reposts.")
@click.option(
    "--heldout",
    is_flag=True,
    help="Only the events the shipped model never saw in training (honest figures).",
)
@output_options
def eval_rumour_cmd(ced_dir: Path, hours: float | None, heldout: bool) -> None:
    """Accuracy, precision, recall and F1 of the shipped model on a CED-layout folder."""
    from govweibo.analyses.rumours import RumourModel, evaluate_ced

    events = set(RumourModel.load().meta["heldout_mids"]) if heldout else None
    r = evaluate_ced(ced_dir, hours=hours, events=events)
    emit(
        Section(
            "scores",
            f"Rumour model on {r.n} events" + (" (held-out)" if heldout else ""),
            {
                "events": r.n,
                "accuracy": r.accuracy,
                "precision": r.precision,
                "recall": r.recall,
                "f1": r.f1,
                "hours": hours,
            },
        )
    )


COMMANDS = [cascades_cmd, rumour_score_cmd, eval_rumour_cmd]


@click.command("events")
@click.option("--period", default=None, help="2011, 2011Q3, 2011-07 or FROM..TO.")
@click.option("--unit", type=click.Choice(["hour", "day"]), default="hour", show_default=True)
@click.option("--min-count", default=5, show_default=True, help="Smallest window count.")
@click.option("--top", default=20, show_default=True, help="Events to list (largest first).")
@engine_options
@output_options
@click.pass_context
def events_cmd(
    ctx: click.Context,
    period: str | None,
    unit: str,
    min_count: int,
    top: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Candidate events: the largest keyword bursts (use a term with `govweibo response`)."""
    from govweibo.analyses.events import detect_events

    with open_source(ctx, engine, parquet_dir) as source:
        table = detect_events(source, period=period, unit=unit, min_count=min_count, top=top)
    show(
        "Events",
        table,
        top,
        ["term", "start", "peak", "end", "size", "peak_count", "baseline_mean"],
    )


@click.command("response")
@click.argument("keywords")
@click.option("--start", required=True, help="Event start, ISO 8601 (e.g. 2011-07-18T06:00+08:00).")
@click.option("--hours", default=72.0, show_default=True, help="Window after the start.")
@click.option("--province", default=None, help="List this province's silent accounts.")
@click.option("--sector", default=None, help="List this sector's silent accounts.")
@click.option("--rumour-root", default=None, help="Compare the clarification with this cascade.")
@click.option("--limit", default=20, show_default=True, help="Rows to print per table.")
@engine_options
@output_options
@click.pass_context
def response_cmd(
    ctx: click.Context,
    keywords: str,
    start: str,
    hours: float,
    province: str | None,
    sector: str | None,
    rumour_root: str | None,
    limit: int,
    engine: str | None,
    parquet_dir: Path | None,
) -> None:
    """Which official accounts spoke on an event (KEYWORDS, comma-separated), how fast, how far."""
    from govweibo.analyses.events import official_response
    from govweibo.cli.ingest import _parse_when

    when = _parse_when(start, "--start")
    if when is None:  # click requires --start; this keeps the type honest
        raise click.UsageError("--start is required")
    words = tuple(k for k in keywords.split(",") if k.strip())
    with open_source(ctx, engine, parquet_dir) as source:
        r = official_response(
            source,
            keywords=words,
            start=when,
            hours=hours,
            province=province,
            sector=sector,
            rumour_root=rumour_root,
        )
    sections = [
        Section(
            "event",
            f"Event {'/'.join(r.keywords)} from {r.start:%Y-%m-%d %H:%M} UTC for {hours:g} h",
            {
                "keywords": list(r.keywords),
                "start": r.start,
                "hours": hours,
                "event_posts": r.event_posts,
                "first_post_at": r.first_post_at,
                "official_posts": r.official_posts,
                "first_official_at": r.first_official_at,
                "delay_hours": r.delay_hours,
            },
            digits=2,
        ),
        section(
            "Official accounts that spoke",
            r.responders,
            limit,
            [
                "screen_name",
                "sector",
                "province",
                "first_post_at",
                "delay_hours",
                "posts",
                "reposts",
            ],
            name="responders",
        ),
    ]
    if province or sector:
        sections.append(section("Silent accounts", r.silent, limit, name="silent"))
    if r.rumour:
        sections.append(Section("rumour", "Rumour and clarification", r.rumour, digits=2))
    emit(*sections)


COMMANDS += [events_cmd, response_cmd]
