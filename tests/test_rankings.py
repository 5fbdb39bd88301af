from __future__ import annotations

import pytest
from test_index import build_store

from govweibo.analyses.base import Period
from govweibo.analyses.index import compute_index
from govweibo.analyses.rankings import (
    distribution,
    province_aggregates,
    rank_change,
    ranking_lists,
    rankings,
    threshold_counts,
)
from govweibo.errors import AnalysisError
from govweibo.store import Store


@pytest.fixture
def index(store: Store):
    return compute_index(build_store(store), period="2011")


def test_rankings_lists(index) -> None:
    lists = ranking_lists(index, top_n=1)
    assert lists["overall"].column("account_id").to_pylist() == ["A"]
    assert set(lists["officials"].column("account_id").to_pylist()) == {"B"}
    assert lists["agencies"].column("account_id").to_pylist() == ["A"]
    prov = {r["group"]: r["account_id"] for r in lists["by_province"].to_pylist()}
    assert prov == {"北京": "A", "浙江": "B", "云南": "E"}
    full = rankings(index, by="province", top_n=None)
    zj = [r for r in full.to_pylist() if r["group"] == "浙江"]
    assert [(r["account_id"], r["group_rank"]) for r in zj] == [("B", 1), ("C", 2)]
    with pytest.raises(AnalysisError):
        rankings(index, by="nonsense")


def test_rank_change(store: Store) -> None:
    build_store(store)
    cur = compute_index(store, period="2011", method="bci")
    prev = compute_index(store, period=Period.parse("2011").previous(), method="bci")
    out = {r["account_id"]: r for r in rank_change(cur, prev).to_pylist()}
    assert out["A"]["previous_rank"] == 1 and out["A"]["rank_change"] == 0
    assert out["C"]["previous_rank"] is None and out["C"]["rank_change"] is None


def test_province_aggregates(index) -> None:
    out = {r["province"]: r for r in province_aggregates(index, top_n=10).to_pylist()}
    zj = out["浙江"]
    assert (zj["accounts"], zj["active_accounts"], zj["coverage"]) == (2, 2, 1.0)
    assert zj["name_en"] == "Zhejiang" and zj["region"] == "east"
    assert zj["power"] == pytest.approx(0.8 * zj["top_mean_score"] + 20.0)
    assert out["云南"]["coverage"] == 0.0
    assert [out[p]["power_rank"] for p in ("北京", "浙江", "云南")] == [1, 2, 3]
    top1 = {r["province"]: r for r in province_aggregates(index, top_n=1).to_pylist()}
    assert top1["浙江"]["top_mean_score"] == pytest.approx(
        max(r["score"] for r in index.to_pylist() if r["province"] == "浙江")
    )


def test_threshold_counts(index) -> None:
    row = threshold_counts(index).to_pylist()[0]
    assert row == {"group": "all", "accounts": 4, "over_100000": 2, "over_1000000": 1}
    by = {r["group"]: r for r in threshold_counts(index, by="kind").to_pylist()}
    assert by["official"]["over_100000"] == 1 and by["agency"]["over_1000000"] == 1


def test_distribution(index) -> None:
    d = {r["group"]: r for r in distribution(index, by="region").to_pylist()}
    assert d["east"]["accounts"] == 3 and d["east"]["share"] == pytest.approx(0.75)
    assert d["west"]["active_accounts"] == 0
    k = {r["group"]: r for r in distribution(index, by="kind").to_pylist()}
    assert k["agency"]["agencies"] == 3 and k["official"]["officials"] == 1


def test_registry_lists_these_analyses() -> None:
    from govweibo.analyses import ANALYSES

    names = {a.name for a in ANALYSES}
    assert {"index", "rankings", "province_aggregates", "growth", "sensitivity"} <= names
    assert all(callable(a.function) and a.description for a in ANALYSES)


def test_orders_and_group_ranks_with_ties() -> None:
    """desc_order, rankings, province aggregates and score_index against brute force on a
    table with many tied scores, null groups and two platforms."""
    import random

    import numpy as np
    import pyarrow as pa

    from govweibo.analyses.base import PROFILE_COLUMNS
    from govweibo.analyses.index import INDICATORS, score_index
    from govweibo.analyses.rankings import desc_order

    rnd = random.Random(7)
    n = 300
    rows = [
        {"platform": rnd.choice(["weibo", "mastodon"]), "account_id": f"a{i:03d}",
         "score": float(rnd.choice([0, 0, 1, 2.5, 2.5, 7])), "kind": rnd.choice(["agency", "official", None]),
         "province": rnd.choice(["北京", "浙江", None]), "posts": rnd.choice([0, 3]), "followers": i}
        for i in rnd.sample(range(n), n)
    ]  # fmt: skip
    t = pa.Table.from_pylist(rows)
    score = np.array([r["score"] for r in rows])
    order = desc_order(score, [t["platform"], t["account_id"]]).tolist()
    assert order == sorted(
        range(n), key=lambda i: (-score[i], rows[i]["platform"], rows[i]["account_id"])
    )
    for by, kind in [(None, None), (None, "agency"), ("province", None), ("kind", None)]:
        got = rankings(t, by=by, kind=kind, top_n=5).to_pylist()
        pool = [r for r in rows if (kind is None or r["kind"] == kind) and (by is None or r[by])]
        want = []
        for r in pool:
            group = [x for x in pool if by is None or x[by] == r[by]]
            rank = 1 + sum(x["score"] > r["score"] for x in group)
            if rank <= 5:
                want.append(("all" if by is None else r[by], rank, r["platform"], r["account_id"]))
        assert [
            (r["group"], r["group_rank"], r["platform"], r["account_id"]) for r in got
        ] == sorted(want)
    prov = {r["province"]: r for r in province_aggregates(t, top_n=3).to_pylist()}
    for p in ("北京", "浙江"):
        mine = sorted(
            (r for r in rows if r["province"] == p), key=lambda r: (-r["score"], r["account_id"])
        )
        assert prov[p]["top_mean_score"] == pytest.approx(sum(r["score"] for r in mine[:3]) / 3)
        assert prov[p]["accounts"] == len(mine)
    # score_index: sorted by rank, platform, account_id; rank = 1 + strictly higher scores.
    raw = {c: [r.get(c) for r in rows] for c in ("platform", "account_id", "kind", "province")}
    raw |= {"screen_name": raw["account_id"], "sector": [None] * n, "level": [None] * n,
            "region": [None] * n}  # fmt: skip
    raw |= {c: [None] * n for c in INDICATORS}
    raw["posts"] = [int(r["score"]) for r in rows]  # ties: equal posts, equal scores
    schema = {c: pa.float64() for c in INDICATORS} | {c: pa.string() for c in PROFILE_COLUMNS}
    table = pa.table({c: pa.array(v, schema.get(c, pa.string())) for c, v in raw.items()})
    from govweibo.analyses.methods import Dimension, Indicator, Method

    m = Method("t", "t", "none", 1.0, (Dimension("d", 1.0, (Indicator("posts", 1.0, "none"),)),))
    out = score_index(table, m).to_pylist()
    assert [(r["rank"], r["platform"], r["account_id"]) for r in out] == sorted(
        (r["rank"], r["platform"], r["account_id"]) for r in out
    )
    assert all(r["rank"] == 1 + sum(x["score"] > r["score"] for x in out) for r in out)


# A hand-made store for the group rank change: two sectors, two quarters, posts only (the bci
# score grows with the posts). (account, sector, posts in 2011Q1, posts in 2011Q2)
MOVES = [
    ("a1", "foreign_affairs", 5, 1),
    ("a2", "foreign_affairs", 3, 5),
    ("a3", "foreign_affairs", 1, 3),
    ("b1", "public_security", 4, 2),
    ("b2", "public_security", 2, 4),
    ("b3", "public_security", 0, 6),
]


def _moves_store(store: Store) -> Store:
    from test_index import ts

    con = store.con
    con.execute(
        "CREATE TABLE account_profiles (platform VARCHAR, account_id VARCHAR, is_government"
        " BOOLEAN, confidence DOUBLE, evidence VARCHAR, kind VARCHAR, sector VARCHAR, level"
        " VARCHAR, province VARCHAR, region VARCHAR, family VARCHAR)"
    )
    n = 0
    for aid, sector, q1, q2 in MOVES:
        con.execute(
            "INSERT INTO accounts (platform, account_id, screen_name, created_at) VALUES (?,?,?,?)",
            ["weibo", aid, aid, ts("2010-01-01 00:00")],
        )
        con.execute(
            "INSERT INTO account_profiles VALUES ('weibo',?,TRUE,1.0,'t','agency',?,'county',"
            "'北京','east',NULL)",
            [aid, sector],
        )
        for count, day in ((q1, "2011-02-01"), (q2, "2011-05-01")):
            for _ in range(count):
                n += 1
                con.execute(
                    "INSERT INTO posts (platform, post_id, author_id, created_at) VALUES"
                    " ('weibo',?,?,?)",
                    [f"p{n}", aid, ts(f"{day} 04:00")],
                )
    return store


def test_group_rank_change_is_within_the_group(store: Store) -> None:
    from govweibo.analyses.rankings import group_rank_change

    _moves_store(store)
    cur = compute_index(store, period="2011Q2", method="bci")
    prev = compute_index(store, period="2011Q1", method="bci")
    by_sector = {
        r["account_id"]: r
        for r in group_rank_change(cur, prev, by="sector", top_n=None).to_pylist()
    }
    # (group rank now, before, change); the overall change differs (a1: 1st -> 6th, -5).
    want = {"a2": (1, 2, 1), "a3": (2, 3, 1), "a1": (3, 1, -2),
            "b3": (1, 3, 2), "b2": (2, 2, 0), "b1": (3, 1, -2)}  # fmt: skip
    got = {
        a: (r["group_rank"], r["previous_group_rank"], r["group_rank_change"])
        for a, r in by_sector.items()
    }
    assert got == want
    overall = {r["account_id"]: r for r in rank_change(cur, prev).to_pylist()}
    assert overall["a1"]["rank_change"] == -5 and overall["b3"]["rank_change"] == 5
    # The overall list: the group is everyone, so the change is the overall one.
    top = group_rank_change(cur, prev, top_n=2).to_pylist()
    assert [(r["account_id"], r["group_rank_change"]) for r in top] == [("b3", 5), ("a2", 1)]
    # ranking_lists with the previous period gives the same changes.
    lists = ranking_lists(cur, top_n=3, previous=prev)
    sector_list = {r["account_id"]: r["group_rank_change"] for r in lists["by_sector"].to_pylist()}
    assert sector_list == {a: w[2] for a, w in want.items()}
    assert "group_rank_change" not in ranking_lists(cur, top_n=3)["overall"].column_names


def test_group_rank_change_new_to_the_group() -> None:
    """An account ranked before in another group, or not at all, has no previous group rank."""
    import pyarrow as pa

    from govweibo.analyses.rankings import group_rank_change

    def index(rows: list[tuple[str, str, float]]) -> pa.Table:
        return pa.table(
            {
                "platform": ["weibo"] * len(rows),
                "account_id": [r[0] for r in rows],
                "sector": [r[1] for r in rows],
                "kind": ["agency"] * len(rows),
                "score": [r[2] for r in rows],
            }
        )

    prev = index([("x", "health", 9.0), ("y", "courts", 5.0)])
    cur = index([("x", "courts", 9.0), ("y", "courts", 5.0), ("z", "courts", 1.0)])
    out = {r["account_id"]: r for r in group_rank_change(cur, prev, by="sector").to_pylist()}
    assert out["x"]["previous_group_rank"] is None and out["x"]["group_rank_change"] is None
    assert (out["y"]["previous_group_rank"], out["y"]["group_rank_change"]) == (1, -1)
    assert out["z"]["group_rank_change"] is None
