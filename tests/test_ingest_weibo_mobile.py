"""m.weibo.cn responses (weibo-mobile) -> canonical rows; the shared helpers of weibo_html."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from conftest import FIXTURES

from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.weibo_mobile import WeiboMobileReader
from govweibo.store import Store

DIR = FIXTURES / "weibo_mobile"
CRAWL = datetime(2020, 12, 8, 14, 0, tzinfo=timezone(timedelta(hours=8)))
OPTS = ReadOptions(observed_at=CRAWL)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rows(store: Store, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in store.arrow(f"SELECT * FROM {table}").to_pylist()}


def test_detected_without_format() -> None:
    for path in DIR.iterdir():
        if path.suffix in (".json", ".jsonl"):
            assert isinstance(detect(path), WeiboMobileReader), path.name
    assert not isinstance(detect(FIXTURES / "weibo_statuses.jsonl"), WeiboMobileReader)
    assert not isinstance(
        detect(FIXTURES / "weibo_web" / "mymblog-1234567890-p1.json"), WeiboMobileReader
    )


def test_folder(store: Store) -> None:
    s = ingest(store, [DIR], options=OPTS)
    by_file = {Path(f.path).name: f for f in s.files}
    assert all(f.format == "weibo-mobile" and f.status == "done" for f in s.files)
    page = by_file["getIndex-1076031234567890-p1.json"]
    assert (page.records_read, page.rejected) == (4, 0)
    assert "time_basis=observed-at" in page.message
    # 刚刚, 6小时前, 昨天 18:12 and the original's 12-01 all taken from the ids.
    assert "time_from_id=4" in page.message and "retweeted_without_user=1" in page.message
    assert by_file["getIndex-1076031234567890-p9.json"].empty == 1
    spool = by_file["spool-search.jsonl"]
    assert (spool.records_read, spool.rejected, spool.empty) == (4, 3, 2)

    posts = rows(store, "posts", "post_id")
    assert len(posts) == 7
    m1 = posts["4579792150070482"]
    assert (
        m1["text"] == "【冬季防火】#冬季防火#请转告家人[心]\n详情见http://t.cn/A6tPRZ2x @测试市消防"
    )
    assert (m1["author_id"], m1["mid"], m1["created_at"]) == (
        "1234567890",
        "JxtL10ikO",
        utc(2020, 12, 8, 1, 30),
    )
    assert (m1["reposts"], m1["comments"], m1["likes"], m1["pic_count"]) == (12, 3, 45, 2)
    assert m1["has_url"] and not m1["has_video"] and m1["source"] == "微博 weibo.com"
    assert m1["counts_observed_at"] == CRAWL
    long = posts["4579769521800402"]  # 6小时前, cut short on the page; extend- file beside it
    assert long["text"].endswith("二、检查范围：全市。\n三、咨询电话12345。")
    assert long["is_truncated"] is False
    assert long["created_at"] == utc(2020, 12, 8, 0, 0, 5)
    assert (long["reposts"], long["comments"], long["likes"]) == (1000000, 12000, 30000)
    repost = posts["4579561253635282"]
    assert repost["created_at"] == utc(2020, 12, 7, 10, 12, 30)
    assert repost["retweeted_post_id"] == "4577251660137682"
    assert repost["repost_chain"] == ["测试市发布"]
    original = posts["4577251660137682"]
    assert original["author_id"] == "2345678901" and original["has_video"]
    assert original["created_at"] == utc(2020, 12, 1, 1, 15)
    # Its counts: the repost timeline's copy was read with the same crawl time, so the
    # first arrived (the page) is kept.
    assert (original["reposts"], original["likes"]) == (500, 1000)
    assert posts["4579859888080082"]["retweeted_post_id"] == "4577000000000000"
    assert "4577000000000000" not in posts  # deleted: no author, not stored
    show = posts["4579799699817682"]
    assert show["text"] == "今日起全市开展冬季消防检查\n请各单位配合，检查内容见附件。"
    assert show["pic_count"] == 3 and show["is_truncated"] is False
    assert posts["4579816057603999"]["retweeted_post_id"] == "4577251660137682"

    accounts = rows(store, "accounts", "account_id")
    assert set(accounts) == {"1234567890", "2345678901", "3456789012", "4567890123"}
    gov = accounts["1234567890"]
    assert (gov["verified"], gov["verified_type"], gov["verified_reason"]) == (
        True,
        1,
        "测试市公安局官方微博",
    )
    obs = rows(store, "account_observations", "account_id")
    assert (obs["1234567890"]["followers"], obs["1234567890"]["friends"]) == (12000, 321)
    assert obs["4567890123"]["followers"] == 25000

    inter = rows(store, "interactions", "interaction_id")
    assert len(inter) == 3
    first = inter["4579804732982482"]
    assert (first["kind"], first["post_id"], first["actor_id"], first["likes"]) == (
        "comment",
        "4579792150070482",
        "3456789012",
        7,
    )
    assert first["text"] == "请问@测试市公安局 电话多少[疑问]"
    reply = inter["4579814799312082"]
    assert (reply["kind"], reply["reply_to_id"], reply["actor_id"]) == (
        "reply",
        "4579804732982482",
        "1234567890",
    )
    assert inter["4579816057603282"]["created_at"] == utc(2020, 12, 8, 3, 5)  # 2小时前 -> id

    quarantine = store.arrow("SELECT line, item, field, reason FROM quarantine").to_pylist()
    assert sorted((q["line"], q["item"], q["field"]) for q in quarantine) == [
        (3, 0, "reposts_count"),
        (3, 1, "user"),
        (4, 0, None),
    ]

    again = ingest(store, [DIR], options=OPTS)
    assert again.total("stored") == 0 and again.total("rejected") == 3


def test_page_alone_keeps_the_cut_text_and_the_file_time(tmp_path: Path, store: Store) -> None:
    page = tmp_path / "getIndex-1076031234567890-p1.json"
    shutil.copy(DIR / page.name, page)
    mtime = datetime(2020, 12, 8, 6, 0, tzinfo=UTC)
    os.utime(page, (mtime.timestamp(), mtime.timestamp()))
    s = ingest(store, [page])
    assert s.files[0].format == "weibo-mobile"
    assert "time_basis=file mtime" in s.files[0].message
    long = rows(store, "posts", "post_id")["4579769521800402"]
    assert long["is_truncated"] is True
    assert (
        long["text"] == "关于开展冬季安全检查的通告：一、检查时间：12月8日至12月31日。二、检查范围"
    )
    assert long["counts_observed_at"] == mtime


def test_longtext_alone_fills_the_text(tmp_path: Path, store: Store) -> None:
    page = tmp_path / "getIndex-1076031234567890-p1.json"
    shutil.copy(DIR / page.name, page)
    ingest(store, [page], options=OPTS)
    extend = DIR / "extend-4579769521800402.json"
    s = ingest(store, [extend], options=OPTS, fmt="weibo-mobile")
    assert (s.files[0].records_read, s.files[0].rejected) == (1, 0)
    # The stored text was read first and is kept (the store fills, never overwrites, a
    # post's text): the join happens when both files are read from one folder.
    post = rows(store, "posts", "post_id")["4579769521800402"]
    assert post["text"].endswith("二、检查范围")


def test_forced_format_on_jsonl_of_bodies(store: Store) -> None:
    s = ingest(store, [DIR / "spool-search.jsonl"], options=OPTS, fmt="weibo-mobile")
    assert (s.total("stored"), s.total("rejected"), s.total("empty")) == (1, 3, 2)
    assert set(rows(store, "posts", "post_id")) == {"4579792150070482"}


def test_an_author_once_per_batch() -> None:
    from govweibo.ingest.base import Source

    page = DIR / "getIndex-1076031234567890-p1.json"
    (batch,) = WeiboMobileReader().read(Source(page, CRAWL), OPTS)
    assert batch.primary["posts"].num_rows == 4
    # Four statuses by one account and an original by another: two accounts, two
    # observations, not five.
    assert sorted(batch.secondary["accounts"].column("account_id").to_pylist()) == [
        "1234567890",
        "2345678901",
    ]
    assert batch.secondary["account_observations"].num_rows == 2
