"""Ingest speed and memory, side by side with DuckDB's own read_json (the floor).

    python bench/ingest.py --posts 1000000        # synthetic Sina API JSON lines
    python bench/ingest.py --ced ../shared/data/ced
    python bench/ingest.py --sql-reader           # without the native extension
    python bench/ingest.py --repeat 5             # five pairs each, and their medians

Each measurement runs in a fresh subprocess so peak RSS is that run's alone.
CSV input (dataabc/weibo-crawler post files) beside DuckDB's read_csv: bench/ingest_csv.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
mode, path, db, native = sys.argv[1:5]
t = time.perf_counter()
if mode == "floor":
    import duckdb
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    if path.endswith("l"):
        con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [path])
    else:  # the CED folder: repost arrays, and source posts whose user may be a string
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_json(?, format='array', union_by_name=true)",
            [path + "/*-repost/*.json"],
        )
        con.execute(
            "CREATE TABLE s AS SELECT * FROM read_json(?, union_by_name=true, ignore_errors=true)",
            [path + "/original-microblog/*.json"],
        )
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    if not path.endswith("l"):
        n += con.execute("SELECT count(*) FROM s").fetchone()[0]
else:
    from govweibo.ingest import ReadOptions, ingest
    from govweibo.store import Store
    with Store(db) as s:
        summary = ingest(s, [path], options=ReadOptions(native=native == "1"))
        n = summary.total("records_read")
elapsed = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"records": n, "seconds": elapsed, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_rss": usage.ru_maxrss * 1024}))
"""


def synth_lines(path: Path, n: int) -> None:
    """Realistic Sina status lines (nested user, some reposts), written fast."""
    users = [
        {
            "id": 1000000 + u,
            "idstr": str(1000000 + u),
            "screen_name": f"账号{u}",
            "province": "33",
            "city": "1",
            "location": "浙江 杭州",
            "description": "政务发布" * 3,
            "gender": "m",
            "followers_count": u * 7,
            "friends_count": 100,
            "statuses_count": 1000,
            "favourites_count": 0,
            "created_at": "Thu Feb 10 09:00:00 +0800 2011",
            "verified": u % 2 == 0,
            "verified_type": 1 if u % 2 == 0 else -1,
            "verified_reason": "杭州市公安局官方微博" if u % 2 == 0 else "",
        }
        for u in range(20000)
    ]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            s = {
                "created_at": "Wed Jun 01 10:00:00 +0800 2011",
                "id": 3350000000000000 + i,
                "idstr": str(3350000000000000 + i),
                "mid": str(3350000000000000 + i),
                "text": "【提示】今晚有雨，请市民注意出行安全，关注实时路况。" + str(i),
                "source": '<a href="http://weibo.com" rel="nofollow">新浪微博</a>',
                "reposts_count": i % 97,
                "comments_count": i % 13,
                "attitudes_count": i % 7,
                "truncated": False,
                "pic_urls": [],
                "user": users[i % len(users)],
            }
            if i % 4 == 0:
                s["retweeted_status"] = {
                    "created_at": "Wed Jun 01 09:00:00 +0800 2011",
                    "id": 3340000000000000 + i,
                    "text": "原微博",
                    "user": users[(i + 1) % len(users)],
                }
            fh.write(json.dumps(s, ensure_ascii=False) + "\n")


def measure(mode: str, path: Path, workdir: Path, native: bool = True) -> dict[str, float]:
    db = workdir / f"{mode}-{path.name}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(db), "1" if native else "0"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def size_of(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def report(name: str, path: Path, workdir: Path, native: bool, repeat: int) -> None:
    mb = size_of(path) / 1e6
    print(f"== {name}: {mb:,.0f} MB")
    walls, cpus = [], []
    for _ in range(repeat):
        # The two sides one after the other, each round: a pair shares the machine's state.
        ours = measure("govweibo", path, workdir, native)
        floor = measure("floor", path, workdir)
        for label, r in (("govweibo ingest", ours), ("duckdb read_json", floor)):
            print(
                f"{label:18s} {r['records']:>10,} records  {r['seconds']:7.2f} s  "
                f"{r['records'] / r['seconds']:>10,.0f} rec/s  {mb / r['seconds']:6.1f} MB/s  "
                f"CPU {r['cpu']:6.1f} s  peak RSS {r['peak_rss'] / 2**20:,.0f} MiB"
            )
        # CPU seconds (user + system, all threads) are steadier than wall time when other
        # jobs share the cores; both ratios are printed.
        walls.append(ours["seconds"] / floor["seconds"])
        cpus.append(ours["cpu"] / floor["cpu"])
        print(
            f"ratio govweibo / read_json: {walls[-1]:.2f}x wall, {cpus[-1]:.2f}x CPU  "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
    if repeat > 1:
        print(
            f"median of {repeat}: {statistics.median(walls):.2f}x wall, "
            f"{statistics.median(cpus):.2f}x CPU"
        )


def long_line(work: Path, mb: int) -> None:
    """A file with one line of `mb` MB between good lines: the line is over max_line_mb
    (64 by default) and quarantined by its first bytes; memory stays bounded by the chunk."""
    path = work / "long_line.jsonl"
    good = json.dumps({"created_at": "Wed Jun 01 09:00:00 +0800 2011", "id": 1, "text": "a"})
    with path.open("w") as fh:
        fh.write(good + "\n" + '{"text": "')
        block = "x" * (1 << 20)
        for _ in range(mb):
            fh.write(block)
        fh.write('"}\n' + good.replace('"id": 1', '"id": 2') + "\n")
    r = measure("govweibo", path, work)
    print(
        f"== one line of {mb:,} MB (chunk 32 MB, max_line_mb 64): {r['records']:,} records "
        f"in {r['seconds']:.2f} s, CPU {r['cpu']:.1f} s, peak RSS {r['peak_rss'] / 2**20:,.0f} MiB"
    )
    path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--long-line-mb",
        type=int,
        default=0,
        help="also time a file holding one line of this many MB (issue #23: e.g. 300)",
    )
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument(
        "--ced", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/ced"
    )
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="pairs of runs per input")
    ap.add_argument(
        "--sql-reader",
        action="store_true",
        help="read without the native extension (SQL, json.loads), as where it is not built",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.long_line_mb:
            long_line(work, args.long_line_mb)
        if not args.skip_synthetic and args.posts > 0:
            lines = work / "statuses.jsonl"
            t = time.perf_counter()
            synth_lines(lines, args.posts)
            print(f"(wrote {args.posts:,} statuses in {time.perf_counter() - t:.1f} s)")
            report(
                f"{args.posts:,} synthetic API statuses",
                lines,
                work,
                not args.sql_reader,
                args.repeat,
            )
            lines.unlink()
        if args.ced.exists():
            report("CED corpus", args.ced, work, not args.sql_reader, args.repeat)
        else:
            print(f"CED corpus not found at {args.ced}: skipped")


if __name__ == "__main__":
    main()
