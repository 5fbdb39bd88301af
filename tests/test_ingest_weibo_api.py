from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govweibo.ingest import ReadOptions, ingest
from govweibo.store import Store

OBSERVED = datetime(2011, 6, 1, tzinfo=UTC)


def _ingest(store: Store, *names: str, **kw: object) -> object:
    opts = ReadOptions(observed_at=OBSERVED, **kw)  # type: ignore[arg-type]
    return ingest(store, [FIXTURES / n for n in names], options=opts)


def test_statuses_with_nested_user_and_retweet(store: Store) -> None:
    summary = _ingest(store, "weibo_statuses.jsonl")
    assert summary.total("stored") == 2 and summary.total("rejected") == 0  # type: ignore[attr-defined]
    rows = {r["post_id"]: r for r in store.arrow("SELECT * FROM posts").to_pylist()}
    assert len(rows) == 2
    orig = rows["3367895826488218"]
    assert orig["author_id"] == "1288915263"
    assert orig["created_at"] == datetime(2011, 5, 31, 9, 46, 55, tzinfo=UTC)
    assert (orig["reposts"], orig["comments"], orig["likes"], orig["pic_count"]) == (12, 3, 5, 1)
    assert orig["source"] == "新浪微博"
    assert orig["mid"] is not None
    repost = rows["3367900000000001"]
    assert repost["retweeted_post_id"] == "3367895826488218"
    assert repost["text"] == "收到//@热心网友:转发微博"  # text kept intact
    assert repost["repost_chain"] == ["热心网友"]
    psb = store.arrow("SELECT * FROM accounts WHERE account_id = '1288915263'").to_pylist()[0]
    assert psb["verified_type"] == 1 and psb["verified_reason"] == "北京市公安局官方微博"
    assert psb["province_code"] == "11"
    obs = store.arrow("SELECT followers FROM account_observations WHERE account_id = '1288915263'")
    assert obs.column("followers").to_pylist() == [2500000]


def test_comments_and_replies_become_interactions(store: Store) -> None:
    _ingest(store, "weibo_comments.jsonl")
    rows = {r["interaction_id"]: r for r in store.arrow("SELECT * FROM interactions").to_pylist()}
    comment, reply = rows["3367901111111111"], rows["3367902222222222"]
    assert comment["kind"] == "comment" and comment["actor_id"] == "2000000002"
    assert comment["post_id"] == "3367895826488218" and comment["target_account_id"] == "1288915263"
    assert reply["kind"] == "reply" and reply["reply_to_id"] == "3367901111111111"
    assert reply["reply_to_account_id"] == "2000000002"
    minutes = (reply["created_at"] - comment["created_at"]).total_seconds() / 60
    assert minutes == 3
    # The commented status is stored too (as a nested record).
    assert store.counts()["posts"] == 1


def test_page_array_and_gz_shapes_give_the_same_posts(tmp_path: Path) -> None:
    ids = []
    for name in ("weibo_page.json", "weibo_array.json", "weibo_statuses.jsonl"):
        with Store(tmp_path / f"{name}.duckdb") as s:
            _ingest(s, name)
            ids.append(sorted(s.arrow("SELECT post_id FROM posts").column(0).to_pylist()))
    assert ids[0] == ids[1] == ids[2]
    with Store(tmp_path / "gz.duckdb") as s:
        _ingest(s, "weibo_statuses.jsonl.gz")
        assert s.counts()["posts"] == 1


def test_pages_statuses_users_and_comments_in_one_file_are_all_read(
    store: Store, tmp_path: Path
) -> None:
    # A page line among plain records once made every plain record of its chunk vanish.
    statuses = [json.loads(x) for x in (FIXTURES / "weibo_statuses.jsonl").read_text().splitlines()]
    users = [json.loads(x) for x in (FIXTURES / "weibo_users.jsonl").read_text().splitlines()]
    comments = [json.loads(x) for x in (FIXTURES / "weibo_comments.jsonl").read_text().splitlines()]
    page = {"statuses": [dict(statuses[0], id=3400000000000077, idstr="3400000000000077")]}
    lines = [statuses[1], page, *users, comments[0], {"foo": 1}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    f = ingest(store, [path], options=ReadOptions(observed_at=OBSERVED)).files[0]
    assert f.records_read == 1 + 1 + len(users) + 1 + 1
    assert f.rejected == 1  # the object that is none of the three
    posts = {r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()}
    assert {"3400000000000077", str(statuses[1]["id"])} <= posts
    assert store.counts()["interactions"] == 1
    ids = {str(u["id"]) for u in users}
    stored = {r[0] for r in store.con.execute("SELECT account_id FROM accounts").fetchall()}
    assert ids <= stored


def test_a_file_of_blank_lines_is_read_as_empty(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n \n\n")
    f = ingest(store, [path], fmt="weibo-api", options=ReadOptions(observed_at=OBSERVED)).files[0]
    assert (f.status, f.records_read, f.empty, f.rejected) == ("done", 0, 3, 0)


def test_every_broken_line_has_a_fate(store: Store) -> None:
    summary = _ingest(store, "weibo_broken.jsonl")
    f = summary.files[0]  # type: ignore[attr-defined]
    assert (f.records_read, f.stored, f.duplicate, f.rejected, f.empty) == (12, 2, 1, 9, 1)
    fates = {
        (r["line"], r["field"]): r["reason"]
        for r in store.arrow("SELECT * FROM quarantine").to_pylist()
    }
    assert set(fates) == {
        (2, None),
        (3, "id"),
        (4, "created_at"),
        (5, "reposts_count"),
        (7, "id"),
        (9, None),
        (10, "user.id"),
        (11, None),
        (13, None),
    }
    assert fates[(2, None)].startswith("malformed JSON")
    assert "impossible" in fates[(4, "created_at")]
    assert "很多" in fates[(5, "reposts_count")]
    assert "undecodable" in fates[(13, None)]
    assert {r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()} == {
        "3400000000000001",
        "3400000000000012",  # line 12 read through the GB18030 fallback
    }
    run = store.arrow("SELECT message FROM ingest_runs").to_pylist()[0]
    assert "gb18030_lines=1" in run["message"]


def test_reingest_adds_nothing_and_rejects_are_not_doubled(store: Store) -> None:
    names = (
        "weibo_statuses.jsonl",
        "weibo_comments.jsonl",
        "weibo_users.jsonl",
        "weibo_broken.jsonl",
    )
    _ingest(store, *names)
    before = store.counts()
    again = _ingest(store, *names)
    after = store.counts()
    assert again.total("stored") == 0  # type: ignore[attr-defined]
    assert {k: v for k, v in after.items() if k != "ingest_runs"} == {
        k: v for k, v in before.items() if k != "ingest_runs"
    }


def test_newer_observation_is_added_not_overwritten(store: Store) -> None:
    _ingest(store, "weibo_users.jsonl")
    later = ReadOptions(observed_at=datetime(2011, 12, 31, tzinfo=UTC))
    summary = ingest(store, [FIXTURES / "weibo_users.jsonl"], options=later)
    assert summary.total("stored") == 3
    assert store.counts()["account_observations"] == 6


def test_timeline_flag_records_sightings(store: Store) -> None:
    _ingest(store, "weibo_statuses.jsonl", timeline=True)
    assert store.counts()["timeline_sightings"] == 2


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**16), _text, st.integers(0, 10**6), st.integers(0, 2**40)),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_round_trip_records_in_store_out_equal(tmp_path_factory: object, records: list) -> None:
    path = tmp_path_factory.mktemp("rt") / "s.jsonl"  # type: ignore[attr-defined]
    with path.open("w", encoding="utf-8") as fh:
        for sid, text, reposts, uid in records:
            fh.write(
                json.dumps(
                    {
                        "id": sid,
                        "created_at": "Tue May 31 17:46:55 +0800 2011",
                        "text": text,
                        "reposts_count": reposts,
                        "user": {"id": uid, "screen_name": f"u{uid}"},
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    with Store(path.with_suffix(".duckdb")) as s:
        ingest(s, [path], options=ReadOptions(observed_at=OBSERVED))
        got = {
            r["post_id"]: (r["text"], r["reposts"], r["author_id"])
            for r in s.arrow("SELECT * FROM posts").to_pylist()
        }
    assert got == {str(sid): (text, reposts, str(uid)) for sid, text, reposts, uid in records}
