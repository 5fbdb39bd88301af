from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

from govweibo.errors import FormatDetectionError, IngestError
from govweibo.ingest import ingest
from govweibo.ingest.runner import detect, plan
from govweibo.store import Store


def test_detection_by_content_and_layout() -> None:
    assert detect(FIXTURES / "weibo_statuses.jsonl").name == "weibo-api"  # type: ignore[union-attr]
    assert detect(FIXTURES / "weibo_page.json").name == "weibo-api"  # type: ignore[union-attr]
    assert detect(FIXTURES / "ced").name == "ced"  # type: ignore[union-attr]
    assert detect(FIXTURES / "crawler_posts.csv").name == "crawler-csv"  # type: ignore[union-attr]
    assert detect(FIXTURES / "generic_posts.csv") is None


def test_folder_plan_reports_what_it_skips() -> None:
    units, skipped = plan([FIXTURES], "auto")
    names = {p.name for _, p in units}
    assert "ced" in names and "weibo_statuses.jsonl" in names
    assert str(FIXTURES / "generic_posts.csv") in {p for p, _ in skipped}


def test_unrecognised_file_and_missing_path_are_clear_errors(store: Store) -> None:
    with pytest.raises(FormatDetectionError, match="--format"):
        ingest(store, [FIXTURES / "generic_posts.csv"])
    with pytest.raises(IngestError, match="no such file"):
        ingest(store, [FIXTURES / "nope.jsonl"])


def _big_file(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "id": 3500000000000000 + i,
                        "created_at": "Wed Jun 01 10:00:00 +0800 2011",
                        "text": "长微博内容" * 20,
                        "reposts_count": i % 50,
                        "user": {
                            "id": 1000 + i % 3000,
                            "screen_name": f"用户{i % 3000}",
                            "followers_count": i,
                        },
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def _cli(db: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GOVWEIBO_CHUNK_MB": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govweibo",
            "--db",
            str(db),
            "ingest",
            *args,
            "--observed-at",
            "2011-12-31T00:00:00+08:00",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_killed_ingest_then_rerun_equals_one_clean_run(tmp_path: Path) -> None:
    data = tmp_path / "big.jsonl"
    _big_file(data, 60000)
    clean = tmp_path / "clean.duckdb"
    start = time.perf_counter()
    assert _cli(clean, str(data)).wait(timeout=300) == 0
    took = time.perf_counter() - start
    # Kill the ingest mid-run, at a share of a clean run's time: a kill that comes too
    # late (everything stored, the process finishing) is tried again earlier.
    for share in (0.5, 0.3, 0.15):
        killed = tmp_path / f"killed-{share}.duckdb"
        proc = _cli(killed, str(data))
        time.sleep(took * share)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        with Store(killed) as s:
            partial = s.counts()["posts"]
        if proc.returncode != 0 and partial < 60000:
            break
    else:
        pytest.fail(f"could not kill the ingest mid-run (a clean run takes {took:.1f} s)")
    assert _cli(killed, str(data)).wait(timeout=300) == 0
    with Store(clean, read_only=True) as a, Store(killed, read_only=True) as b:
        ca, cb = a.counts(), b.counts()
        statuses = [
            r[0] for r in b.con.execute("SELECT status FROM ingest_runs ORDER BY run_id").fetchall()
        ]
    drop = ("ingest_runs",)
    assert {k: v for k, v in ca.items() if k not in drop} == {
        k: v for k, v in cb.items() if k not in drop
    }
    assert ca["posts"] == 60000
    assert statuses == ["interrupted", "done"]
