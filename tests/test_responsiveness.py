from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from govweibo import model
from govweibo.analyses.responsiveness import (
    addressed_items,
    classify_times,
    day_types,
    responsiveness,
)
from govweibo.store import Store


def ts(d: int, h: int, mi: int = 0, m: int = 6) -> datetime:
    return datetime(2020, m, d, h, mi, tzinfo=UTC)


def insert(store: Store, name: str, records: list) -> None:
    store.con.register("_x", model.records_to_table(name, records))
    store.con.execute(f"INSERT INTO {name} SELECT * FROM _x")
    store.con.unregister("_x")


def I(iid: str, actor: str, post: str, at: datetime, text: str, **kw: str) -> model.Interaction:  # noqa: E743
    kind = kw.pop("kind", "comment")
    return model.Interaction("weibo", iid, kind, actor_id=actor, actor_name=NAMES[actor],
                             post_id=post, created_at=at, text=text, **kw)  # fmt: skip


NAMES = {"G": "平安某市", "U1": "张三", "U2": "李四", "U3": "王五"}


def build(store: Store) -> None:
    insert(store, "accounts", [model.Account("weibo", a, screen_name=n) for a, n in NAMES.items()])
    insert(
        store,
        "posts",
        [
            model.Post("weibo", "gp1", author_id="G", created_at=ts(1, 1), text="通知"),
            model.Post("weibo", "gp2", author_id="G", created_at=ts(1, 2), retweeted_post_id="x"),
            # A mention on the Dragon Boat Festival (25 June 2020, a public holiday).
            model.Post(
                "weibo",
                "up1",
                author_id="U1",
                created_at=ts(25, 12),
                text="@平安某市 路灯坏了//@李四:@王五",
            ),  # fmt: skip
        ],
    )
    g = {"target_account_id": "G"}
    insert(
        store,
        "interactions",
        [
            # Monday 1 June, 10:10 Beijing: a question answered 3 minutes later.
            I("c1", "U1", "gp1", ts(1, 2, 10), "请问什么时候恢复办理？", **g),
            I(
                "r1",
                "G",
                "gp1",
                ts(1, 2, 13),
                "下周一",
                kind="reply",
                reply_to_id="c1",
                reply_to_account_id="U1",
                **g,
            ),  # fmt: skip
            I("c2", "U2", "gp1", ts(1, 2, 20), "为什么没人管", **g),  # never answered
            # Saturday 6 June: answered 30 minutes later by a comment naming the commenter.
            I("c3", "U3", "gp1", ts(6, 2, 30), "支持", **g),
            I("r3", "G", "gp1", ts(6, 3, 0), "@王五 谢谢支持", **g),
            # A reply to another user: not addressed to G; G's reply to it is Tue 22:00.
            I(
                "c4",
                "U2",
                "gp1",
                ts(1, 3),
                "同问",
                kind="reply",
                reply_to_id="c1",
                reply_to_account_id="U1",
                **g,
            ),  # fmt: skip
            I(
                "r4",
                "G",
                "gp1",
                ts(2, 14),
                "已转交",
                kind="reply",
                reply_to_id="c4",
                reply_to_account_id="U2",
                **g,
            ),  # fmt: skip
            # G answers the mention on the mentioning post an hour later (21:00 Beijing).
            I("r5", "G", "up1", ts(25, 13), "已报修", target_account_id="U1"),
        ],
    )


def test_addressed_items() -> None:
    with Store(":memory:") as store:
        build(store)
        t = addressed_items(store, period="2020-06")
        rows = {r["item_id"]: r for r in t.to_pylist()}
        assert set(rows) == {"c1", "c2", "c3", "up1", "r5"}  # r5: G on U1's post
        assert rows["c1"]["reply_minutes"] == 3.0 and rows["c1"]["question_rule"] == "question_mark"
        assert rows["c2"]["answered"] is False and rows["c2"]["is_question"] is True
        assert rows["c3"]["reply_minutes"] == 30.0
        assert rows["up1"]["item_kind"] == "mention" and rows["up1"]["reply_minutes"] == 60.0
        assert rows["up1"]["account_id"] == "G"  # 李四 and 王五 are only in the repost chain


def build_named(store: Store) -> None:
    """Comments answered only by a later comment naming the commenter (no reply link)."""
    names = {**NAMES, "U4": "张三丰", "U5": "Li-5_x"}
    insert(store, "accounts", [model.Account("weibo", a, screen_name=n) for a, n in names.items()])
    insert(store, "posts", [model.Post("weibo", "gp9", author_id="G", created_at=ts(8, 1))])
    g = {"target_account_id": "G"}

    def c(iid: str, actor: str, at: datetime, text: str) -> model.Interaction:
        return model.Interaction("weibo", iid, "comment", actor_id=actor, actor_name=names[actor],
                                 post_id="gp9", created_at=at, text=text, **g)  # fmt: skip

    insert(store, "interactions", [
        c("n1", "U1", ts(8, 2), "问一下"),
        c("n4", "U4", ts(8, 2, 5), "我也问"),
        c("n5", "U5", ts(8, 2, 6), "me too"),
        c("n2", "U2", ts(8, 4), "还有我"),
        # Before 李四's comment, so it cannot answer it; names 张三丰, which is not 张三.
        c("m1", "G", ts(8, 3), "回复@张三丰:收到 @李四"),
        # One reply naming two people, one with Latin letters, digits, '_' and '-'.
        c("m2", "G", ts(8, 5), "回复@张三：好的 @Li-5_x,谢谢"),
        # The same reply on another post answers nobody here.
        model.Interaction("weibo", "m3", "comment", actor_id="G", post_id="gp1",
                          created_at=ts(8, 6), text="@李四 好", **g),
    ])  # fmt: skip


def test_a_reply_answers_the_names_it_addresses() -> None:
    with Store(":memory:") as store:
        build_named(store)
        rows = {
            r["item_id"]: r
            for r in addressed_items(store, period="2020-06-08..2020-06-09").to_pylist()
        }
        minutes = {k: rows[k]["reply_minutes"] for k in ("n1", "n4", "n5", "n2")}
        assert minutes == {"n1": 180.0, "n4": 55.0, "n5": 174.0, "n2": None}


def test_responsiveness_per_account() -> None:
    with Store(":memory:") as store:
        build(store)
        rows = {r["account_id"]: r for r in responsiveness(store, period="2020-06").to_pylist()}
        g = rows["G"]
        assert (g["addressed"], g["comments_received"], g["mentions_received"]) == (4, 3, 1)
        assert g["answered"] == 3 and g["reply_rate"] == 0.75
        assert g["median_reply_minutes"] == 30.0
        assert g["p90_reply_minutes"] == pytest.approx(54.0)  # [3, 30, 60], linear
        assert (g["questions"], g["unanswered_questions"]) == (2, 1)
        assert g["replies"] == 4 and g["holidays_known"] is True
        shares = [g[f"share_{c}"] for c in ("office_hours", "off_hours", "weekend", "holiday")]
        assert shares == [0.25, 0.25, 0.25, 0.25]
        assert (g["posts"], g["original_share"]) == (2, 0.5)
        assert rows["U1"]["addressed"] == 1 and rows["U1"]["reply_rate"] == 0.0
        assert rows["U3"]["addressed"] == 0 and rows["U3"]["reply_rate"] is None
        empty = responsiveness(store, period="2019")
        assert empty.column("addressed").to_pylist() == [0, 0, 0, 0]


def test_calendar() -> None:
    kinds, known = day_types([date(2020, 10, 1), date(2020, 9, 27), date(2020, 9, 26)])
    # National Day; a make-up working Sunday; an ordinary Saturday.
    assert kinds == {
        date(2020, 10, 1): "holiday",
        date(2020, 9, 27): "workday",
        date(2020, 9, 26): "weekend",
    }
    assert known
    kinds, known = day_types([date(2001, 10, 1)])  # before the package's coverage
    assert kinds == {date(2001, 10, 1): "workday"} and not known
    us = pa.array([ts(1, 0, m=6), ts(1, 12, m=6)], model.TS).cast(pa.int64()).to_numpy()
    out, _ = classify_times(np.asarray(us))  # 08:00 and 20:00 Beijing, a Monday
    assert list(out) == ["off_hours", "off_hours"]
    out, _ = classify_times(np.asarray(us), office_hours=(8.0, 21.0))
    assert list(out) == ["office_hours", "office_hours"]


def test_structured_mentions_are_items_once(store: Store) -> None:
    # Mastodon/X mention rows: the mentioning post is the item (once, even when its text
    # also names the account), answered by the account's reply to that post.
    insert(store, "accounts", [model.Account("x", a, screen_name=a) for a in ("G", "U1")])
    insert(store, "posts", [
        model.Post("x", "p1", author_id="U1", created_at=ts(1, 9), text="@G buses in Croydon?"),
        model.Post("x", "p2", author_id="G", created_at=ts(1, 10), text="@U1 Yes, on time."),
        model.Post("x", "p3", author_id="U1", created_at=ts(1, 11), text="Thanks to the city"),
    ])  # fmt: skip
    mention = {"kind": "mention", "actor_id": "U1", "target_account_id": "G"}
    insert(store, "interactions", [
        model.Interaction("x", "p1:mention:G", post_id="p1", created_at=ts(1, 9), **mention),
        model.Interaction("x", "p3:mention:G", post_id="p3", created_at=ts(1, 11), **mention),
        model.Interaction("x", "p2", "reply", actor_id="G", post_id="p1", created_at=ts(1, 10),
                          target_account_id="U1", reply_to_id="p1", reply_to_account_id="U1",
                          text="@U1 Yes, on time."),
    ])  # fmt: skip
    t = addressed_items(store).to_pylist()
    got = [(r["item_kind"], r["item_id"], r["answered"]) for r in t if r["account_id"] == "G"]
    assert got == [("mention", "p1", True), ("mention", "p3", False)]


def test_batch_functions_take_any_timestamp_unit_and_zone_label() -> None:
    # Spark hands batches over with its own timestamp types; the minutes must not change.
    from govweibo.analyses.responsiveness import item_rows, when_rows
    from govweibo.text.questions import load_rules

    made, first = [ts(1, 2, 10)], [ts(1, 2, 13)]
    for typ in (pa.timestamp("us", "UTC"), pa.timestamp("us"), pa.timestamp("ms", "UTC")):
        batch = pa.RecordBatch.from_pydict({
            "platform": ["weibo"], "account_id": ["G"], "item_kind": ["comment"],
            "created_at": pa.array(made, typ), "first_reply_at": pa.array(first, typ),
            "text": ["请问几点开门？"],
        })  # fmt: skip
        row = item_rows(batch, rules=load_rules()).to_pylist()[0]
        assert row == {"platform": "weibo", "account_id": "G", "comment": True,
                       "answered": True, "reply_minutes": 3.0, "question": True}  # fmt: skip
        at = pa.RecordBatch.from_pydict(
            {"platform": ["weibo"], "account_id": ["G"], "at": pa.array(first, typ)}
        )
        assert when_rows(at, office_hours=(9.0, 18.0)).column("when").to_pylist() == [
            "office_hours"
        ]
