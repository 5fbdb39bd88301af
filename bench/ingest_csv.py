"""weibo-crawler post CSVs: the reader, and the whole ingest, beside DuckDB's read_csv.

    python bench/ingest_csv.py                  # 1,000,000 rows in 50 account files
    python bench/ingest_csv.py --rows 200000 --repeat 3
    python bench/ingest_csv.py --no-users       # no users.csv: a run per file

The files are written as dataabc/weibo-crawler 2025 writes them (the 18-column header
and the reposted post's columns; 30 % of rows reposts, texts with line breaks, ids with
the trailing TAB). Three measurements, each in a fresh subprocess (peak RSS its own):
`read_csv` (DuckDB reading every file into a table of strings, null-padding the short
rows of original posts, serially as it must with line breaks in quoted texts: the floor), `reader` (govweibo's reader turning the files into
canonical Arrow batches, no store) and `ingest` (the reader and the store's writer; with
users.csv the folder is the tool's own and one run, without it a run per file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, folder, db = sys.argv[1:4]
t = time.perf_counter()
if mode == "read_csv":
    import duckdb
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, header=true, all_varchar=true, "
        "null_padding=true, parallel=false)",
        [folder + "/*/*.csv"],
    )
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
elif mode == "reader":
    from govweibo.ingest.base import ReadOptions, Source, observed_at_for
    from govweibo.ingest.weibo_crawler import WeiboCrawlerReader
    reader, opts, n = WeiboCrawlerReader(), ReadOptions(), 0
    for path in sorted(Path(folder).glob("*/*.csv")):
        source = Source(path, observed_at_for(path, opts))
        for batch in reader.read(source, opts):
            n += batch.primary["posts"].num_rows + len(batch.rejects)
else:
    from govweibo.ingest import ingest
    from govweibo.store import Store
    with Store(db) as s:
        n = ingest(s, [folder]).total("records_read")
elapsed = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"records": n, "seconds": elapsed, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_rss": usage.ru_maxrss * 1024}))
"""

MAIN = ["id", "bid", "正文", "头条文章url", "原始图片url", "视频url", "Live Photo视频url", "位置"]
MAIN += ["日期", "工具", "点赞数", "评论数", "转发数", "话题", "@用户", "完整日期", "是否编辑过"]
MAIN += ["编辑次数"]
HEADER = MAIN + ["是否原创", "源用户id", "源用户昵称"] + ["源微博" + h for h in MAIN]
TEXTS = [
    "【便民提示】明日起部分路段实行交通管制，请市民合理安排出行。",
    "#平安守护# 夜间巡逻中，民警帮助走失老人安全回家。\n感谢热心群众的及时报警！",
    "转发微博 //@某区发布:转发周知",
    "【通报】关于近期电信诈骗案件的情况通报，详见长图 http://t.cn/A6abcdE",
]


USERS = ["用户id", "昵称", "性别", "生日", "所在地", "IP属地", "学习经历", "公司", "注册时间"]
USERS += ["阳光信用", "微博数", "粉丝数", "关注数", "简介", "主页", "头像", "高清头像", "微博等级"]
USERS += ["会员等级", "是否认证", "认证类型", "认证信息", "上次记录微博信息"]


def write_users(folder: Path, accounts: int) -> None:
    """weibo/users.csv, one row per account, as the tool writes it at each account's start."""
    with (folder / "users.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(USERS)
        for a in range(accounts):
            uid = 1_000_000_000 + a
            row = [uid, f"政务账号{a}", "m", "", "浙江 杭州", "", "", "", "2011-02-10", ""]
            row += [5000 + a, 100_000 + a, 300, "政务发布", f"https://m.weibo.cn/u/{uid}", ""]
            row += ["", 40, 0, True, 1, "杭州市政府官方微博", ""]
            w.writerow(row)


def write_files(folder: Path, rows: int, accounts: int) -> None:
    start = datetime(2024, 1, 1, 8, 0, 0)
    per = rows // accounts
    for a in range(accounts):
        uid = 1_000_000_000 + a
        path = folder / f"政务账号{a}" / f"{uid}.csv"
        path.parent.mkdir(parents=True)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            for i in range(per):
                when = start + timedelta(minutes=7 * i + a)
                pid = ((int(when.timestamp()) - 515_483_463) << 22) + a * 4096 + 1
                day = when.strftime("%Y-%m-%dT%H:%M:%S")
                row = [f"{pid}\t", "Pabcdefgh", TEXTS[i % 4], "", "", "", "", "", day]
                row += ["微博 weibo.com", i % 500, i % 37, i % 11, "", "", day.replace("T", " ")]
                row += [False, 0]
                if i % 10 < 3:  # a repost: the reposted post's columns
                    rpid = pid - 86400 * (1 << 22)
                    rday = (when - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
                    row += [False, 2_000_000_000 + i % 1000, f"源账号{i % 1000}", f"{rpid}\t"]
                    row += ["Pzyxwvuts", TEXTS[(i + 1) % 4], "", "https://wx1.sinaimg.cn/a.jpg"]
                    row += ["", "", "", rday, "iPhone客户端", 10_000 + i, 300, 40, "", ""]
                    row += [rday.replace("T", " ")]
                else:
                    row.append(True)
                w.writerow(row)


def measure(mode: str, folder: Path, work: Path) -> dict[str, float]:
    db = work / f"{mode}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(folder), str(db)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    # The figures are the last JSON line (a library may print before it).
    return json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--no-users",
        action="store_true",
        help="leave out weibo/users.csv: the folder is then not the tool's own, and each "
        "file is read as a run of its own",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "weibo"
        t = time.perf_counter()
        write_files(folder, args.rows, args.accounts)
        if not args.no_users:
            write_users(folder, args.accounts)
        mb = sum(p.stat().st_size for p in folder.rglob("*.csv")) / 1e6
        print(f"(wrote {args.rows:,} rows, {mb:,.0f} MB, in {time.perf_counter() - t:.1f} s)")
        ratios: dict[str, list[float]] = {"reader": [], "ingest": []}
        cpu: dict[str, list[float]] = {"reader": [], "ingest": []}
        for _ in range(args.repeat):
            runs = {m: measure(m, folder, work) for m in ("read_csv", "reader", "ingest")}
            for mode, r in runs.items():
                print(
                    f"{mode:9s} {r['records']:>10,} rows  {r['seconds']:7.2f} s  "
                    f"{r['records'] / r['seconds']:>10,.0f} rows/s  {mb / r['seconds']:6.1f} MB/s  "
                    f"CPU {r['cpu']:6.1f} s  peak RSS {r['peak_rss'] / 2**20:,.0f} MiB"
                )
            for mode in ratios:
                ratios[mode].append(runs[mode]["seconds"] / runs["read_csv"]["seconds"])
                cpu[mode].append(runs[mode]["cpu"] / runs["read_csv"]["cpu"])
            # CPU seconds (all threads) are steadier than wall time on a shared machine.
            print(
                f"ratio to read_csv: reader {ratios['reader'][-1]:.2f}x wall "
                f"{cpu['reader'][-1]:.2f}x CPU, ingest {ratios['ingest'][-1]:.2f}x wall "
                f"{cpu['ingest'][-1]:.2f}x CPU (load average {os.getloadavg()[0]:.1f})"
            )
        if args.repeat > 1:
            print(
                f"median of {args.repeat}: reader {statistics.median(ratios['reader']):.2f}x "
                f"wall {statistics.median(cpu['reader']):.2f}x CPU, ingest "
                f"{statistics.median(ratios['ingest']):.2f}x wall "
                f"{statistics.median(cpu['ingest']):.2f}x CPU"
            )


if __name__ == "__main__":
    main()
