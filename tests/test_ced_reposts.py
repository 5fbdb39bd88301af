from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from govweibo import model
from govweibo.ingest.ced import _Accumulator
from govweibo.ingest.ced_reposts import (
    RepostFile,
    convert,
    decode_mids,
    read_repost_file,
    read_repost_files,
)
from govweibo.ingest.sina_ids import ALPHABET, id_to_mid, mid_to_id

SRC_TIME = datetime(2012, 7, 21, 3, 0, tzinfo=UTC)


def _one_by_one(files: list[RepostFile]) -> tuple[list[dict], int]:
    acc = _Accumulator(SRC_TIME)
    for f in files:
        for i, rec in enumerate(f.items):
            acc._add_repost(f.path, i, rec, f.src_id, f.src_time)
    rows = model.records_to_table("posts", acc.posts).to_pylist() if acc.posts else []
    return rows, len(acc.rejects)


def test_decode_matches_the_reference_for_ordinary_and_edge_mids() -> None:
    mids = ["zqFFkxXmR", "0", "1", "z", "zzzz", "10000", "yYl9hDdVx", id_to_mid("3400000000000001")]
    ids, exact = decode_mids(mids)
    for m, i, ok in zip(mids, ids, exact, strict=True):
        if ok:
            assert str(int(i)) == mid_to_id(m)
    assert exact[:6].all()
    # a group of four characters worth 10**7 or more is left to the reference path
    _, exact = decode_mids(["ZZZZZZZZ"])
    assert not exact[0]


mid_chars = st.text(alphabet=ALPHABET, min_size=1, max_size=12)
odd = st.sampled_from(["", "中文", "abc!", 123, None, True, "ZZZZZZZZZZZZZ"])
dates = st.one_of(
    st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
    ),
    st.sampled_from(
        [
            "2012-02-30 10:00:00",
            "2012-02-29 10:00:00",
            "2011-02-29 10:00:00",
            "2000-02-29 23:59:59",
            "0999-12-31 23:00:00",
            "1000-01-01 08:00:00",
            "2012-07-21 24:00:00",
            "2012-07-21 10:00:61",
            " 2012-07-21 10:00:00 ",
            "2012-7-21 10:00:00",
            "07月23日 11:47",
            "12月31日 23:59",
            "",
            "昨天",
            None,
            20120721,
        ]
    ),
)
records = st.fixed_dictionaries(
    {
        "mid": st.one_of(mid_chars, odd),
        "uid": st.one_of(st.integers(0, 10**12), st.text(min_size=0, max_size=6), odd),
        "parent": st.one_of(st.just(""), mid_chars, odd),
        "text": st.one_of(st.text(max_size=20), st.just("转发//@某人:原文//@他：再"), odd),
        "date": dates,
    }
)


def _assert_bulk_equals(f: RepostFile, expected: list[dict], rejected: int) -> None:
    """The bulk path's rows for `f` are the per-record path's (`expected`, `rejected`)."""
    acc = _Accumulator(SRC_TIME)
    acc.repost_files.append(f)
    batch = acc.flush()
    got = batch.primary["posts"].to_pylist() if "posts" in batch.primary else []
    key = lambda r: (r["post_id"], str(r))  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    assert len(batch.rejects) == rejected
    accounts = batch.secondary.get("accounts")
    assert (accounts.num_rows if accounts is not None else 0) == len(expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(records, st.sampled_from([[], "x", 5])), max_size=25),
    st.booleans(),
)
def test_bulk_rows_equal_one_by_one_rows(items: list, has_source: bool) -> None:
    f = RepostFile(Path("r.json"), items, "3400000000000001" if has_source else None, SRC_TIME)
    _assert_bulk_equals(f, *_one_by_one([f]))


def test_most_well_formed_records_take_the_bulk_path() -> None:
    items = [
        {
            "mid": id_to_mid(str(3400000000000100 + i)),
            "uid": str(i),
            "parent": "",
            "text": "转发",
            "date": "2012-07-21 10:00:00",
        }
        for i in range(100)
    ]
    out = convert([RepostFile(Path("r.json"), items, "3400000000000001", SRC_TIME)])
    assert out.slow == [] and out.posts is not None and out.posts.num_rows == 100
    assert out.posts.column("created_at")[0].as_py() == datetime(2012, 7, 21, 2, 0, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(st.lists(records, max_size=25), st.booleans())
def test_scanned_files_give_the_rows_parsed_files_give(items: list, has_source: bool) -> None:
    """A repost file read by the native scan (columns) and by json.loads (records)."""
    raw = json.dumps(items, ensure_ascii=False).encode()
    src = "3400000000000001" if has_source else None
    scanned = read_repost_file(Path("r.json"), raw, src, SRC_TIME)
    _assert_bulk_equals(scanned, *_one_by_one([RepostFile(Path("r.json"), items, src, SRC_TIME)]))


def test_a_plain_repost_file_is_scanned_natively() -> None:
    raw = json.dumps(
        [{"kids": [], "uid": 5, "parent": "", "text": "转", "mid": "z6AQz0uPP", "date": "x"}]
    ).encode()
    f = read_repost_file(Path("r.json"), raw, "1", SRC_TIME)
    assert f.columns is not None and f.items_ is None
    assert f.columns.column("uid").to_pylist() == ["5"]
    assert read_repost_file(Path("r.json"), b'[{"uid": true}]', "1", SRC_TIME).columns is None


def test_the_scan_converts_what_the_column_path_leaves_to_the_record_path() -> None:
    """Ids beyond int64 and groups of 10**7 or more (decode_mids' limits) are decoded by
    the scan as mid_to_id decodes them; a time takes the source's offset, Beijing's."""
    recs = [
        {"mid": "ZZZZZZZZZZZZ", "uid": "1", "parent": "ZZZZZZZZ", "text": "转发//@甲:好"},
        {"mid": "10000", "uid": 2, "parent": None, "text": None},
    ]
    for r, date in zip(recs, ["2012-02-29 00:30:00", "2000-01-01 08:00:00"], strict=True):
        r["date"] = date
    f = read_repost_file(Path("r.json"), json.dumps(recs).encode(), "9", SRC_TIME)
    out = convert([f])
    assert out.slow == [] and out.posts is not None
    rows = out.posts.to_pylist()
    assert [r["post_id"] for r in rows] == [mid_to_id("ZZZZZZZZZZZZ"), mid_to_id("10000")]
    assert [r["parent_post_id"] for r in rows] == [mid_to_id("ZZZZZZZZ"), "9"]
    assert rows[0]["created_at"] == datetime(2012, 2, 28, 16, 30, tzinfo=UTC)
    assert rows[1]["created_at"] == datetime(2000, 1, 1, tzinfo=UTC)  # the first time in range
    assert rows[0]["repost_chain"] == ["甲"] and rows[1]["author_id"] == "2"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(records, max_size=6).map(lambda r: json.dumps(r, ensure_ascii=False)),
            st.sampled_from(['[{"uid": true}]', "[1, 2]", "{}", "[", '[{"mid": "a"}] x']),
        ),
        max_size=6,
    )
)
def test_files_scanned_together_give_what_each_gives_alone(bodies: list[str]) -> None:
    """One native call for a batch of files: each file's rows, or its error, in order,
    the declined files read by json.loads."""
    entries = [
        (Path(f"{i}.json"), b.encode(), "3400000000000001", SRC_TIME) for i, b in enumerate(bodies)
    ]
    together = read_repost_files(entries)
    for entry, got in zip(entries, together, strict=True):
        try:
            alone = read_repost_file(*entry)
        except ValueError as exc:
            assert isinstance(got, ValueError) and str(got) == str(exc)
            continue
        assert not isinstance(got, ValueError)
        assert got.count == alone.count and got.items == alone.items
        if alone.columns is None:
            assert got.columns is None
        else:
            assert got.columns is not None and got.columns.equals(alone.columns)
