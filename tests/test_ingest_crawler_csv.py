from __future__ import annotations

from datetime import UTC, datetime

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
