from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from govweibo.cli import main
from govweibo.errors import StoreError
from govweibo.ingest import ReadOptions, ingest
from govweibo.store import Store
from govweibo.store.parquet import read_layout
from govweibo.store.parquet_sink import ParquetSink

OPTS = ReadOptions(observed_at=datetime(2011, 6, 1, tzinfo=UTC))
FILES = [
    FIXTURES / n for n in ("weibo_statuses.jsonl", "weibo_comments.jsonl", "weibo_broken.jsonl")
]
DATA = ("posts", "accounts", "account_observations", "interactions")


def _layout_rows(root: Path, table: str) -> pa.Table:
    return duckdb.sql(
        f"SELECT * EXCLUDE (run_id) FROM read_parquet('{root}/{table}/**/*.parquet', "
        "hive_partitioning = true, union_by_name = true)"
    ).to_arrow_table()


def _same_rows(a: pa.Table, b: pa.Table) -> bool:
    cols = [c for c in a.column_names if c != "month"]
    key = lambda r: str(sorted(r.items()))  # noqa: E731
    return sorted(a.select(cols).to_pylist(), key=key) == sorted(
        b.select(cols).to_pylist(), key=key
    )


def test_the_layout_holds_what_the_store_holds(tmp_path: Path) -> None:
    with ParquetSink(tmp_path / "pq") as sink:
        via_sink = ingest(sink, FILES, options=OPTS)
    with Store(tmp_path / "s.duckdb") as store:
        via_store = ingest(store, FILES, options=OPTS)
        for table in DATA:
            ours = store.arrow(f"SELECT * EXCLUDE (run_id) FROM {table}")
            theirs = _layout_rows(tmp_path / "pq", table)
            if table == "posts":  # the store's integer author keys: the sink gives none
                assert theirs.column("author_key").null_count == theirs.num_rows
                assert ours.column("author_key").null_count < ours.num_rows
                theirs, ours = theirs.drop_columns("author_key"), ours.drop_columns("author_key")
            assert _same_rows(theirs, ours), table
    counts = lambda s: [  # noqa: E731
        (f.records_read, f.stored, f.duplicate, f.rejected, f.empty) for f in s.files
    ]
    assert counts(via_sink) == counts(via_store)
    layout = read_layout(tmp_path / "pq")
    assert layout["tables"]["posts"]["partition_by"] == ["platform", "month"]
    assert layout["tables"]["quarantine"]["rows"] == 9


def test_a_rerun_adds_nothing_and_leaves_one_file_per_partition(tmp_path: Path) -> None:
    root = tmp_path / "pq"
    for _ in range(2):
        with ParquetSink(root) as sink:
            last = ingest(sink, FILES, options=OPTS)
    assert last.total("stored") == 0 and last.total("duplicate") > 0
    with Store(tmp_path / "s.duckdb") as store:
        ingest(store, FILES, options=OPTS)
        assert _layout_rows(root, "posts").num_rows == store.counts()["posts"]
    for part in (root / "posts").glob("*/*"):
        assert len(list(part.glob("*.parquet"))) == 1
    quarantine = duckdb.sql(f"SELECT count(*) FROM '{root}/quarantine/*.parquet'").fetchone()
    assert quarantine == (9,)  # refreshed, not doubled


def test_staged_files_of_a_run_that_died_are_dropped(tmp_path: Path) -> None:
    root = tmp_path / "pq"
    with ParquetSink(root) as sink:
        ingest(sink, FILES[:1], options=OPTS)
    sink = ParquetSink(root)
    run = sink.begin_run("x", "weibo-api", {}, 0)
    batch = next(iter(_batches(FILES[1])))
    sink.write(run, batch)
    staged = list(root.glob("**/staged-run*.parquet"))
    assert staged
    sink.close()  # the process dies before finish_run
    with ParquetSink(root) as again:
        assert not list(root.glob("**/staged-run*.parquet"))
        assert [r["status"] for r in again._read("ingest_runs", "true", [])] == ["done"]


def _batches(path: Path) -> list:
    from govweibo.ingest.base import Source
    from govweibo.ingest.weibo_api import WeiboApiReader

    return list(WeiboApiReader().read(Source(path=path, observed_at=OPTS.observed_at), OPTS))


def test_a_folder_that_is_not_a_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="neither empty nor"):
        ParquetSink(tmp_path)


def test_cli_ingest_to_parquet(tmp_path: Path) -> None:
    out = tmp_path / "pq"
    res = CliRunner().invoke(
        main,
        [
            "--db",
            str(tmp_path / "unused.duckdb"),
            "ingest",
            str(FILES[0]),
            "--to-parquet",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "stored" in res.output
    assert not (tmp_path / "unused.duckdb").exists()
    assert read_layout(out)["tables"]["posts"]["rows"] == 2


@pytest.mark.spark
def test_spark_reads_the_streamed_layout(tmp_path: Path, spark: object) -> None:
    from govweibo.store.engines import SparkTables

    with ParquetSink(tmp_path / "pq") as sink:
        ingest(sink, FILES, options=OPTS)
    tables = SparkTables(tmp_path / "pq", session=spark)
    with Store(tmp_path / "s.duckdb") as store:
        ingest(store, FILES, options=OPTS)
        for table in DATA:
            assert tables.table(table).count().execute() == store.counts()[table], table
