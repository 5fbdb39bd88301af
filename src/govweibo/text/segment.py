"""Word segmentation: rjieba (the Rust jieba-rs) with govweibo's user dictionary.

``rjieba.Jieba.add_word(word, None, None)`` gives each user word the frequency jieba-rs
suggests for keeping it whole, which is what ``jieba.load_userdict`` does for words listed
without a frequency. Emoticons (``[哈哈]``) and topics (``#话题#``) are cut out before the
segmenter sees the text, so each stays one token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from govweibo.text.normalise import MARKERS, NormalisedText, normalise

if TYPE_CHECKING:
    import rjieba

__all__ = ["cut", "segmenter", "stopwords", "tokenize_many", "tokens", "user_words"]

_PUNCT = re.compile(r"[\W_]+")  # fullmatch: nothing but punctuation, symbols or space
_DATA = resources.files("govweibo.text") / "data"
# Optional prefecture table another module may ship; used only if present.
_DIVISIONS = Path(__file__).resolve().parent.parent / "reference" / "data" / "divisions.csv"


def _read_lines(name: str) -> list[str]:
    text = (_DATA / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def user_words() -> list[tuple[str, int | None]]:
    """(word, frequency or None) from ``data/userdict.txt`` and the reference tables."""
    out: list[tuple[str, int | None]] = []
    for line in _read_lines("userdict.txt"):
        if line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        freq = rest.split()[0] if rest.split() else ""
        out.append((word, int(freq) if freq.isdigit() else None))
    out.extend((w, None) for w in _reference_names())
    return out


def _reference_names() -> list[str]:
    import csv

    names: list[str] = []
    ref = resources.files("govweibo.reference") / "data"
    paths = [ref / "provinces.csv"]
    if _DIVISIONS.is_file():
        paths.append(_DIVISIONS)  # type: ignore[arg-type]
    for path in paths:
        try:
            with path.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    names.extend(
                        v.strip() for k in ("name_zh", "short_zh") if len(v := row.get(k) or "") > 1
                    )
        except (OSError, csv.Error):
            continue  # the user dictionary already lists every province and prefecture
    return names


@lru_cache(maxsize=1)
def segmenter() -> rjieba.Jieba:
    """The shared rjieba instance with the user dictionary loaded (built once)."""
    import rjieba

    jb = rjieba.Jieba()
    for word, freq in user_words():
        jb.add_word(word, freq, None)
    return jb


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Chinese stop words: stopwords-iso ``zh`` plus a few Weibo interface strings."""
    return frozenset(_read_lines("stopwords_zh.txt"))


def cut(text: str) -> list[str]:
    """Plain segmentation of ``text`` (no normalisation, nothing dropped)."""
    return segmenter().cut(text) if text else []


def _raw_tokens(text: str, out: list[str]) -> None:
    jb = segmenter()
    if not ("#" in text or "[" in text or "@" in text or "http" in text or "t.cn" in text):
        out.extend(jb.cut(text))  # no marker can match
        return
    pos = 0
    for m in MARKERS.finditer(text):
        if m.start() > pos:
            out.extend(jb.cut(text[pos : m.start()]))
        kind = m.lastgroup
        if kind == "topic":
            name = m.group("topic").strip()
            if name:
                out.append(f"#{name}#")
        elif kind == "emoticon":
            out.append(m.group(0))
        pos = m.end()  # URLs and mentions are dropped
    if pos < len(text):
        out.extend(jb.cut(text[pos:]))


def tokens(
    text: str | NormalisedText | None,
    *,
    drop_stopwords: bool = True,
    include_chain: bool = False,
) -> list[str]:
    """Words of a post's own text, lower-cased; ``#话题#`` and ``[表情]`` kept whole.

    Punctuation, whitespace, URLs and @mentions are dropped; with ``include_chain`` the
    texts of the ``//@`` repost chain are added after the author's own words.
    """
    nt = text if isinstance(text, NormalisedText) else normalise(text)
    raw: list[str] = []
    _raw_tokens(nt.own.lower(), raw)
    if include_chain:
        for _, chained in nt.repost_chain:
            _raw_tokens(chained.lower(), raw)
    drop = stopwords() if drop_stopwords else frozenset()
    fullmatch = _PUNCT.fullmatch
    return [t for t in raw if t not in drop and fullmatch(t) is None]


def tokenize_many(
    texts: Sequence[str | NormalisedText | None],
    *,
    drop_stopwords: bool = True,
    include_chain: bool = False,
) -> list[list[str]]:
    """:func:`tokens` for a batch."""
    segmenter()
    return [tokens(t, drop_stopwords=drop_stopwords, include_chain=include_chain) for t in texts]
