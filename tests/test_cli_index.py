from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
from click.testing import CliRunner
from test_index import build_store

from govweibo.cli import main
from govweibo.store import Store


def _db(tmp_path: Path) -> str:
    db = tmp_path / "w.duckdb"
    with Store(db) as s:
        build_store(s)
    return str(db)


def test_index_rank_report(tmp_path: Path) -> None:
    db = _db(tmp_path)
    r = CliRunner().invoke(
        main,
        [
            "--db",
            db,
            "index",
            "--period",
            "2011",
            "--method",
            "bci",
            "--out",
            str(tmp_path / "i.csv"),
            "--sensitivity",
            "--draws",
            "50",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "平安北京" in r.output and "Rank stability" in r.output
    assert pcsv.read_csv(tmp_path / "i.csv").num_rows >= 3
    r = CliRunner().invoke(main, ["--db", db, "rank", "--period", "2011", "--list", "province"])
    assert r.exit_code == 0, r.output
    assert "浙江" in r.output
    out = tmp_path / "r.html"
    r = CliRunner().invoke(
        main,
        [
            "--db",
            db,
            "report",
            "--period",
            "2011",
            "--out",
            str(out),
            "--lang",
            "en",
            "--export",
            str(tmp_path / "tables"),
        ],
    )
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert any((tmp_path / "tables").iterdir())


def test_bad_period_is_one_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--db", _db(tmp_path), "index", "--period", "someday"])
    assert r.exit_code == 1 and r.output.strip().startswith("error:")
