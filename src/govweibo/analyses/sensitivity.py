"""Sensitivity of the ranking to the dimension weights.

Each draw multiplies every dimension weight by an independent uniform factor in
[1 - spread, 1 + spread], renormalises, and re-scores the accounts from the per-account
dimension matrix (numpy, no SQL per draw). Reported per draw: Kendall's tau-b against the
published ranking and how many of the published top-k stay in the top-k.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from govweibo.analyses.index import Method, load_method
from govweibo.errors import AnalysisError

_CELLS = 20_000_000  # elements per vectorised chunk (bounds memory)


def _kendall_tau_b(base: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """tau-b of each row of `scores` (draws x m) against `base` (m), over all pairs."""
    i, j = np.triu_indices(base.shape[0], 1)
    b = np.sign(base[i] - base[j]).astype(np.int8)
    n_b = float(np.count_nonzero(b))
    out = np.empty(scores.shape[0])
    step = max(1, _CELLS // max(len(i), 1))
    for lo in range(0, scores.shape[0], step):
        s = np.sign(scores[lo : lo + step, i] - scores[lo : lo + step, j]).astype(np.int8)
        num = (s * b).sum(axis=1, dtype=np.int64)
        n_s = np.count_nonzero(s, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + step] = num / np.sqrt(n_b * n_s)
    return out


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores (order within the k is irrelevant)."""
    return np.argpartition(-scores, k - 1)[:k]


def _kth_highest(scores: np.ndarray, ks: list[int]) -> dict[int, np.ndarray]:
    """Per row, the k-th highest score for each k (one partition for all k)."""
    part = np.partition(-scores, [k - 1 for k in ks], axis=1)
    return {k: -part[:, k - 1] for k in ks}


def dimension_matrix(index: pa.Table, method: Method) -> tuple[np.ndarray, np.ndarray]:
    names = [d.name for d in method.dimensions]
    missing = [n for n in names if n not in index.column_names]
    if missing:
        raise AnalysisError(
            f"index has no dimension columns {missing}; computed with another method?"
        )
    mat = np.column_stack(
        [index.column(n).to_numpy(zero_copy_only=False).astype(float) for n in names]
    )
    w = np.array([method.weights()[n] for n in names])
    return np.nan_to_num(mat), w


def weight_sensitivity(
    index: pa.Table,
    *,
    method: str | Path | Method = "govweibo",
    draws: int = 1000,
    spread: float = 0.25,
    seed: int = 0,
    top: tuple[int, ...] = (10, 100),
    tau_sample: int = 500,
) -> pa.Table:
    """One row per draw: the drawn weights, kendall_tau and top{k}_kept for each k.

    Kendall's tau-b is exact when the index has at most `tau_sample` accounts, else computed
    over a seeded random sample of that many accounts (an unbiased estimate). An account tied
    with the k-th highest score of a draw counts as kept.
    """
    m = load_method(method)
    if not 0 <= spread < 1:
        raise AnalysisError("spread must be in [0, 1)")
    mat, w0 = dimension_matrix(index, m)
    n = mat.shape[0]
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - spread, 1 + spread, size=(draws, len(w0)))
    weights = w0 * factors
    weights /= weights.sum(axis=1, keepdims=True)
    base = mat @ w0
    sample = np.arange(n) if n <= tau_sample else np.sort(rng.choice(n, tau_sample, replace=False))

    cols: dict[str, Any] = {"draw": np.arange(draws)}
    for k, name in enumerate(d.name for d in m.dimensions):
        cols[f"w_{name}"] = weights[:, k]
    taus = np.full(draws, np.nan)
    kept = {k: np.zeros(draws, dtype=np.int64) for k in top}
    ks = sorted({min(k, n) for k in top}) if n else []
    base_top = {k: _top(base, k) for k in ks}
    step = max(1, _CELLS // max(n, 1))
    for lo in range(0, draws, step):
        scores = weights[lo : lo + step] @ mat.T  # (chunk, n)
        if n >= 2:
            taus[lo : lo + step] = _kendall_tau_b(base[sample], scores[:, sample])
        if ks:
            kth = _kth_highest(scores, ks)
            for k in top:
                kk = min(k, n)
                hit = scores[:, base_top[kk]] >= kth[kk][:, None]
                kept[k][lo : lo + step] = hit.sum(axis=1)
    cols["kendall_tau"] = taus
    for k in top:
        cols[f"top{k}_kept"] = kept[k]
    return pa.table(cols)


def summarise_sensitivity(per_draw: pa.Table) -> pa.Table:
    """Mean, min, 5th percentile, median and 95th percentile of each per-draw statistic."""
    stats = [c for c in per_draw.column_names if c == "kendall_tau" or c.endswith("_kept")]
    rows: dict[str, list[Any]] = {
        k: [] for k in ("statistic", "mean", "min", "p5", "median", "p95")
    }
    for c in stats:
        v = per_draw.column(c).to_numpy(zero_copy_only=False).astype(float)
        v = v[~np.isnan(v)]
        rows["statistic"].append(c)
        if v.size == 0:
            for k in ("mean", "min", "p5", "median", "p95"):
                rows[k].append(None)
            continue
        rows["mean"].append(float(v.mean()))
        rows["min"].append(float(v.min()))
        for k, q in (("p5", 5), ("median", 50), ("p95", 95)):
            rows[k].append(float(np.percentile(v, q)))
    return pa.table(rows)
