from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pyarrow as pa

from govweibo import model
from govweibo.analyses.addressed import mentions_expr, reply_names_expr
from govweibo.analyses.base import Period
from govweibo.store import Store


def ts(h: int) -> datetime:
    return datetime(2020, 6, 1, h, tzinfo=UTC)


def insert(store: Store, name: str, records: list) -> None:
    store.con.register("_x", model.records_to_table(name, records))
    store.con.execute(f"INSERT INTO {name} SELECT * FROM _x")
    store.con.unregister("_x")


def test_reply_names_are_the_whole_names_after_each_at() -> None:
    texts = [
        "回复@张三丰:收到 @李四",  # two names, the first ends at the colon
        "回复@Li-5_x，谢谢",  # Latin letters, digits, '_' and '-'; a full-width comma ends it
        "邮件 a@b.cn 或 @@王五",  # an address gives 'b'; '@@' is one empty name, then 王五
        "没有点名",
        "@ 空",
    ]
    replies = ibis.memtable(
        pa.table({
            "platform": ["weibo"] * len(texts),
            "r_actor": ["G"] * len(texts),
            "r_post": [f"p{k}" for k in range(len(texts))],
            "r_at": pa.array([ts(1)] * len(texts), pa.timestamp("us", "UTC")),
            "r_text": texts,
        })
    )  # fmt: skip
    got = reply_names_expr(replies).to_pyarrow()
    rows = sorted(zip(got["r_post"].to_pylist(), got["r_name"].to_pylist(), strict=True))
    assert rows == [("p0", "张三丰"), ("p0", "李四"), ("p1", "Li-5_x"), ("p2", "b"), ("p2", "王五")]


def test_mentions_name_accounts_once_outside_the_repost_chain() -> None:
    names = {"G": "平安某市", "H": "某市发布", "U": "市民甲", "V": "张三"}
    with Store(":memory:") as store:
        insert(
            store, "accounts", [model.Account("weibo", a, screen_name=n) for a, n in names.items()]
        )
        insert(store, "accounts", [model.Account("weibo", "V2", screen_name="张三")])  # a rename
        insert(store, "posts", [
            model.Post("weibo", "p1", author_id="U", created_at=ts(1),
                       text="@平安某市 @平安某市 路灯坏了 //@某市发布:@张三 看看"),
            model.Post("weibo", "p2", author_id="G", created_at=ts(2), text="@平安某市 自己"),
            model.Post("weibo", "p3", author_id="U", created_at=ts(3), text="@张三 你好"),
            model.Post("weibo", "p4", author_id="U", created_at=ts(4), text="@平安某市某 不是"),
            model.Post("weibo", "p5", author_id="U", created_at=datetime(2019, 1, 1, tzinfo=UTC),
                       text="@平安某市 去年"),
        ])  # fmt: skip
        got = mentions_expr(store, period=Period.parse("2020"), platform=None).to_pyarrow()
    rows = sorted(zip(got["post_id"].to_pylist(), got["account_id"].to_pylist(), strict=True))
    # p1 names G twice (once), 张三 only in the chain; p2 is G naming itself; 张三 is held
    # by V and V2, and goes to V; p4's name is longer than any account's; p5 is out of 2020.
    assert rows == [("p1", "G"), ("p3", "V")]
    assert got.column_names == [
        "platform",
        "post_id",
        "actor_id",
        "created_at",
        "text",
        "account_id",
    ]
