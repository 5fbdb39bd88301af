"""Opinion commands: sentiment evaluation (more join as the opinion analyses land)."""

from __future__ import annotations

from pathlib import Path

import click

from govweibo.cli.common import render_table


@click.command("eval-sentiment")
@click.argument("labels", type=click.Path(exists=True, path_type=Path))
def eval_sentiment_cmd(labels: Path) -> None:
    """Accuracy and macro-F1 of the shipped sentiment model on {content, label} JSON lines."""
    from govweibo.text.sentiment import evaluate

    r = evaluate(labels)
    render_table(
        f"Sentiment on {r.n} texts ({r.skipped} skipped: no polarity)",
        ["measure", "value"],
        [
            ("accuracy", f"{r.accuracy:.3f}"),
            ("macro-F1", f"{r.macro_f1:.3f}"),
            ("neutral band", f"{r.neutral_band:g}"),
        ],
    )
    render_table(
        "Confusion (rows gold, columns predicted)",
        ["gold", *r.labels],
        [(g, *row) for g, row in zip(r.labels, r.confusion, strict=True)],
    )


COMMANDS = [eval_sentiment_cmd]
