from __future__ import annotations

import pytest
from test_index import build_store

from govweibo.analyses.index import Period, compute_index
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
