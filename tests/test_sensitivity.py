from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from govweibo.analyses.sensitivity import _kendall_tau_b, summarise_sensitivity, weight_sensitivity


def fake_index(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    dims = {
        d: rng.uniform(0, 100, n)
        for d in ("communication", "service", "interaction", "recognition")
    }
    w = {"communication": 0.3, "service": 0.25, "interaction": 0.25, "recognition": 0.2}
    score = sum(dims[d] * w[d] for d in dims)
    return pa.table({"account_id": [str(i) for i in range(n)], **dims, "score": score})


def brute_tau(x: np.ndarray, y: np.ndarray) -> float:
    n = len(x)
    c = d = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            a, b = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            c += a * b > 0
            d += a * b < 0
            tx += a != 0
            ty += b != 0
    return (c - d) / np.sqrt(tx * ty)


def test_kendall_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 30).astype(float)  # with ties
    ys = rng.integers(0, 5, (3, 30)).astype(float)
    got = _kendall_tau_b(x, ys)
    for k in range(3):
        assert got[k] == pytest.approx(brute_tau(x, ys[k]))
    assert _kendall_tau_b(x, x[None, :])[0] == pytest.approx(1.0)


def test_weight_sensitivity_shapes_and_seed() -> None:
    idx = fake_index(300)
    a = weight_sensitivity(idx, draws=200, seed=7)
    b = weight_sensitivity(idx, draws=200, seed=7)
    assert a.equals(b) and len(a) == 200
    tau = a.column("kendall_tau").to_numpy()
    assert (tau > 0.5).all() and (tau <= 1.0).all()
    assert (a.column("top10_kept").to_numpy() <= 10).all()
    assert (a.column("top100_kept").to_numpy() <= 100).all()
    w = np.column_stack([a.column(c).to_numpy() for c in a.column_names if c.startswith("w_")])
    assert np.allclose(w.sum(axis=1), 1.0)
    assert w[:, 0].min() >= 0.3 * 0.75 / 1.25 - 1e-9
    zero = weight_sensitivity(idx, draws=5, spread=0.0)
    assert (zero.column("kendall_tau").to_numpy() == 1.0).all()
    assert (zero.column("top10_kept").to_numpy() == 10).all()


def test_sampled_tau_and_summary() -> None:
    idx = fake_index(1500)
    out = weight_sensitivity(idx, draws=30, tau_sample=400)
    s = {r["statistic"]: r for r in summarise_sensitivity(out).to_pylist()}
    assert set(s) == {"kendall_tau", "top10_kept", "top100_kept"}
    assert 0.5 < s["kendall_tau"]["median"] <= 1.0
    assert s["top10_kept"]["min"] <= s["top10_kept"]["p95"] <= 10


def test_top_kept_matches_brute_force() -> None:
    idx = fake_index(400, seed=5)
    out = weight_sensitivity(idx, draws=20, seed=2)
    dims = ["communication", "service", "interaction", "recognition"]
    mat = np.column_stack([idx.column(d).to_numpy() for d in dims])
    base = set(np.argsort(-idx.column("score").to_numpy())[:10])
    for row in out.to_pylist():
        w = np.array([row[f"w_{d}"] for d in dims])
        top = set(np.argsort(-(mat @ w))[:10])
        assert row["top10_kept"] == len(base & top)
