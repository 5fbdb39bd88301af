from __future__ import annotations

from pathlib import Path

import pytest

from govweibo.errors import ConfigError
from govweibo.observe.config import load_config


def test_defaults_without_a_file() -> None:
    cfg = load_config(None)
    assert cfg.every == "15m" and cfg.collect.platform == "none"
    assert cfg.rules.burst.enabled and cfg.rules.silence.hours == 6.0
    assert cfg.deliver.webhook.url == "" and cfg.reports.out == ""


def test_a_file_sets_values_and_paths_are_relative_to_it(tmp_path: Path) -> None:
    path = tmp_path / "observe.toml"
    path.write_text(
        """every = "30m"
[collect]
platform = "weibo-web"
cookie_file = "cookie.txt"
[rules.burst]
k = 2
min_posts = 5
[rules.dormant]
enabled = false
[deliver.email]
host = "smtp.example.org"
to = "duty@example.org"
""",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.every == "30m" and cfg.collect.platform == "weibo-web"
    assert cfg.rules.burst.k == 2.0 and isinstance(cfg.rules.burst.k, float)
    assert cfg.rules.burst.min_posts == 5 and not cfg.rules.dormant.enabled
    assert cfg.deliver.email.to == ["duty@example.org"]
    assert cfg.relative(cfg.collect.cookie_file) == tmp_path.resolve() / "cookie.txt"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.burts]\nk = 2\n", "unknown key 'burts'"),
        ("[rules.burst]\nk = 'high'\n", "rules.burst.k: expected float"),
        ("[rules.silence]\nenabled = 1\n", "expected true or false"),
        ("[collect]\nplatform = 'twitter'\n", "collect.platform must be one of"),
        ("[collect]\nplatform = 'mastodon'\n", "base_url is needed"),
        ("[deliver.email]\nhost = 'x'\n", "names no recipient"),
        ("[rules.burst]\nwindow_hours = 0\n", "window_hours > 0"),
        ("rules = 3\n", "expected a table"),
        ("every = [\n", "observe config"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "observe.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
