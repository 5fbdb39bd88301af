"""The index, rankings and province tables are identical on DuckDB and on a real local Spark."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_index import build_store

from govweibo.analyses.index import compute_index
from govweibo.analyses.rankings import province_aggregates, rankings
from govweibo.store import Store
from govweibo.store.engines import SparkTables
from govweibo.store.parquet import export_parquet

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, spark: object) -> tuple[Store, SparkTables]:
    base = tmp_path_factory.mktemp("parity")
    store = Store(base / "s.duckdb")
    build_store(store)
    export_parquet(store, base / "pq")
    return store, SparkTables(base / "pq", session=spark)


def _by_account(table: object) -> dict[str, dict[str, object]]:
    return {r["account_id"]: r for r in table.to_pylist()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["govweibo", "bci"])
@pytest.mark.parametrize("period", ["2011", "2011Q1"])
def test_index_identical(engines: tuple[Store, SparkTables], method: str, period: str) -> None:
    store, spark_tables = engines
    duck = _by_account(compute_index(store, period=period, method=method))
    spark = _by_account(compute_index(spark_tables, period=period, method=method))
    assert duck.keys() == spark.keys() and duck
    for aid, d in duck.items():
        s = spark[aid]
        assert d["rank"] == s["rank"], aid
        for col, value in d.items():
            other = s[col]
            if isinstance(value, float) or isinstance(other, float):
                if value is None or other is None or math.isnan(value) or math.isnan(other):
                    assert (value is None or math.isnan(value)) == (
                        other is None or math.isnan(other)
                    ), col
                else:
                    assert abs(value - other) <= 1e-9, (aid, col, value, other)
            else:
                assert value == other, (aid, col)


def test_rankings_and_provinces_identical(engines: tuple[Store, SparkTables]) -> None:
    store, spark_tables = engines
    duck = compute_index(store, period="2011", method="govweibo")
    spark = compute_index(spark_tables, period="2011", method="govweibo")
    for by in (None, "province", "sector", "level"):
        a = rankings(duck, by=by).select(["group", "group_rank", "account_id"]).to_pylist()
        b = rankings(spark, by=by).select(["group", "group_rank", "account_id"]).to_pylist()
        assert a == b, by
    pa_, pb = province_aggregates(duck).to_pylist(), province_aggregates(spark).to_pylist()
    assert len(pa_) == len(pb)
    for x, y in zip(pa_, pb, strict=True):
        for k, v in x.items():
            if isinstance(v, float):
                assert abs(v - y[k]) <= 1e-9, k
            else:
                assert v == y[k], k


def test_replies_naming_commenters_identical(tmp_path: Path, spark: object) -> None:
    # Reply names are split out of the texts by each engine's own regex (RE2 and Java).
    from test_responsiveness import build_named

    from govweibo.analyses.responsiveness import addressed_items

    period = "2020-06-08..2020-06-09"
    with Store(tmp_path / "n.duckdb") as store:
        build_named(store)
        export_parquet(store, tmp_path / "pq")
        duck = addressed_items(store, period=period)
    got = addressed_items(SparkTables(tmp_path / "pq", session=spark), period=period)
    key = ["item_id", "first_reply_at", "reply_minutes", "answered"]
    assert duck.select(key).to_pylist() == got.select(key).to_pylist()
    assert duck.column("answered").to_pylist().count(True) == 3
