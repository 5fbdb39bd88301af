"""weibo.com ajax responses (weibo-web) -> canonical rows."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.weibo_html import FieldError
from govweibo.ingest.weibo_mobile import mobile_units
from govweibo.ingest.weibo_web import WeiboWebReader, web_units
from govweibo.store import Store

DIR = FIXTURES / "weibo_web"
CRAWL = datetime(2020, 12, 8, 14, 0, tzinfo=timezone(timedelta(hours=8)))
OPTS = ReadOptions(observed_at=CRAWL)
W1, W2, W3, W4 = "4579792150070483", "4579769521800403", "4579561253635283", "4579176845673683"
ORIGINAL, SHOW, REPOST = "4577251660137683", "4579799699817683", "4579816057604047"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rows(store: Store, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in store.arrow(f"SELECT * FROM {table}").to_pylist()}


def test_detected_without_format() -> None:
    for path in DIR.glob("*.json"):
        assert isinstance(detect(path), WeiboWebReader), path.name
    for other in (FIXTURES / "weibo_mobile").glob("*.json"):
        assert not isinstance(detect(other), WeiboWebReader), other.name
    assert not isinstance(detect(FIXTURES / "weibo_page.json"), WeiboWebReader)


def test_shapes() -> None:
    page = json.loads((DIR / "mymblog-1234567890-p1.json").read_text())
    assert [k for k, _, _ in web_units(page, None)] == ["status"] * 4
    show = json.loads((DIR / "show-JxtXbFc1J.json").read_text())
    assert [k for k, _, _ in web_units(show, None)] == ["status"]
    assert [k for k, _, _ in web_units({"ok": 1, "data": {"status": 1, **show}}, None)] == [
        "status"
    ]
    assert web_units({"ok": -100, "url": "https://weibo.com/login.php"}, None) == []
    longtext = web_units({"ok": 1, "http_code": 200, "data": {"longTextContent": "全文"}}, "42")
    assert longtext == [("longtext", "全文", {"post_id": "42"})]
    # Either site's pages read with the other's format.
    mobile = json.loads(
        (FIXTURES / "weibo_mobile" / "getIndex-1076031234567890-p1.json").read_text()
    )
    assert [k for k, _, _ in web_units(mobile, None)] == ["status"] * 4
    assert [k for k, _, _ in mobile_units(page, None)] == ["status"] * 4
    with pytest.raises(FieldError) as err:
        web_units({"ok": 1, "data": {"foo": 1}}, None)
    assert err.value.field == "data"


def test_folder(store: Store) -> None:
    s = ingest(store, [DIR], options=OPTS)
    by_file = {Path(f.path).name: f for f in s.files}
    assert all(f.format == "weibo-web" and f.status == "done" for f in s.files)
    assert s.total("rejected") == 0
    assert by_file["mymblog-1234567890-p1.json"].records_read == 4
    assert "long_text=1; longtext_files_beside=1" in by_file["mymblog-1234567890-p1.json"].message
    assert by_file["mymblog-1234567890-p2.json"].empty == 1  # an empty page
    assert by_file["mymblog-1234567890-p3.json"].empty == 1  # the login wall

    posts = rows(store, "posts", "post_id")
    assert set(posts) == {W1, W2, W3, W4, ORIGINAL, SHOW, REPOST}
    p1 = posts[W1]  # text_raw kept
    assert (
        p1["text"] == "【冬季防火】#冬季防火#请转告家人[心]\n详情见http://t.cn/A6tPRZ2x @测试市消防"
    )
    assert (p1["pic_count"], p1["has_url"], p1["created_at"]) == (3, True, utc(2020, 12, 8, 1, 30))
    assert (p1["reposts"], p1["comments"], p1["likes"], p1["mid"]) == (12, 3, 45, "JxtL10ikP")
    long = posts[W2]  # longtext-<mblogid>.json beside the page
    assert long["text"] == (
        "关于开展冬季安全检查的通告：一、检查时间：12月8日至12月31日。二、检查范围：全市。\n三、咨询电话12345。"
    )
    assert long["is_truncated"] is False and long["reposts"] == 1000000
    repost = posts[W3]
    assert (repost["retweeted_post_id"], repost["repost_chain"]) == (ORIGINAL, ["测试市发布"])
    original = posts[ORIGINAL]
    assert (original["author_id"], original["pic_count"], original["has_video"]) == (
        "2345678901",
        2,
        True,
    )
    html_only = posts[W4]
    assert html_only["text"] == "@测试市发布 欢迎关注#平安冬季#[赞]&转发"
    assert html_only["has_video"] and html_only["pic_count"] == 0
    assert posts[SHOW]["text"] == "今日起全市开展冬季消防检查\n请各单位配合"
    assert posts[REPOST]["author_id"] == "4567890123"

    inter = rows(store, "interactions", "interaction_id")
    assert {k: (v["kind"], v["post_id"], v["reply_to_id"]) for k, v in inter.items()} == {
        "4579804732982483": ("comment", W1, None),
        "4579814799312083": ("reply", W1, "4579804732982483"),
    }
    assert inter["4579814799312083"]["reply_to_account_id"] == "3456789012"
    assert inter["4579804732982483"]["text"] == "请问@测试市公安局 电话多少[疑问]"
    assert inter["4579804732982483"]["likes"] == 7

    obs = rows(store, "account_observations", "account_id")
    assert (obs["1234567890"]["followers"], obs["1234567890"]["statuses"]) == (12345, 4567)
    assert set(rows(store, "accounts", "account_id")) == {
        "1234567890",
        "2345678901",
        "3456789012",
        "4567890123",
    }

    again = ingest(store, [DIR], options=OPTS)
    assert again.total("stored") == 0 and again.total("rejected") == 0


def test_profile_read_later_updates_the_account(tmp_path: Path, store: Store) -> None:
    for i, name in enumerate(["mymblog-1234567890-p1.json", "profile-info-1234567890.json"]):
        path = tmp_path / name
        shutil.copy(DIR / name, path)
        when = CRAWL.timestamp() + 60 * i  # the profile fetched a minute after the page
        os.utime(path, (when, when))
        s = ingest(store, [path])
        assert "time_basis=file mtime" in s.files[0].message
    gov = rows(store, "accounts", "account_id")["1234567890"]
    assert (gov["description"], gov["location"], gov["gender"]) == (
        "服务群众 守护平安",
        "北京 朝阳区",
        "m",
    )
    assert gov["profile_observed_at"] == CRAWL + timedelta(minutes=1)
    obs = store.arrow(
        "SELECT observed_at, followers FROM account_observations WHERE account_id = '1234567890'"
    ).to_pylist()
    assert obs == [{"observed_at": CRAWL + timedelta(minutes=1), "followers": 12345}]


def test_jsonl_of_bodies_and_long_post_without_longtext(tmp_path: Path, store: Store) -> None:
    spool = tmp_path / "spool.jsonl"
    page = json.loads((DIR / "mymblog-1234567890-p1.json").read_text())
    comments = json.loads((DIR / "buildComments-4579792150070483-p1.json").read_text())
    lines = [json.dumps(page, ensure_ascii=False), json.dumps(comments, ensure_ascii=False)]
    spool.write_text("\n".join([*lines, '{"ok": 1, "data": {"list": [{"id": 1}]}}', "{"]) + "\n")
    s = ingest(store, [spool], options=OPTS, fmt="weibo-web")
    f = s.files[0]
    # 4 statuses + 1 comment + 1 status without a user + 1 malformed line
    assert (f.records_read, f.stored, f.rejected) == (7, 5, 2)
    assert rows(store, "posts", "post_id")[W2]["is_truncated"] is True
    # A comment in a file that does not name its post: stored, its post unknown.
    assert rows(store, "interactions", "interaction_id")["4579804732982483"]["post_id"] is None
    fields = {q["field"] for q in store.arrow("SELECT field FROM quarantine").to_pylist()}
    assert fields == {"user", None}


CRAWLER_HEADER = (
    "id,bid,正文,头条文章url,原始图片url,视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户"
)


@pytest.mark.parametrize("web_first", [False, True])
def test_one_post_from_crawler_csv_and_weibo_com(
    tmp_path: Path, store: Store, web_first: bool
) -> None:
    """The same post from a dataabc/weibo-crawler CSV (crawled at noon) and from weibo.com
    (fetched at two): one post, the later counts, whichever file is read first."""
    csv = tmp_path / "weibo" / "测试市公安局" / "1234567890.csv"
    csv.parent.mkdir(parents=True)
    row = (
        f"{W1},JxtL10ikP,【冬季防火】#冬季防火#请转告家人[心] 详情见http://t.cn/A6tPRZ2x @测试市消防,"
        ",,,,2020-12-08 09:30,微博 weibo.com,40,2,10,冬季防火,测试市消防"
    )
    csv.write_text(f"{CRAWLER_HEADER}\n{row}\n", encoding="utf-8-sig")
    page = tmp_path / "web" / "mymblog-1234567890-p1.json"
    page.parent.mkdir()
    shutil.copy(DIR / page.name, page)
    noon, two = CRAWL - timedelta(hours=2), CRAWL
    os.utime(csv, (noon.timestamp(), noon.timestamp()))
    os.utime(page, (two.timestamp(), two.timestamp()))
    order = [page, csv] if web_first else [csv, page]
    formats = [ingest(store, [p]).files[0].format for p in order]
    assert sorted(formats) == ["weibo-crawler", "weibo-web"]
    found = store.arrow(
        "SELECT post_id, author_id, created_at, reposts, comments, likes, counts_observed_at "
        "FROM posts WHERE post_id = ?",
        [W1],
    ).to_pylist()
    assert found == [
        {
            "post_id": W1,
            "author_id": "1234567890",
            "created_at": utc(2020, 12, 8, 1, 30),
            "reposts": 12,
            "comments": 3,
            "likes": 45,
            "counts_observed_at": two,
        }
    ]


def test_timeline_sightings(store: Store) -> None:
    page = DIR / "mymblog-1234567890-p1.json"
    ingest(store, [page], options=ReadOptions(observed_at=CRAWL, timeline=True))
    seen = store.arrow(
        "SELECT account_id, post_id, observed_at FROM timeline_sightings ORDER BY post_id"
    ).to_pylist()
    # The page's four posts, not the original one of them reposts.
    assert [(r["account_id"], r["post_id"]) for r in seen] == [
        ("1234567890", W4),
        ("1234567890", W3),
        ("1234567890", W2),
        ("1234567890", W1),
    ]
    assert {r["observed_at"] for r in seen} == {CRAWL}
