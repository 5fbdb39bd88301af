"""The scaling curve: synth -> ingest -> classify -> index -> rankings, on DuckDB and Spark.

    python bench/scale.py --posts 1000000 10000000 50000000 [--no-spark] [--gzip]
    python bench/scale.py --posts 1000000 50000000 --worlds DIR   # keep and reuse the worlds

Each stage runs in its own process so its wall time and peak RSS are its own; the Spark
stages read the Parquet layout exported from the same store (export time is reported).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq_io

STAGE = r"""
import json, resource, sys, time
stage, world, db, pq = sys.argv[1:5]
t = time.perf_counter()
elapsed = None
if stage == "synth":
    from govweibo.synth import generate
    generate(world, accounts=20000, posts=int(sys.argv[5]), seed=2011, gzip=sys.argv[6] == "1")
elif stage == "ingest":
    from govweibo.demo import ingest_manifest
    from govweibo.store import Store
    from pathlib import Path
    with Store(db) as s:
        ingest_manifest(s, Path(world))
elif stage == "classify":
    from govweibo.registry import classify_store
    from govweibo.store import Store
    with Store(db) as s:
        classify_store(s)
elif stage == "export":
    from govweibo.store import Store
    from govweibo.store.parquet import export_parquet
    with Store(db, read_only=True) as s:
        export_parquet(s, pq, overwrite=True)
else:
    engine = stage.split("-")[1]
    from govweibo.analyses.index import compute_index
    from govweibo.analyses.rankings import province_aggregates, ranking_lists
    from govweibo.store import Store
    from govweibo.store.engines import SparkTables
    store = Store(db, read_only=True)
    source = store if engine == "duckdb" else SparkTables(pq, master="local[2]")
    t = time.perf_counter()  # Spark start-up is not the index's cost
    idx = compute_index(source, period="2011", method="govweibo")
    ranking_lists(idx)
    province_aggregates(idx)
    elapsed = time.perf_counter() - t
    import pyarrow.parquet as pq_io
    pq_io.write_table(idx, pq + f"-index-{engine}.parquet")  # compared across engines
if elapsed is None:
    elapsed = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": elapsed, "peak_rss": rss}))
"""


def stage(
    name: str, world: Path, db: Path, pq: Path, posts: int, gzip: bool = False
) -> dict[str, float]:
    args = [name, str(world), str(db), str(pq), str(posts), "1" if gzip else "0"]
    out = subprocess.run(
        [sys.executable, "-c", STAGE, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def index_difference(a: pa.Table, b: pa.Table) -> str | None:
    """None if the two index tables are the same rows in the same order (floats to 1e-9),
    else the first difference."""
    if a.schema != b.schema:
        return f"schemas differ: {a.schema} / {b.schema}"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows:,} rows / {b.num_rows:,}"
    for name in a.column_names:
        x, y = a[name].to_pylist(), b[name].to_pylist()
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            if isinstance(u, float) and isinstance(v, float):
                same = (math.isnan(u) and math.isnan(v)) or abs(u - v) <= 1e-9
            else:
                same = u == v
            if not same:
                return f"row {i}, {name}: {u!r} / {v!r}"
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument(
        "--gzip",
        action="store_true",
        help="write the world's dumps gzip-compressed (a 50M-post world is ~100 GB of JSON)",
    )
    ap.add_argument(
        "--worlds",
        type=Path,
        help="keep each size's world in DIR/posts-N; a world already there (as written by "
        "'govweibo synth --accounts 20000 --seed 2011 --posts N') is reused, synth skipped",
    )
    ap.add_argument("--workdir", type=Path, help="where the store goes (default: a temp dir)")
    args = ap.parse_args()
    stages = ["synth", "ingest", "classify", "index-duckdb"]
    if not args.no_spark:
        stages += ["export", "index-spark"]
    engines = ("duckdb", "spark")
    print(f"{'posts':>12} {'stage':14} {'seconds':>9} {'peak RSS MiB':>13}")
    for n in args.posts:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            base = Path(tmp)
            world = args.worlds / f"posts-{n}" if args.worlds else base / "world"
            results = {}
            for name in stages:
                if name == "synth" and (world / "manifest.json").exists():  # written last
                    print(f"{n:>12,} {'synth':14} reused {world}", flush=True)
                    continue
                t = time.perf_counter()
                r = stage(name, world, base / "s.duckdb", base / "pq", n, args.gzip)
                results[name] = r
                print(
                    f"{n:>12,} {name:14} {r['seconds']:>9.1f} {r['peak_rss'] / 2**20:>13,.0f}"
                    f"  (wall {time.perf_counter() - t:.1f} s)",
                    flush=True,
                )
            if "index-spark" in results:
                a, b = (pq_io.read_table(f"{base / 'pq'}-index-{e}.parquet") for e in engines)
                diff = index_difference(a, b)
                print(
                    f"{n:>12,} index identical on both engines ({a.num_rows:,} accounts, "
                    f"same order, floats to 1e-9): {diff is None}" + (f" ({diff})" if diff else ""),
                    flush=True,
                )
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{n:>12,} load average (1, 5, 15 min) at the end: {load}", flush=True)


if __name__ == "__main__":
    main()
