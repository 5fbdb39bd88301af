"""Time one analysis on an existing store: the index + rankings + province aggregates
(govweibo preset), or responsiveness (every account's addressed items and replies).

    python bench/on_store.py STORE [--analysis index|responsiveness] [--period 2011]
                                   [--repeat 2] [--out result.parquet]

For comparing code versions on one store, side by side, without re-ingesting: run it once
with each version first on PYTHONPATH, e.g. a `git worktree` of the older commit:

    PYTHONPATH=../old/src python bench/on_store.py big.duckdb --out old.parquet
    python bench/on_store.py big.duckdb --out new.parquet

Each repeat runs in its own process, so its peak RSS (ru_maxrss) is its own; the clock starts
after the store is opened and stops when the result (for the index: its rankings and
province tables) exists.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

RUN = r"""
import json, resource, sys, time
import govweibo
from govweibo.store import Store
db, analysis, period, out = sys.argv[1:5]
store = Store(db, read_only=True)
t = time.perf_counter()
if analysis == "index":
    from govweibo.analyses.index import compute_index
    from govweibo.analyses.rankings import province_aggregates, ranking_lists
    idx = compute_index(store, period=period, method="govweibo")
    ranking_lists(idx)
    province_aggregates(idx)
else:
    from govweibo.analyses.responsiveness import responsiveness
    idx = responsiveness(store, period=period)
seconds = time.perf_counter() - t
if out:
    import pyarrow.parquet as pq
    pq.write_table(idx, out)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_rss": rss, "accounts": idx.num_rows,
                  "code": govweibo.__file__}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("store")
    ap.add_argument("--analysis", choices=["index", "responsiveness"], default="index")
    ap.add_argument("--period", default="2011")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default="", help="write the result table to this Parquet file")
    args = ap.parse_args()
    for k in range(args.repeat):
        done = subprocess.run(
            [sys.executable, "-c", RUN, args.store, args.analysis, args.period, args.out],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"run {k + 1}: {args.analysis} {r['seconds']:.1f} s, peak RSS "
            f"{r['peak_rss'] / 2**20:,.0f} MiB, {r['accounts']:,} accounts ({r['code']})",
            flush=True,
        )


if __name__ == "__main__":
    main()
