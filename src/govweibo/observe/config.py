"""The observer's configuration: one TOML file of collection, rules, delivery and reports.

Every key has a default, so an empty file observes the store with every rule on and
delivers nowhere but the alerts table. Unknown keys are an error naming them: a rule
misspelt in a config file must not be silently off. docs/observe.md lists every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from govweibo.errors import ConfigError

COLLECTORS = ("none", "weibo", "weibo-web", "mastodon")


@dataclass
class CollectConfig:
    # "none": another process fills the store (collect --every, ingest); observe only reads.
    platform: str = "none"
    base_url: str = ""
    max_pages: int = 5
    count: int = 100
    token_file: str = ""
    cookie_file: str = ""
    spool: str = ""


@dataclass
class BurstRule:
    enabled: bool = True
    window_hours: float = 3.0
    baseline_days: int = 7
    k: float = 3.0
    min_posts: int = 20
    # A burst is placed in a province when this share of its posts name or come from it.
    province_share: float = 0.5


@dataclass
class RumourRule:
    enabled: bool = True
    # Hours of cascade the model sees (it was calibrated for this window); 0 = text only.
    hours: float = 1.0
    threshold: float = 0.0  # 0: the model's own calibrated threshold


@dataclass
class SilenceRule:
    enabled: bool = True
    hours: float = 6.0


@dataclass
class QuestionsRule:
    enabled: bool = True
    hours: float = 24.0
    min_unanswered: int = 5


@dataclass
class DormantRule:
    enabled: bool = True
    days: float = 30.0


@dataclass
class DeletedRule:
    enabled: bool = True


@dataclass
class Rules:
    burst: BurstRule = field(default_factory=BurstRule)
    rumour: RumourRule = field(default_factory=RumourRule)
    silence: SilenceRule = field(default_factory=SilenceRule)
    questions: QuestionsRule = field(default_factory=QuestionsRule)
    dormant: DormantRule = field(default_factory=DormantRule)
    deleted: DeletedRule = field(default_factory=DeletedRule)


@dataclass
class WebhookConfig:
    url: str = ""
    retries: int = 3
    timeout: float = 10.0


@dataclass
class EmailConfig:
    host: str = ""
    port: int = 25
    sender: str = "govweibo@localhost"
    to: list[str] = field(default_factory=list)
    starttls: bool = False
    # Names of environment variables holding the SMTP login (never the secret itself).
    username_env: str = ""
    password_env: str = ""
    timeout: float = 10.0


@dataclass
class Deliver:
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    email: EmailConfig = field(default_factory=EmailConfig)


@dataclass
class ReportsConfig:
    out: str = ""  # empty: no scheduled reports
    monthly: bool = True
    yearly: bool = True
    lang: str = "zh"


@dataclass
class ObserveConfig:
    every: str = "15m"
    collect: CollectConfig = field(default_factory=CollectConfig)
    rules: Rules = field(default_factory=Rules)
    deliver: Deliver = field(default_factory=Deliver)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    source: str = ""  # the file it came from

    def relative(self, value: str) -> Path:
        """A path in the config file, relative to the file's folder."""
        path = Path(value).expanduser()
        if path.is_absolute() or not self.source:
            return path
        return Path(self.source).resolve().parent / path


def _fill(obj: Any, data: dict[str, Any], where: str) -> None:
    known = {f.name: f for f in fields(obj)}
    # TOML can't name a key `from`; the file says sender = … (documented).
    for key, value in data.items():
        if key not in known or key == "source":
            raise ConfigError(
                f"{where}: unknown key '{key}' (known: {', '.join(k for k in known if k != 'source')})"
            )
        current = getattr(obj, key)
        if hasattr(current, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key}: expected a table [{where}.{key}]")
            _fill(current, value, f"{where}.{key}")
            continue
        setattr(obj, key, _cast(current, value, f"{where}.{key}"))


def _cast(current: Any, value: Any, where: str) -> Any:
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if (
        isinstance(current, int | float)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return type(current)(value)
    if isinstance(current, str) and isinstance(value, str):
        return value
    if isinstance(current, list) and isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(current, list) and isinstance(value, str):
        return [value]
    raise ConfigError(f"{where}: expected {type(current).__name__}, got {value!r}")


def load_config(path: str | Path | None) -> ObserveConfig:
    """The config in `path` (None: every default)."""
    config = ObserveConfig()
    if path is None:
        return config
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"observe config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"observe config {path}: {exc}") from None
    _fill(config, data, str(path))
    config.source = str(path)
    check(config)
    return config


def check(config: ObserveConfig) -> None:
    where = config.source or "observe config"
    if config.collect.platform not in COLLECTORS:
        raise ConfigError(
            f"{where}: collect.platform must be one of {', '.join(COLLECTORS)}, "
            f"not '{config.collect.platform}'"
        )
    if config.collect.platform == "mastodon" and not config.collect.base_url:
        raise ConfigError(f"{where}: collect.base_url is needed for mastodon")
    if config.deliver.email.host and not config.deliver.email.to:
        raise ConfigError(f"{where}: deliver.email.to names no recipient")
    if config.reports.lang not in ("zh", "en"):
        raise ConfigError(f"{where}: reports.lang must be zh or en")
    burst = config.rules.burst
    if burst.window_hours <= 0 or burst.baseline_days < 1 or burst.min_posts < 1:
        raise ConfigError(
            f"{where}: rules.burst needs window_hours > 0, baseline_days >= 1, min_posts >= 1"
        )
