from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from govweibo import model
from govweibo.analyses.deletions import deleted_posts, deletion_summary
from govweibo.store import Store


def ts(day: int, month: int = 1, year: int = 2020, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def build(store: Store) -> None:
    posts = [
        model.Post("weibo", "old", author_id="A", created_at=ts(1, 6, 2019), text="old"),
        model.Post("weibo", "p1", author_id="A", created_at=ts(1), text="one"),
        model.Post("weibo", "p2", author_id="A", created_at=ts(5), text="two"),
        model.Post("weibo", "p3", author_id="A", created_at=ts(10), text="three"),
        model.Post("weibo", "p5", author_id="A", created_at=ts(10, hour=12), text="five"),
        model.Post("weibo", "p4", author_id="A", created_at=ts(12), text="four"),
    ]
    store.con.register("_p", model.records_to_table("posts", posts))
    store.con.execute("INSERT INTO posts SELECT * FROM _p")
    o1, o2, o3 = ts(11), ts(13), ts(14)
    rows = [(pid, o1) for pid in ("old", "p1", "p2", "p3", "p5")]
    # O2 reaches back only to p2: p1 and "old" are beyond its horizon.
    rows += [(pid, o2) for pid in ("p2", "p4")]
    rows += [(pid, o3) for pid in ("p2", "p4", "p5")]  # p5 comes back
    sightings = pa.table(
        {
            "platform": ["weibo"] * len(rows),
            "account_id": ["A"] * len(rows),
            "post_id": [r[0] for r in rows],
            "observed_at": [r[1] for r in rows],
            "run_id": [1] * len(rows),
        },
        schema=model.TIMELINE_SIGHTINGS,
    )
    store.con.register("_s", sightings)
    store.con.execute("INSERT INTO timeline_sightings SELECT * FROM _s")


def test_deleted_posts_respect_horizon() -> None:
    with Store(":memory:") as store:
        build(store)
        d = deleted_posts(store)
        rows = {r["post_id"]: r for r in d.to_pylist()}
        assert set(rows) == {"p3", "p5"}  # p1 and "old" lie before O2's horizon
        assert rows["p3"]["last_seen"] == ts(11) and rows["p3"]["first_missing"] == ts(13)
        assert rows["p3"]["horizon"] == ts(5) and rows["p3"]["reappeared"] is False
        assert rows["p5"]["reappeared"] is True
        assert len(deleted_posts(store, period="2020-02")) == 0
        assert len(deleted_posts(store, period="2020-01")) == 2


def test_deletion_summary() -> None:
    with Store(":memory:") as store:
        build(store)
        (row,) = deletion_summary(store).to_pylist()
        assert row == {
            "platform": "weibo",
            "account_id": "A",
            "observations": 3,
            "posts_seen": 6,
            "deleted": 1,
            "deletion_rate": 1 / 6,
        }
