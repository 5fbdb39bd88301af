"""Benchmark cascade_metrics: the real CED corpus and synthetic forests made with numpy.

Usage:  python bench/cascades.py [--db /tmp/ced.duckdb] [--synthetic 1e6 1e7] [--skip-ced]

The CED store comes from `govweibo --db /tmp/ced.duckdb ingest ../shared/data/ced`.
Synthetic forests are random recursive trees (each repost picks a uniformly random earlier
node of its cascade as parent), heavy-tailed cascade sizes, one repost a second.
Each synthetic size runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from govweibo.analyses.cascades import cascade_metrics  # noqa: E402


def synthetic(n_reposts: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(1.8, size=max(n_reposts // 20, 1)), 200_000)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_reposts) + 1]
    sizes[-1] -= max(int(sizes.sum()) - n_reposts, 0)
    sizes = sizes[sizes > 0]
    n_roots, n = len(sizes), int(sizes.sum())
    cas = np.repeat(np.arange(n_roots), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n) - start[cas]  # 0-based position inside the cascade
    pick = (rng.random(n) * (pos + 1)).astype(np.int64)  # 0 = root, k = k-th repost
    root_ids = np.char.add("r", np.arange(n_roots).astype(str))
    rep_ids = np.char.add("p", np.arange(n).astype(str))
    parent = np.where(pick == 0, root_ids[cas], rep_ids[np.clip(start[cas] + pick - 1, 0, None)])
    t0 = np.datetime64("2020-01-01T00:00:00", "us")
    ts = t0 + (np.arange(n_roots + n) * 1_000_000).astype("timedelta64[us]")
    ids = np.concatenate([root_ids, rep_ids])
    return pa.table({
        "platform": pa.array(np.full(n_roots + n, "weibo")),
        "post_id": pa.array(ids),
        "author_id": pa.array(np.char.add("u", (np.arange(n_roots + n) % 997_331).astype(str))),
        "created_at": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
        "retweeted_post_id": pa.array(np.concatenate([np.full(n_roots, None), root_ids[cas]])),
        "parent_post_id": pa.array(np.concatenate([np.full(n_roots, None), parent])),
        "repost_chain": pa.nulls(n_roots + n, pa.list_(pa.string())),
    })  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_synthetic(n: int) -> dict[str, float]:
    t = time.perf_counter()
    posts = synthetic(n)
    gen_s, gen_mb = time.perf_counter() - t, peak_mb()
    t = time.perf_counter()
    out = cascade_metrics(posts)
    secs = time.perf_counter() - t
    return {"reposts": n, "cascades": out.num_rows, "seconds": round(secs, 2),
            "generate_s": round(gen_s, 2), "peak_mb_after_generate": round(gen_mb),
            "peak_mb": round(peak_mb()), "max_depth": int(np.max(out.column("depth")))}  # fmt: skip


def run_ced(db: Path) -> dict[str, float]:
    from govweibo.store import Store

    with Store(db, read_only=True) as store:
        t = time.perf_counter()
        out = cascade_metrics(store.table("posts"), accounts=store.table("accounts"))
        secs = time.perf_counter() - t
    return {"cascades": out.num_rows, "reposts": int(np.sum(out.column("reposts"))),
            "seconds": round(secs, 2), "peak_mb": round(peak_mb())}  # fmt: skip


def _child(argv: list[str]) -> str:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    res = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                         check=True)  # fmt: skip
    return res.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path("/tmp/ced.duckdb"))
    ap.add_argument("--skip-ced", action="store_true")
    ap.add_argument("--synthetic", type=float, nargs="*", default=[1e6, 1e7])
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)  # child process modes
    ap.add_argument("--ced-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_synthetic(int(args.one))))
        return 0
    if args.ced_only:
        print(json.dumps(run_ced(args.db)))
        return 0
    if not args.skip_ced:
        if args.db.exists():
            print("ced", _child(["--ced-only", "--db", str(args.db)]), flush=True)
        else:
            print(f"ced: skipped, no store at {args.db}")
    for n in args.synthetic:
        r = json.loads(_child(["--one", str(n)]))
        r["us_per_repost"] = round(1e6 * r["seconds"] / r["reposts"], 2)
        print("synthetic", json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
