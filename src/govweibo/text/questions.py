"""Question detection for Chinese microblog text: a data-driven rule list.

The rules live in `data/questions.toml` (patterns, where they may match, and spans to delete
first); `load_rules(path)` reads another file with the same shape. A comment is a question
when any rule matches; the first matching rule's name is the reason.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from govweibo.errors import ConfigError

WHERE = ("anywhere", "clause_end")


@dataclass(frozen=True)
class QuestionRules:
    rules: tuple[tuple[str, re.Pattern[str]], ...]
    excludes: tuple[tuple[str, re.Pattern[str]], ...]

    def reason(self, text: str | None) -> str | None:
        """Name of the first rule that matches `text`, or None when it is not a question."""
        if not text:
            return None
        for _, pat in self.excludes:
            text = pat.sub("", text)
        for name, pat in self.rules:
            if pat.search(text):
                return name
        return None

    def is_question(self, text: str | None) -> bool:
        return self.reason(text) is not None


def _compile(pattern: str, where: str, boundary: str, name: str) -> re.Pattern[str]:
    if where not in WHERE:
        raise ConfigError(f"question rule {name!r}: where must be one of {WHERE}, got {where!r}")
    if where == "clause_end":
        pattern = f"(?:{pattern})(?=(?:{boundary}))"
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"question rule {name!r}: bad pattern: {exc}") from None


def _parse(doc: dict, where: str) -> QuestionRules:
    boundary = str(doc.get("clause_boundary", r"[\s。！!？?，,；;…]|$"))
    rules = []
    for r in doc.get("rule", []):
        if "name" not in r or "pattern" not in r:
            raise ConfigError(f"{where}: every [[rule]] needs a name and a pattern")
        pat = _compile(r["pattern"], r.get("where", "anywhere"), boundary, r["name"])
        rules.append((str(r["name"]), pat))
    excludes = []
    for r in doc.get("exclude", []):
        if "name" not in r or "pattern" not in r:
            raise ConfigError(f"{where}: every [[exclude]] needs a name and a pattern")
        excludes.append((str(r["name"]), _compile(r["pattern"], "anywhere", boundary, r["name"])))
    if not rules:
        raise ConfigError(f"{where}: no [[rule]] entries")
    return QuestionRules(tuple(rules), tuple(excludes))


@lru_cache(maxsize=8)
def load_rules(path: str | Path | None = None) -> QuestionRules:
    """The packaged rules, or those of a TOML file with the same shape."""
    if path is None:
        raw = resources.files("govweibo.text").joinpath("data/questions.toml").read_text("utf-8")
        where = "questions.toml"
    else:
        try:
            raw = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read question rules {path}: {exc}") from None
        where = str(path)
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return _parse(doc, where)


def is_question(text: str | None, rules: QuestionRules | None = None) -> bool:
    return (rules or load_rules()).is_question(text)


def question_reason(text: str | None, rules: QuestionRules | None = None) -> str | None:
    return (rules or load_rules()).reason(text)


def detect_many(
    texts: Iterable[str | None] | Sequence[str | None], rules: QuestionRules | None = None
) -> list[bool]:
    """is_question over many texts (one rule set, compiled once)."""
    r = rules or load_rules()
    return [r.reason(t) is not None for t in texts]
