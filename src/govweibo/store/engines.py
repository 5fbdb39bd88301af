"""Engines behind the same Ibis tables: the DuckDB store, or Spark over the Parquet layout.

Analyses ask for `tables.table(name)` and get an Ibis expression; they never learn
which engine answers. Spark sees the layout written by `store.parquet.export_parquet`.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from govweibo import model
from govweibo.errors import ConfigError, StoreError
from govweibo.store.parquet import read_layout, write_derived


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
    builder = SparkSession.builder
    if master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # Local Python workers (Arrow batch UDFs) must import govweibo: use this interpreter.
        # PySpark takes the UDFs' interpreter from PYSPARK_PYTHON when the context starts
        # (else "python3" on PATH, which is not the virtualenv unless it is activated).
        os.environ["PYSPARK_PYTHON"] = sys.executable
        builder = builder.config("spark.pyspark.python", sys.executable)
    session = (
        builder.master(master)
        .appName("govweibo")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        # No progress bars on stderr between a command's tables.
        .config("spark.ui.showConsoleProgress", "false")
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
        # Views are session-wide: a prefix of its own keeps this layout's "posts" from
        # being replaced by another SparkTables' "posts" on the same session.
        self._prefix = f"gw_{uuid.uuid4().hex[:8]}_"
        self._registered: dict[str, list[str]] = {}  # table -> its instant columns

    def has_table(self, name: str) -> bool:
        return name in self.layout["tables"]

    def table(self, name: str) -> Any:
        if not self.has_table(name):
            raise StoreError(f"no table '{name}' in the Parquet layout at {self.layout_dir}")
        if name not in self._registered:
            path = self.layout_dir / name
            if self.layout["tables"][name]["rows"] == 0 and name in model.TABLES:
                # An empty partitioned table has no files to read a schema from.
                df = self.session.createDataFrame(model.schema_of(name).empty_table())
            else:
                df = self.session.read.option("basePath", str(path)).parquet(str(path))
            # The month partition is a layout detail, not a column of the model.
            if "month" in df.columns and "month" in self.layout["tables"][name]["partition_by"]:
                df = df.drop("month")
            self._registered[name] = self._view(self._prefix + name, df)
        return self._ibis(self._prefix + name, self._registered[name])

    def _view(self, view: str, df: Any) -> list[str]:
        """Register a DataFrame as a view; return its instant (TimestampType) columns."""
        df.createOrReplaceTempView(view)
        return [f.name for f in df.schema.fields if type(f.dataType).__name__ == "TimestampType"]

    def _ibis(self, view: str, instants: list[str]) -> Any:
        t = self.backend.table(view)
        # Spark's TimestampType is an instant, like the store's TIMESTAMPTZ, but Ibis types
        # it as a naive timestamp; say UTC (a no-op cast in Spark SQL) so results carry
        # the same Arrow type, timestamp[us, tz=UTC], on both engines.
        return t.cast({c: "timestamp('UTC')" for c in instants}) if instants else t

    def map_batches(self, expr: Any, fn: BatchFn, schema: pa.Schema) -> Any:
        """`fn` over `expr`'s rows in Arrow batches, in the Spark executors (`mapInArrow`).

        The result is a Spark view seen through Ibis, so what follows (a group-by of the
        scores, say) runs on Spark too. `ibis.memtable`s in `expr` (small driver-side
        tables, e.g. the mentions of `analyses.responsiveness`) become Spark views first.
        """
        from pyspark.sql.pandas.types import from_arrow_schema

        # What Ibis does before it executes an expression itself: `compile` alone leaves
        # the memtables unregistered (TABLE_OR_VIEW_NOT_FOUND). Private in ibis 12.
        self.backend._run_pre_execute_hooks(expr)
        df = self.session.sql(self.backend.compile(expr))
        out = df.mapInArrow(_per_batch(fn), from_arrow_schema(schema))
        view = f"{self._prefix}mapped_{uuid.uuid4().hex[:8]}"
        return self._ibis(view, self._view(view, out))

    def write_result(self, name: str, data: pa.Table) -> None:
        """Replace a derived table in the layout (as `Store.write_result` does in DuckDB).

        The result is on the driver already (analyses return Arrow), so it is written as
        one Parquet file there; the layout directory must be local or mounted.
        """
        write_derived(self.layout_dir, name, data)
        self.layout = read_layout(self.layout_dir)
        if name in self._registered:  # the next table() reads the new files
            self.session.catalog.dropTempView(self._prefix + name)
            del self._registered[name]


BatchFn = Callable[[pa.RecordBatch], pa.RecordBatch]


def _per_batch(fn: BatchFn) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    # A closure, so Spark pickles `fn` by value and ships it to the Python workers.
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield fn(batch)

    return run


def map_batches(tables: Tables, expr: Any, fn: BatchFn, schema: pa.Schema) -> Any:
    """Python work over an Ibis expression's rows, batch by batch, never row by row.

    `fn` takes an Arrow RecordBatch of `expr`'s columns and returns one of `schema`
    (same number of rows or not). On Spark (`SparkTables`) the batches are mapped in the
    executors with `mapInArrow` and the result stays a Spark table; on DuckDB they are
    streamed from the engine, mapped here, and the result is an in-memory table. Either
    way the result is an Ibis table. Text work that needs Python (segmentation, the
    sentiment model) goes through here so that it scales out with the data.
    """
    if isinstance(tables, SparkTables):
        return tables.map_batches(expr, fn, schema)
    import ibis

    out = [fn(b) for b in expr.to_pyarrow_batches()]
    return ibis.memtable(pa.Table.from_batches(out, schema))


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
