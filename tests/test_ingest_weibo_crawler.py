"""dataabc/weibo-crawler output: every post-CSV header version, users.csv, JSON, SQLite.

Fixtures: tests/fixtures/weibo_crawler/ (make_fixtures.py writes them as the tool does
and cites the versions read)."""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from govweibo.cli import main
from govweibo.ingest import ReadOptions, detect, ingest
from govweibo.ingest.weibo_crawler_csv import clean_text, layouts, shape_masks
from govweibo.store import Store

HERE = FIXTURES / "weibo_crawler"
sys.path.insert(0, str(HERE))
from make_fixtures import MAIN_15, headers, write_sqlite  # noqa: E402

SEEN = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
OPTS = ReadOptions(observed_at=SEEN)
PSB, SASAC, CCTV = "1288915263", "3939208760", "2656274875"
RT_ID = "4449853451022353"  # 央视新闻's post of 2019-12-15 20:00 Beijing, reposted


def _posts(store: Store) -> dict[str, dict[str, object]]:
    return {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}


# version folder -> (first post id, its UTC time, second post id, its UTC time, from id)
VERSIONS = {
    "v2019": ("4450188680761361", datetime(2019, 12, 16, 10, 12, 5, tzinfo=UTC)),
    "v2020": ("4450188680761361", datetime(2019, 12, 16, 10, 12, 5, tzinfo=UTC)),
    "v2023": ("5139330465009681", datetime(2025, 3, 1, 2, 15, 30, tzinfo=UTC)),
    "v2025live": ("5139330465009681", datetime(2025, 3, 1, 2, 15, 30, tzinfo=UTC)),
    "v2025": ("5139330465009681", datetime(2025, 3, 1, 2, 15, 30, tzinfo=UTC)),
}
SECOND = {
    "4450188680761361": ("4450208310108177", datetime(2019, 12, 16, 11, 30, 5, tzinfo=UTC)),
    "5139330465009681": ("5139346822799377", datetime(2025, 3, 1, 3, 20, 30, tzinfo=UTC)),
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_header_version(store: Store, version: str) -> None:
    summary = ingest(store, [HERE / version], options=OPTS)
    (f,) = summary.files
    assert (f.format, f.status, f.records_read, f.rejected, f.empty) == (
        "weibo-crawler",
        "done",
        2,
        0,
        0,
    )
    assert "time_basis=--observed-at" in f.message
    first_id, first_at = VERSIONS[version]
    second_id, second_at = SECOND[first_id]
    posts = _posts(store)
    one, two = posts[first_id], posts[second_id]
    assert (one["author_id"], one["created_at"], two["created_at"]) == (PSB, first_at, second_at)
    assert one["text"] == "【提示】今晨有雾，出行注意安全。"
    assert (one["likes"], one["comments"], one["reposts"]) == (1200, 35, 88)
    assert (one["pic_count"], one["has_video"], one["source"]) == (3, False, "微博 weibo.com")
    assert one["counts_observed_at"] == SEEN and one["retweeted_post_id"] is None
    assert (two["likes"], two["comments"], two["reposts"], two["has_video"]) == (5, 0, 2, True)
    assert two["source"] == "iPhone客户端" and two["repost_chain"] == ["央视新闻"]
    assert one["mid"] == ("Il3Du3c41" if version in ("v2019", "v2020") else "Pgvael1fj")
    accounts = {r["account_id"]: r for r in store.arrow("SELECT * FROM accounts").to_pylist()}
    assert accounts[PSB]["screen_name"] == "平安北京"  # from the folder name
    if version == "v2019":  # originals only: no reposted post
        assert set(posts) == {first_id, second_id} and two["retweeted_post_id"] is None
        assert "time_from_id=2" in f.message  # 日期 is a day: the id gives the second
        return
    assert two["retweeted_post_id"] == RT_ID and len(posts) == 3
    rt = posts[RT_ID]
    assert (rt["author_id"], rt["text"], rt["pic_count"]) == (CCTV, "【提醒】今晚有雪", 2)
    assert rt["created_at"] == datetime(2019, 12, 15, 12, 0, tzinfo=UTC)
    assert (rt["likes"], rt["comments"], rt["reposts"]) == (120000, 3400, 5600)
    assert accounts[CCTV]["screen_name"] == "央视新闻"
    assert ("time_from_id=3" in f.message) == (version == "v2020")


def test_the_live_photo_cell_the_header_does_not_name() -> None:
    """2025 rows under the 15-column header carry one cell more: read with it, not shifted."""
    shapes = layouts(headers(MAIN_15, False))
    assert [s.name for s in shapes] == ["header", "live-photo"]
    assert shapes[1].index["日期"] == shapes[0].index["日期"] + 1
    rows = [
        ["1"] * 15 + ["True"],  # as the header says
        ["1"] * 16 + ["False"] + ["2"] * 18,  # one cell more
        ["1"] * 20,  # neither: no True/False where either layout puts it
    ]
    cells = [pa.array(col, pa.string()) for col in zip_longest(*rows)]
    cells += [pa.nulls(3, pa.string())] * 4
    masks = [m.to_pylist() for m in shape_masks(cells, shapes)]
    assert masks == [[True, False, False], [False, True, False]]
    only = layouts(MAIN_15)  # originals only: told apart by length
    cells = [pa.array(col, pa.string()) for col in zip_longest(["1"] * 14, ["1"] * 16)]
    cells += [pa.nulls(2, pa.string())] * 4
    assert [m.to_pylist() for m in shape_masks(cells, only)] == [[True, False], [False, True]]


@pytest.mark.parametrize(
    ("name", "superseded"), [("users_v2020.csv", 1), ("users_v2023.csv", 0), ("users_v2025.csv", 0)]
)
def test_users_csv_versions(store: Store, name: str, superseded: int) -> None:
    (f,) = ingest(store, [HERE / name], options=OPTS).files
    assert (f.format, f.records_read, f.rejected) == ("weibo-crawler", 2 + superseded, 0)
    assert ("users_superseded=1" in f.message) == bool(superseded)
    acc = {r["account_id"]: r for r in store.arrow("SELECT * FROM accounts").to_pylist()}
    psb = acc[PSB]
    assert (psb["screen_name"], psb["gender"], psb["location"]) == ("平安北京", "m", "北京 东城区")
    assert (psb["verified"], psb["verified_type"]) == (True, 1)
    assert psb["verified_reason"] == "平安北京官方微博" and psb["description"] == "平安北京官方微博"
    assert psb["created_at"] == datetime(2010, 12, 19, 16, 0, tzinfo=UTC)  # Beijing midnight
    assert psb["url"].startswith("https://m.weibo.cn/u/1288915263")
    assert psb["profile_observed_at"] == SEEN
    obs = {
        r["account_id"]: (r["followers"], r["friends"], r["statuses"], r["observed_at"])
        for r in store.arrow("SELECT * FROM account_observations").to_pylist()
    }
    # 2020 appended a row at each crawl: the last one (9,900,000) is the latest.
    followers = 9_900_000 if superseded else 9_876_543
    assert obs == {PSB: (followers, 321, 51234, SEEN), SASAC: (4_321_000, 321, 51234, SEEN)}


def test_json_output(store: Store) -> None:
    path = HERE / "crawl" / "weibo" / "国资小新" / "3939208760.json"
    (f,) = ingest(store, [path], options=OPTS).files
    assert (f.format, f.records_read, f.rejected) == ("weibo-crawler", 3, 0)
    posts = _posts(store)
    assert set(posts) == {"5132426095448081", "5132788734976017", RT_ID}
    two = posts["5132788734976017"]
    assert (two["author_id"], two["text"], two["retweeted_post_id"]) == (
        SASAC,
        "国资小新第2条",
        RT_ID,
    )
    assert two["created_at"] == datetime(2025, 2, 11, 1, 1, tzinfo=UTC)
    assert (two["likes"], two["comments"], two["reposts"]) == (1, 2, 3)
    assert posts[RT_ID]["author_id"] == CCTV
    obs = store.arrow("SELECT followers, friends, statuses FROM account_observations").to_pylist()
    assert obs == [{"followers": 4_321_000, "friends": 321, "statuses": 51234}]


def test_sqlite_output(store: Store, tmp_path: Path) -> None:
    db = tmp_path / "weibo" / "weibodata.db"
    db.parent.mkdir()
    write_sqlite(db)
    assert detect(db).name == "weibo-crawler"
    (f,) = ingest(store, [db], options=OPTS).files
    # 1 user, 2 weibo rows (a post and the post it reposts), 1 comment, 1 repost.
    assert (f.records_read, f.rejected, f.status) == (5, 0, "done")
    posts = _posts(store)
    own = posts["5139330465009681"]
    assert own["text"] == "@央视新闻 好\n收到"  # HTML the tool kept (remove_html_tag off)
    assert (own["retweeted_post_id"], own["likes"]) == (RT_ID, 7)
    assert own["created_at"] == datetime(2025, 3, 1, 2, 15, 30, tzinfo=UTC)
    assert posts[RT_ID]["author_id"] == CCTV
    repost = posts["5139356763332625"]
    assert (repost["author_id"], repost["retweeted_post_id"], repost["likes"]) == (
        "5000000002",
        "5139330465009681",
        1,
    )
    (comment,) = store.arrow("SELECT * FROM interactions").to_pylist()
    assert (comment["kind"], comment["actor_id"], comment["post_id"]) == (
        "comment",
        "5000000001",
        "5139330465009681",
    )
    assert comment["created_at"] == datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    assert (comment["text"], comment["likes"], comment["reply_to_id"]) == (
        "收到，谢谢提醒",
        3,
        None,
    )
    (obs,) = store.arrow("SELECT followers, friends FROM account_observations").to_pylist()
    assert obs == {"followers": 9_876_543, "friends": 321}


def test_crawl_folder_in_one_command_and_again(tmp_path: Path) -> None:
    crawl = tmp_path / "weibo"
    shutil.copytree(HERE / "crawl" / "weibo", crawl)
    write_sqlite(crawl / "weibodata.db")
    # The tool's downloads beside the data: not read, no reason to read the folder file
    # by file.
    (crawl / "平安北京" / "img" / "原创微博图片").mkdir(parents=True)
    (crawl / "平安北京" / "img" / "原创微博图片" / "20250210_1.jpg").write_bytes(b"\xff\xd8")
    args = ["--db", str(tmp_path / "s.duckdb"), "ingest", str(crawl), "--observed-at"]
    first = CliRunner().invoke(main, [*args, "2025-03-02T16:00:00+08:00"])
    assert first.exit_code == 0, first.output
    with Store(tmp_path / "s.duckdb") as store:
        (run,) = store.arrow("SELECT * FROM ingest_runs").to_pylist()
        # One run for the folder: users.csv, the SQLite file, two CSVs and a JSON.
        assert (run["format"], run["status"], run["rejected"]) == ("weibo-crawler", "done", 0)
        assert "files=5" in run["message"] and run["checksum"]
        counts = store.counts()
        # 3 + 2 posts of the two accounts, 央视新闻's reposted post, 2 from the SQLite
        # file (a post and a repost of it; its original is the same 央视新闻 post).
        assert (counts["posts"], counts["interactions"]) == (8, 1)
        assert counts["account_observations"] == 2  # one per account at the given time
        authors = store.arrow("SELECT count(*) AS n FROM posts WHERE author_id IS NULL")
        assert authors.column(0)[0].as_py() == 0
        before = {t: store.counts()[t] for t in ("posts", "accounts", "account_observations")}
    again = CliRunner().invoke(main, [*args, "2025-03-02T16:00:00+08:00"])
    assert again.exit_code == 0, again.output
    with Store(tmp_path / "s.duckdb") as store:
        assert {t: store.counts()[t] for t in before} == before
        (stored,) = store.arrow("SELECT stored FROM ingest_runs WHERE run_id = 2").column(0)
        assert stored.as_py() == 0


def test_a_folder_mixing_tools_is_read_file_by_file(store: Store, tmp_path: Path) -> None:
    crawl = tmp_path / "weibo"
    shutil.copytree(HERE / "crawl" / "weibo", crawl)
    other = FIXTURES / "weibospider_cookie" / "old" / "weibo" / "央视新闻" / "2656274875.txt"
    shutil.copy(other, crawl / "2656274875.txt")
    bad = crawl / "平安北京" / "1288915263.csv"
    bad.write_text(bad.read_text(encoding="utf-8-sig").replace("\t,", "x,", 1), "utf-8-sig")
    summary = ingest(store, [crawl], options=OPTS)
    assert sorted(f.format for f in summary.files) == ["weibo-crawler"] * 4 + ["weibospider-cookie"]
    (q,) = store.arrow("SELECT source_path, line, field FROM quarantine").to_pylist()
    assert (q["source_path"], q["line"], q["field"]) == (str(bad.resolve()), 2, "id")


def test_detection_and_forced_format(store: Store) -> None:
    for path in [
        HERE / "users_v2020.csv",
        HERE / "v2019" / "平安北京" / "1288915263.csv",
        HERE / "crawl" / "weibo" / "国资小新" / "3939208760.json",
    ]:
        assert detect(path).name == "weibo-crawler", path
    assert detect(FIXTURES / "crawler_posts.csv").name == "crawler-csv"
    assert detect(FIXTURES / "weibo_page.json").name != "weibo-crawler"
    summary = ingest(store, [HERE / "v2025"], fmt="weibo-crawler", options=OPTS)
    assert summary.total("stored") == 2  # the file's own posts; its original is carried
    assert store.counts()["posts"] == 3


def test_bad_rows_quarantined_with_line_and_field(store: Store, tmp_path: Path) -> None:
    """Rows a careful analyst would keep go in (TAB ids, display counts, relative times
    resolved against the crawl time); the others are quarantined, naming line and field."""
    path = tmp_path / "平安北京" / "1288915263.csv"
    path.parent.mkdir()
    cols = MAIN_15[:]
    base = ["", "Pgvael1fj", "文本", "", "", "", "", "2025-03-01", "微博 weibo.com", "1", "2"]
    base += ["3", "", "", ""]
    rows = [
        ["5139330465009681\t", *base[1:9], "1.2万", *base[10:]],  # display count: kept
        ["12345678\t", *base[1:7], "昨天 18:12", *base[8:]],  # old id, relative time
        ["abc", *base[1:]],  # not an id
        ["5139330465009682", *base[1:9], "很多", *base[10:]],  # not a count
        ["201812", *base[1:7], "", *base[8:]],  # no time and an id from before 2012
        ["5139330465009683", *base[1:], "多", "余"],  # two cells past the header
        [""] * 15,  # empty
    ]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(cols)
        writer.writerows(rows)
    (res,) = ingest(store, [path], options=OPTS).files
    assert (res.records_read, res.stored, res.rejected, res.empty) == (6, 2, 4, 1)
    posts = _posts(store)
    assert posts["5139330465009681"]["likes"] == 12000
    # 昨天 18:12 against the crawl on 2025-03-02 (Beijing): 2025-03-01 18:12 Beijing.
    assert posts["12345678"]["created_at"] == datetime(2025, 3, 1, 10, 12, tzinfo=UTC)
    q = store.arrow("SELECT line, field FROM quarantine ORDER BY line").to_pylist()
    assert [(r["line"], r["field"]) for r in q] == [
        (4, "id"),
        (5, "点赞数"),
        (6, "日期"),
        (7, "row"),
    ]
    assert "time_relative=1" in res.message


@given(st.text(alphabet=st.characters(blacklist_characters="<>&")))
def test_plain_text_is_left_alone(text: str) -> None:
    assert clean_text(text) == text


def test_html_text_made_plain() -> None:
    raw = '<a href="/n/x">@x</a>：好&amp;快<br />二<span class="url-icon"><img src="a.png"></span>'
    assert clean_text(raw) == "@x：好&快\n二"


def test_a_large_file_with_line_breaks_in_texts(tmp_path: Path) -> None:
    """DuckDB's parallel scanner refuses padded rows with quoted line breaks past its first
    block (seen at ~58,000 rows): the reader scans serially, in batches, in order."""
    from govweibo.ingest.base import Source
    from govweibo.ingest.weibo_crawler import WeiboCrawlerReader

    path = tmp_path / "平安北京" / "1288915263.csv"
    path.parent.mkdir()
    n = 70_000
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers(MAIN_15, False))
        for i in range(n):
            pid = 5139330465009681 + (i << 12)
            row = [f"{pid}\t", "b", f"第{i}条\n第二行", "", "", "", "", "2025-03-01T10:15:30"]
            row += ["微博 weibo.com", i, 0, 0, "", "", "2025-03-01 10:15:30", True]
            writer.writerow(row)
    batches = list(WeiboCrawlerReader().read(Source(path, SEEN), OPTS))
    posts = [b.primary["posts"] for b in batches if "posts" in b.primary]
    assert [p.num_rows for p in posts] == [50_000, 20_000]
    assert sum(len(b.rejects) for b in batches) == 0
    last = posts[-1].slice(posts[-1].num_rows - 1).to_pylist()[0]
    assert (last["text"], last["likes"]) == (f"第{n - 1}条\n第二行", n - 1)


def test_a_reject_in_a_crawl_folder_names_its_file(store: Store, tmp_path: Path) -> None:
    crawl = tmp_path / "weibo"
    shutil.copytree(HERE / "crawl" / "weibo", crawl)
    bad = crawl / "国资小新" / "3939208760.csv"
    bad.write_text(bad.read_text(encoding="utf-8-sig").replace("\t,", "x,", 1), "utf-8-sig")
    (run,) = ingest(store, [crawl], options=OPTS).files
    assert (run.path, run.rejected, run.status) == (str(crawl.resolve()), 1, "done")
    (q,) = store.arrow("SELECT source_path, line, item, field FROM quarantine").to_pylist()
    assert q == {"source_path": str(bad.resolve()), "line": 2, "item": 0, "field": "id"}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip),
        min_size=1,
        max_size=5,
    )
)
def test_texts_come_back_as_written(texts: list[str]) -> None:
    """Any text (commas, quotes, line breaks, NUL aside) written as the tool writes it is
    read back unchanged."""
    from govweibo.ingest.base import Source
    from govweibo.ingest.weibo_crawler import WeiboCrawlerReader

    texts = [t.replace("\x00", "") or "x" for t in texts]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1288915263.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(headers(MAIN_15, False))
            for i, text in enumerate(texts):
                row = [f"{5139330465009681 + (i << 12)}\t", "b", text, "", "", "", ""]
                row += ["2025-03-01T10:15:30", "微博", 1, 2, 3, "", "", "2025-03-01 10:15:30"]
                writer.writerow([*row, True])
        batches = list(WeiboCrawlerReader().read(Source(path, SEEN), OPTS))
    got = [
        t for b in batches if "posts" in b.primary for t in b.primary["posts"]["text"].to_pylist()
    ]
    assert got == [clean_text(t) for t in texts]
