from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from govweibo import model
from govweibo.analyses.activity import account_activity
from govweibo.store import Store


def ts(y: int, m: int, d: int, h: int = 4) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def insert(store: Store, name: str, data: pa.Table) -> None:
    store.con.register("_x", data)
    store.con.execute(f"INSERT INTO {name} SELECT * FROM _x")
    store.con.unregister("_x")


def build(store: Store) -> None:
    accts = [model.Account("weibo", a, screen_name=a) for a in ("busy", "sleepy", "show", "never")]
    insert(store, "accounts", model.records_to_table("accounts", accts))
    posts = [
        # busy: 3 posts in 2020, one a repost, well engaged
        model.Post("weibo", "b1", author_id="busy", created_at=ts(2020, 3, 1), likes=50),
        model.Post("weibo", "b2", author_id="busy", created_at=ts(2020, 6, 1), reposts=5),
        model.Post(
            "weibo", "b3", author_id="busy", created_at=ts(2020, 9, 1), retweeted_post_id="x"
        ),
        # sleepy: last post 2020-05-01, more than 180 days before the end of 2020
        model.Post("weibo", "s1", author_id="sleepy", created_at=ts(2020, 5, 1), likes=9),
        # show: one post in December, one like
        model.Post("weibo", "w1", author_id="show", created_at=ts(2020, 12, 1), likes=1),
        # after the period: ignored
        model.Post("weibo", "s2", author_id="sleepy", created_at=ts(2021, 2, 1)),
    ]
    insert(store, "posts", model.records_to_table("posts", posts))


def test_activity_flags() -> None:
    with Store(":memory:") as store:
        build(store)
        rows = {r["account_id"]: r for r in account_activity(store, period="2020").to_pylist()}
        b, s, w, n = rows["busy"], rows["sleepy"], rows["show"], rows["never"]
        assert (b["posts"], b["original_posts"], b["reposts_made"]) == (3, 2, 1)
        assert b["original_share"] == pytest.approx(2 / 3) and b["engagement"] == 55
        assert not b["dormant"] and not b["for_show"]
        assert s["dormant"] and not s["for_show"]
        # 2020-05-01 04:00 UTC to 2020-12-31 16:00 UTC (Beijing midnight) = 244.5 days
        assert s["days_since_last_post"] == pytest.approx(244.5)
        assert w["for_show"] and not w["dormant"] and w["engagement_per_post"] == 1.0
        assert n["dormant"] and n["posts"] == 0 and n["original_share"] is None
        # A shorter dormancy window wakes "sleepy" up; a looser one keeps "busy" for show.
        rows = {
            r["account_id"]: r
            for r in account_activity(
                store, period="2020", dormant_days=300, show_max_engagement_per_post=100
            ).to_pylist()
        }
        assert not rows["sleepy"]["dormant"] and rows["sleepy"]["for_show"]
        assert rows["busy"]["for_show"]  # 3 posts <= 2 x 366/30 = 24.4
        strict = account_activity(store, period="2020", show_max_posts_per_30d=0.2).to_pylist()
        assert [r["account_id"] for r in strict if r["for_show"]] == ["show"]  # 1 <= 2.44
