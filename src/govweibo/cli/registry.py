"""`govweibo classify` and `govweibo eval-registry`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from govweibo.cli.common import Section, emit, output_options
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
@output_options
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
    emit(
        Section(
            "summary",
            f"{s.government:,} of {s.accounts:,} accounts are government "
            f"({s.overridden} by override)",
            {"accounts": s.accounts, "government": s.government, "overridden": s.overridden},
        ),
        *(
            Section(
                f"by_{title}",
                f"Government accounts by {title}",
                [{title: k, "accounts": n} for k, n in counts.items()],
            )
            for title, counts in (
                ("kind", s.by_kind),
                ("sector", s.by_sector),
                ("level", s.by_level),
                ("region", s.by_region),
            )
        ),
    )


@click.command("eval-registry")
@click.argument("labels", type=click.Path(exists=True, path_type=Path))
@click.option("--show", default=30, show_default=True, help="Wrong rows to list.")
@output_options
def eval_registry_cmd(labels: Path, show: int) -> None:
    """Score the classifier on labelled Sina user objects (JSON lines); exit 0 whatever the scores."""
    from govweibo.registry import evaluate

    r = evaluate(labels)
    emit(
        Section(
            "scores",
            f"Registry evaluation on {r.accounts} accounts ({r.government} government)",
            {
                "accounts": r.accounts,
                "government": r.government,
                "is_government_precision": r.precision,
                "is_government_recall": r.recall,
                "is_government_f1": r.f1,
                "kind_accuracy": r.kind_accuracy,
                "level_accuracy": r.level_accuracy,
                "province_accuracy": r.province_accuracy,
                "sector_macro_f1": r.sector_macro_f1,
            },
        ),
        Section(
            "wrong",
            f"Rows that went wrong ({len(r.wrong)})",
            [dict(w.__dict__) for w in r.wrong[:show]],
        ),
    )


COMMANDS = [classify_cmd, eval_registry_cmd]
