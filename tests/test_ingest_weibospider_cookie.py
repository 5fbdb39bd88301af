"""dataabc/weiboSpider (cookie, weibo.cn): CSV of the package and of weiboSpider.py, TXT
of both, JSON. Fixtures: tests/fixtures/weibospider_cookie/ (make_fixtures.py cites the
versions read)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES

from govweibo.cli import main
from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.sina_ids import id_to_mid
from govweibo.store import Store

HERE = FIXTURES / "weibospider_cookie"
PKG = HERE / "pkg" / "weibo" / "平安北京"
SEEN = datetime(2020, 7, 8, 0, 0, tzinfo=UTC)
OPTS = ReadOptions(observed_at=SEEN)
PSB = "1288915263"
# weibo.cn's base62 ids of the three package posts, and their numeric ids.
MIDS = {"J9X5YhQ7n": "4523721184251921", "J9Y3eqGhr": "4523757926359057"}
MIDS["Ja3KmBTCF"] = "4523976869031953"


def _posts(store: Store) -> dict[str, dict[str, object]]:
    return {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}


def test_package_csv(store: Store) -> None:
    (f,) = ingest(store, [PKG / f"{PSB}.csv"], options=OPTS).files
    # The second run wrote the header again: skipped, counted as empty, noted.
    assert (f.format, f.records_read, f.stored, f.rejected, f.empty) == (
        "weibospider-cookie",
        3,
        3,
        0,
        1,
    )
    assert "repeated_headers=1" in f.message and "time_basis=--observed-at" in f.message
    posts = _posts(store)
    assert set(posts) == set(MIDS.values())
    assert all(id_to_mid(pid) == mid for mid, pid in MIDS.items())
    one = posts[MIDS["J9X5YhQ7n"]]
    assert (one["mid"], one["author_id"], one["text"]) == (
        "J9X5YhQ7n",
        PSB,
        "【提示】今晨有雾，出行注意安全。",
    )
    assert one["created_at"] == datetime(2020, 7, 6, 8, 4, tzinfo=UTC)  # 16:04 Beijing
    assert (one["likes"], one["reposts"], one["comments"]) == (70, 17, 5)
    assert (one["pic_count"], one["has_video"], one["source"]) == (2, False, "微博 weibo.com")
    assert one["counts_observed_at"] == SEEN
    repost = posts[MIDS["J9Y3eqGhr"]]
    assert repost["text"] == "注意保暖\n原始用户: 央视新闻\n转发内容: 【提醒】今晚有雪"
    assert (repost["retweeted_post_id"], repost["source"], repost["pic_count"]) == (
        None,
        "iPhone客户端",
        0,
    )
    video = posts[MIDS["Ja3KmBTCF"]]
    assert (video["has_video"], video["has_url"], video["likes"]) == (True, True, 1200)
    (acc,) = store.arrow("SELECT account_id, screen_name FROM accounts").to_pylist()
    assert acc == {"account_id": PSB, "screen_name": "平安北京"}  # the folder's name


def test_package_json(store: Store) -> None:
    (f,) = ingest(store, [PKG / f"{PSB}.json"], options=OPTS).files
    assert (f.records_read, f.rejected) == (4, 0)  # the user and three posts
    assert set(_posts(store)) == set(MIDS.values())
    (acc,) = store.arrow("SELECT * FROM accounts").to_pylist()
    assert (acc["screen_name"], acc["gender"], acc["location"]) == ("平安北京", "m", "北京 东城区")
    assert acc["verified_reason"] == "北京市公安局官方微博"
    (obs,) = store.arrow("SELECT * FROM account_observations").to_pylist()
    assert (obs["followers"], obs["friends"], obs["statuses"], obs["observed_at"]) == (
        9_876_543,
        321,
        51234,
        SEEN,
    )


def test_package_txt_beside_its_csv_gives_the_profile_only(store: Store) -> None:
    (f,) = ingest(store, [PKG / f"{PSB}.txt"], options=OPTS).files
    assert "txt_posts_read_from=1288915263.csv" in f.message and "txt_posts_skipped=3" in f.message
    assert store.counts()["posts"] == 0
    (obs,) = store.arrow(
        "SELECT followers, friends, statuses FROM account_observations"
    ).to_pylist()
    assert obs == {"followers": 9_876_543, "friends": 321, "statuses": 51234}


def test_package_folder_in_one_command_and_again(tmp_path: Path) -> None:
    folder = tmp_path / "weibo"
    shutil.copytree(HERE / "pkg" / "weibo", folder)
    args = ["--db", str(tmp_path / "s.duckdb"), "ingest", str(folder), "--observed-at"]
    first = CliRunner().invoke(main, [*args, "2020-07-08T08:00:00+08:00"])
    assert first.exit_code == 0, first.output
    with Store(tmp_path / "s.duckdb") as store:
        assert store.counts()["posts"] == 3 and store.counts()["account_observations"] == 1
        before = store.counts()
    again = CliRunner().invoke(main, [*args, "2020-07-08T08:00:00+08:00"])
    assert again.exit_code == 0, again.output
    with Store(tmp_path / "s.duckdb") as store:
        after = store.counts()
        for table in ("posts", "accounts", "account_observations", "quarantine"):
            assert after[table] == before[table]


def test_old_single_file_csv(store: Store) -> None:
    path = HERE / "old" / "weibo" / "国资小新" / "3939208760.csv"
    (f,) = ingest(store, [path], options=OPTS).files
    assert (f.records_read, f.stored, f.rejected) == (4, 2, 2)
    posts = _posts(store)
    ok = posts["4449853451022353"]
    assert (ok["mid"], ok["author_id"], ok["text"]) == (
        "IkUUN4hXz",
        "3939208760",
        "国企改革三年行动",
    )
    assert ok["created_at"] == datetime(2019, 12, 15, 12, 0, tzinfo=UTC)
    assert (ok["likes"], ok["reposts"], ok["comments"]) == (10, 2, 3)
    # "某天" is no time, but the id holds the second: kept, counted as filled from the id.
    assert posts["4449853451022355"]["created_at"] == datetime(2019, 12, 15, 12, 0, tzinfo=UTC)
    assert "time_from_id=1" in f.message
    q = store.arrow("SELECT line, field FROM quarantine ORDER BY line").to_pylist()
    assert [(r["line"], r["field"]) for r in q] == [(3, "row"), (4, "微博id")]


def test_old_txt_alone_gb18030(store: Store) -> None:
    path = HERE / "old" / "weibo" / "央视新闻" / "2656274875.txt"
    assert detect(path).name == "weibospider-cookie"
    (f,) = ingest(store, [path], options=OPTS).files
    # read: the profile and 2 posts; stored: 2 posts, the account, its observation
    assert (f.records_read, f.stored, f.rejected) == (3, 4, 0)
    assert "encoding=gb18030" in f.message
    posts = sorted(store.arrow("SELECT * FROM posts").to_pylist(), key=lambda p: p["created_at"])
    assert [p["text"] for p in posts] == [
        "【提醒】今晚有雪\n第二段",
        "转发理由\n原始用户: 人民日报\n转发内容: 新闻",
    ]
    assert all(p["post_id"].startswith("txt:") and p["mid"] is None for p in posts)
    assert posts[0]["created_at"] == datetime(2019, 12, 15, 12, 0, tzinfo=UTC)
    assert (posts[0]["likes"], posts[0]["reposts"], posts[0]["comments"]) == (120000, 5600, 3400)
    assert posts[1]["source"] == "iPhone客户端"
    (obs,) = store.arrow(
        "SELECT followers, friends, statuses FROM account_observations"
    ).to_pylist()
    assert obs == {"followers": 130_000_000, "friends": 3000, "statuses": 130000}
    again = ingest(store, [path], options=OPTS)
    assert again.total("stored") == 0  # the made-up ids are stable


def test_detection() -> None:
    for name in (f"{PSB}.csv", f"{PSB}.json", f"{PSB}.txt"):
        assert detect(PKG / name).name == "weibospider-cookie", name
    assert detect(FIXTURES / "weibo_crawler" / "users_v2025.csv").name == "weibo-crawler"
    assert detect(FIXTURES / "crawler_posts.csv").name == "crawler-csv"
