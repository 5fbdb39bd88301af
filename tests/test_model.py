from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow as pa

from govweibo import model


def test_dataclasses_match_schemas() -> None:
    for cls, table in model.RECORD_TABLE.items():
        names = [f.name for f in dataclasses.fields(cls)]
        assert names == model.schema_of(table).names, table


def test_records_round_trip_through_arrow() -> None:
    post = model.Post(
        "weibo",
        "1",
        author_id="2",
        created_at=datetime(2011, 1, 1, tzinfo=UTC),
        text="你好",
        repost_chain=["a"],
        reposts=3,
    )
    table = model.records_to_table("posts", [post])
    assert table.schema == model.POSTS
    assert model.table_to_records("posts", table) == [post]


def test_conform_fills_and_orders_columns() -> None:
    data = pa.table({"account_id": ["9"], "platform": ["weibo"]})
    out = model.conform("accounts", data)
    assert out.schema == model.ACCOUNTS
    assert out.column("screen_name").to_pylist() == [None]


def test_every_table_has_a_natural_key_in_its_schema() -> None:
    for name, (schema, key) in model.TABLES.items():
        assert set(key) <= set(schema.names), name


def test_constant_columns_equal_python_lists() -> None:
    when = datetime(2011, 5, 31, 9, 46, 55, tzinfo=UTC)
    for n in (0, 1, 5):
        assert model.constant(when, model.TS, n).equals(pa.array([when] * n, model.TS))
        assert model.constant("weibo", pa.string(), n).equals(pa.array(["weibo"] * n, pa.string()))
        assert model.constant(7, pa.int64(), n).equals(pa.array([7] * n, pa.int64()))
