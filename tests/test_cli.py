from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES

from govweibo.cli import main


def run(tmp_path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "s.duckdb"), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_ingest_then_look_at_the_store(tmp_path: Path) -> None:
    # Exit 3: the run finished but rejected records.
    out = run(
        tmp_path,
        "ingest",
        str(FIXTURES / "weibo_broken.jsonl"),
        "--observed-at",
        "2011-06-01",
        code=3,
    )
    assert "Ingest summary" in out and "quarantine" in out
    out = run(tmp_path, "status")
    assert "posts" in out and "2011-06-01" in out
    out = run(tmp_path, "runs")
    assert "weibo-api" in out
    out = run(tmp_path, "quarantine", "--raw")
    assert "Quarantine (9 records)" in out and "created_at" in out
    out = run(tmp_path, "quarantine", "--source", "no-such-file")
    assert "Quarantine (0 records)" in out


def test_forced_format_and_year(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "ingest",
        "--format",
        "crawler-csv",
        "--year",
        "2020",
        str(FIXTURES / "crawler_posts.csv"),
        code=3,  # two rows are rejected
    )
    assert "crawler-csv" in out


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    out = run(tmp_path, "ingest", str(FIXTURES / "generic_posts.csv"), code=1)
    assert out.strip().startswith("error: ") and "--format" in out and "Traceback" not in out
    out = run(
        tmp_path, "ingest", str(FIXTURES / "weibo_users.jsonl"), "--observed-at", "soon", code=1
    )
    assert "error: --observed-at" in out
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "none.duckdb"), "status"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_generic_csv_needs_and_uses_a_mapping(tmp_path: Path) -> None:
    out = run(tmp_path, "ingest", "--format", "csv", str(FIXTURES / "generic_posts.csv"), code=1)
    assert "--mapping" in out
    run(
        tmp_path,
        "ingest",
        "--format",
        "csv",
        "--mapping",
        str(FIXTURES / "generic_posts.toml"),
        str(FIXTURES / "generic_posts.csv"),
        code=3,  # two of its rows are rejected
    )
    out = run(tmp_path, "status")
    assert "forum" in out


def test_settings_shows_sources_and_hides_the_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["settings"], env={"GOVWEIBO_TOKEN": "s3cret", "GOVWEIBO_LANG": "en"}
    )
    assert result.exit_code == 0
    assert "s3cret" not in result.output and "env" in result.output


def test_propagation_commands(tmp_path: Path) -> None:
    run(tmp_path, "ingest", str(FIXTURES / "ced"), "--observed-at", "2015-01-01", code=3)
    out = run(tmp_path, "cascades")
    assert "Cascades (2 rows)" in out
    svg = tmp_path / "tree.svg"
    out = run(tmp_path, "cascades", "--root", "3576042239113712", "--svg", str(svg))
    assert svg.read_text(encoding="utf-8").startswith("<svg") and "parent_id" in out
    out = run(tmp_path, "rumour-score", "--hours", "6")
    assert "rumour_probability" in out
    result = CliRunner().invoke(main, ["eval-rumour", str(FIXTURES / "ced")])
    assert result.exit_code == 0 and "accuracy" in result.output


def test_ingest_prints_how_crawler_comments_were_linked(tmp_path: Path) -> None:
    folder = FIXTURES / "crawler_link"
    out = run(
        tmp_path,
        "ingest",
        "--year",
        "2020",
        str(folder / "posts.csv"),
        str(folder / "comments.csv"),
    )
    assert "Crawler comments linked to their posts by time: pending 5, linked 3" in out
