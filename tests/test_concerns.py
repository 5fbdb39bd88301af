from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from govweibo import model
from govweibo.analyses.concerns import concerns, g2, keyness, slice_texts
from govweibo.store import Store


def split(texts: Sequence[str]) -> list[list[str]]:
    """A stand-in tokenizer: the fixtures are pre-segmented with spaces."""
    return [t.replace("#", " ").split() for t in texts]


def test_keyness_ordering() -> None:
    fg = Counter({"停水": 4, "小区": 3, "谢谢": 2, "通知": 2})
    bg = Counter({"通知": 10, "小区": 1, "天气": 20, "谢谢": 2})
    t = keyness(fg, bg, min_freq=2)
    # 通知 is rarer in the slice than outside it: not a keyword.
    assert t.column("label").to_pylist() == ["停水", "小区", "谢谢"]
    assert t.column("g2")[0].as_py() == pytest.approx(8 * math.log(4))  # E = 1
    assert t.column("log_ratio")[0].as_py() == pytest.approx(math.log2((4 / 11) / (0.5 / 33)))
    assert g2(3, 1, 11, 33) == pytest.approx(4.394449, abs=1e-6)
    assert keyness(fg, bg, min_freq=3).column("label").to_pylist() == ["停水", "小区"]


def at(h: int) -> datetime:
    return datetime(2020, 6, 1, h, tzinfo=UTC)


def build(store: Store) -> None:
    def put(name: str, rows: list) -> None:
        store.con.register("_x", model.records_to_table(name, rows))
        store.con.execute(f"INSERT INTO {name} SELECT * FROM _x")
        store.con.unregister("_x")

    put("accounts", [model.Account("weibo", a, screen_name=a) for a in ("G", "H", "U")])
    put("posts", [
        model.Post("weibo", "g1", author_id="G", created_at=at(1), text="通知 停水 安排"),
        model.Post("weibo", "h1", author_id="H", created_at=at(1), text="天气 通知 #高温#"),
        model.Post("weibo", "h2", author_id="H", created_at=at(2), text="天气 小区 通知"),
        model.Post("weibo", "u1", author_id="U", created_at=at(3), text="@G 停水 小区 #停水#"),
    ])  # fmt: skip
    comments = [
        ("c1", "g1", "G", "停水 小区 #停水#"),
        ("c2", "g1", "G", "停水 什么时候 来水"),
        ("c3", "g1", "G", "停水 小区 谢谢"),
        ("c4", "h1", "H", "天气 真热 #高温#"),
    ]
    put("interactions", [
        model.Interaction("weibo", i, "comment", actor_id="U", actor_name="U", post_id=p,
                          target_account_id=t, created_at=at(4), text=x)
        for i, p, t, x in comments
    ])  # fmt: skip
    store.write_result(
        "account_profiles",
        pa.table({"platform": ["weibo"] * 2, "account_id": ["G", "H"],
                  "is_government": [True, True], "kind": ["agency"] * 2,
                  "sector": ["水务", "气象"], "level": ["city"] * 2,
                  "province": ["浙江", "浙江"], "region": ["east"] * 2, "family": [None, None]}),
    )  # fmt: skip


def test_slice_and_concerns() -> None:
    with Store(":memory:") as store:
        build(store)
        fg, bg = slice_texts(store, account_id="G")
        assert sorted(fg) == sorted(["停水 小区 #停水#", "停水 什么时候 来水", "停水 小区 谢谢",
                                     "@G 停水 小区 #停水#"])  # fmt: skip
        assert len(bg) == 4  # g1, h1, h2, c4
        assert slice_texts(store, sector="水务")[0] == fg
        assert len(slice_texts(store, province="浙江")[0]) == 5
        own, _ = slice_texts(store, account_id="G", voice="account")
        assert own == ["通知 停水 安排"]

        t = concerns(store, account_id="G", period="2020-06", tokenizer=split, clusters=2)
        kw = [r for r in t.to_pylist() if r["section"] == "keyword"]
        assert [r["label"] for r in kw] == ["停水", "小区"]
        assert (kw[0]["freq"], kw[0]["docs"], kw[0]["background_freq"]) == (6, 4, 1)
        assert kw[0]["examples"][0] == "停水 小区 #停水#"
        topics = [r for r in t.to_pylist() if r["section"] == "topic"]
        assert [(r["label"], r["freq"], r["background_freq"]) for r in topics] == [("停水", 2, 0)]
        clusters = [r for r in t.to_pylist() if r["section"] == "cluster"]
        assert len(clusters) == 2 and sum(r["docs"] for r in clusters) == 4
        assert all(r["label"] and r["examples"] for r in clusters)
        assert len(concerns(store, account_id="nobody", tokenizer=split)) == 0
        # No slice: every public comment and every post mentioning a known account.
        fg, bg = slice_texts(store, period="2020-06")
        assert len(fg) == 5 and len(bg) == 3


def test_slice_sentiment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import dataclass

    from govweibo.analyses.concerns import slice_sentiment
    from govweibo.text import sentiment

    @dataclass
    class Sentiment:
        label: str
        score: float

    # A stand-in model; the real batch function (sentiment.score_batch) calls it.
    monkeypatch.setattr(
        sentiment,
        "score",
        lambda texts: [
            Sentiment("negative", -0.5) if "停水" in t else Sentiment("positive", 1.0)
            for t in texts
        ],
    )
    with Store(":memory:") as store:
        build(store)
        rows = slice_sentiment(store, sector="气象").to_pylist()
        assert rows == [{"label": "positive", "texts": 1, "share": 1.0, "mean_score": 1.0}]
        rows = slice_sentiment(store, account_id="G").to_pylist()
        assert rows == [{"label": "negative", "texts": 4, "share": 1.0, "mean_score": -0.5}]


@pytest.mark.realdata
def test_real_cctv_concerns(store: Store) -> None:
    from conftest import shared_data

    from govweibo.ingest.base import ReadOptions
    from govweibo.ingest.runner import ingest

    ingest(store, [shared_data("cctv")], options=ReadOptions(year=2020))
    t = concerns(store, period="2020")
    assert t.schema.metadata[b"foreground_docs"] == b"42"  # the public comments
    kw = [r["label"] for r in t.to_pylist() if r["section"] == "keyword"]
    # Comments on the New Year visit of January 2020: "大大" (a nickname), "亲切" (warm).
    assert kw[:2] == ["大大", "亲切"]
    clusters = [r for r in t.to_pylist() if r["section"] == "cluster"]
    assert len(clusters) == 5 and sum(r["docs"] for r in clusters) >= 35
