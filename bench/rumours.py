"""Rumour triage on the posts it will meet: false alarms on ordinary official posts,
grouped held-out CED figures, alert precision at realistic base rates, reliability.

Usage:  python bench/rumours.py [--ced ../shared/data/ced] [--cctv ../shared/data/cctv]
        [--svg docs/img/rumour_reliability.svg]

Everything scored here is out-of-sample for the shipped model: the CED events it lists as
held out (near-duplicate groups never in training, tuning or calibration) and the CCTV
News posts it lists as held out (from 16 April 2020 on, and every near-duplicate of them).
The CCTV crawl is ingested into a temporary store with the crawler-csv reader.
Needs numpy only (no scikit-learn).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from govweibo.analyses.rumours import (  # noqa: E402
    WINDOWS,
    RumourModel,
    load_ced,
    score_posts,
    triage,
)

BASE_RATES = (0.01, 0.001)


def official_posts(cctv: Path, model: RumourModel) -> tuple[dict[str, int], dict[str, int]]:
    """Label counts of the held-out and the training CCTV posts (0 h: no reposts held)."""
    import pyarrow.compute as pc

    from govweibo.ingest import ingest
    from govweibo.ingest.base import ReadOptions
    from govweibo.store import Store

    held = set(model.meta["heldout_official_post_ids"])
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "cctv.duckdb") as store:
        ingest(store, [cctv], options=ReadOptions(year=2020))
        table = score_posts(store, model=model)
    is_held = pc.is_in(table.column("post_id"), value_set=__import__("pyarrow").array(list(held)))
    labels = table.column("label").to_pylist()
    mask = is_held.to_pylist()
    return (
        Counter(lab for lab, h in zip(labels, mask, strict=True) if h),
        Counter(lab for lab, h in zip(labels, mask, strict=True) if not h),
    )


def reliability(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed rumour share, count) per probability bin with posts."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(prob, edges) - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        if m.any():
            out.append((float(prob[m].mean()), float(y[m].mean()), int(m.sum())))
    return out


def svg(curves: dict[str, list[tuple[float, float, int]]], px: int = 360) -> str:
    """A reliability diagram: observed share against predicted probability, per window."""
    pad, side = 44, px - 60
    colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a"]

    def xy(p: float, q: float) -> tuple[float, float]:
        return pad + p * side, pad - 30 + (1 - q) * side

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{px + 120}" height="{px}" '
             'font-family="sans-serif" font-size="11">',
             f'<rect x="{pad}" y="{pad - 30}" width="{side}" height="{side}" fill="none" '
             'stroke="#999"/>']  # fmt: skip
    x0, y0 = xy(0, 0)
    x1, y1 = xy(1, 1)
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#bbb" '
                 'stroke-dasharray="4 3"/>')  # fmt: skip
    for t in (0, 0.5, 1):
        x, y = xy(t, t)
        parts.append(f'<text x="{x}" y="{y0 + 14}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{(x0 + x1) / 2}" y="{y0 + 28}" text-anchor="middle">'
                 "calibrated probability (bin mean)</text>")  # fmt: skip
    parts.append(f'<text x="12" y="{(y0 + y1) / 2}" transform="rotate(-90 12 {(y0 + y1) / 2})" '
                 'text-anchor="middle">observed rumour share</text>')  # fmt: skip
    for k, (name, pts) in enumerate(curves.items()):
        c = colours[k % len(colours)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{xy(p, q)[0]:.1f},{xy(p, q)[1]:.1f}"
                        for i, (p, q, _) in enumerate(pts))  # fmt: skip
        parts.append(f'<path d="{path}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        for p, q, n in pts:
            x, y = xy(p, q)
            r = 1.5 + min(np.sqrt(n) / 2, 6)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{c}" '
                         f'fill-opacity="0.6"><title>{name}: {n} events</title></circle>')  # fmt: skip
        parts.append(f'<text x="{x1 + 10}" y="{y1 + 14 + 16 * k}" fill="{c}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ced", type=Path, default=ROOT.parent / "shared/data/ced")
    ap.add_argument("--cctv", type=Path, default=ROOT.parent / "shared/data/cctv")
    ap.add_argument("--svg", type=Path, default=None, help="write the reliability diagram here")
    args = ap.parse_args(argv)
    model = RumourModel.load()
    cut = float(model.meta["threshold"])
    t = time.perf_counter()
    held, trained = official_posts(args.cctv, model)
    n_held = sum(held.values())
    fpr_off = held["likely_rumour"] / n_held
    print(f"CCTV News posts, held out ({n_held}): {dict(held)}")
    print(f"  labelled likely_rumour: {fpr_off:.4f} ({held['likely_rumour']} posts)")
    print(f"CCTV News posts, trained on (in-sample, {sum(trained.values())}): {dict(trained)}"
          f"  ({time.perf_counter() - t:.0f} s)")  # fmt: skip
    ev = load_ced(args.ced, only=set(model.meta["heldout_mids"]))
    official = (np.nan_to_num(ev.author["verified"]) > 0) | (ev.author["verified_type"] == 1)
    print(f"\nCED held-out events: {len(ev)} ({int(ev.label.sum())} rumours); threshold {cut:g}")
    print("window | acc | precision | recall | F1 | FPR | alerts real at 1 % | at 0.1 %")
    curves = {}
    for h in WINDOWS:
        r = triage(ev, official, hours=h, model=model)
        flag = np.array(r["label"]) == "likely_rumour"
        y = ev.label == 1
        tp, fp = int((flag & y).sum()), int((flag & ~y).sum())
        fn, tn = int((~flag & y).sum()), int((~flag & ~y).sum())
        prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-12)
        fpr = fp / max(fp + tn, 1)
        # Ordinary official posts carry no cascade in the CCTV crawl, so their false-alarm
        # rate is the 0 h one whatever the window; a floor of one false alarm in the
        # held-out posts keeps a zero count from promising perfect precision.
        fpr_use = max(fpr_off, 1 / n_held)
        at = [rec * p / (rec * p + fpr_use * (1 - p)) for p in BASE_RATES]
        name = "all" if h is None else f"{h:g} h"
        print(f"{name} | {(tp + tn) / len(y):.3f} | {prec:.3f} | {rec:.3f} | {f1:.3f} | "
              f"{fpr:.3f} | {at[0]:.3f} | {at[1]:.3f}")  # fmt: skip
        if h in (0, 1, None):
            p = np.asarray(r["rumour_probability"])
            ok = ~np.isnan(p)
            curves[name] = reliability(p[ok], ev.label[ok].astype(float))
    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(svg(curves), encoding="utf-8")
        print(f"wrote {args.svg}")
    for name, pts in curves.items():
        print(f"reliability {name}: " + ", ".join(f"{p:.2f}->{q:.2f} (n={n})" for p, q, n in pts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
