"""weibo_responses: response bodies read from files (one per file or JSON lines, streamed),
post ids in file names, longtext files beside a page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from govweibo.ingest.base import Source
from govweibo.ingest.weibo_responses import (
    epoch,
    id_from_name,
    is_comment,
    json_units,
    sibling_longtexts,
)

NOW = datetime(2020, 12, 8, 6, 0, tzinfo=UTC)


def units(path: Path, chunk: int = 1 << 20) -> list[tuple[int, Any, str]]:
    return list(json_units(Source(path, NOW), chunk))


def test_a_pretty_printed_document_is_one_unit(tmp_path: Path) -> None:
    page = tmp_path / "getIndex-1-p1.json"
    page.write_text(json.dumps({"ok": 1, "data": {"cards": []}}, indent=2))
    assert units(page) == [(0, {"ok": 1, "data": {"cards": []}}, page.read_text())]


def test_a_broken_document_is_one_reject(tmp_path: Path) -> None:
    page = tmp_path / "p.json"
    page.write_text('{\n  "ok": 1,\n  "data": {\n')
    (found,) = units(page)
    assert found[1] is None and found[2].startswith("{")


def test_lines_stream_in_blocks(tmp_path: Path) -> None:
    lines = tmp_path / "spool.jsonl"
    bodies = [{"ok": 1, "n": i, "pad": "x" * 50} for i in range(300)]
    lines.write_text("\n".join(json.dumps(b) for b in bodies) + "\n\n{broken\n")
    # 1 KB blocks: lines are cut across block ends many times.
    found = units(lines, chunk=1024)
    assert [u[1] for u in found[:300]] == bodies
    assert [u[0] for u in found] == list(range(1, 303))
    assert found[300] == (301, None, "") and found[301] == (302, None, "{broken")


def test_lines_whose_first_is_longer_than_the_sniff(tmp_path: Path) -> None:
    lines = tmp_path / "spool.jsonl"
    first = {"ok": 1, "pad": "x" * (70 << 10)}
    lines.write_text(json.dumps(first) + "\n" + json.dumps({"ok": 0}) + "\n")
    assert [u[1] for u in units(lines)] == [first, {"ok": 0}]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=20)), max_size=20
    )
)
def test_lines_round_trip(tmp_path_factory: Any, bodies: list[dict[str, Any]]) -> None:
    path = tmp_path_factory.mktemp("rt") / "x.jsonl"
    path.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in bodies))
    found = [u[1] for u in units(path, chunk=64) if u[1] is not None or u[2]]
    assert found == bodies


def test_gb18030_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes('{"text": "测试"}\n'.encode("gb18030"))
    source = Source(path, NOW)
    assert [u[1] for u in json_units(source, 1 << 20)] == [{"text": "测试"}]
    assert source.notes["encoding"] == "gb18030"


def test_ids_in_file_names() -> None:
    assert id_from_name(Path("hotflow-4579792150070482-p1.json")) == "4579792150070482"
    assert id_from_name(Path("longtext-Jxtaw7ymL.json")) == "4579769521800403"
    assert id_from_name(Path("buildComments_4579792150070483.jsonl")) == "4579792150070483"
    assert id_from_name(Path("getIndex-1076031234567890-p1.json")) is None


def test_longtext_files_beside(tmp_path: Path) -> None:
    (tmp_path / "longtext-Jxtaw7ymL.json").write_text("{}")
    (tmp_path / "extend-4579769521800402.json").write_text("{}")
    (tmp_path / "longtext-notes.txt").write_text("")
    page = tmp_path / "mymblog-1-p1.json"
    assert sorted(sibling_longtexts(page)) == ["4579769521800402", "4579769521800403"]
    assert sibling_longtexts(tmp_path / "longtext-Jxtaw7ymL.json") == {}


def test_comments_and_statuses_told_apart() -> None:
    assert is_comment({"id": 1, "rootid": 1, "text": "x"})
    assert is_comment({"id": 1, "like_counts": 0})
    assert not is_comment({"id": 1, "reposts_count": 0, "like_count": 0})
    assert not is_comment({"id": 1, "retweeted_status": {}})


def test_epoch() -> None:
    assert epoch(1607407200) == datetime(2020, 12, 8, 6, 0, tzinfo=UTC)
    assert epoch("1607407200000") == datetime(2020, 12, 8, 6, 0, tzinfo=UTC)
    assert epoch(None) is None and epoch("soon") is None and epoch(True) is None


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10**17),
            st.none() | st.text(max_size=10),
            st.none() | st.integers(min_value=0, max_value=10**9),
            st.none() | st.booleans(),
            st.none() | st.lists(st.text(max_size=5), max_size=3),
        ),
        max_size=20,
    )
)
def test_tables_as_the_model_builds_them(values: list[Any]) -> None:
    from govweibo import model
    from govweibo.ingest.weibo_responses import _table
    from govweibo.model import Account, Post

    posts = [
        Post("weibo", str(i), text=t, reposts=n, has_video=b, repost_chain=c, created_at=NOW)
        for i, t, n, b, c in values
    ]
    assert _table("posts", posts).equals(model.records_to_table("posts", posts))
    accounts = [Account("weibo", str(i), screen_name=t, verified=b) for i, t, _, b, _ in values]
    assert _table("accounts", accounts).equals(model.records_to_table("accounts", accounts))
