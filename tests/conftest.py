from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from govweibo.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data(name: str) -> Path:
    """A real data set from ../shared/data (or $GOVWEIBO_SHARED_DATA); skip when absent."""
    base = Path(os.environ.get("GOVWEIBO_SHARED_DATA", ROOT.parent / "shared" / "data"))
    path = base / name
    if not path.exists():
        pytest.skip(f"real data set '{name}' not found at {path} (set GOVWEIBO_SHARED_DATA)")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "t.duckdb")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def spark() -> object:
    """One local SparkSession for the whole run (start-up is ~10 s)."""
    pytest.importorskip("pyspark", reason="PySpark not installed: pip install -e '.[spark]'")
    from govweibo.store.engines import spark_session

    return spark_session("local[2]")
