from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

from govweibo.ingest import ReadOptions, ingest
from govweibo.ingest.rumdect import element_lines, looks_like_event, read_event
from govweibo.ingest.runner import detect, plan
from govweibo.store import Store

RUMDECT = FIXTURES / "rumdect"
OBSERVED = ReadOptions(observed_at=datetime(2015, 1, 1, tzinfo=UTC))
ROOT_1 = "3490158009573476"
ROOT_2 = "3501234567890123"


def test_fixture_set_exact_counts_and_values(store: Store) -> None:
    summary = ingest(store, [RUMDECT], options=OBSERVED)
    [f] = summary.files
    # 5 + 4 + 1 event records and one bad Weibo.txt line; 6 posts, one seen twice; rejected:
    # a `t` of "昨天", a mid "abc", a followers_count "12x", a "label:x".
    assert (f.format, f.records_read, f.stored, f.duplicate, f.rejected, f.empty) == (
        "rumdect",
        11,
        6,
        1,
        4,
        0,
    )
    assert "events_without_label=1" in f.message and "labels_without_file=1" in f.message
    posts = {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    root = posts[ROOT_1]
    assert root["retweeted_post_id"] is None and root["parent_post_id"] is None
    assert root["created_at"] == datetime.fromtimestamp(1349419208, UTC)
    assert (root["reposts"], root["comments"], root["likes"], root["pic_count"]) == (3, 5, 2, 1)
    assert root["mid"] == "yBPq8EauU"  # the base62 form of the numeric id
    assert root["counts_observed_at"] == datetime(2015, 1, 1, tzinfo=UTC)
    direct, nested = posts["3490160000000001"], posts["3490161111111111"]
    assert direct["retweeted_post_id"] == ROOT_1 and direct["parent_post_id"] == ROOT_1
    assert nested["retweeted_post_id"] == ROOT_1
    assert nested["parent_post_id"] == "3490160000000001"
    assert nested["repost_chain"] == ["路人甲"] and nested["pic_count"] == 0
    assert posts["3501234567890999"]["retweeted_post_id"] == ROOT_2
    labels = store.con.execute(
        "SELECT post_id, label_set, label FROM post_labels ORDER BY post_id"
    ).fetchall()
    assert labels == [(ROOT_1, "rumdect", "rumour"), (ROOT_2, "rumdect", "non-rumour")]
    gov = store.arrow("SELECT * FROM accounts WHERE account_id = '1234567890'").to_pylist()[0]
    assert (gov["screen_name"], gov["verified"], gov["verified_type"]) == ("平安北京", True, 1)
    assert (gov["province_code"], gov["city_code"], gov["location"]) == ("11", "5", "北京 朝阳区")
    assert gov["description"] == "北京市公安局官方微博"
    assert gov["created_at"] == datetime.fromtimestamp(1280000000, UTC)
    obs = store.con.execute(
        "SELECT followers, friends, statuses, favourites FROM account_observations "
        "WHERE account_id = '1234567890'"
    ).fetchall()
    assert obs == [(5000000, 300, 40000, 0)]
    # 1880069051, 2000000001 (in both events), 2000000002, 1234567890, 3000000001.
    assert store.con.execute("SELECT count(*) FROM accounts").fetchone() == (5,)
    lurker = store.arrow("SELECT * FROM accounts WHERE account_id = '2000000002'").to_pylist()[0]
    assert lurker["created_at"] is None and lurker["verified"] is True


def test_bad_records_are_quarantined_with_file_line_and_field(store: Store) -> None:
    ingest(store, [RUMDECT], options=OBSERVED)
    rows = store.con.execute(
        "SELECT source_path, line, item, field, reason FROM quarantine ORDER BY source_path, line"
    ).fetchall()
    got = sorted((Path(p).name, line, item, fld) for p, line, item, fld, _ in rows)
    assert got == [
        ("10001.json", 5, 3, "t"),
        ("10001.json", 6, 4, "mid"),
        ("10002.json", 1, 3, "followers_count"),
        ("Weibo.txt", 4, 0, "label"),
    ]
    reasons = {fld: reason for _, _, _, fld, reason in rows}
    assert reasons["t"] == "field 't': not epoch seconds: '昨天'"
    assert "'12x'" in reasons["followers_count"]


def test_reingest_adds_nothing(store: Store) -> None:
    ingest(store, [RUMDECT], options=OBSERVED)
    before = store.counts()
    summary = ingest(store, [RUMDECT], options=OBSERVED)
    after = store.counts()
    assert after.pop("ingest_runs") == before.pop("ingest_runs") + 1
    assert after == before
    f = summary.files[0]
    assert (f.stored, f.duplicate) == (0, 7)
    assert store.con.execute("SELECT count(*) FROM quarantine").fetchone() == (4,)


def test_detection_owns_the_folder_and_reads_lone_event_files(store: Store, tmp_path: Path) -> None:
    assert detect(RUMDECT) is not None and detect(RUMDECT).name == "rumdect"  # type: ignore[union-attr]
    units, skipped = plan([RUMDECT], "auto")
    assert [(r.name, p) for r, p in units] == [("rumdect", RUMDECT)] and not skipped
    reader = units[0][0]
    assert [p.name for p in reader.files(RUMDECT)] == [
        "Weibo.txt",
        "10001.json",
        "10002.json",
        "10004.json",
    ]
    # The events folder alone: still the set, labels from the Weibo.txt beside it.
    assert plan([RUMDECT / "Weibo"], "auto")[0][0][0].name == "rumdect"
    # A lone event file, detected by its content wherever it lies; its label is found
    # in a Weibo.txt one or two folders up.
    lone = RUMDECT / "Weibo" / "10002.json"
    assert detect(lone).name == "rumdect"  # type: ignore[union-attr]
    summary = ingest(store, [lone], options=OBSERVED)
    f = summary.files[0]
    assert (f.records_read, f.stored, f.duplicate, f.rejected) == (4, 2, 1, 1)
    assert store.con.execute("SELECT post_id, label FROM post_labels").fetchall() == [
        (ROOT_2, "non-rumour")
    ]
    moved = tmp_path / "elsewhere.json"
    shutil.copy(lone, moved)
    assert detect(moved).name == "rumdect"  # type: ignore[union-attr]


def test_other_json_is_not_taken_for_an_event() -> None:
    assert not looks_like_event(b'[{"mid": "1", "uid": 2, "created_at": "x"}]')
    assert not looks_like_event(b'{"mid": "1", "uid": 2, "t": 3}')
    assert looks_like_event(b' [{"uid": 2, "t": 1349419208, "mid": "1"}')
    assert detect(FIXTURES / "weibo_array.json").name == "weibo-api"  # type: ignore[union-attr]
    assert detect(FIXTURES / "ced").name == "ced"  # type: ignore[union-attr]


def test_a_malformed_event_file_is_one_reject_naming_its_line(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "rumdect"
    shutil.copytree(RUMDECT, root)
    (root / "Weibo" / "10004.json").write_text(
        '[\n{"mid": "3600000000000001", "uid": 1, "t": 1380000000},\n{"mid": \n', encoding="utf-8"
    )
    summary = ingest(store, [root], options=OBSERVED)
    assert summary.files[0].status == "done"
    rows = store.con.execute(
        "SELECT line, reason FROM quarantine WHERE source_path LIKE '%10004.json'"
    ).fetchall()
    assert len(rows) == 1 and rows[0][0] == 4 and rows[0][1].startswith("malformed JSON")


@given(st.lists(st.dictionaries(st.sampled_from("abc"), st.integers()), max_size=6), st.data())
def test_element_lines_locate_every_element(records: list[dict[str, int]], data) -> None:  # type: ignore[no-untyped-def]
    seps = [data.draw(st.sampled_from([",", ",\n", "\n,\n  ", " , "])) for _ in records]
    text = "[\n"
    starts = []
    for i, rec in enumerate(records):
        starts.append(text.count("\n") + 1)
        text += json.dumps(rec) + (seps[i] if i < len(records) - 1 else "\n")
    text += "]"
    assert element_lines(text) == starts


def test_values_written_as_text_are_read_and_nonsense_is_named() -> None:
    base = {"mid": "3490158009573476", "uid": "1880069051", "t": "1349419208"}
    records = [
        {**base, "verified": "False", "verified_type": "-1", "picture": ["a.jpg", "b.jpg"]},
        {**base, "mid": "3490158009573477", "parent": 3490158009573476, "verified": 1},
        {**base, "mid": "3490158009573478", "verified": "maybe"},
        {**base, "mid": "3490158009573479", "verified_type": "gov"},
        {**base, "mid": "3490158009573480", "province": "广东"},
    ]
    got = read_event(Path("e.json"), json.dumps(records).encode())
    assert got.read == 5 and got.root == "3490158009573476"
    first, second = got.posts
    assert first[2] == 1349419208 * 1_000_000 and first[10] == 2  # two pictures
    assert second[8] == "3490158009573476"  # a numeric parent, as text
    assert got.accounts[0][3:5] == (False, -1) and got.accounts[1][3] is True
    assert [(r.item, r.field) for r in got.rejects] == [
        (2, "verified"),
        (3, "verified_type"),
        (4, "province"),
    ]
