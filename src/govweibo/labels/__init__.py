"""Display labels and formatting for every face (report, dashboard, CLI tables), in zh or en.

The data: column headers, page text and small code lists in zh.toml / en.toml beside this
file; the names of sectors, account kinds, levels, regions and provinces where those codes
are defined (registry/rules/sectors.toml, registry/labels.toml, reference/data/regions.csv
and provinces.csv), so that a code is named in one place. Stored tables, JSON and exports
keep the codes; only what a person reads goes through here.

Times are shown in Beijing time (UTC+8), the convention of the field (the 人民网 and
新浪 政务微博 reports, and Period in analyses.base).
"""

from __future__ import annotations

import math
import re
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from govweibo.errors import ConfigError

LANGS = ("zh", "en")
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
# Coded columns whose values are shown by name (the kind passed to value()).
CODE_COLUMNS = ("sector", "kind", "level", "region", "province", "status", "format", "platform")
# Columns holding a share (0..1), a ratio (shown with ×) or a duration in seconds.
PERCENT_COLUMNS = frozenset({"coverage", "share", "reply_rate", "deletion_rate", "top10_share",
                             "in_top10", "original_share"})  # fmt: skip
RATIO_COLUMNS = frozenset({"cumulative_yoy", "opened_yoy"})
DURATION_COLUMNS = frozenset({"median_response", "duration", "median_response_s"})
# Rank changes: signed (+2 moved up), and "new" where there was no rank before.
CHANGE_COLUMNS = frozenset({"rank_change", "group_rank_change"})
_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ConfigError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


@cache
def _data(lang: str) -> dict[str, Any]:
    path = resources.files("govweibo.labels") / f"{check_lang(lang)}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _humanise(key: str) -> str:
    """A readable stand-in for a key without a label ("rank_change" -> "Rank change"), so
    that no snake_case name reaches a page; tests keep the label files complete."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def header(column: str, lang: str = "zh") -> str:
    """The column header of `column` in `lang`."""
    return str(_data(lang)["headers"].get(column) or _humanise(column))


def headers(columns: list[str], lang: str = "zh") -> list[str]:
    return [header(c, lang) for c in columns]


def has_header(column: str, lang: str = "zh") -> bool:
    return column in _data(lang)["headers"]


def text(key: str, lang: str = "zh", **fmt: Any) -> str:
    """A sentence or heading of the pages, formatted with `fmt` ({n}, {period}, ...)."""
    s = _data(lang)["text"].get(key)
    if s is None:
        raise KeyError(f"no text {key!r} in labels/{lang}.toml")
    return str(s).format(**fmt) if fmt else str(s)


def texts(section: str, lang: str = "zh") -> dict[str, str]:
    """A whole section of a label file (e.g. "report", "indicators") as key -> text."""
    return {str(k): str(v) for k, v in _data(lang).get(section, {}).items()}


def method_text(name: str, lang: str = "zh") -> dict[str, str] | None:
    """title, description and source of a shipped index method in `lang` (None for a
    method of one's own, whose file's text is shown as it is)."""
    m = _data(lang).get("methods", {}).get(name)
    return {str(k): str(v) for k, v in m.items()} if m else None


def block_labels(path: Path, block: str, lang: str) -> dict[str, str]:
    """code -> `label_<lang>` of the [[block]] tables of a TOML file (first label wins)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for b in doc.get(block, []):  # a code may have several blocks (sectors do)
        label = b.get(f"label_{lang}")
        if label and b.get("name") and b["name"] not in out:
            out[b["name"]] = str(label)
    return out


@cache
def values(kind: str, lang: str = "zh") -> dict[str, str]:
    """code -> display name for one code list: sector, kind, level, region, province (the
    stored short Chinese name), or a list of the label files (status, format, platform)."""
    from govweibo.reference import provinces, regions
    from govweibo.registry.ruleset import rules_dir

    check_lang(lang)
    if kind == "sector":
        return block_labels(rules_dir() / "sectors.toml", "sector", lang)
    if kind in ("kind", "level"):
        return block_labels(rules_dir().parent / "labels.toml", kind, lang)
    if kind == "region":
        return {r.region: r.name_zh if lang == "zh" else r.name_en for r in regions()}
    if kind == "province":
        return {p.short_zh: p.short_zh if lang == "zh" else p.name_en for p in provinces()}
    return {str(k): str(v) for k, v in _data(lang).get("values", {}).get(kind, {}).items()}


def value(kind: str, code: Any, lang: str = "zh") -> str:
    """The display name of `code` in the code list `kind`; an unknown code is shown as it is
    (a place name, a screen name); None as a dash."""
    if code is None:
        return "–"
    return values(kind, lang).get(str(code), str(code))


def code_of(kind: str, name: str) -> str | None:
    """The code a person may mean by `name` in either language (公安, Public security or
    public_security -> public_security); None when no code matches."""
    wanted = name.strip().casefold()
    for lang in LANGS:
        for code, label in values(kind, lang).items():
            if wanted in (code.casefold(), label.casefold()):
                return code
    return None


# Formatting --------------------------------------------------------------------------------


def number(v: Any, lang: str = "zh", digits: int = 1) -> str:
    """Thousands separators; floats with `digits` decimals (small ones with three)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return text("yes" if v else "no", lang)
    if isinstance(v, int):
        return f"{v:,}"
    f = float(v)
    if f != 0 and abs(f) < 1:
        return f"{f:.3f}"
    return f"{f:,.{digits}f}"


def percent(v: Any, lang: str = "zh", digits: int = 1) -> str:
    """A share 0..1 as a percentage: 0.1234 -> 12.3%."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v) * 100:,.{digits}f}%"


def ratio(v: Any, lang: str = "zh", digits: int = 1) -> str:
    """A ratio with its unit: 16.53 -> 16.5×."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):,.{digits}f}×"


def duration(seconds: Any, lang: str = "zh") -> str:
    """Seconds as hours and minutes: 12300 -> "3 h 25 min" / "3小时25分"."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    total = round(float(seconds) / 60)
    h, m = divmod(total, 60)
    return text("hours_minutes", lang, h=f"{h:,}", m=m) if h else text("minutes", lang, m=m)


def beijing(ts: Any, lang: str = "zh", *, seconds: bool = False) -> str:
    """A timestamp in Beijing time, "2011-07-01 08:00" (naive values are taken as UTC, the
    store's convention); a date is shown as it is; an ISO string is parsed first."""
    if ts is None:
        return "–"
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00").replace(" UTC", "+00:00"))
        except ValueError:
            return ts
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if isinstance(ts, date):
        return ts.isoformat()
    return str(ts)


def cell(column: str, v: Any, lang: str = "zh") -> str:
    """One table cell as shown: a code by its name, a share as %, a ratio with ×, a duration
    in hours and minutes, a time in Beijing time, a count with thousands separators, a rank
    change with its sign ("new" without a rank before)."""
    if column in CHANGE_COLUMNS:
        return text("new_entry", lang) if v is None else f"{v:+,}" if v else "0"
    if v is None:
        return "–"
    if column in CODE_COLUMNS and isinstance(v, str):
        return value(column, v, lang)
    if column in PERCENT_COLUMNS:
        return percent(v, lang)
    if column in RATIO_COLUMNS:
        return ratio(v, lang)
    if column in DURATION_COLUMNS:
        return duration(v, lang)
    if isinstance(v, datetime | date):
        return beijing(v, lang)
    if isinstance(v, bool | int | float):
        return number(v, lang)
    return str(v)


def is_snake(token: str) -> bool:
    """Whether `token` looks like a snake_case name (what must not reach a page)."""
    return bool(_SNAKE.fullmatch(token))


__all__ = ["LANGS", "BEIJING", "check_lang", "header", "headers", "has_header", "text", "texts",
           "method_text", "values",
           "value", "code_of", "number", "percent", "ratio", "duration", "beijing", "cell",
           "is_snake"]  # fmt: skip
