from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import FIXTURES, shared_data

from govweibo.ingest import ReadOptions, ingest
from govweibo.ingest.crawler_csv import CrawlerError, parse_count
from govweibo.store import Store


def test_counts_as_pages_show_them() -> None:
    assert parse_count("1万+", "like") == 10000
    assert parse_count("2.5万", "like") == 25000
    assert parse_count("转发", "forward") == 0
    with pytest.raises(CrawlerError):
        parse_count("abc", "forward")


def test_post_list(store: Store) -> None:
    summary = ingest(store, [FIXTURES / "crawler_posts.csv"], options=ReadOptions(year=2020))
    f = summary.files[0]
    assert (f.format, f.records_read, f.stored, f.rejected, f.empty) == ("crawler-csv", 4, 2, 2, 1)
    posts = {r["mid"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    first = posts["J4wN6nMEg"]
    assert first["author_id"] == "2656274875"
    assert first["created_at"] == datetime(2020, 5, 31, 15, 54, tzinfo=UTC)
    assert (first["reposts"], first["comments"], first["likes"]) == (3061, 685, 10000)
    assert first["is_truncated"] and first["source"] == "微博云剪"
    assert (posts["J4wAAAAAA"]["reposts"], posts["J4wAAAAAA"]["likes"]) == (0, 0)
    fields = sorted(r[0] for r in store.con.execute("SELECT field FROM quarantine").fetchall())
    assert fields == ["WB_from", "forward"]
    assert '"year": 2020' in store.arrow("SELECT options FROM ingest_runs").column(0)[0].as_py()


def test_missing_year_fails_the_file_once(store: Store) -> None:
    summary = ingest(store, [FIXTURES / "crawler_posts.csv"])
    assert summary.files[0].status == "failed" and "--year" in summary.files[0].message
    assert store.counts()["quarantine"] == 0


def test_comment_list(store: Store) -> None:
    summary = ingest(store, [FIXTURES / "crawler_comments.csv"], options=ReadOptions(year=2020))
    assert (summary.total("stored"), summary.total("rejected")) == (1, 1)
    row = store.arrow("SELECT * FROM interactions").to_pylist()[0]
    assert row["text"] == "请问几点开始？" and row["actor_id"] == "2283486823"
    again = ingest(store, [FIXTURES / "crawler_comments.csv"], options=ReadOptions(year=2020))
    assert again.total("stored") == 0


@pytest.mark.realdata
def test_real_cctv_exact_counts(store: Store) -> None:
    cctv = shared_data("cctv")
    summary = ingest(store, [cctv], options=ReadOptions(year=2020))
    assert summary.total("records_read") == 8674  # 8,632 post rows + 42 comments
    assert summary.total("empty") == 1015
    assert store.counts()["posts"] == 7951
    assert summary.total("duplicate") == 681  # posts crawled twice across files
    assert store.counts()["interactions"] == 42
    assert summary.total("rejected") == 0
    assert [p for p, _ in summary.skipped] == [str(cctv / "LICENSE")]
    # The comment list gives each comment's post only by its time (pub_time): all 42 find
    # their CCTV News post, 33 under the 23:46 video (孙悟空), 9 under the 23:38 greeting.
    assert summary.links == {
        "pending": 42,
        "linked": 42,
        "ambiguous": 0,
        "unmatched": 0,
        "no_account": 0,
        "unknown_time": 0,
    }
    per_post = store.arrow(
        "SELECT p.mid, i.target_account_id, count(*) AS n FROM interactions i "
        "JOIN posts p ON i.post_id = p.post_id GROUP BY ALL ORDER BY n DESC"
    ).to_pylist()
    assert per_post == [
        {"mid": "IqpMMEwhk", "target_account_id": "2656274875", "n": 33},
        {"mid": "IqpJwAxq4", "target_account_id": "2656274875", "n": 9},
    ]


def _links(store: Store) -> dict[str, int]:
    rows = store.arrow(
        "SELECT i.text, p.mid, i.target_account_id FROM interactions i "
        "LEFT JOIN posts p ON i.post_id = p.post_id ORDER BY i.created_at"
    ).to_pylist()
    return {r["text"]: (r["mid"], r["target_account_id"]) for r in rows}


def test_comments_linked_to_posts_by_publication_minute(store: Store) -> None:
    folder = FIXTURES / "crawler_link"
    summary = ingest(store, [folder], options=ReadOptions(year=2020))
    # 5 comments (one empty row): 3 with one post in their minute, 1 in a minute with two
    # posts (ambiguous), 1 whose post was not crawled.
    assert summary.links == {
        "pending": 5,
        "linked": 3,
        "ambiguous": 1,
        "unmatched": 1,
        "no_account": 0,
        "unknown_time": 0,
    }
    assert _links(store) == {
        "我也喜欢孙悟空": ("IqpMMEwhk", "2656274875"),
        "请问几点开始？": ("IqpMMEwhk", "2656274875"),
        "新年好": ("IqpJwAxq4", "2656274875"),
        "早": (None, None),
        "这条微博没抓到": (None, None),
    }
    # Ingesting again links nothing twice and breaks no link.
    again = ingest(store, [folder], options=ReadOptions(year=2020))
    assert again.links is not None and again.links["pending"] == 2
    assert again.links["linked"] == 0
    assert _links(store)["新年好"] == ("IqpJwAxq4", "2656274875")


def test_comments_linked_when_their_posts_come_later(store: Store, tmp_path: Path) -> None:
    from govweibo import model
    from govweibo.ingest.crawler_csv import link_comments

    for name in ("comments.csv", "posts.csv"):
        shutil.copy(FIXTURES / "crawler_link" / name, tmp_path / name)
    # Another account posted in the same minute as the 孙悟空 video.
    other = model.Post("weibo", "999", author_id="1000000001", created_at=datetime(
        2020, 1, 20, 15, 46, 30, tzinfo=UTC), text="别的账号")  # fmt: skip
    store.con.register("_p", model.records_to_table("posts", [other]))
    store.con.execute("INSERT INTO posts SELECT * FROM _p")
    first = ingest(store, [tmp_path / "comments.csv"], options=ReadOptions(year=2020))
    # No post list of this crawl yet, so no account to look in: nothing is guessed.
    assert first.links is not None
    assert (first.links["pending"], first.links["no_account"], first.links["linked"]) == (5, 5, 0)
    later = ingest(store, [tmp_path / "posts.csv"], options=ReadOptions(year=2020))
    assert later.links is not None
    assert (later.links["linked"], later.links["ambiguous"], later.links["unmatched"]) == (3, 1, 1)
    # The other account's post of the same minute is not the crawled account's.
    assert _links(store)["我也喜欢孙悟空"] == ("IqpMMEwhk", "2656274875")
    # An account named by the caller is looked in instead.
    store.con.execute("UPDATE interactions SET post_id = NULL, target_account_id = NULL")
    named = link_comments(store, account_id="1000000001")
    assert (named.linked, named.unmatched) == (2, 3)
    assert _links(store)["我也喜欢孙悟空"] == (None, "1000000001")


def test_link_needs_the_comment_file(store: Store, tmp_path: Path) -> None:
    from govweibo.ingest.crawler_csv import link_comments
    from govweibo.store.links import LINKS_SCHEMA, fill_interaction_posts

    shutil.copy(FIXTURES / "crawler_link" / "comments.csv", tmp_path / "comments.csv")
    ingest(store, [tmp_path / "comments.csv"], options=ReadOptions(year=2020))
    (tmp_path / "comments.csv").unlink()
    ingest(store, [FIXTURES / "crawler_link" / "posts.csv"], options=ReadOptions(year=2020))
    # The comments' post times live only in their file, which is gone.
    assert link_comments(store).as_dict() == {
        "pending": 5,
        "linked": 0,
        "ambiguous": 0,
        "unmatched": 0,
        "no_account": 0,
        "unknown_time": 5,
    }
    # A link never overwrites a post an interaction already has.
    iid = store.arrow("SELECT interaction_id FROM interactions LIMIT 1").column(0)[0].as_py()
    one = pa.table([["weibo"], [iid], ["1"], ["A"]], schema=LINKS_SCHEMA)
    assert fill_interaction_posts(store, one) == 1
    two = pa.table([["weibo"], [iid], ["2"], ["B"]], schema=LINKS_SCHEMA)
    assert fill_interaction_posts(store, two) == 0
    row = store.arrow("SELECT post_id FROM interactions WHERE interaction_id = ?", [iid])
    assert row.column(0)[0].as_py() == "1"
