"""Reads while writing: `serve` (a real uvicorn process) and `status` keep answering while
another process ingests 200,000 statuses into the same store (store/lock.py); a lock that
outlasts `lock_wait` gives a readable error naming the process that holds the store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from govweibo.cli import main

PY = [sys.executable, "-m", "govweibo"]
PAGES = ["/api/status", "/api/overview", "/", "/health", "/api/runs?limit=5"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.status, r.read()


def _env() -> dict[str, str]:
    return {**os.environ, "GOVWEIBO_LOCK_WAIT": "120", "GOVWEIBO_CONFIG": os.devnull}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world200k")
    r = CliRunner().invoke(main, ["synth", str(out), "--accounts", "2000", "--posts", "200000"])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def server(world: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = str(tmp_path / "s.duckdb")
    first = subprocess.run(
        [*PY, "--db", db, "ingest", str(world / "users" / "2011-12.jsonl")],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [*PY, "--db", db, "serve", "--port", str(port)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "/api/status")
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        yield db, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_and_status_answer_while_ingest_writes(world: Path, server: tuple[str, str]) -> None:
    db, base = server
    before = json.loads(_get(base + "/api/status")[1])
    ingest = subprocess.Popen(
        [*PY, "--db", db, "-q", "ingest", str(world / "statuses.jsonl")],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    answered, statuses = 0, 0
    while ingest.poll() is None:
        for page in PAGES:
            status, _ = _get(base + page)
            assert status == 200, page
            answered += 1
        if statuses < 3:
            st = subprocess.run(
                [*PY, "--db", db, "status", "--format", "json"],
                env=_env(),
                capture_output=True,
                text=True,
            )
            assert st.returncode == 0, st.stderr
            json.loads(st.stdout)
            statuses += 1
    out, err = ingest.communicate()
    assert ingest.returncode == 0, err
    assert answered >= len(PAGES) and statuses >= 1
    # The app let the writer in and then reopened the file: it sees the new posts.
    after = json.loads(_get(base + "/api/status")[1])
    assert before != after
    assert "200000" in json.dumps(after) or "200,000" in json.dumps(after)


def test_a_lock_that_outlasts_the_wait_names_its_holder(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = CliRunner().invoke(main, ["--db", str(db), "status"], env={"GOVWEIBO_LOCK_WAIT": "0.3"})
        assert r.exit_code == 1
        line = r.stderr.strip().splitlines()[-1]  # after an INFO line saying it waits
        assert line.startswith("error: store") and "Traceback" not in r.output
        assert f"PID {holder.pid}" in line and "lock_wait" in line
    finally:
        holder.kill()
        holder.wait()


def test_the_app_lets_a_waiting_writer_in_and_forgets_what_changed(tmp_path: Path) -> None:
    import fcntl

    from govweibo.store import Store
    from govweibo.web.queries import Data

    db = tmp_path / "s.duckdb"
    Store(db).close()
    data = Data(Store(db, read_only=True))
    data.enter()
    assert data.scalar("SELECT count(*) FROM posts") == 0
    data.cached("posts", lambda: 0)
    data.leave()
    assert data.store.is_open  # no writer waits: the file stays open between requests
    with open(str(db) + ".writer-waiting", "ab") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)  # a writer announces itself
        data.enter()
        data.leave()
        assert not data.store.is_open
    with Store(db) as w:  # the writer gets in and adds a post
        w.con.execute("INSERT INTO posts (platform, post_id) VALUES ('weibo', 'p1')")
    data.enter()
    assert data.scalar("SELECT count(*) FROM posts") == 1  # reopened, a fresh cursor
    assert data.cached("posts", lambda: 1) == 1  # the cache of the old file is gone
    data.leave()
    data.close()
