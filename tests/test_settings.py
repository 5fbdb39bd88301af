from __future__ import annotations

from pathlib import Path

import pytest

from govweibo import settings
from govweibo.errors import ConfigError


def test_defaults() -> None:
    s = settings.load({}, env={})
    assert s.db == "govweibo.duckdb" and s.source("db") == "default"


def test_precedence_flag_env_file_default(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[govweibo]\ndb = "file.duckdb"\nchunk_mb = 8\nlang = "en"\n')
    env = {"GOVWEIBO_CONFIG": str(cfg), "GOVWEIBO_CHUNK_MB": "16"}
    s = settings.load({"db": "flag.duckdb"}, env=env)
    assert (s.db, s.source("db")) == ("flag.duckdb", "flag")
    assert (s.chunk_mb, s.source("chunk_mb")) == (16, "env")
    assert (s.lang, s.source("lang")) == ("en", "config")
    assert (s.engine, s.source("engine")) == ("duckdb", "default")


def test_bad_values_name_their_origin(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GOVWEIBO_ENGINE"):
        settings.load({}, env={"GOVWEIBO_ENGINE": "oracle"})
    cfg = tmp_path / "c.toml"
    cfg.write_text("nonsense = 1\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        settings.load({"config": str(cfg)}, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        settings.load({"config": str(tmp_path / "missing.toml")}, env={})
