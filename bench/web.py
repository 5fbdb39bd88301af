"""Web dashboard latency and concurrency on a large synthetic store.

    python bench/web.py                       # 100,000 accounts, 10,000,000 posts
    python bench/web.py --posts 1000000       # quicker

Builds the store with DuckDB SQL (range(), random()), including the precomputed index table
`index_scores` the rankings read (synthetic scores; --real-index runs compute_index instead),
serves it with uvicorn in a subprocess on loopback, then measures the rankings page and its
API: p50/p95 for one user (bounded loop), then N concurrent clients (bounded count and time).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from govweibo.reference import provinces
from govweibo.store import Store

SECTORS = ["public_security", "courts", "publicity", "foreign_affairs", "education", "health",
           "transport", "environment", "emergency", "party"]  # fmt: skip
LEVELS = ["central", "provincial", "city", "county"]


def build(path: Path, n_accounts: int, n_posts: int, real_index: bool) -> None:
    t0 = time.perf_counter()
    provs = [(p.short_zh, p.region) for p in provinces()]
    with Store(path) as s:
        con = s.con
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, description, verified,"
            " verified_type, created_at) SELECT 'weibo', 'u' || i, '政务账号' || i, '官方微博',"
            " true, 1, TIMESTAMPTZ '2009-11-01 00:00:00+00' + to_days(CAST(random() * 900 AS INT))"
            " FROM range(?) t(i)",
            [n_accounts],
        )
        con.execute(
            "CREATE TABLE account_profiles AS SELECT 'weibo' AS platform, 'u' || i AS account_id,"
            " i % 10 <> 9 AS is_government, 0.9 AS confidence, '[\"verified_type=1\"]' AS evidence,"
            " CASE WHEN i % 2 = 0 THEN 'agency' ELSE 'official' END AS kind,"
            " (?::VARCHAR[])[1 + i % 10] AS sector, (?::VARCHAR[])[1 + i % 4] AS level,"
            " (?::VARCHAR[])[1 + i % ?] AS province, (?::VARCHAR[])[1 + i % ?] AS region,"
            " NULL::VARCHAR AS family FROM range(?) t(i)",
            [SECTORS, LEVELS, [p for p, _ in provs], len(provs), [r for _, r in provs], len(provs),
             n_accounts],
        )  # fmt: skip
        for when in ("2011-06-30", "2011-12-31", "2012-12-31"):
            con.execute(
                "INSERT INTO account_observations (platform, account_id, observed_at, followers)"
                " SELECT 'weibo', 'u' || i, CAST(? AS TIMESTAMPTZ),"
                " CAST(exp(random() * 15) AS BIGINT) FROM range(?) t(i)",
                [when + " 12:00:00+00", n_accounts],
            )
        con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, text, reposts, comments,"
            " likes) SELECT 'weibo', 'p' || i, 'u' || (hash(i) % ?),"
            " TIMESTAMPTZ '2011-01-01 00:00:00+00' + to_seconds(CAST(random() * 63072000 AS BIGINT)),"
            " 'post ' || i, CAST(exp(random() * 8) AS BIGINT), CAST(exp(random() * 6) AS BIGINT),"
            " CAST(exp(random() * 7) AS BIGINT) FROM range(?) t(i)",
            [n_accounts, n_posts],
        )
        t1 = time.perf_counter()
        print(f"store: {n_accounts:,} accounts, {n_posts:,} posts in {t1 - t0:.1f} s")
        if real_index:
            from govweibo.web.queries import build_index_table

            build_index_table(s, ["2011", "2012"])
        else:
            dims = ", ".join(
                f"random() * 100 AS {d}"
                for d in ("communication", "service", "interaction", "recognition")
            )
            con.execute(
                "CREATE TABLE index_scores AS WITH x AS (SELECT p.platform, p.account_id,"
                " a.screen_name, p.kind, p.sector, p.level, p.province, p.region,"
                " CAST(exp(random() * 15) AS BIGINT) AS followers,"
                f" CAST(random() * 500 AS BIGINT) AS posts, {dims}, y.period"
                " FROM account_profiles p JOIN accounts a USING (platform, account_id),"
                " (VALUES ('2011'), ('2012')) y(period) WHERE p.is_government)"
                " SELECT *, (communication + service + interaction + recognition) / 4 AS score,"
                " rank() OVER (PARTITION BY period ORDER BY score DESC) AS rank,"
                " 'govweibo' AS method FROM x"
            )
        print(f"index_scores built in {time.perf_counter() - t1:.1f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from govweibo.web import serve; "
        "serve(sys.argv[1], '127.0.0.1', int(sys.argv[2]), workers=int(sys.argv[3]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(port), str(workers)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


URLS = [
    "/rankings?period=2012&limit=50",
    "/api/rankings?period=2012&limit=50",
    "/rankings?period=2012&list=province&group=浙江&sort=-followers",
    "/api/rankings?period=2012&list=sector&limit=100&offset=200",
    "/rankings?period=2012&list=officials&offset=1000",
    "/api/rankings?period=2012&list=agencies&sort=-score&limit=500",
]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def single(base: str, n: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        c.get(URLS[0])  # first request of a list type warms DuckDB's caches
        for kind in ("page", "api"):
            urls = [u for u in URLS if u.startswith("/api") == (kind == "api")]
            times = []
            for i in range(n):
                t = time.perf_counter()
                r = c.get(urls[i % len(urls)])
                times.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            print(f"one user, rankings {kind}: n={n} p50={pct(times, 50):.1f} ms "
                  f"p95={pct(times, 95):.1f} ms max={max(times):.1f} ms")  # fmt: skip


def concurrent(base: str, clients: int, per_client: int, max_seconds: float) -> None:
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + max_seconds

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            for i in range(per_client):
                if time.monotonic() > stop:
                    return
                t = time.perf_counter()
                try:
                    r = c.get(URLS[(k + i) % len(URLS)])
                    ok = r.status_code == 200
                    err = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, err = False, type(exc).__name__
                with lock:
                    times.append((time.perf_counter() - t) * 1000)
                    if not ok:
                        errors.append(err)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    print(f"{clients} concurrent clients: {len(times)} requests in {wall:.1f} s "
          f"({len(times) / wall:.0f} req/s), p50={pct(times, 50):.0f} ms "
          f"p95={pct(times, 95):.0f} ms, errors={len(errors)} {sorted(set(errors))}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--posts", type=int, default=10_000_000)
    ap.add_argument("--requests", type=int, default=200, help="single-user requests per kind")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--per-client", type=int, default=20)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--real-index", action="store_true", help="compute_index, not synthetic")
    ap.add_argument("--db", type=Path, help="reuse/keep this store (built when missing)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench.duckdb"
    if not db.exists():
        build(db, args.accounts, args.posts, args.real_index)
    port = free_port()
    proc = start_server(db, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        t = time.perf_counter()
        httpx.get(base + "/", timeout=300).raise_for_status()
        print(f"overview, first request (aggregates computed and cached): "
              f"{time.perf_counter() - t:.2f} s")  # fmt: skip
        t = time.perf_counter()
        httpx.get(base + "/", timeout=300).raise_for_status()
        print(f"overview, cached: {(time.perf_counter() - t) * 1000:.0f} ms")
        single(base, args.requests)
        concurrent(base, args.clients, args.per_client, args.max_seconds)
    finally:
        proc.terminate()
        proc.wait(10)
        tmp.cleanup()
    print(f"cpus={os.cpu_count()} workers={args.workers}")


if __name__ == "__main__":
    main()
