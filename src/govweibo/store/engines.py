"""Engines behind the same Ibis tables: the DuckDB store, or Spark over the Parquet layout.

Analyses ask for `tables.table(name)` and get an Ibis expression; they never learn
which engine answers. Spark sees the layout written by `store.parquet.export_parquet`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Protocol

from govweibo.errors import ConfigError, StoreError
from govweibo.store.parquet import read_layout


class Tables(Protocol):
    def table(self, name: str) -> Any: ...

    def has_table(self, name: str) -> bool: ...


@cache
def spark_session(master: str = "local[*]") -> Any:
    """One SparkSession per process (start-up takes ~10 s), in UTC, quiet."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "engine 'spark' needs PySpark: pip install 'govweibo[spark]' (and Java 17)"
        ) from None
    session = (
        SparkSession.builder.master(master)
        .appName("govweibo")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkTables:
    """Tables of a Parquet layout, registered as Spark views, seen through Ibis."""

    def __init__(self, layout_dir: str | Path, *, master: str = "local[*]", session: Any = None):
        import ibis

        self.layout_dir = Path(layout_dir)
        self.layout = read_layout(self.layout_dir)
        self.session = session or spark_session(master)
        self.backend = ibis.pyspark.connect(self.session)
        self._registered: set[str] = set()

    def has_table(self, name: str) -> bool:
        return name in self.layout["tables"]

    def table(self, name: str) -> Any:
        if not self.has_table(name):
            raise StoreError(f"no table '{name}' in the Parquet layout at {self.layout_dir}")
        if name not in self._registered:
            df = self.session.read.option("basePath", str(self.layout_dir / name)).parquet(
                str(self.layout_dir / name)
            )
            # The month partition is a layout detail, not a column of the model.
            if "month" in df.columns and "month" in self.layout["tables"][name]["partition_by"]:
                df = df.drop("month")
            df.createOrReplaceTempView(name)
            self._registered.add(name)
        return self.backend.table(name)


def open_tables(
    engine: str,
    *,
    store: Any = None,
    parquet_dir: str | Path | None = None,
    spark_master: str = "local[*]",
) -> Tables:
    """The tables an analysis reads, on the chosen engine."""
    if engine == "duckdb":
        if store is None:
            raise ConfigError("engine 'duckdb' needs a store (--db)")
        return store  # type: ignore[no-any-return]
    if engine == "spark":
        if parquet_dir is None:
            raise ConfigError("engine 'spark' needs a Parquet layout (--parquet DIR)")
        return SparkTables(parquet_dir, master=spark_master)
    raise ConfigError(f"unknown engine '{engine}' (duckdb or spark)")
