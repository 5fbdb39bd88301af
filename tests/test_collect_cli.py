"""CLI: watch add/remove/list and collect against the local fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_collect_weibo import TOKEN, A, FakeWeibo, _routes

from govweibo import settings as settings_mod
from govweibo.cli import GovweiboGroup
from govweibo.cli import collect as collect_cli
from govweibo.collect import parse_interval
from govweibo.errors import ConfigError


# A root like govweibo's own, so the real `main` is left as cli/__init__.py builds it.
@click.group(cls=GovweiboGroup)
@click.option("--db", default=None)
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    ctx.obj = settings_mod.load({"db": db, "config": None})


for _cmd in collect_cli.COMMANDS:
    main.add_command(_cmd)


@pytest.fixture
def fake() -> Iterator[FakeWeibo]:
    server = FakeWeibo(_routes())
    yield server
    server.close()


def run(tmp_path: Path, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "s.duckdb"), *args], env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_watch_add_list_remove(tmp_path: Path) -> None:
    assert "added: weibo account 123" in run(tmp_path, "watch", "add", "123", "@平安北京")
    assert "already watched" in run(tmp_path, "watch", "add", "123")
    run(tmp_path, "watch", "add", "--keyword", "辟谣")
    out = run(tmp_path, "watch", "list")
    assert "Watch list (3)" in out and "平安北京" in out and "keyword" in out
    assert "removed" in run(tmp_path, "watch", "remove", "123")
    assert "not watched" in run(tmp_path, "watch", "remove", "123")
    assert "Watch list (2)" in run(tmp_path, "watch", "list")


def test_collect_once_and_every(
    tmp_path: Path, fake: FakeWeibo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("govweibo.collect.base.HttpClient._wait_for_rate", lambda self: None)
    monkeypatch.setattr("govweibo.collect.base.HttpClient._backoff", lambda self, a, r: 0.0)
    run(tmp_path, "watch", "add", A)
    env = {"GOVWEIBO_WEIBO_TOKEN": TOKEN}
    args = ["collect", "--base-url", fake.base_url, "--count", "3"]
    # Exit 3: the fake's repost timeline has a malformed page, which fails that watch.
    out = run(tmp_path, *args, env=env, code=3)
    assert "run 1 (weibo): 1 accounts, 8 requests" in out and "1 quarantined" in out
    assert "problem: 5000000001 statuses/repost_timeline.json: malformed page" in out
    assert TOKEN not in out
    assert (tmp_path / "collect" / "weibo" / A).is_dir()
    out = run(tmp_path, *args, "--every", "1s", "--max-runs", "2", env=env)
    assert "run 2 (weibo)" in out


def test_collect_without_token_is_a_clear_error(tmp_path: Path) -> None:
    out = run(tmp_path, "collect", code=1, env={"GOVWEIBO_WEIBO_TOKEN": ""})
    assert "GOVWEIBO_WEIBO_TOKEN" in out


def test_token_file_and_interval(tmp_path: Path) -> None:
    from govweibo.collect import load_token

    path = tmp_path / "tok"
    path.write_text(TOKEN + "\n")
    assert load_token("weibo", path) == TOKEN
    assert parse_interval("15m") == 900 and parse_interval("1h") == 3600
    with pytest.raises(ConfigError):
        parse_interval("soon")
