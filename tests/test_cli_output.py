"""Output formats for scripts (--format, -o), global options (--quiet, --verbose, --log-file)
and exit codes, over a small demo world and the fixtures."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from govweibo.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("out")
    db = base / "w.duckdb"
    args = ["--db", str(db), "demo", "--out", str(base / "demo")]
    r = CliRunner().invoke(main, [*args, "--accounts", "300", "--posts", "3000"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((base / "demo" / "world" / "manifest.json").read_text("utf-8"))
    return str(db), manifest


def invoke(db: str, *args: str, code: int = 0) -> str:
    # stdout only: notes and log records go to stderr, JSON must stand alone.
    r = CliRunner().invoke(main, ["--db", db, *args])
    assert r.exit_code == code, r.output
    return r.stdout


def test_every_table_command_gives_valid_json(world: tuple[str, dict[str, Any]]) -> None:
    db, manifest = world
    em = manifest["events"]["emergency"]
    response = ["response", ",".join(em["keywords"]), "--start", em["start"], "--hours", "24"]
    commands: list[list[str]] = [
        ["status"],
        ["runs"],
        ["quarantine"],
        ["rank", "--period", "2011"],
        ["index", "--period", "2011"],
        ["cascades"],
        ["rumour-score"],
        ["responsiveness", "--period", "2011"],
        ["concerns", "--period", "2011", "--top", "5"],
        ["bursts", "--unit", "day"],
        ["events", "--unit", "day"],
        [*response, "--province", em["province"]],
    ]
    docs = {c[0]: json.loads(invoke(db, *c, "--format", "json")) for c in commands}
    status = docs["status"]
    assert status["store"]["schema_version"] >= 1
    assert {"table": "posts", "rows": 3000} in status["tables"] or any(
        t["table"] == "posts" and t["rows"] > 0 for t in status["tables"]
    )
    # Raw keys and values: ISO times, numbers as numbers.
    assert status["store"]["first_post"].startswith("20")
    assert isinstance(docs["runs"][0]["records_read"], int)
    assert isinstance(docs["index"][0]["score"], float) and "screen_name" in docs["index"][0]
    assert isinstance(docs["rank"], list) and "group_rank" in docs["rank"][0]
    assert docs["cascades"] and "structural_virality" in docs["cascades"][0]
    assert isinstance(docs["quarantine"], list)
    r = docs["response"]
    assert set(r) == {"event", "responders", "silent"}
    assert r["event"]["keywords"] == em["keywords"]
    assert r["responders"][0]["screen_name"] == em["responders"][0]["screen_name"]


def test_csv_ndjson_plain_and_output_file(
    world: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    db, _ = world
    rows = list(csv.DictReader(io.StringIO(invoke(db, "runs", "--format", "csv"))))
    assert rows and rows[0]["status"] == "done" and int(rows[0]["records_read"]) > 0
    lines = invoke(db, "index", "--period", "2011", "--top", "5", "--format", "ndjson")
    objs = [json.loads(line) for line in lines.splitlines()]
    assert len(objs) == 5 and all("score" in o for o in objs)
    # Several sections: each line says which.
    lines = invoke(db, "status", "--format", "ndjson").splitlines()
    assert {json.loads(line)["section"] for line in lines} == {"store", "tables", "platforms"}
    # Not a terminal: plain, tab-separated, raw column keys, a '# title' line.
    plain = invoke(db, "runs").splitlines()
    assert plain[0] == "# Ingest runs" and plain[1].split("\t")[:2] == ["run_id", "source_path"]
    assert "┃" not in "\n".join(plain) and "│" not in "\n".join(plain)
    # -o FILE: format from the suffix, nothing on stdout.
    out = tmp_path / "runs.json"
    assert invoke(db, "runs", "-o", str(out)) == ""
    assert json.loads(out.read_text("utf-8"))[0]["status"] == "done"
    # The table format labels headers in the reader's language.
    table = invoke(db, "runs", "--format", "table")
    assert "┃" in table and "run_id" not in table
    r = CliRunner().invoke(
        main, ["--db", db, "runs", "--format", "table"], env={"GOVWEIBO_LANG": "en"}
    )
    assert r.exit_code == 0 and "Records read" in r.stdout
    # ...and its times in Beijing time: a run finished now is 8 hours ahead of UTC.
    finished = json.loads(invoke(db, "runs", "--format", "json"))[0]["finished_at"]
    beijing = datetime.fromisoformat(finished) + timedelta(hours=8)
    assert beijing.strftime("%Y-%m-%d %H:%M") in r.stdout


def test_global_options_and_logging(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    log = tmp_path / "govweibo.log"
    path = str(FIXTURES / "weibo_statuses.jsonl")
    r = CliRunner().invoke(main, ["--db", db, "--log-file", str(log), "ingest", path])
    assert r.exit_code == 0, r.output
    assert "weibo_statuses.jsonl" in log.read_text("utf-8")
    r = CliRunner().invoke(main, ["--db", db, "ingest", path])
    assert r.exit_code == 0 and "weibo_statuses.jsonl (weibo-api): " in r.stderr
    r = CliRunner().invoke(main, ["--db", db, "--quiet", "ingest", path])
    assert r.exit_code == 0 and "weibo_statuses.jsonl (weibo-api): " not in r.stderr
    r = CliRunner().invoke(main, ["--db", db, "--quiet", "--verbose", "status"])
    assert r.exit_code == 2


def test_exit_codes_of_ingest(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    # Records rejected: the run finished, exit 3.
    r = CliRunner().invoke(main, ["--db", db, "ingest", str(FIXTURES / "weibo_broken.jsonl")])
    assert r.exit_code == 3, r.output
    # A forced format on a file with nothing valid in it: non-zero, and still readable.
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"not": "a status"}\nnot json at all\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--db", db, "ingest", "--format", "weibo-api", str(junk)])
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output
    # A file that is not there: a usage error (click's exit 2).
    r = CliRunner().invoke(main, ["--db", db, "ingest", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2
    # JSON summary of a clean run keeps every file's counts raw.
    r = CliRunner().invoke(
        main,
        ["--db", db, "ingest", "--output-format", "json", str(FIXTURES / "weibo_statuses.jsonl")],
    )
    assert r.exit_code == 0, r.output
    files = json.loads(r.stdout)
    assert files[0]["format"] == "weibo-api" and files[0]["status"] == "done"


def test_serve_without_the_web_extra_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    for name in [m for m in sys.modules if m == "govweibo.web" or m.startswith("govweibo.web.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "s.duckdb"), "serve"])
    assert r.exit_code == 1
    assert r.output.strip() == (
        "error: the dashboard needs the web extra (fastapi is missing): pip install 'govweibo[web]'"
    )


def test_topic_clusters_without_the_opinion_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from govweibo.analyses.concerns import topic_clusters
    from govweibo.errors import AnalysisError

    monkeypatch.setitem(sys.modules, "sklearn.decomposition", None)
    with pytest.raises(AnalysisError, match=r"govweibo\[opinion\]"):
        topic_clusters(["a b", "c d", "a c"], [["a", "b"], ["c", "d"], ["a", "c"]])
