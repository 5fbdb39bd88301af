"""Normalise a Weibo post and split it into the author's words, repost chain and markers.

Steps, in order: traditional -> simplified Chinese (OpenCC tables, via the pure-Python
``opencc-python-reimplemented``), full-width ASCII letters/digits/symbols -> half-width
(Chinese punctuation ，！？：；（） and 。、 kept), whitespace collapsed, then the split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "EMOTICON",
    "MARKERS",
    "NormalisedText",
    "normalise",
    "normalise_many",
    "to_simplified",
    "to_halfwidth",
]


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """One post after normalisation. Sequences are tuples so the value stays immutable."""

    text: str  # whole post, simplified, half-width, whitespace collapsed
    own: str  # the author's own words: what precedes the first ``//@``
    repost_chain: tuple[tuple[str, str], ...]  # (screen_name, text) per ``//@name: text``
    mentions: tuple[str, ...]  # @names in the own words, in order, repeats kept
    topics: tuple[str, ...]  # ``#话题#`` names in the own words
    urls: tuple[str, ...]  # http(s) and bare t.cn links in the own words
    emoticons: tuple[str, ...]  # ``[哈哈]``-style codes in the own words
    clean: str  # own words without URLs and mentions, topic words unwrapped, emoticons kept

    @property
    def is_empty(self) -> bool:
        return not self.text


EMPTY = NormalisedText("", "", (), (), (), (), (), "")

# Full-width forms U+FF01..FF5E map to ASCII by -0xFEE0; these stay as Chinese punctuation.
_KEEP_FULLWIDTH = set("，！？：；（）")
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULLWIDTH}
_HALFWIDTH[0x3000] = 0x20  # ideographic space
_HAS_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_WS = re.compile(r"\s+")

# A screen name: letters (any script), digits, '_' or '-', up to 30 characters.
_NAME = r"[\w\-]{1,30}"
_CHAIN = re.compile(r"//\s?@(" + _NAME + r")\s*[:：]?\s*")
# A Weibo emoticon code: 1-8 non-space characters in [], at least one a letter.
_EMOTICON = r"\[(?=[^\]]*[^\W\d_])[^\[\]\s]{1,8}\]"
# One pass over the own words, leftmost match wins, alternatives in priority order.
MARKERS = re.compile(
    r"(?P<url>https?://[^\s\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e\"'<>]+"
    r"|(?<![\w.])t\.cn/[A-Za-z0-9]+)"
    r"|(?<![A-Za-z0-9])#(?P<topic>[^#\n]{1,64}?)#"
    r"|(?<![A-Za-z0-9._%+\-])@(?P<mention>" + _NAME + r")"
    r"|(?P<emoticon>" + _EMOTICON + ")"
)
EMOTICON = re.compile(_EMOTICON)


@lru_cache(maxsize=1)
def _t2s() -> tuple[object, dict[int, str], frozenset[str], re.Pattern[str]]:
    """OpenCC t2s, its one-character table, phrase-only characters and a phrase regex."""
    import opencc

    converter = opencc.OpenCC("t2s")
    base = Path(opencc.__file__).parent / "dictionary"
    chars: dict[int, str] = {}
    phrase_chars: set[str] = set()
    phrases: list[str] = []
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            src, _, dst = line.partition("\t")
            dst = dst.split(" ")[0]
            if len(src) > 1:  # identity phrases matter too: they shield characters
                phrases.append(src)
                phrase_chars.update(src)
            elif src != dst:
                chars[ord(src)] = dst
    pattern = re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))
    return converter, chars, frozenset(phrase_chars), pattern


@lru_cache(maxsize=1)
def _solo_chars() -> frozenset[str]:
    return frozenset(map(chr, _t2s()[1]))


def to_simplified(text: str) -> str:
    """Traditional -> simplified as OpenCC t2s does; the full converter runs only when a
    multi-character phrase entry occurs, otherwise a one-character table is applied."""
    converter, chars, phrase_chars, phrases = _t2s()
    if phrase_chars.isdisjoint(text) or phrases.search(text) is None:
        if _solo_chars().isdisjoint(text):
            return text
        return text.translate(chars)
    return converter.convert(text)  # type: ignore[attr-defined, no-any-return]


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms and U+3000 to half-width; ，！？：；（） kept."""
    if _HAS_FULLWIDTH.search(text) is None:
        return text
    return text.translate(_HALFWIDTH)


def _split_chain(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = _CHAIN.split(text)
    # split() with one group: [own, name1, text1, name2, text2, ...]
    own = parts[0].strip()
    chain = tuple((parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2))
    return own, chain


def normalise(text: str | None) -> NormalisedText:
    """Normalise one post; ``None`` or blank text gives an empty value."""
    if not text:
        return EMPTY
    flat = _WS.sub(" ", to_halfwidth(to_simplified(text))).strip()
    if not flat:
        return EMPTY
    own, chain = _split_chain(flat) if "//" in flat else (flat, ())
    if not ("#" in own or "@" in own or "[" in own or "http" in own or "t.cn" in own):
        return NormalisedText(flat, own, chain, (), (), (), (), own)
    mentions: list[str] = []
    topics: list[str] = []
    urls: list[str] = []
    emoticons: list[str] = []
    pieces: list[str] = []
    pos = 0
    for m in MARKERS.finditer(own):
        pieces.append(own[pos : m.start()])
        pos = m.end()
        kind = m.lastgroup
        if kind == "url":
            url = m.group(0).rstrip(".,;:!?)'")
            urls.append(url)
            pieces.append(" " + m.group(0)[len(url) :])
        elif kind == "topic":
            name = m.group("topic").strip()
            if name:
                topics.append(name)
                pieces.append(f" {name} ")
        elif kind == "mention":
            mentions.append(m.group("mention"))
            pieces.append(" ")
        else:
            emoticons.append(m.group(0))
            pieces.append(m.group(0))
    pieces.append(own[pos:])
    clean = _WS.sub(" ", "".join(pieces)).strip()
    return NormalisedText(
        flat, own, chain, tuple(mentions), tuple(topics), tuple(urls), tuple(emoticons), clean
    )


def normalise_many(texts: Sequence[str | None]) -> list[NormalisedText]:
    """Normalise a batch (same result as calling :func:`normalise` on each)."""
    _t2s()  # load the tables once, outside the loop
    return [normalise(t) for t in texts]
