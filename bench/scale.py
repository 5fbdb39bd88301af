"""The scaling curve: synth -> ingest -> classify -> index -> rankings, on DuckDB and Spark.

    python bench/scale.py --posts 1000000 10000000 50000000 [--no-spark] [--gzip]
    python bench/scale.py --posts 1000000 50000000 --worlds DIR   # keep and reuse the worlds

Each stage runs in its own process so its wall time and peak RSS are its own; the Spark
stages read the Parquet layout exported from the same store (export time is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE = r"""
import json, resource, sys, time
stage, world, db, pq = sys.argv[1:5]
t = time.perf_counter()
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
    print(json.dumps({"top": idx["account_id"][0].as_py()}), file=sys.stderr)
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
    result = json.loads(out.stdout.strip().splitlines()[-1])
    tops = [line for line in out.stderr.splitlines() if line.startswith('{"top"')]
    if tops:
        result["top"] = json.loads(tops[-1])["top"]
    return result


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
                same = results["index-spark"].get("top") == results["index-duckdb"].get("top")
                print(f"{n:>12,} top account identical on both engines: {same}")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{n:>12,} load average (1, 5, 15 min) at the end: {load}", flush=True)


if __name__ == "__main__":
    main()
