"""Benchmark: classify 1M synthetic accounts on DuckDB; prints the time and accounts/s.

    python bench/classify.py [N]      # N defaults to 1,000,000; target < 60 s

Names, verified reasons and descriptions are drawn from templates (agencies of every
sector and level, officials, media, companies, celebrities, ordinary users) plus noise,
so the matcher sees realistic text lengths and hit rates.
"""

from __future__ import annotations

import sys
import time

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.reference.divisions import divisions
from govweibo.registry import classify_accounts, default_rules

ORGANS = [
    "公安局",
    "人民法院",
    "人民检察院",
    "人民政府新闻办公室",
    "交通运输局",
    "卫生局",
    "教育局",
    "民政局",
    "地方税务局",
    "工商行政管理局",
    "环境保护局",
    "气象局",
    "委组织部",
    "委宣传部",
    "外事办公室",
    "安全生产监督管理局",
    "公安局交警支队",
]
TITLES = ["副局长", "局长", "书记", "副市长", "宣传部长", "民警", "法官", "主任"]
NONGOV = ["日报社", "晚报", "电视台", "大学", "集团有限公司", "银行", "慈善基金会", "协会"]
PEOPLE = ["演员", "歌手", "作家", "教授", "主持人", "律师", "知名博主"]
WORDS = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动")


def synthetic(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    places = [d.name for d in divisions() if d.status == "current"]
    place = rng.choice(places, n)
    kind = rng.choice(6, n, p=[0.2, 0.08, 0.1, 0.07, 0.05, 0.5])
    organ = rng.choice(ORGANS, n)
    noise = ["".join(rng.choice(WORDS, 12)) for _ in range(1000)]
    noise_i = rng.integers(0, 1000, n)
    names, reasons, descs, vts = [], [], [], []
    for i in range(n):
        p, k, z = place[i], kind[i], noise[noise_i[i]]
        if k == 0:  # agency
            names.append(p + organ[i][:4])
            reasons.append(p + organ[i] + "官方微博")
            descs.append("欢迎关注" + p + organ[i] + z)
            vts.append(1 if i % 3 else None)
        elif k == 1:  # official
            names.append("张" + z[:2])
            reasons.append(p + organ[i] + TITLES[i % len(TITLES)])
            descs.append(z)
            vts.append(0 if i % 2 else None)
        elif k == 2:  # institution
            names.append(p + NONGOV[i % len(NONGOV)])
            reasons.append(p + NONGOV[i % len(NONGOV)] + "官方微博")
            descs.append(z)
            vts.append(2 + i % 6 if i % 2 else None)
        elif k == 3:  # person
            names.append("李" + z[:3])
            reasons.append(PEOPLE[i % len(PEOPLE)] + "，代表作" + z[:4])
            descs.append("喜欢" + organ[i][:2] + z)
            vts.append(0)
        elif k == 4:  # family-named agency without reason
            names.append(("平安" + p[:2]) if i % 2 else (p[:2] + "发布"))
            reasons.append(None)
            descs.append(z)
            vts.append(None)
        else:  # ordinary user
            names.append(z[:6])
            reasons.append(None)
            descs.append(z if i % 2 else None)
            vts.append(-1)
    return pa.table(
        {
            "platform": pa.array(["weibo"] * n),
            "account_id": pa.array([str(i) for i in range(n)]),
            "screen_name": names,
            "description": descs,
            "verified_type": pa.array(vts, pa.int32()),
            "verified_reason": reasons,
            "province_code": pa.array([str(x) for x in rng.choice([11, 31, 33, 44, 51], n)]),
            "location": pa.array(["浙江 杭州"] * n),
        }
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t0 = time.perf_counter()
    data = synthetic(n)
    con = duckdb.connect()
    con.register("src", data)
    con.execute("CREATE TABLE accounts AS SELECT * FROM src")
    backend = ibis.duckdb.from_connection(con)
    rules = default_rules()
    _ = rules.lexicon  # built once per process, not part of the measured time
    t1 = time.perf_counter()
    out = classify_accounts(backend.table("accounts"), rules=rules)
    t2 = time.perf_counter()
    gov = int(pc.sum(out["is_government"].cast(pa.int64())).as_py())
    print(f"generated {n:,} accounts in {t1 - t0:.1f} s")
    print(
        f"classified {out.num_rows:,} accounts in {t2 - t1:.1f} s "
        f"({out.num_rows / (t2 - t1):,.0f} accounts/s); {gov:,} government"
    )


if __name__ == "__main__":
    main()
