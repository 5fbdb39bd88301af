"""The generic csv/jsonl readers and their TOML mapping (ingest/tabular.py)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, shared_data
from hypothesis import given
from hypothesis import strategies as st

from govweibo.errors import ConfigError
from govweibo.ingest import ReadOptions, ingest
from govweibo.ingest.tabular import Mapping, walk
from govweibo.store import Store

OBSERVED = datetime(2024, 5, 2, 4, 0, tzinfo=UTC)  # 12:00 Beijing time


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    return write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def rows(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.arrow(sql).to_pylist()


def test_plain_column_names_still_work_and_rejects_name_line_and_field(store: Store) -> None:
    opts = ReadOptions(mapping=FIXTURES / "generic_posts.toml", observed_at=OBSERVED)
    [f] = ingest(store, [FIXTURES / "generic_posts.csv"], fmt="csv", options=opts).files
    assert (f.records_read, f.stored, f.rejected) == (3, 1, 2)
    [post] = rows(store, "SELECT * FROM posts")
    assert (post["platform"], post["post_id"], post["author_id"], post["reposts"]) == (
        "forum",
        "p1",
        "u1",
        3,
    )
    assert post["created_at"] == datetime(2011, 6, 1, 2, 0, tzinfo=UTC)
    q = store.con.execute("SELECT line, field, reason FROM quarantine ORDER BY line").fetchall()
    assert [(line, field) for line, field, _ in q] == [(3, "shares"), (4, "id")]
    assert q[1][2] == "field 'id': missing (maps to post_id)"


NESTED = """
table = "posts"
platform = "weibo"
[columns]
post_id = "_id"
author_id = {path = "user._id"}
text = "content"
created_at = "created_at"
reposts = {path = "counts.0"}
source = {const = "WeiboSpider"}
retweeted_post_id = {path = "origin.id", optional = true}
[times]
crawl_time = "crawled_at"
"""


def test_paths_constants_stripped_ids_and_times_relative_to_the_crawl(
    store: Store, tmp_path: Path
) -> None:
    mapping = write(tmp_path / "m.toml", NESTED)
    data = jsonl(
        tmp_path / "posts.jsonl",
        [
            {
                "_id": " 4990000000000001\t",
                "user": {"_id": "1234567890\t"},
                "content": "六小时前的帖子",
                "created_at": "6小时前",
                "counts": [7, 1],
                "crawled_at": "2024-05-01 12:00:00",
            },
            {
                "_id": 4990000000000002,
                "user": {"_id": 1234567890},
                "content": "昨天的转发",
                "created_at": "昨天 18:12",
                "counts": [0],
                "origin": {"id": "4990000000000001 "},
                "crawled_at": "2024-05-01 12:00:00",
            },
            # No crawl time of its own: resolved against --observed-at.
            {
                "_id": "4990000000000003",
                "user": {"_id": "9"},
                "content": "x",
                "created_at": "12-16",
            },
        ],
    )
    opts = ReadOptions(mapping=mapping, observed_at=OBSERVED)
    [f] = ingest(store, [data], fmt="jsonl", options=opts).files
    assert (f.records_read, f.stored, f.rejected, f.status) == (3, 3, 0, "done")
    assert "time_basis=crawl_time field 'crawled_at' (2), --observed-at (1)" in f.message
    posts = {r["post_id"]: r for r in rows(store, "SELECT * FROM posts")}
    assert set(posts) == {"4990000000000001", "4990000000000002", "4990000000000003"}
    first, second, third = (posts[f"499000000000000{i}"] for i in (1, 2, 3))
    assert first["author_id"] == "1234567890" and second["author_id"] == "1234567890"
    assert second["retweeted_post_id"] == "4990000000000001"
    assert first["retweeted_post_id"] is None
    assert (first["reposts"], first["source"]) == (7, "WeiboSpider")
    # 6 hours before 12:00 Beijing time on 1 May; the day before at 18:12 Beijing time.
    assert first["created_at"] == datetime(2024, 4, 30, 22, 0, tzinfo=UTC)
    assert second["created_at"] == datetime(2024, 4, 30, 10, 12, tzinfo=UTC)
    # "12-16" is the latest 16 December before the crawl (2 May 2024): 2023.
    assert third["created_at"] == datetime(2023, 12, 15, 16, 0, tzinfo=UTC)
    # The record's crawl time is when its counts were seen.
    assert first["counts_observed_at"] == datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    assert third["counts_observed_at"] == OBSERVED


def test_the_file_modification_time_is_the_last_basis(store: Store, tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.toml", NESTED.replace('crawl_time = "crawled_at"', ""))
    data = jsonl(
        tmp_path / "p.jsonl",
        [{"_id": "1", "user": {"_id": "2"}, "content": "c", "created_at": "刚刚", "counts": [1]}],
    )
    os.utime(data, (OBSERVED.timestamp(), OBSERVED.timestamp()))
    [f] = ingest(store, [data], fmt="jsonl", options=ReadOptions(mapping=mapping)).files
    assert "time_basis=file mtime (1)" in f.message
    assert rows(store, "SELECT created_at FROM posts") == [{"created_at": OBSERVED}]


def test_values_from_the_file_name_and_folder(store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.toml",
        """
table = "accounts"
[columns]
account_id = {from = "filename", pattern = '^(\\d+)_profile\\.csv$'}
screen_name = "nick"
location = {from = "folder"}
""",
    )
    data = write(tmp_path / "北京" / "1234567890_profile.csv", "nick\n平安北京\n")
    [f] = ingest(store, [data], fmt="csv", options=ReadOptions(mapping=mapping)).files
    assert (f.stored, f.status) == (1, "done")
    [acct] = rows(store, "SELECT account_id, screen_name, location FROM accounts")
    assert acct == {"account_id": "1234567890", "screen_name": "平安北京", "location": "北京"}
    other = write(tmp_path / "x" / "profile.csv", "nick\na\n")
    [f] = ingest(store, [other], fmt="csv", options=ReadOptions(mapping=mapping)).files
    assert f.status == "failed" and "does not match the mapping's pattern" in f.message


def test_a_crawl_time_from_the_file_name(store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.toml",
        """
table = "posts"
[columns]
post_id = "id"
author_id = "uid"
created_at = "time"
[times]
crawl_time = {from = "stem", pattern = '_(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2})$'}
""",
    )
    data = write(tmp_path / "posts_2024-05-01T12:00.csv", "id,uid,time\n1,2,3小时前\n")
    [f] = ingest(store, [data], fmt="csv", options=ReadOptions(mapping=mapping)).files
    assert "time_basis=crawl_time from the stem (1)" in f.message
    assert rows(store, "SELECT created_at FROM posts") == [
        {"created_at": datetime(2024, 5, 1, 1, 0, tzinfo=UTC)}
    ]


def test_a_field_the_input_lacks_fails_the_file_naming_file_and_field(
    store: Store, tmp_path: Path
) -> None:
    mapping = write(
        tmp_path / "m.toml",
        'table = "posts"\n[columns]\npost_id = "id"\nauthor_id = "uid"\ntext = "contnet"\n',
    )
    data = write(tmp_path / "p.csv", "id,uid,content\n1,2,hello\n")
    summary = ingest(store, [data], fmt="csv", options=ReadOptions(mapping=mapping))
    [f] = summary.files
    assert f.status == "failed" and f.stored == 0
    assert str(data) in f.message and "'contnet'" in f.message and "header" in f.message
    nested = jsonl(tmp_path / "p.jsonl", [{"id": 1, "user": {"uid": 2}}])
    mapping.write_text(
        'table = "posts"\n[columns]\npost_id = "id"\nauthor_id = {path = "user.id"}\n',
        encoding="utf-8",
    )
    [f] = ingest(store, [nested], fmt="jsonl", options=ReadOptions(mapping=mapping)).files
    assert f.status == "failed" and "'user.id'" in f.message and "first record" in f.message


def test_ids_that_lost_digits_or_are_blank_are_quarantined(store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.toml",
        'table = "posts"\n[columns]\npost_id = "id"\nauthor_id = {path = "user.id"}\n',
    )
    data = write(
        tmp_path / "p.jsonl",
        '{"id": 12345678901234567.0, "user": {"id": 1}}\n'
        '{"id": "\\t ", "user": {"id": 1}}\n'
        '{"id": 5, "user": {"id": {"nested": 1}}}\n'
        '{"id": 6, "user": {"id": 7}}\n',
    )
    opts = ReadOptions(mapping=mapping, observed_at=OBSERVED)
    [f] = ingest(store, [data], fmt="jsonl", options=opts).files
    assert (f.stored, f.rejected) == (1, 3)
    q = store.con.execute("SELECT line, field, reason FROM quarantine ORDER BY line").fetchall()
    assert [(line, field) for line, field, _ in q] == [(1, "id"), (2, "id"), (3, "user.id")]
    assert "float id" in q[0][2] and "missing" in q[1][2] and "an object" in q[2][2]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{path = "a", const = 1}', "exactly one of path, const, from"),
        ('{from = "url"}', "from must be one of filename, stem, folder"),
        ('{from = "filename", pattern = "("}', "bad pattern"),
        ("3", "must be a name or a table"),
    ],
)
def test_bad_mapping_entries_are_config_errors(tmp_path: Path, entry: str, message: str) -> None:
    mapping = write(
        tmp_path / "m.toml", f'table = "posts"\n[columns]\npost_id = "id"\nauthor_id = {entry}\n'
    )
    with pytest.raises(ConfigError, match=message):
        Mapping(mapping)


_KEY = st.text("abcxyz_", min_size=1, max_size=4)
_TREE = st.recursive(
    st.integers() | st.text(max_size=3),
    lambda inner: (
        st.dictionaries(_KEY, inner, min_size=1, max_size=3)
        | st.lists(inner, min_size=1, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [(prefix, value)] if prefix else []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        found += _paths(child, f"{prefix}.{key}" if prefix else str(key))
    return found


@given(st.dictionaries(_KEY, _TREE, min_size=1, max_size=3))
def test_walk_finds_every_value_by_its_path(record: dict[str, Any]) -> None:
    for path, value in _paths(record):
        assert walk(record, path) == value
    assert walk(record, "no_such") is not None  # the missing marker, never a value
    assert walk(record, "no_such") is walk(record, "q.r")


@pytest.mark.realdata
def test_real_emotion_lines_through_a_mapping(store: Store, tmp_path: Path) -> None:
    data = shared_data("emotion") / "weibo_emotion_test.jsonl"
    mapping = write(
        tmp_path / "m.toml",
        """
table = "posts"
platform = "clue-emotion"
[columns]
post_id = "id"
text = "content"
author_id = {const = "unknown"}
source = {from = "stem"}
""",
    )
    opts = ReadOptions(mapping=mapping, observed_at=OBSERVED)
    [f] = ingest(store, [data], fmt="jsonl", options=opts).files
    assert (f.records_read, f.stored, f.rejected, f.empty) == (3967, 3967, 0, 0)
    first = store.con.execute(
        "SELECT post_id, author_id, source, text FROM posts WHERE post_id = '0'"
    ).fetchone()
    assert first == ("0", "unknown", "weibo_emotion_test", "其实我愿意吞声忍气，但却怕被看不起。")


def test_a_pattern_takes_part_of_a_value(store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.toml",
        """
table = "posts"
[columns]
post_id = "id"
author_id = {path = "weibo_url", pattern = 'weibo\\.com/(\\d+)/'}
""",
    )
    data = write(
        tmp_path / "p.csv",
        "id,weibo_url\n1,https://weibo.com/2656274875/IiKxyz\n2,https://example.org/x\n",
    )
    opts = ReadOptions(mapping=mapping, observed_at=OBSERVED)
    [f] = ingest(store, [data], fmt="csv", options=opts).files
    assert (f.stored, f.rejected) == (1, 1)
    assert store.con.execute("SELECT post_id, author_id FROM posts").fetchall() == [
        ("1", "2656274875")
    ]
    [(line, field, reason)] = store.con.execute(
        "SELECT line, field, reason FROM quarantine"
    ).fetchall()
    assert (line, field) == (3, "weibo_url") and "does not match" in reason


def _toml_block(text: str, start: str) -> str:
    """The example mapping in a docstring or doc page, from its `table =` line on."""
    lines = text[text.index(start) :].splitlines()
    block = []
    for line in lines:
        if not line.strip() or line.strip().startswith("```"):
            break
        block.append(line.strip())
    return "\n".join(block) + "\n"


def test_the_documented_examples_are_valid_mappings(tmp_path: Path) -> None:
    from conftest import ROOT

    from govweibo.ingest import tabular

    doc = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Generic files") :]
    for n, text in enumerate((tabular.__doc__ or "", section)):
        path = write(tmp_path / f"doc{n}.toml", _toml_block(text, 'table = "posts"'))
        mapping = Mapping(path)
        assert {"post_id", "author_id", "reposts", "source"} <= set(mapping.columns)
        assert mapping.crawl is not None and mapping.crawl.name == "crawled_at"
