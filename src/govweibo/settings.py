"""The one settings table: defaults and help; flag > GOVWEIBO_* env > config file > default."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govweibo.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "GOVWEIBO_" + self.name.upper()


def _int(s: str) -> int:
    return int(s)


def _engine(s: str) -> str:
    if s not in ("duckdb", "spark"):
        raise ValueError("must be 'duckdb' or 'spark'")
    return s


def _lang(s: str) -> str:
    if s not in ("zh", "en"):
        raise ValueError("must be 'zh' or 'en'")
    return s


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "govweibo.duckdb", "Path of the DuckDB store file."),
    Setting("config", "govweibo.toml", "Path of the TOML config file (read if it exists)."),
    Setting(
        "chunk_mb",
        32,
        "Megabytes of input parsed per ingest batch; bounds ingest memory.",
        _int,
    ),
    Setting(
        "max_line_mb",
        64,
        "Megabytes a line of JSON input may hold; a longer line is quarantined by its "
        "first bytes, never held whole.",
        _int,
    ),
    Setting(
        "threads",
        0,
        "DuckDB worker threads (0 = one per core).",
        _int,
    ),
    Setting("memory_limit", "", "DuckDB memory limit such as '4GB' (empty = DuckDB's default)."),
    Setting("engine", "duckdb", "Analysis engine: duckdb or spark.", _engine),
    Setting("spark_master", "local[*]", "Spark master URL when engine is spark."),
    Setting("lang", "zh", "Language of labels in reports and maps: zh or en.", _lang),
    Setting("token", "", "Access token the web app requires when bound beyond loopback."),
    Setting(
        "sentiment_model",
        "",
        "Folder of an ONNX sentiment model (model.onnx, tokenizer.json, labels.txt) used"
        " instead of the shipped one (empty = shipped); needs the onnx extra.",
    ),
    Setting(
        "rumour_text_model",
        "",
        "Folder of an ONNX rumour text model (model.onnx, tokenizer.json, labels.txt with a"
        " 'rumour' class) for the text part of the rumour score (empty = none).",
    ),
    Setting("log_file", "", "Write log messages to this file instead of stderr (empty = stderr)."),
    Setting(
        "lock_wait",
        60.0,
        "Seconds to wait for a store another process is writing before giving up.",
        float,
    ),
    Setting(
        "web_interval",
        3.0,
        "Seconds between requests of `collect --platform weibo-web` (jittered ±50 %).",
        float,
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Resolved settings; `source(name)` tells where each value came from."""

    def __init__(self, values: dict[str, Any], sources: dict[str, str]):
        self._values = values
        self._sources = sources

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self._sources[name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    if raw is None or not isinstance(raw, str) or setting.parse is str:
        return raw
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"setting '{setting.name}' from {origin}: {raw!r} {exc}") from None


def load(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting. Flags set to None count as not given."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    unknown = set(flags) - set(BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    config_path = flags.get("config") or env.get("GOVWEIBO_CONFIG") or BY_NAME["config"].default
    file_values = _read_config(
        Path(config_path), explicit="config" in flags or "GOVWEIBO_CONFIG" in env
    )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        if s.name in flags:
            values[s.name], sources[s.name] = _coerce(s, flags[s.name], "flag"), "flag"
        elif s.env in env:
            values[s.name] = _coerce(s, env[s.env], f"${s.env}")
            sources[s.name] = "env"
        elif s.name in file_values:
            values[s.name] = _coerce(s, file_values[s.name], str(config_path))
            sources[s.name] = "config"
        else:
            values[s.name], sources[s.name] = s.default, "default"
    return Settings(values, sources)


def _read_config(path: Path, *, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    section = data.get("govweibo", data)
    unknown = [k for k in section if k not in BY_NAME]
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(sorted(unknown))}")
    return dict(section)
