from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES

from govweibo.errors import StoreError
from govweibo.ingest import ReadOptions, ingest
from govweibo.store import Store
from govweibo.store.parquet import export_parquet, read_layout


def test_export_layout_round_trips(store: Store, tmp_path: Path) -> None:
    ingest(
        store,
        [FIXTURES / "weibo_statuses.jsonl", FIXTURES / "weibo_comments.jsonl", FIXTURES / "ced"],
        options=ReadOptions(observed_at=datetime(2015, 1, 1, tzinfo=UTC)),
    )
    out = tmp_path / "pq"
    counts = export_parquet(store, out)
    assert counts["posts"] == store.counts()["posts"]
    layout = read_layout(out)
    assert layout["tables"]["posts"]["partition_by"] == ["platform", "month"]
    assert not [t for t in layout["tables"] if t.startswith("_stage_")]  # ingest's, not data
    assert (out / "posts" / "platform=weibo" / "month=2011-05").is_dir()
    con = duckdb.connect()
    back = con.execute(
        "SELECT count(*), count(DISTINCT post_id) FROM read_parquet(?, hive_partitioning = true)",
        [str(out / "posts" / "**" / "*.parquet")],
    ).fetchone()
    assert back == (counts["posts"], counts["posts"])
    with pytest.raises(StoreError, match="not empty"):
        export_parquet(store, out)
    export_parquet(store, out, tables=["accounts"], overwrite=True)
    assert set(read_layout(out)["tables"]) == {"accounts"}
