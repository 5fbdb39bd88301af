"""govweibo observe and govweibo alerts through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from govweibo.cli import main
from govweibo.observe.alerts import Finding, record
from govweibo.store import Store


def test_observe_once_then_alerts_list_ack_close(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    config = tmp_path / "observe.toml"
    config.write_text('every = "1h"\n[rules.dormant]\nenabled = false\n', encoding="utf-8")
    runner = CliRunner()
    args = ["--db", str(db)]
    result = runner.invoke(
        main, [*args, "observe", "--config", str(config), "--once", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    cycle = json.loads(result.stdout)
    assert cycle["cycle"] == 1 and cycle["opened"] == 0 and cycle["runs"] == [0, 0]
    with Store(db) as store:
        record(
            store,
            [Finding("rumour", "weibo:1", "<b>网传</b>", {"p": 0.9})],
            now=datetime.now(UTC),
            cycle=2,
        )
    result = runner.invoke(main, [*args, "alerts", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (
        row["kind"] == "rumour"
        and row["state"] == "open"
        and json.loads(row["evidence"]) == {"p": 0.9}
    )
    result = runner.invoke(main, [*args, "alerts", "ack", "1"])
    assert result.exit_code == 0 and "is now acknowledged" in result.output
    result = runner.invoke(main, [*args, "alerts", "close", "1"])
    assert "is now closed" in result.output
    result = runner.invoke(main, [*args, "alerts", "list", "--format", "json"])
    assert json.loads(result.stdout) == []
    result = runner.invoke(main, [*args, "alerts", "close", "5"])
    assert result.exit_code == 1 and "no alert 5" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.nope]\n", encoding="utf-8")
    result = runner.invoke(main, [*args, "observe", "--config", str(bad), "--once"])
    assert result.exit_code == 1 and "unknown key 'nope'" in result.output
