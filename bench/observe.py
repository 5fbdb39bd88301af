"""Benchmark: the observer's cycle cost at 1M and 10M stored posts, and its memory in a soak.

    python bench/observe.py --posts 1000000                   # build a 1M store, 3 cycles
    python bench/observe.py --posts 10000000 --keep /tmp/o10m.duckdb
    python bench/observe.py --store /tmp/o10m.duckdb          # reuse a kept store (copied)
    python bench/observe.py --soak 3600                       # memory against a fake Sina API

The store is generated inside DuckDB (range() and hash(), like bench/index.py): accounts
with numeric Sina ids (a fifth named and described as public-security or government
bureaus, verified), one ingest run holding the history spread evenly over the year before
the clock, texts drawn from a pool of a few thousand Chinese sentences, 20 % reposts of
earlier posts, and one comment per ten posts. It is classified once (as `govweibo
classify` does), the 200 first government accounts go in the watch list, and one warm-up
cycle reads the history once (timed on its own: the first cycle on a store counts the
terms of the whole burst baseline).

Each measured cycle: 10,000 fresh statuses (new ids, times in the 15 minutes before the
cycle's clock, 20 % reposts of posts in the same batch, a burst of one topic from the
second cycle on) are written as Sina API JSON lines and ingested with
`govweibo.ingest.ingest` (timed apart: ingest is not the cycle's analysis), then
`run_cycle` runs with collection off. Printed: per-step seconds of each cycle, the median,
ingest seconds, peak RSS and the load average.

The soak runs the cycle loop as `govweibo observe` does (store opened per cycle) with
collect.platform = "weibo" against a loopback fake of the Sina API (users/show,
user_timeline with since_id/max_id, comments/show, repost_timeline) that keeps producing
posts for the watched accounts; the RSS is sampled after every cycle and its curve and
least-squares slope are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

UID0 = 5_000_000_000
PID0 = 4_000_000_000_000_000
NEW0 = 4_900_000_000_000_000
CYCLE = timedelta(minutes=15)
WATCHED = 200

_WORDS = str.split(
    "交通 事故 暴雨 预警 防汛 公安 通报 市民 道路 封闭 消防 救援 地震 学校 医院 食品 安全 环境 "
    "污染 供水 停电 高速 拥堵 民警 提醒 诈骗 电信 防范 疫苗 接种 社区 服务 政务 办理 窗口 "
    "便民 就业 招聘 社保 医保 养老 教育 考试 招生 天气 气温 大风 寒潮 旅游 景区 门票 文明 "
    "城市 建设 地铁 公交 线路 调整 通知 公告 发布会 回应 网友 关切 调查 处理 依法 查处 "
    "违法 犯罪 嫌疑人 抓获 失踪 寻人 谣言 辟谣 不实 信息 传播 责任 追究 火灾 扑灭 伤亡 "
    "农业 丰收 粮食 价格 市场 监管 检查 整治 专项 行动 宣传 活动 志愿者 献血 节日 祝福"
)
_TOPICS = ("#平安出行#", "#防汛进行时#", "#政务服务#", "#辟谣#", "#反诈宣传#", "#天气预报#")
_PLACES = ("北京", "上海", "广州", "深圳", "成都", "武汉", "西安", "杭州", "南京", "重庆")


def text_pool(n: int = 4000, seed: int = 7) -> list[str]:
    """Sentences of 8-20 pool words, a third with a #topic#."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body = "".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20)))
        if rng.random() < 0.33:
            body = rng.choice(_TOPICS) + body
        out.append(f"【{rng.choice(_PLACES)}】{body}。")
    return out


def generate(path: Path, posts: int, accounts: int, end: datetime) -> None:
    """A store of `posts` posts by `accounts` accounts over the year before `end`."""
    import pyarrow as pa

    from govweibo.store import Store

    pool = text_pool()
    with Store(path) as s:
        con = s.con
        con.execute("SELECT setseed(0.42)")
        con.register("_pool", pa.table({"k": list(range(len(pool))), "text": pool}))
        con.execute("CREATE TEMP TABLE pool AS SELECT * FROM _pool")
        con.unregister("_pool")
        con.execute(
            "INSERT INTO ingest_runs (run_id, source_path, format, status, started_at, "
            "finished_at, stored) VALUES (1, 'bench-observe', 'weibo-api', 'done', ?, ?, ?)",
            [end, end, posts],
        )
        places = "['" + "','".join(_PLACES) + "']"
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, description, verified, "
            "verified_type, verified_reason, created_at, run_id) "
            f"SELECT 'weibo', CAST({UID0} + i AS VARCHAR), "
            f" CASE WHEN i % 5 = 0 THEN {places}[1 + i % 10] || '市公安局' || i"
            "  ELSE '网友' || i END,"
            f" CASE WHEN i % 5 = 0 THEN {places}[1 + i % 10] || '市公安局官方微博' END,"
            " i % 5 = 0, CASE WHEN i % 5 = 0 THEN 1 ELSE -1 END,"
            f" CASE WHEN i % 5 = 0 THEN {places}[1 + i % 10] || '市公安局官方微博' END,"
            " TIMESTAMPTZ '2010-01-01 00:00:00+00' + to_seconds(CAST(random() * 3e8 AS BIGINT)), 1 "
            "FROM range(?) r(i)",
            [accounts],
        )
        span = 365 * 86400
        con.execute(
            "INSERT INTO posts (platform, post_id, mid, author_id, created_at, text, reposts, "
            "comments, likes, retweeted_post_id, run_id) "
            f"SELECT 'weibo', CAST({PID0} + i AS VARCHAR), CAST({PID0} + i AS VARCHAR),"
            f" CAST({UID0} + CAST(floor(? * pow(random(), 3)) AS BIGINT) AS VARCHAR),"
            " ?::TIMESTAMPTZ - to_seconds(CAST(? - i * ? / ? AS BIGINT) + 1),"
            " pool.text, CAST(exp(random() * 6) AS BIGINT) - 1,"
            " CAST(exp(random() * 5) AS BIGINT) - 1, CAST(exp(random() * 5) AS BIGINT) - 1,"
            f" CASE WHEN i % 5 = 1 AND i > 1000 THEN CAST({PID0} + i - 1 - hash(i) % 1000"
            " AS VARCHAR) END, 1"
            f" FROM range(?) r(i) JOIN pool ON pool.k = hash(i * 7) % {len(pool)}",
            [accounts, end, span, span, posts, posts],
        )
        con.execute(
            "INSERT INTO interactions (platform, interaction_id, kind, actor_id, post_id, "
            "target_account_id, created_at, text, run_id) "
            "SELECT 'weibo', 'c' || p.post_id, 'comment',"
            f" CAST({UID0} + hash(p.post_id) % ? AS VARCHAR), p.post_id, p.author_id,"
            " p.created_at + INTERVAL 10 MINUTE,"
            " CASE WHEN hash(p.post_id) % 3 = 0 THEN '请问什么时候处理？' ELSE '点赞' END, 1"
            " FROM posts p WHERE hash(p.post_id) % 10 = 0",
            [accounts],
        )
        s.fill_author_keys()
        con.execute("CHECKPOINT")


def prepare(path: Path) -> dict[str, float]:
    """Classify every account (as `govweibo classify`) and fill the watch list."""
    from govweibo.registry import classify_accounts
    from govweibo.store import Store

    t0 = time.perf_counter()
    with Store(path) as s:
        profiles = classify_accounts(s.table("accounts"))
        s.write_result("account_profiles", profiles)
        t1 = time.perf_counter()
        s.con.execute(
            f"""INSERT INTO watch_list SELECT platform, 'account', account_id, now()
                FROM account_profiles WHERE is_government ORDER BY account_id LIMIT {WATCHED}
                ON CONFLICT DO NOTHING"""
        )
        n = s.con.execute("SELECT count(*) FROM watch_list").fetchone()[0]
        gov = s.con.execute("SELECT count(*) FROM account_profiles WHERE is_government").fetchone()
        print(f"classified {profiles.num_rows:,} accounts ({gov[0]:,} government) in "
              f"{t1 - t0:.1f} s; {n} in the watch list")  # fmt: skip
    return {"classify": t1 - t0}


def sina_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def user(uid: int) -> dict[str, Any]:
    i = uid - UID0
    gov = i % 5 == 0
    name = f"{_PLACES[i % 10]}市公安局{i}" if gov else f"网友{i}"
    return {"id": uid, "idstr": str(uid), "screen_name": name, "name": name,
            "description": f"{_PLACES[i % 10]}市公安局官方微博" if gov else "",
            "verified": gov, "verified_type": 1 if gov else -1,
            "verified_reason": f"{_PLACES[i % 10]}市公安局官方微博" if gov else "",
            "followers_count": 1000 + i % 9999, "friends_count": 100, "statuses_count": 5000,
            "created_at": "Tue Apr 12 15:02:11 +0800 2011"}  # fmt: skip


def status(pid: int, uid: int, at: datetime, text: str, rt: dict[str, Any] | None = None) -> dict:
    s: dict[str, Any] = {"created_at": sina_time(at), "id": pid, "idstr": str(pid),
                         "mid": str(pid), "text": text, "source": "", "reposts_count": 0,
                         "comments_count": 0, "attitudes_count": pid % 7, "user": user(uid)}  # fmt: skip
    if rt is not None:
        s["retweeted_status"] = rt
    return s


def batch(
    first_id: int, n: int, now: datetime, accounts: int, watched: list[int], burst: str | None
) -> list[dict]:
    """n statuses made in the 15 minutes before `now`; a tenth by watched accounts."""
    rng = random.Random(first_id)
    pool = text_pool()
    out: list[dict] = []
    for k in range(n):
        pid = first_id + k
        uid = (
            rng.choice(watched) if rng.random() < 0.1 else UID0 + int(accounts * rng.random() ** 3)
        )
        at = now - timedelta(seconds=1 + rng.random() * (CYCLE.total_seconds() - 2))
        text = rng.choice(pool)
        if burst and k % 30 == 0:
            text = f"{burst}{text}"
        rt = out[rng.randrange(len(out))] if out and rng.random() < 0.2 else None
        if rt is not None:
            rt = {key: v for key, v in rt.items() if key != "retweeted_status"}
            text = "//转发微博"
        out.append(status(pid, uid, at, text, rt))
    return out


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def config(platform: str = "none", base_url: str = "", token: str = "") -> Any:
    from govweibo.observe.config import ObserveConfig

    c = ObserveConfig()
    c.collect.platform = platform
    c.collect.base_url = base_url
    c.collect.token_file = token
    return c


def facts(path: Path) -> tuple[int, int, list[int], datetime]:
    from govweibo.store import Store

    with Store(path, read_only=True) as s:
        con = s.con
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        accounts = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
        watched = [int(r[0]) for r in con.execute("SELECT value FROM watch_list").fetchall()]
        end = con.execute("SELECT max(created_at) FROM posts").fetchone()[0]
    return posts, accounts, watched, end


def measure(path: Path, cycles: int, new: int) -> None:
    from govweibo.ingest import ingest
    from govweibo.observe.loop import run_cycle
    from govweibo.store import Store

    posts, accounts, watched, end = facts(path)
    print(f"store: {posts:,} posts, {accounts:,} accounts, {len(watched)} watched; load {load()}")
    cfg = config()
    clock = end + timedelta(seconds=1)
    t0 = time.perf_counter()
    with Store(path) as s:
        warm = run_cycle(s, cfg, now=lambda: clock)
    print(f"warm-up cycle (reads the history once): {time.perf_counter() - t0:.2f} s; "
          f"{warm.arrived:,} posts counted; steps "
          + " ".join(f"{k} {v:.2f}" for k, v in warm.seconds.items()))  # fmt: skip
    rows: list[dict[str, float]] = []
    spool = Path(tempfile.mkdtemp(prefix="observe-bench-"))
    try:
        for c in range(cycles):
            clock = end + CYCLE * (c + 1)
            statuses = batch(NEW0 + c * new, new, clock, accounts, watched,
                             "#示范市暴雨#" if c >= 1 else None)  # fmt: skip
            f = spool / f"cycle{c}.jsonl"
            with open(f, "w", encoding="utf-8") as fh:
                for st in statuses:
                    fh.write(json.dumps(st, ensure_ascii=False) + "\n")
            t1 = time.perf_counter()
            with Store(path) as s:
                summary = ingest(s, [f], fmt="weibo-api")
                t2 = time.perf_counter()
                r = run_cycle(s, cfg, now=lambda clock=clock: clock)
            row = {"ingest": t2 - t1, **r.seconds}
            rows.append(row)
            print(f"cycle {c + 1}: ingested {summary.stored if hasattr(summary, 'stored') else ''}"
                  f" in {t2 - t1:.2f} s; arrived {r.arrived:,}, findings {r.findings}, "
                  f"new alerts {len(r.opened)}; "
                  + " ".join(f"{k} {v:.2f}" for k, v in r.seconds.items())
                  + f"; RSS {rss_mib():.0f} MiB; load {load()}")  # fmt: skip
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    keys = list(rows[0])
    print("median of", len(rows), "cycles:",
          " ".join(f"{k} {statistics.median(r.get(k, 0.0) for r in rows):.2f}" for k in keys))  # fmt: skip
    print(f"peak RSS {peak_mib():.0f} MiB; load average (1, 5, 15 min) {load()}")


class FakeSina:
    """A loopback Sina API whose watched accounts keep posting (`rate` posts a second in all)."""

    def __init__(self, uids: list[int], rate: float, keep: int = 400) -> None:
        self.uids = uids
        self.rate = rate
        self.keep = keep
        self.timelines: dict[int, list[dict]] = {u: [] for u in uids}
        self.next_id = NEW0 + 500_000_000
        self.requests = 0
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.pool = text_pool()
        self.rng = random.Random(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        # Every timeline starts full (`keep` posts of the last day), so the fake's own
        # memory does not grow during the soak and the RSS curve is the observer's.
        start = datetime.now(UTC) - timedelta(days=1)
        for uid in uids:
            for k in range(keep):
                at = start + timedelta(seconds=k * 86000 / keep)
                self.timelines[uid].append(
                    status(self.next_id, uid, at, self.rng.choice(self.pool))
                )
                self.next_id += 1
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/2/"

    def _grow(self) -> None:
        now = time.monotonic()
        n = int((now - self.last) * self.rate)
        if n <= 0:
            return
        self.last = now
        at = datetime.now(UTC) - timedelta(seconds=1)
        for _ in range(n):
            uid = self.rng.choice(self.uids)
            tl = self.timelines[uid]
            tl.append(status(self.next_id, uid, at, self.rng.choice(self.pool)))
            self.next_id += 1
            del tl[: -self.keep]

    def body(self, path: str, q: dict[str, str]) -> dict[str, Any]:
        if path.endswith("users/show.json"):
            return user(int(q["uid"]))
        if path.endswith("statuses/user_timeline.json"):
            tl = self.timelines.get(int(q.get("uid", 0)), [])
            since = int(q.get("since_id") or 0)
            top = int(q.get("max_id") or 0) or 1 << 62
            count = int(q.get("count") or 20)
            page = [s for s in reversed(tl) if since < s["id"] <= top][:count]
            return {"statuses": page, "total_number": len(tl)}
        if path.endswith("comments/show.json"):
            return {"comments": [], "total_number": 0}
        if path.endswith("statuses/repost_timeline.json"):
            return {"reposts": [], "total_number": 0}
        return {"error": "no such route", "error_code": 10001}

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with self.lock:
            self.requests += 1
            self._grow()
            data = json.dumps(self.body(url.path, q), ensure_ascii=False).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def soak(path: Path, seconds: float, interval: float, rate: float, watch: int) -> None:
    from govweibo.observe.loop import run_cycle
    from govweibo.store import Store

    posts, accounts, watched, end = facts(path)
    uids = watched[:watch]
    with Store(path) as s:  # only the served accounts stay watched
        s.con.execute("DELETE FROM watch_list WHERE value NOT IN (SELECT unnest(?::VARCHAR[]))",
                      [[str(u) for u in uids]])  # fmt: skip
    fake = FakeSina(uids, rate)
    work = Path(tempfile.mkdtemp(prefix="observe-soak-"))
    token = work / "token"
    token.write_text("bench-token\n", encoding="utf-8")
    cfg = config("weibo", fake.base_url, str(token))
    cfg.collect.spool = str(work / "spool")
    print(f"soak: {posts:,} stored posts, {len(uids)} watched accounts served by {fake.base_url}, "
          f"{rate} new posts/s, a cycle every {interval:.0f} s for {seconds:.0f} s; load {load()}")  # fmt: skip
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    n = 0
    try:
        while time.monotonic() - t0 < seconds:
            began = time.monotonic()
            with Store(path) as s:
                r = run_cycle(s, cfg)
            n += 1
            # The spool keeps every page (as `collect` does); not the process's memory.
            shutil.rmtree(work / "spool", ignore_errors=True)
            m = rss_mib()
            samples.append((time.monotonic() - t0, m))
            print(f"cycle {n} t={samples[-1][0]:.0f}s arrived {r.arrived} "
                  f"stored {r.collected.get('stored')} requests {r.collected.get('requests')} "
                  f"errors {len(r.errors) + ('error' in r.collected)} collect {r.seconds['collect']:.2f} s total {r.seconds['total']:.2f} s "
                  f"RSS {m:.1f} MiB", flush=True)  # fmt: skip
            time.sleep(max(0.0, interval - (time.monotonic() - began)))
    finally:
        fake.close()
        shutil.rmtree(work, ignore_errors=True)
    print_curve(samples)
    print(f"fake server requests {fake.requests:,}; peak RSS {peak_mib():.0f} MiB; load {load()}")


def print_curve(samples: list[tuple[float, float]]) -> None:
    if len(samples) < 4:
        print("too few cycles for a slope")
        return
    step = max(1, len(samples) // 12)
    print("RSS curve (s, MiB):", ", ".join(f"{t:.0f} {m:.0f}" for t, m in samples[::step]),
          f"… {samples[-1][0]:.0f} {samples[-1][1]:.0f}")  # fmt: skip
    for label, part in (("all cycles", samples), ("after the first quarter",
                                                  samples[len(samples) // 4:])):  # fmt: skip
        ts, ms = [t for t, _ in part], [m for _, m in part]
        tm, mm = statistics.fmean(ts), statistics.fmean(ms)
        den = sum((t - tm) ** 2 for t in ts) or 1.0
        slope = sum((t - tm) * (m - mm) for t, m in part) / den
        print(
            f"slope {label}: {slope * 3600:+.1f} MiB/hour (min {min(ms):.0f}, max {max(ms):.0f} MiB)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=0, help="default posts / 100")
    ap.add_argument("--store", type=Path, help="a store made by this script (copied, not changed)")
    ap.add_argument("--keep", type=Path, help="keep the generated, classified store here")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--soak", type=float, default=0.0, help="seconds of soak instead of cycles")
    ap.add_argument("--interval", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=5.0, help="new posts a second (soak)")
    ap.add_argument("--watch", type=int, default=20, help="accounts served in the soak")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="observe-store-", dir=os.environ.get("BENCH_TMP")))
    path = tmp / "store.duckdb"
    try:
        if a.store:
            shutil.copy(a.store, path)
        else:
            accounts = a.accounts or max(1000, a.posts // 100)
            end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
            t0 = time.perf_counter()
            generate(path, a.posts, accounts, end)
            print(f"generated {a.posts:,} posts, {accounts:,} accounts in "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
            prepare(path)
            if a.keep:
                shutil.copy(path, a.keep)
        if a.soak:
            soak(path, a.soak, a.interval, a.rate, a.watch)
        else:
            measure(path, a.cycles, a.new)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
