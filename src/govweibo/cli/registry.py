"""`govweibo classify` and `govweibo eval-registry`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from govweibo.cli.common import console, render_table
from govweibo.cli.index import engine_options, open_source

if TYPE_CHECKING:
    from govweibo.registry import ClassifySummary


@click.command("classify")
@click.option(
    "--overrides",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="CSV of manual decisions (account id -> fields); always wins over the rules.",
)
@engine_options
@click.pass_context
def classify_cmd(
    ctx: click.Context, overrides: Path | None, engine: str | None, parquet_dir: Path | None
) -> None:
    """Find and classify government accounts into the account_profiles table.

    On Spark the accounts are read from the Parquet layout and account_profiles is
    written back into it (DIR/account_profiles/), for the analyses that run there.
    """
    from govweibo.registry import classify_store

    with open_source(ctx, engine, parquet_dir, read_only=False) as source:
        summary = classify_store(source, overrides=overrides)
    render_classification(summary)


def render_classification(s: ClassifySummary) -> None:
    console.print(
        f"{s.government:,} of {s.accounts:,} accounts are government ({s.overridden} by override)",
        markup=False,
    )
    for title, counts in (
        ("kind", s.by_kind),
        ("sector", s.by_sector),
        ("level", s.by_level),
        ("region", s.by_region),
    ):
        render_table(f"Government accounts by {title}", [title, "accounts"], list(counts.items()))


@click.command("eval-registry")
@click.argument("labels", type=click.Path(exists=True, path_type=Path))
@click.option("--show", default=30, show_default=True, help="Wrong rows to list.")
def eval_registry_cmd(labels: Path, show: int) -> None:
    """Score the classifier on labelled Sina user objects (JSON lines); exit 0 whatever the scores."""
    from govweibo.registry import evaluate

    r = evaluate(labels)
    render_table(
        f"Registry evaluation on {r.accounts} accounts ({r.government} government)",
        ["measure", "value"],
        [
            ("is_government precision", f"{r.precision:.3f}"),
            ("is_government recall", f"{r.recall:.3f}"),
            ("is_government F1", f"{r.f1:.3f}"),
            ("kind accuracy", f"{r.kind_accuracy:.3f}"),
            ("level accuracy", f"{r.level_accuracy:.3f}"),
            ("province accuracy", f"{r.province_accuracy:.3f}"),
            ("sector macro-F1", f"{r.sector_macro_f1:.3f}"),
        ],
    )
    if r.wrong:
        cols = list(r.wrong[0].__dict__)
        render_table(
            f"Rows that went wrong ({len(r.wrong)})",
            cols,
            [tuple(w.__dict__.values()) for w in r.wrong[:show]],
        )


COMMANDS = [classify_cmd, eval_registry_cmd]
