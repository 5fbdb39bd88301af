"""Benchmark: govweibo index + rankings + province aggregates (bci preset) vs pandas and SQL.

    python bench/index.py                     # 100,000 accounts, 1M posts (a couple of minutes)
    python bench/index.py --posts 10000000    # the full-size figure

Synthetic data is generated inside DuckDB with range() and random(). Each implementation runs
in its own child process so that its peak memory (ru_maxrss) is its own. Every side imports
its libraries (pandas and duckdb; ibis with its DuckDB backend, govweibo) before the clock
starts; wall and CPU time (all threads of the process) cover the rest: opening the store,
every query, and the last table.

Two baselines, like for like: pandas groups the period's posts by the same integer author
key the library groups by (`posts.author_key`, mapped to account ids through `account_keys`),
and plain DuckDB SQL, the queries an analyst would write for the same `bci` preset, lists,
province aggregates and threshold counts. All three must agree on the top score, the top
province and the threshold count.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PERIOD = "2011"


def generate(path: Path, accounts: int, posts: int, seed: float = 0.42) -> None:
    from govweibo.reference import provinces
    from govweibo.store import Store

    provs = [(p.short_zh, p.region) for p in provinces()[:31]]
    with Store(path) as s:
        con = s.con
        con.execute(f"SELECT setseed({seed})")
        con.execute("CREATE TEMP TABLE prov AS SELECT * FROM (VALUES "
                    + ", ".join(f"({i}, '{p}', '{r}')" for i, (p, r) in enumerate(provs))
                    + ") t(i, province, region)")  # fmt: skip
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, created_at) "
            "SELECT 'weibo', 'a' || i, 'account ' || i, "
            "TIMESTAMPTZ '2009-11-01 00:00:00+00' + to_seconds(CAST(random() * 7.0e7 AS BIGINT)) "
            "FROM range(?) r(i)",
            [accounts],
        )
        con.execute(
            "CREATE TABLE account_profiles AS SELECT 'weibo' AS platform, 'a' || n AS account_id,"
            " true AS is_government, 1.0 AS confidence, 'bench' AS evidence,"
            " CASE WHEN r.n % 2 = 0 THEN 'agency' ELSE 'official' END AS kind,"
            " ['public_security','courts','publicity','health','transport'][1 + r.n % 5] AS sector,"
            " ['central','provincial','city','county'][1 + r.n % 4] AS level,"
            " p.province, p.region, CAST(NULL AS VARCHAR) AS family"
            " FROM range(?) r(n) JOIN prov p ON p.i = (hash(r.n) % 31)",
            [accounts],
        )
        con.execute(
            "INSERT INTO account_observations (platform, account_id, observed_at, followers) "
            "SELECT 'weibo', 'a' || i, TIMESTAMPTZ '2011-12-01 00:00:00+00', "
            "CAST(exp(random() * 15) AS BIGINT) FROM range(?) r(i)",
            [accounts],
        )
        # Heavy-tailed activity: author = floor(accounts * random()^3).
        con.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, reposts, comments, likes,"
            " retweeted_post_id) SELECT 'weibo', 'p' || i,"
            " 'a' || CAST(floor(? * pow(random(), 3)) AS BIGINT),"
            " TIMESTAMPTZ '2010-12-31 16:00:00+00' + to_seconds(CAST(random() * 3.1536e7 AS BIGINT)),"
            " CAST(exp(random() * 8) AS BIGINT) - 1, CAST(exp(random() * 7) AS BIGINT) - 1,"
            " CAST(exp(random() * 6) AS BIGINT) - 1,"
            " CASE WHEN random() < 0.3 THEN 'p' || CAST(random() * ? AS BIGINT) END"
            " FROM range(?) r(i)",
            [accounts, posts, posts],
        )
        # Posts inserted by SQL get their author keys as the writer would have given them.
        s.fill_author_keys()
        con.execute("CHECKPOINT")


def run_govweibo(path: str) -> dict[str, Any]:
    """What `govweibo index --period 2011 --method bci` and the ranking lists run: the library
    defaults (no platform hint), from opening the store to the last table."""
    import ibis.backends.duckdb  # noqa: F401  (library imports before the clock, as for pandas)

    from govweibo.analyses.index import compute_index
    from govweibo.analyses.rankings import province_aggregates, ranking_lists, threshold_counts
    from govweibo.store import Store

    t0, c0 = time.perf_counter(), time.process_time()
    with Store(path, read_only=True) as s:
        idx = compute_index(s, period=PERIOD, method="bci")
        t1 = time.perf_counter()
        lists = ranking_lists(idx, top_n=20)
        prov = province_aggregates(idx, top_n=10)
        thr = threshold_counts(idx)
    t2 = time.perf_counter()
    return {
        "seconds": t2 - t0,
        "cpu": time.process_time() - c0,
        "split": f"index {t1 - t0:.2f} s + rankings/aggregates {t2 - t1:.2f} s",
        "top": lists["overall"].column("account_id")[:5].to_pylist(),
        "top_score": lists["overall"].column("score")[0].as_py(),
        "top_province": prov.column("province")[0].as_py(),
        "over_100000": thr.column("over_100000")[0].as_py(),
    }


def run_pandas(path: str) -> dict[str, Any]:
    """What an analyst would write: read posts into pandas, groupby, compute. Posts are
    grouped by the integer author key, as the library groups them."""
    import duckdb
    import numpy as np
    import pandas as pd

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(path, read_only=True)
    posts = con.execute("SELECT author_key, created_at, reposts, comments, likes FROM posts").df()
    keys = con.execute("SELECT account_key, account_id FROM account_keys").df()
    prof = con.execute("SELECT * FROM account_profiles WHERE is_government").df()
    acc = con.execute("SELECT account_id, created_at FROM accounts").df()
    obs = con.execute("SELECT account_id, observed_at, followers FROM account_observations").df()
    con.close()
    start = pd.Timestamp("2010-12-31 16:00", tz="UTC")
    end = pd.Timestamp("2011-12-31 16:00", tz="UTC")
    p = posts[(posts.created_at >= start) & (posts.created_at < end)]
    g = p.groupby("author_key").agg(
        posts=("author_key", "size"), reposts=("reposts", "sum"),
        comments=("comments", "sum"), likes=("likes", "sum"),
    )  # fmt: skip
    g.index = keys.set_index("account_key").account_id.reindex(g.index).to_numpy()
    acc = acc[acc.created_at.isna() | (acc.created_at < end)]
    df = prof.merge(acc[["account_id"]], on="account_id")
    df = df.merge(g, left_on="account_id", right_index=True, how="left").fillna(
        {"posts": 0, "reposts": 0, "comments": 0, "likes": 0}
    )
    obs = obs.sort_values("observed_at").groupby("account_id").tail(1)
    df = df.merge(obs[["account_id", "followers"]], on="account_id", how="left")
    w1 = np.log(df.posts + 1)
    w2 = 0.4 * np.log(df.reposts + 1) + 0.4 * np.log(df.comments + 1) + 0.2 * np.log(df.likes + 1)
    df["score"] = (0.2 * w1 + 0.8 * w2) * 160
    df["rank"] = df.score.rank(ascending=False, method="min")
    lists = {"overall": df.nlargest(20, "score")}
    for k in ("agency", "official"):
        lists[k] = df[df.kind == k].nlargest(20, "score")
    for by in ("sector", "level", "province"):
        df[f"rank_{by}"] = df.groupby(by).score.rank(ascending=False, method="min")
        lists[by] = df[df[f"rank_{by}"] <= 20]
    top10 = df.sort_values("score", ascending=False).groupby("province").head(10)
    prov = df.groupby("province").agg(accounts=("account_id", "size"),
                                      active=("posts", lambda s: (s > 0).sum()))  # fmt: skip
    prov["top_mean"] = top10.groupby("province").score.mean()
    prov["power"] = 0.8 * prov.top_mean + 0.2 * 100 * prov.active / prov.accounts
    prov = prov.sort_values("power", ascending=False)
    over = int((df.followers >= 100_000).sum())
    top = lists["overall"].sort_values(["score", "account_id"], ascending=[False, True])
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "top": top.account_id[:5].tolist(),
        "top_score": float(top.score.iloc[0]),
        "top_province": prov.index[0],
        "over_100000": over,
    }


SQL_INDEX = """
CREATE TEMP TABLE idx AS
WITH p AS (
    SELECT author_key, count(*) AS posts, sum(reposts) AS reposts, sum(comments) AS comments,
           sum(likes) AS likes
    FROM posts
    WHERE created_at >= TIMESTAMPTZ '2010-12-31 16:00:00+00'
      AND created_at < TIMESTAMPTZ '2011-12-31 16:00:00+00'
    GROUP BY author_key),
g AS (SELECT k.account_id, p.* FROM p JOIN account_keys k ON k.account_key = p.author_key),
f AS (SELECT account_id, arg_max(followers, observed_at) AS followers
      FROM account_observations GROUP BY account_id),
base AS (
    SELECT pr.account_id, pr.kind, pr.sector, pr.level, pr.province, f.followers,
           coalesce(g.posts, 0) AS posts, coalesce(g.reposts, 0) AS reposts,
           coalesce(g.comments, 0) AS comments, coalesce(g.likes, 0) AS likes
    FROM account_profiles pr
    JOIN accounts a ON a.platform = pr.platform AND a.account_id = pr.account_id
    LEFT JOIN g ON g.account_id = pr.account_id
    LEFT JOIN f ON f.account_id = pr.account_id
    WHERE pr.is_government
      AND (a.created_at IS NULL OR a.created_at < TIMESTAMPTZ '2011-12-31 16:00:00+00'))
SELECT *,
       (0.2 * ln(posts + 1)
        + 0.8 * (0.4 * ln(reposts + 1) + 0.4 * ln(comments + 1) + 0.2 * ln(likes + 1))) * 160
       AS score
FROM base
"""


def run_sql(path: str) -> dict[str, Any]:
    """The same in plain DuckDB SQL: one index table, then the lists, the province
    aggregates and the threshold counts as queries over it."""
    import duckdb

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(path, read_only=True)
    con.execute(SQL_INDEX)
    top = con.execute(
        "SELECT account_id, score FROM idx ORDER BY score DESC, account_id LIMIT 20"
    ).fetchall()
    for kind in ("agency", "official"):
        con.execute(
            "SELECT account_id, score FROM idx WHERE kind = ? ORDER BY score DESC LIMIT 20", [kind]
        ).fetchall()
    for by in ("sector", "level", "province"):
        con.execute(
            f"SELECT * FROM (SELECT account_id, {by}, score, rank() OVER (PARTITION BY {by} "
            f"ORDER BY score DESC) AS r FROM idx) WHERE r <= 20"
        ).arrow()
    prov = con.execute(
        "WITH ranked AS (SELECT province, posts, score, row_number() OVER (PARTITION BY province"
        " ORDER BY score DESC, account_id) AS r FROM idx WHERE province IS NOT NULL)"
        " SELECT province, count(*) AS accounts, count(*) FILTER (WHERE posts > 0) AS active,"
        " avg(score) FILTER (WHERE r <= 10) AS top_mean,"
        " 0.8 * avg(score) FILTER (WHERE r <= 10) + 0.2 * 100 * count(*) FILTER (WHERE posts > 0)"
        " / count(*) AS power FROM ranked GROUP BY province ORDER BY power DESC"
    ).fetchall()
    over = con.execute("SELECT count(*) FILTER (WHERE followers >= 100000) FROM idx").fetchone()
    con.close()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "top": [r[0] for r in top[:5]],
        "top_score": float(top[0][1]),
        "top_province": prov[0][0],
        "over_100000": int(over[0]) if over else 0,
    }


def _child(fn_name: str, path: str, q: Any) -> None:
    out = globals()[fn_name](path)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q.put(out)


def measure(fn_name: str, path: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn_name, path, q))
    proc.start()
    out = q.get()
    proc.join()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--store", type=Path, help="reuse/keep the generated store here")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the median is shown")
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = args.store or Path(tmp.name) / "bench.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.accounts, args.posts)
        print(f"generated {args.accounts:,} accounts, {args.posts:,} posts "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    names = ("run_govweibo", "run_pandas", "run_sql")
    runs = []
    for _ in range(args.repeat):  # alternate, so that machine load hits all alike
        runs.append(tuple(measure(n, str(path)) for n in names))
    med = len(runs) // 2
    ours, base, sql = (
        sorted((r[i] for r in runs), key=lambda r: r["seconds"])[med] for i in range(len(names))
    )
    if args.repeat > 1:
        print(f"median of {args.repeat} runs each")
    for other in (base, sql):
        assert abs(ours["top_score"] - other["top_score"]) < 1e-6, (ours, other)
        assert ours["over_100000"] == other["over_100000"], (ours, other)
        assert ours["top_province"] == other["top_province"], (ours, other)
    print(f"govweibo (Ibis/DuckDB): {ours['seconds']:7.2f} s wall  {ours['cpu']:6.1f} s CPU  "
          f"peak {ours['peak_mb']:5.0f} MB   ({ours['split']})")  # fmt: skip
    for label, b in (("pandas (integer key):", base), ("DuckDB SQL:", sql)):
        print(f"{label:<24}{b['seconds']:7.2f} s wall  {b['cpu']:6.1f} s CPU  "
              f"peak {b['peak_mb']:5.0f} MB   ratio {b['seconds'] / ours['seconds']:.2f}x wall, "
              f"{b['cpu'] / ours['cpu']:.2f}x CPU")  # fmt: skip
    print(f"same top score {ours['top_score']:.4f}, top province {ours['top_province']}")
    if args.repeat > 1:  # each triple ran back to back, under about the same load
        for i, label in ((1, "pandas"), (2, "SQL")):
            pairs = ", ".join(f"{r[i]['seconds'] / r[0]['seconds']:.2f}x" for r in runs)
            print(f"wall ratio {label}/govweibo of each round: {pairs}")
    print(
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
