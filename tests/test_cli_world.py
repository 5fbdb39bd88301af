"""CliRunner tests for the commands that need a whole (small) world: demo, synth, registry,
opinion and serve's refusal to bind beyond loopback without a token."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from govweibo.cli import main


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("world")
    db = base / "w.duckdb"
    r = CliRunner().invoke(
        main,
        [
            "--db",
            str(db),
            "demo",
            "--out",
            str(base / "demo"),
            "--accounts",
            "300",
            "--posts",
            "3000",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "classified as government" in r.output and "report:" in r.output
    return db, base


def run(db: Path, *args: str, code: int = 0) -> str:
    r = CliRunner().invoke(main, ["--db", str(db), *args])
    assert r.exit_code == code, r.output
    return r.output


def test_demo_wrote_a_report_and_a_world(world_db: tuple[Path, Path]) -> None:
    _, base = world_db
    assert (base / "demo" / "report-2011.html").stat().st_size > 10_000
    manifest = json.loads((base / "demo" / "world" / "manifest.json").read_text(encoding="utf-8"))
    assert any(f["timeline"] for f in manifest["files"])


def test_synth_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        out = CliRunner().invoke(
            main, ["synth", str(tmp_path / name), "--accounts", "100", "--posts", "500"]
        )
        assert out.exit_code == 0, out.output
    a = (tmp_path / "a" / "statuses.jsonl").read_bytes()
    assert a == (tmp_path / "b" / "statuses.jsonl").read_bytes()
    args = ["synth", str(tmp_path / "c"), "--accounts", "100", "--posts", "500", "--gzip"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert gzip.decompress((tmp_path / "c" / "statuses.jsonl.gz").read_bytes()) == a


def test_classify_and_eval_registry(world_db: tuple[Path, Path]) -> None:
    db, _ = world_db
    out = run(db, "classify")
    assert "accounts are government" in out and "public_security" in out
    out = run(db, "eval-registry", str(ROOT / "tests" / "data" / "registry_labels.jsonl"))
    assert "is_government_f1" in out


def test_opinion_commands(world_db: tuple[Path, Path]) -> None:
    db, _ = world_db
    assert "positive" in run(db, "sentiment", "--period", "2011")
    assert "keyword" in run(db, "concerns", "--period", "2011", "--top", "5")
    assert "reply_rate" in run(db, "responsiveness", "--period", "2011")
    assert "Deletion audit" in run(db, "deletions")
    assert "Deletion audit" in run(db, "deletions", "--summary")
    assert "Bursts" in run(db, "bursts", "--unit", "day")


def test_eval_sentiment_on_the_fixture() -> None:
    out = CliRunner().invoke(
        main, ["eval-sentiment", str(ROOT / "tests" / "fixtures" / "sentiment_tiny.jsonl")]
    )
    assert out.exit_code == 0 and "accuracy" in out.output


def test_serve_refuses_public_bind_without_token(world_db: tuple[Path, Path]) -> None:
    db, _ = world_db
    r = CliRunner().invoke(
        main, ["--db", str(db), "serve", "--host", "0.0.0.0"], env={"GOVWEIBO_TOKEN": ""}
    )
    assert (
        r.exit_code == 1 and r.output.strip().startswith("error:") and "token" in r.output.lower()
    )


def test_events_and_response(world_db: tuple[Path, Path]) -> None:
    db, base = world_db
    events = json.loads((base / "demo" / "world" / "manifest.json").read_text(encoding="utf-8"))
    em = events["events"]["emergency"]
    assert "Events" in run(db, "events", "--unit", "day")
    out = run(
        db,
        "response",
        ",".join(em["keywords"]),
        "--start",
        em["start"],
        "--hours",
        "24",
        "--province",
        em["province"],
    )
    assert em["responders"][0]["screen_name"] in out and "Silent accounts" in out
    out = run(db, "response", "x", "--start", "not a date", code=1)
    assert "error: --start" in out
