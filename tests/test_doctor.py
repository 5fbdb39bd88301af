from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from govweibo import doctor
from govweibo.cli import main
from govweibo.store import SCHEMA_VERSION, Store


def by_check(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["check"]: r for r in rows}


def test_versions_native_reader_and_store_schema(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    Store(db).close()
    rows = by_check(doctor.diagnose(str(db)))
    assert rows["duckdb"]["value"] == metadata.version("duckdb")
    assert rows["pyarrow"]["status"] == "ok" and rows["python"]["value"].startswith("3.")
    from govweibo.ingest import sina_fast

    assert rows["native reader"]["value"] == ("built" if sina_fast.AVAILABLE else "not built")
    assert rows["store schema"] == {
        "check": "store schema",
        "value": str(SCHEMA_VERSION),
        "status": "ok",
        "detail": "as this govweibo writes",
    }
    assert {"java", "chromium"} <= set(rows)


def test_missing_parts_are_rows_not_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = metadata.version

    def version(dist: str) -> str:
        if dist in ("fastapi", "duckdb"):
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(doctor.metadata, "version", version)
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("GOVWEIBO_CHROMIUM", str(tmp_path / "no-such-browser"))
    rows = by_check(doctor.diagnose(str(tmp_path / "none.duckdb")))
    assert rows["fastapi"]["status"] == "missing" and "web extra" in rows["fastapi"]["detail"]
    assert rows["duckdb"]["status"] == "problem"
    assert rows["java"]["status"] == "missing" and "spark" in rows["java"]["detail"]
    assert rows["chromium"]["status"] == "missing"
    assert rows["store"]["status"] == "missing" and "store schema" not in rows


def test_a_newer_store_is_a_problem(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        s.con.execute("UPDATE schema_meta SET value = ? WHERE key = 'version'", [str(99)])
    rows = by_check(doctor.diagnose(str(db)))
    assert (
        rows["store schema"]["status"] == "problem" and "upgrade" in rows["store schema"]["detail"]
    )


def test_cli_json(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    Store(db).close()
    r = CliRunner().invoke(main, ["--db", str(db), "doctor", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = by_check(json.loads(r.stdout))
    assert rows["govweibo"]["status"] == "ok" and rows["store schema"]["value"] == str(
        SCHEMA_VERSION
    )
