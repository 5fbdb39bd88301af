"""nghuyong/WeiboSpider scrapy output (weibospider-jsonl), every spider and version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.weibospider_scrapy import WeiboSpiderReader
from govweibo.store import Store

DIR = FIXTURES / "weibospider_scrapy"
OBSERVED = datetime(2020, 12, 8, 14, 0, tzinfo=timezone(timedelta(hours=8)))
OPTS = ReadOptions(observed_at=OBSERVED)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def rows(store: Store, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in store.arrow(f"SELECT * FROM {table}").to_pylist()}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("spider") / "t.duckdb")
    s = ingest(store, [DIR], options=OPTS)
    by_file = {Path(f.path).name: f for f in s.files}
    assert {f.format for f in s.files} == {"weibospider-jsonl"}
    counts = {n: (f.records_read, f.rejected, f.empty) for n, f in by_file.items()}
    assert counts == {
        "comment_20201208140000.jsonl": (2, 0, 0),
        "fan_20201208140000.jsonl": (1, 0, 0),
        "follower_20201208140000.jsonl": (1, 0, 0),
        "repost_20201208140000.jsonl": (3, 2, 1),
        "sina_2018.jsonl": (3, 0, 0),
        "tweet_spider_by_keyword_20201208150000.jsonl": (1, 0, 0),
        "tweet_spider_by_user_id_20201208140000.jsonl": (2, 0, 0),
        "user_spider_20201208140000.jsonl": (1, 0, 0),
        "weibo_cn_2020.jsonl": (5, 1, 0),
    }
    assert by_file["fan_20201208140000.jsonl"].message.endswith("follow_edges_not_stored=1")
    assert "time_basis=crawl_time" in by_file["comment_20201208140000.jsonl"].message
    assert "time_basis=observed-at" in by_file["sina_2018.jsonl"].message
    yield store
    store.close()


def test_detected_without_format(tmp_path: Path) -> None:
    for path in DIR.glob("*.jsonl"):
        assert isinstance(detect(path), WeiboSpiderReader), path.name
    edges = tmp_path / "Relationships.jsonl"
    edges.write_text('{"fan_id": "3456789012", "followed_id": "1234567890"}\n')
    assert isinstance(detect(edges), WeiboSpiderReader)
    for other in [*(FIXTURES / "weibo_web").glob("*.json"), FIXTURES / "weibo_statuses.jsonl"]:
        assert not isinstance(detect(other), WeiboSpiderReader), other.name


def test_tweets_of_2022_on(loaded: Store) -> None:
    posts = rows(loaded, "posts", "post_id")
    t1 = posts["4579792150070484"]  # tweet_by_user_id drops `user`: the author from `url`
    assert (t1["author_id"], t1["mid"], t1["created_at"]) == (
        "1234567890",
        "JxtL10ikQ",
        utc(2020, 12, 8, 1, 30),
    )
    assert (
        t1["text"] == "【冬季防火】#冬季防火#请转告家人[心]\n详情见http://t.cn/A6tPRZ2x @测试市消防"
    )
    assert (t1["reposts"], t1["comments"], t1["likes"], t1["pic_count"]) == (12, 3, 45, 2)
    assert t1["counts_observed_at"] == epoch(1607407200)  # the item's crawl_time
    t2 = posts["4579769521800404"]
    assert t2["has_video"] and t2["is_truncated"] is False and t2["text"].endswith("12345。")
    k1 = posts["4579816057604055"]  # by keyword: retweet_id, display count, HTML source
    assert (k1["retweeted_post_id"], k1["likes"], k1["source"]) == (
        "4577251660137684",
        10000,
        "iPhone客户端",
    )
    assert k1["author_id"] == "2345678901" and k1["repost_chain"] == ["测试市发布"]
    assert posts["4579816057604099"]["author_id"] == "4567890123"  # repost spider


def test_users_fans_followers_comments(loaded: Store) -> None:
    accounts = rows(loaded, "accounts", "account_id")
    gov = accounts["1234567890"]
    assert (gov["screen_name"], gov["description"], gov["location"]) == (
        "测试市公安局",
        "服务群众 守护平安",
        "北京 朝阳区",
    )
    assert gov["created_at"] == utc(2010, 5, 31, 15, 7, 59)  # Beijing time in the item
    assert accounts["3456789012"]["created_at"] == utc(2016, 6, 25, 14, 30, 13)
    obs = loaded.arrow(
        "SELECT account_id, observed_at, followers, friends, statuses FROM account_observations"
    ).to_pylist()
    assert {(o["account_id"], o["observed_at"], o["followers"]) for o in obs} == {
        ("1234567890", epoch(1607410000), 12345),  # user spider (2022 on)
        ("1234567890", epoch(1591000000), 11000),  # weibo.cn user (2020)
        ("1234567890", OBSERVED, 9000),  # sina (2018): no crawl time, --observed-at
        ("3456789012", epoch(1607407300), 12),  # fan
        ("3456789012", epoch(1607407500), 12),  # the commenter's snapshot
        ("2345678901", epoch(1607407400), 987654),  # follower
    }
    inter = rows(loaded, "interactions", "interaction_id")
    assert {k: (v["kind"], v["post_id"], v["actor_id"]) for k, v in inter.items()} == {
        "4579804732982484": ("comment", "4579792150070484", "3456789012"),
        "4579814799312084": ("reply", "4579792150070484", "1234567890"),
        "4511111111119999": ("comment", "4511111111111111", "3456789012"),
    }
    reply = inter["4579814799312084"]
    assert (reply["reply_to_id"], reply["reply_to_account_id"]) == (
        "4579804732982484",
        "3456789012",
    )
    assert inter["4579804732982484"]["created_at"] == utc(2020, 12, 8, 2, 20)
    assert inter["4579804732982484"]["likes"] == 7


def test_older_versions(loaded: Store) -> None:
    posts = rows(loaded, "posts", "post_id")
    old = posts["4511111111111111"]  # 2020: `_id` is the base62 mid
    assert (old["author_id"], old["retweeted_post_id"], old["pic_count"]) == (
        "1234567890",
        "4510000000000000",
        2,
    )
    assert (old["reposts"], old["comments"], old["likes"]) == (2, 1, 10)
    assert old["created_at"] == utc(2020, 6, 1, 1, 0)
    sina = posts["4247756500843979"]  # 2018: '<uid>-<mid>', PubTime '今天 12:00'
    assert (sina["author_id"], sina["mid"], sina["text"]) == (
        "1234567890",
        "Gk2mC3xyz",
        "今天 测试内容",
    )
    assert sina["created_at"] == utc(2018, 6, 5, 19, 38, 52)  # the id's second, not "today"
    assert rows(loaded, "accounts", "account_id")["1234567890"]["verified_reason"] == (
        "测试市公安局官方微博"
    )


def test_quarantine_and_reingest(loaded: Store) -> None:
    quarantine = loaded.arrow("SELECT source_path, line, field, reason FROM quarantine").to_pylist()
    found = sorted((Path(q["source_path"]).name, q["line"], q["field"]) for q in quarantine)
    assert found == [
        ("repost_20201208140000.jsonl", 2, "created_at"),
        ("repost_20201208140000.jsonl", 3, None),
        ("weibo_cn_2020.jsonl", 5, "_id"),
    ]
    again = ingest(loaded, [DIR], options=OPTS)
    assert again.total("stored") == 0


def test_items_saved_as_one_array(tmp_path: Path, store: Store) -> None:
    import json

    src = DIR / "tweet_spider_by_user_id_20201208140000.jsonl"
    items = [json.loads(line) for line in src.read_text().splitlines()]
    items[1]["crawl_time"] = 1607410800  # an hour later than the first
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=1))
    s = ingest(store, [path])
    assert (s.files[0].format, s.files[0].records_read, s.files[0].stored) == (
        "weibospider-jsonl",
        2,
        2,
    )
    assert "time_basis=crawl_time" in s.files[0].message
    seen = store.arrow("SELECT post_id, counts_observed_at FROM posts ORDER BY post_id").to_pylist()
    assert [r["counts_observed_at"] for r in seen] == [epoch(1607410800), epoch(1607407200)]
