"""Stance of a post towards the claim it carries: asserts, denies, questions or neutral.

A debunk (【辟谣】…消息不实), a clarification or a police notice denies a claim; "真的吗？"
questions it; "扩散！" or a news report asserts it; "好可怜[泪]" or a bare "转发微博" of
nothing in particular is neutral. The labels are RumourEval's SDQC (support, deny, query,
comment; Zubiaga et al. 2016) under names that read better here.

The rules are data (`data/stance.toml`): ordered regular expressions, the first match wins
and names the cue. The post's *own words* (before the first ``//@``, see
:mod:`govweibo.text.normalise`) decide; when they are bare (empty or only 转发微博), the
reposted chain is read nearest link first, so a bare repost of a debunk denies. See
docs/stance.md for the labelled set, the split and the figures.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from govweibo.errors import ConfigError
from govweibo.text.normalise import NormalisedText, normalise

__all__ = [
    "LABELS",
    "StanceRules",
    "load_rules",
    "stance",
    "stance_normalised",
    "stance_one",
]

Stance = Literal["asserts", "denies", "questions", "neutral"]
LABELS: tuple[Stance, ...] = ("asserts", "denies", "questions", "neutral")
RULES_FILE = "stance.toml"


@dataclass(frozen=True)
class StanceRules:
    rules: tuple[tuple[str, Stance, re.Pattern[str]], ...]
    excludes: tuple[re.Pattern[str], ...]
    bare: re.Pattern[str]
    statement_min_chars: int

    def _match(self, text: str) -> tuple[Stance, str] | None:
        for pat in self.excludes:
            text = pat.sub("", text)
        for name, label, pat in self.rules:
            m = pat.search(text)
            if m is not None:
                return label, f"{name}: {m.group(0).strip() or m.group(0)}"
        return None

    def classify(self, post: NormalisedText) -> tuple[Stance, str]:
        """(label, reason) of one normalised post."""
        if post.is_empty:
            return "neutral", "empty"
        # The own words without mentions and links (an @微博辟谣 mention is not a debunk).
        own = post.clean
        hit = self._match(own)
        if hit is not None:
            return hit
        if self.bare.match(own):
            for name, words in post.repost_chain:
                hit = self._match(normalise(words).clean)
                if hit is not None:
                    return hit[0], f"repost of @{name}: {hit[1]}"
            return "neutral", "bare repost"
        if len(own) >= self.statement_min_chars:
            return "asserts", f"statement: {len(own)} characters"
        return "neutral", "no cue"


def _parse(doc: dict, where: str) -> StanceRules:
    rules: list[tuple[str, Stance, re.Pattern[str]]] = []
    for r in doc.get("rule", []):
        name, label, pattern = r.get("name"), r.get("label"), r.get("pattern")
        if not name or not pattern or label not in LABELS:
            raise ConfigError(
                f"{where}: every [[rule]] needs a name, a pattern and a label in {LABELS}"
            )
        rules.append((str(name), label, _compile(pattern, where, name)))
    if not rules:
        raise ConfigError(f"{where}: no [[rule]] entries")
    excludes = tuple(
        _compile(r["pattern"], where, r.get("name", "?")) for r in doc.get("exclude", [])
    )
    bare = _compile(str(doc.get("bare", r"^\s*$")), where, "bare")
    try:
        min_chars = int(doc.get("statement_min_chars", 10**9))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: statement_min_chars must be an integer") from None
    return StanceRules(tuple(rules), excludes, bare, min_chars)


def _compile(pattern: str, where: str, name: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: stance rule {name!r}: bad pattern: {exc}") from None


@lru_cache(maxsize=8)
def load_rules(path: str | Path | None = None) -> StanceRules:
    """The packaged rules, or those of a TOML file with the same shape."""
    if path is None:
        raw = resources.files("govweibo.text").joinpath(f"data/{RULES_FILE}").read_text("utf-8")
        where = RULES_FILE
    else:
        try:
            raw = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read stance rules {path}: {exc}") from None
        where = str(path)
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return _parse(doc, where)


def stance_one(text: str | None, rules: StanceRules | None = None) -> tuple[Stance, str]:
    """(label, reason) for one raw post text; the reason names the rule and the cue."""
    return (rules or load_rules()).classify(normalise(text))


def stance_normalised(post: NormalisedText, rules: StanceRules | None = None) -> tuple[Stance, str]:
    """(label, reason) for an already normalised post."""
    return (rules or load_rules()).classify(post)


def stance(texts: Sequence[str | None], rules: StanceRules | None = None) -> list[Stance]:
    """The stance label of each text (same as ``stance_one(t)[0]`` for each)."""
    r = rules or load_rules()
    return [r.classify(normalise(t))[0] for t in texts]
