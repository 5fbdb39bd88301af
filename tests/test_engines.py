"""The same Ibis expressions on DuckDB and on a real local Spark over the Parquet layout."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES

from govweibo.errors import ConfigError
from govweibo.ingest import ReadOptions, ingest
from govweibo.store import Store
from govweibo.store.engines import SparkTables, open_tables
from govweibo.store.parquet import export_parquet


def test_engine_choice_errors_are_clear(store: Store) -> None:
    assert open_tables("duckdb", store=store) is store
    with pytest.raises(ConfigError, match="Parquet layout"):
        open_tables("spark")
    with pytest.raises(ConfigError, match="unknown engine"):
        open_tables("oracle", store=store)


@pytest.fixture(scope="module")
def fixture_layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("engines")
    db = base / "s.duckdb"
    with Store(db) as s:
        ingest(
            s,
            [
                FIXTURES / "weibo_statuses.jsonl",
                FIXTURES / "weibo_comments.jsonl",
                FIXTURES / "ced",
            ],
            options=ReadOptions(observed_at=datetime(2015, 1, 1, tzinfo=UTC)),
        )
        export_parquet(s, base / "pq")
    return db, base / "pq"


@pytest.mark.spark
def test_group_by_is_identical_on_duckdb_and_spark(
    fixture_layout: tuple[Path, Path], spark: object
) -> None:
    db, layout = fixture_layout

    def per_author(tables: object) -> list[tuple[object, ...]]:
        p = tables.table("posts")  # type: ignore[attr-defined]
        expr = (
            p.group_by("author_id").agg(n=p.count(), reposts=p.reposts.sum()).order_by("author_id")
        )
        df = expr.to_pandas()
        return [
            (a, int(n), None if r != r or r is None else int(r))
            for a, n, r in df.itertuples(index=False)
        ]

    with Store(db, read_only=True) as s:
        duck = per_author(s)
    sp = per_author(SparkTables(layout, session=spark))
    assert duck == sp and len(duck) == 7
