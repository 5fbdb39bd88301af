"""The native fast path gives exactly what the SQL path gives, or declines the chunk."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govweibo.ingest import ReadOptions, ingest, sina_fast, weibo_sql
from govweibo.ingest.base import Source
from govweibo.ingest.lines import chunk_from_bytes
from govweibo.ingest.weibo_api import WeiboApiReader, map_chunk
from govweibo.store import Store

OBSERVED = datetime(2011, 6, 1, tzinfo=UTC)


def test_the_extension_is_built() -> None:
    # `pip install -e .` compiles it wherever a C compiler is present, as on CI.
    assert sina_fast.AVAILABLE


def _sql_rows(body: bytes) -> tuple[pa.Table, pa.Table, int, int]:
    """What the SQL path maps the same chunk to (posts, users, records, empty)."""
    con = duckdb.connect()
    for macro in weibo_sql.MACROS:
        con.execute(macro)
    chunk = chunk_from_bytes(body, 1)[0]
    source = Source(path=Path("x.jsonl"), observed_at=OBSERVED)
    batch = map_chunk(con, chunk, source, ReadOptions())
    assert not batch.rejects
    posts = [batch.primary.get("posts"), batch.secondary.get("posts")]
    users = batch.secondary.get("accounts")
    return (
        pa.concat_tables([p for p in posts if p is not None]),
        users,  # type: ignore[return-value]  # None where no record had a user
        batch.records_read,
        batch.empty,
    )


def _same(fast: pa.Table, sql: pa.Table, columns: list[tuple[str, pa.DataType]]) -> None:
    for name, _ in columns:
        got, want = fast.column(name), sql.column(name).cast(fast.column(name).type)
        assert got.to_pylist() == want.to_pylist(), name


def _assert_parity(body: bytes) -> None:
    fast = sina_fast.scan(body)
    assert fast is not None
    posts, users, records, empty = _sql_rows(body)
    assert (fast.records, fast.empty) == (records, empty)
    both = pa.concat_tables([fast.posts, fast.reposted])
    assert both.num_rows == posts.num_rows
    _same(both, posts, sina_fast.POST_COLUMNS)
    if users is None:
        assert fast.users.num_rows == 0
    else:
        assert fast.users.num_rows == users.num_rows
        _same(fast.users, users, sina_fast.USER_COLUMNS)


def test_fixture_statuses_map_alike() -> None:
    _assert_parity((FIXTURES / "weibo_statuses.jsonl").read_bytes())


def _status(i: int, **over: object) -> dict[str, object]:
    s: dict[str, object] = {
        "created_at": "Tue May 31 17:46:55 +0800 2011",
        "id": 3367895826488218 + i,
        "idstr": str(3367895826488218 + i),
        "text": f"路况提示{i}//@交警:注意 http://t.cn/x",
        "source": '<a href="http://weibo.com" rel="nofollow">新浪微博</a>',
        "reposts_count": 3,
        "comments_count": 1,
        "attitudes_count": 0,
        "truncated": False,
        "pic_urls": [{"thumbnail_pic": "http://ww1.sinaimg.cn/a.jpg"}],
        "user": {
            "id": 1288915263,
            "idstr": "1288915263",
            "screen_name": "平安北京",
            "verified": True,
            "verified_type": 1,
            "verified_reason": "北京市公安局官方微博",
            "province": "11",
            "city": "1000",
            "location": "北京 东城区",
            "created_at": "Thu Feb 10 09:00:00 +0800 2011",
            "followers_count": 2500000,
            "friends_count": 10,
            "statuses_count": 5000,
        },
    }
    s.update(over)
    return s


def _lines(*records: object) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def test_shapes_the_fast_path_takes() -> None:
    rt = _status(9, text="原微博", user={"idstr": "77", "name": "转", "url": ""})
    body = (
        _lines(
            _status(0),
            _status(1, retweeted_status=rt, page_info={"type": "video"}, user=None),
            _status(
                2, source="网页", pic_urls=None, thumbnail_pic="x", idstr="x", truncated="TRUE"
            ),
            _status(3, text='引号\\"与\\u4e2d//@甲：乙//@ 丙:丁 //@' + "长" * 41 + ":"),
        )
        + b"\r\n\n"
    )
    _assert_parity(body)


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011", "status": {}}',
        b'{"id": 1, "screen_name": "a user, not a status"}',
        b'{"statuses": []}',
        b'{"id": 1, "text": "x", "created_at": "2011-05-31 17:46:55"}',  # ISO: SQL parses it
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011", "reposts_count": 1.0}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011", "reposts_count": -1}',
        b'{"id": -0, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011"}',
        b'{"id": 1, "id": 2, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011"}',
        b'{"id": 1, "te\\u0078t": "x", "created_at": "Tue May 31 17:46:55 +0800 2011"}',
        b'{"id": 1, "text": "a\\u0000b", "created_at": "Tue May 31 17:46:55 +0800 2011"}',
        b'{"id": 1, "text": "x", "created_at": "Tue Feb 30 17:46:55 +0800 2011"}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 1999"}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011", "user": "u"}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011", "user": {}}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011",'
        b' "retweeted_status": {"id": 2}}',
        b'{"id": 1, "text": "\xc4\xe3", "created_at": "Tue May 31 17:46:55 +0800 2011"}',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011"} trailing',
        b'{"id": 1, "text": "x", "created_at": "Tue May 31 17:46:55 +0800 2011",}',
        b"   ",
    ],
)
def test_what_the_fast_path_leaves_to_sql(line: bytes) -> None:
    good = _lines(_status(0))
    assert sina_fast.scan(good) is not None
    assert sina_fast.scan(good + line + b"\n") is None


def test_a_file_mixing_both_paths_stores_what_sql_alone_stores(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    clean = _lines(*[_status(i) for i in range(50)])
    # Small chunks: some are wholly clean (native), one holds a broken line (SQL).
    path.write_bytes(
        clean
        + b'{"id": 9, "text": broken\n'
        + clean
        + (FIXTURES / "weibo_statuses.jsonl").read_bytes()
    )
    native = _store_rows_chunked(path, True, tmp_path)
    assert native == _store_rows_chunked(path, False, tmp_path)
    assert native["summary"][0]["rejected"] == 1


def _store_rows_chunked(path: Path, native: bool, tmp: Path) -> dict[str, list[dict[str, object]]]:
    with Store(tmp / f"chunked-{native}.duckdb") as store:
        opts = ReadOptions(observed_at=OBSERVED, native=native, chunk_bytes=4096)
        summary = ingest(store, [path], options=opts)
        out = {
            t: store.arrow(f"SELECT * EXCLUDE (run_id) FROM {t} ORDER BY ALL").to_pylist()
            for t in ("posts", "accounts", "account_observations")
        }
        out["summary"] = [
            {k: getattr(f, k) for k in ("records_read", "stored", "duplicate", "rejected", "empty")}
            for f in summary.files
        ]
        return out


def test_reader_maps_clean_chunks_natively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clean.jsonl"
    path.write_bytes(_lines(*[_status(i) for i in range(20)]) + b'{"broken\n')
    calls: list[int] = []

    def counting(con, chunk, *args, **kw):  # type: ignore[no-untyped-def]
        calls.append(chunk.table.num_rows)
        return map_chunk(con, chunk, *args, **kw)

    monkeypatch.setattr("govweibo.ingest.weibo_api.map_chunk", counting)
    source = Source(path=path, observed_at=OBSERVED)
    batches = list(WeiboApiReader().read(source, ReadOptions(chunk_bytes=2048)))
    assert sum(b.records_read for b in batches) == 21
    assert sum(len(b.rejects) for b in batches) == 1
    # Only the chunk holding the broken line went through SQL.
    assert len(calls) == 1 and len(batches) > 2


_TEXT = st.lists(
    st.sampled_from(list('ab 中文:：/@<>"\\\t\n') + ["//@", "</a>", "http://", "😀", "长" * 39]),
    max_size=12,
).map("".join)
_DATE = st.one_of(
    st.sampled_from(
        [
            "Tue May 31 17:46:55 +0800 2011",
            "Mon Feb 29 00:00:00 -0130 2016",
            "Sun Dec 31 23:59:59 +1400 2000",
            "Sat Jan 01 00:00:00 +0000 2000",
            "Fri Dec 31 23:00:00 -0100 1999",
            "Wed Jun 01 10:00:00 +0800 2099",
        ]
    ),
    st.none(),
)
_COUNT = st.one_of(st.integers(-5, 10**19), st.sampled_from(["12", "007", "", "x", None]))
_ID = st.one_of(st.integers(0, 10**18), st.sampled_from(["3367895826488218", "0012", "", "a1"]))
_BOOLISH = st.sampled_from([True, False, None, "true", "FALSE", "1", "0", 1, 0, "yes", "ｔrue"])


@st.composite
def _statuses(draw: st.DrawFn) -> dict[str, object]:
    user = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"idstr": _ID},
                optional={
                    "id": _ID,
                    "screen_name": _TEXT,
                    "name": _TEXT,
                    "url": st.sampled_from(["", "http://a", None]),
                    "verified": _BOOLISH,
                    "verified_type": st.one_of(st.integers(-3, 400), st.sampled_from(["2", "x"])),
                    "province": st.one_of(st.sampled_from(["11", "44"]), st.integers(1, 99)),
                    "created_at": _DATE,
                    "followers_count": _COUNT,
                },
            ),
        )
    )
    s = draw(
        st.fixed_dictionaries(
            {"id": _ID, "text": _TEXT, "created_at": _DATE},
            optional={
                "idstr": _ID,
                "source": st.one_of(_TEXT, st.sampled_from(['<a href="x">客户端</a>', "><</a>"])),
                "reposts_count": _COUNT,
                "truncated": _BOOLISH,
                "thumbnail_pic": st.sampled_from(["t.jpg", None]),
                "pic_urls": st.one_of(st.none(), st.lists(st.just({"a": 1}), max_size=3)),
                "page_info": st.one_of(st.none(), st.fixed_dictionaries({"type": _TEXT})),
            },
        )
    )
    s["user"] = user
    return s


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_statuses(), min_size=1, max_size=4))
def test_whatever_the_fast_path_takes_it_maps_as_sql_does(records: list[dict[str, object]]) -> None:
    body = _lines(*records)
    if sina_fast.scan(body) is None:
        return
    _assert_parity(body)


def test_the_run_checksum_is_the_file_sha256_whatever_path_a_chunk_took(tmp_path: Path) -> None:
    """The hash runs beside the parse and native chunks' buffers are read into again."""
    path = tmp_path / "many.jsonl"
    clean = _lines(*[_status(i) for i in range(40)])
    path.write_bytes(clean * 3 + b'{"id": 9, "text": broken\n' + clean * 3)
    with Store(tmp_path / "c.duckdb") as store:
        opts = ReadOptions(observed_at=OBSERVED, chunk_bytes=3000)
        run = ingest(store, [path], options=opts).files[0].run_id
        got = store.run(run)["checksum"]  # type: ignore[arg-type]
    assert got == hashlib.sha256(path.read_bytes()).hexdigest()
