"""`govweibo synth` and `govweibo demo`."""

from __future__ import annotations

from pathlib import Path

import click

from govweibo.cli.common import console, err_console, open_store, render_table, settings
from govweibo.cli.ingest import print_summary


@click.command("synth")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--accounts", default=20000, show_default=True, help="Government accounts at the end of 2011."
)
@click.option("--posts", default=200000, show_default=True, help="Statuses to generate.")
@click.option(
    "--seed", default=2011, show_default=True, help="Random seed (same seed, same files)."
)
@click.option(
    "--gzip",
    is_flag=True,
    help="Write the status and comment dumps gzip-compressed (.jsonl.gz; for large worlds).",
)
def synth_cmd(out_dir: Path, accounts: int, posts: int, seed: int, gzip: bool) -> None:
    """Write a calibrated synthetic government-microblog world as Sina API JSON lines."""
    from govweibo.synth import generate

    with err_console.status("generating") as status:

        def progress(stage: str, n: int) -> None:
            status.update(f"generating {stage}: {n:,}")

        summary = generate(
            out_dir, accounts=accounts, posts=posts, seed=seed, progress=progress, gzip=gzip
        )
    console.print(f"wrote the world to {out_dir}")
    console.print(summary)


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the generated world and outputs.",
)
@click.option(
    "--accounts", default=20000, show_default=True, help="Government accounts at the end of 2011."
)
@click.option("--posts", default=50000, show_default=True, help="Statuses to generate.")
@click.option("--seed", default=2011, show_default=True, help="Random seed.")
@click.option("--serve", "then_serve", is_flag=True, help="Then serve the dashboard on 127.0.0.1.")
@click.option("--port", default=8000, show_default=True, help="Port for --serve.")
@click.option(
    "--observe",
    "observe",
    is_flag=True,
    help="Instead: replay a scripted day (the 武汉 rainstorm) to the live observer through a "
    "loopback fake of Sina's API and print each hour's new alerts (store: OUT/observe.duckdb).",
)
@click.option("--observe-hours", default=None, type=click.IntRange(1, 24), hidden=True)
@click.pass_context
def demo_cmd(
    ctx: click.Context,
    out_dir: Path,
    accounts: int,
    posts: int,
    seed: int,
    then_serve: bool,
    port: int,
    observe: bool,
    observe_hours: int | None,
) -> None:
    """Generate the demo world, ingest it through the real path, classify, index, report."""
    from govweibo import demo

    out_dir.mkdir(parents=True, exist_ok=True)
    if observe:
        import logging

        lang = settings(ctx).lang
        log, level = logging.getLogger("govweibo"), logging.getLogger("govweibo").level
        if level == logging.INFO:  # the hourly lines below say it (-v: every request)
            log.setLevel(logging.WARNING)
        try:
            path, _ = demo.observe_day(
                out_dir, hours=observe_hours, on_cycle=lambda r: print_cycle(r, lang)
            )
        finally:
            log.setLevel(level)
        console.print(f"alerts are in {path}: govweibo --db {path} alerts list", markup=False)
        if then_serve:
            from govweibo.cli.serve import web_serve

            web_serve()(str(path), "127.0.0.1", port, settings(ctx).token)
        return
    with open_store(ctx) as store:
        result = demo.run(
            store,
            out_dir,
            accounts=accounts,
            posts=posts,
            seed=seed,
            lang=settings(ctx).lang,
            log=lambda msg: err_console.print(msg, markup=False),
        )
    print_summary(result.ingest)
    render_demo(result)
    if then_serve:
        from govweibo.cli.serve import web_serve

        # The writable store is closed above: DuckDB will not open it read-only while a
        # writable connection to it is open in this process.
        web_serve()(settings(ctx).db, "127.0.0.1", port, settings(ctx).token)


def print_cycle(result: object, lang: str) -> None:
    """One observer cycle of `demo --observe`: its hour (Beijing time) and new alerts."""
    from govweibo import labels
    from govweibo.observe.loop import CycleResult

    assert isinstance(result, CycleResult)
    when = labels.beijing(result.now, lang)
    console.print(
        f"cycle {result.cycle} · {when} · {result.arrived} posts arrived · "
        f"{len(result.opened)} new alerts",
        markup=False,
    )
    for a in result.opened:
        kind = labels.value("alert_kind", a.kind, lang)
        console.print(f"  [{kind}] {a.title}", markup=False)
    for e in result.errors:
        err_console.print(f"  error: {e}", markup=False)


def render_demo(result: object) -> None:
    from govweibo.demo import DemoResult

    assert isinstance(result, DemoResult)
    render_table("What is in the store", ["table", "rows"], list(result.status.counts.items()))
    if result.status.first_post:
        console.print(
            f"posts from {result.status.first_post:%Y-%m-%d} to {result.status.last_post:%Y-%m-%d}"
        )
    for title, (columns, rows) in result.tables.items():
        render_table(title, columns, rows)
    for line in result.notes:
        console.print(line, markup=False)


COMMANDS = [synth_cmd, demo_cmd]
