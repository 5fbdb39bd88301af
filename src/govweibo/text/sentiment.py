"""Polarity (positive / negative / neutral) with a score in [-1, 1].

A logistic regression over sublinear TF-IDF features (character 1-3-grams, rjieba words and
Weibo emoticons) trained by ``scripts/train_sentiment.py``. The model ships as plain arrays
in ``data/sentiment_model.npz`` (read with ``allow_pickle=False``); inference here is pure
Python + numpy, scikit-learn is needed only to train. See docs/opinion.md.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from govweibo.errors import IngestError, NotFoundError
from govweibo.text.normalise import EMOTICON, NormalisedText, normalise
from govweibo.text.segment import segmenter

__all__ = [
    "EvalDataError",
    "EvalResult",
    "LABELS",
    "NEUTRAL_BAND",
    "Sentiment",
    "SentimentModel",
    "evaluate",
    "features",
    "is_holdout",
    "load_model",
    "polarity_of",
    "score",
    "sentiment_text",
]

Label = Literal["positive", "negative", "neutral"]
LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")
# |score| below this is called neutral. A convention: the training data has no neutral class.
NEUTRAL_BAND = 0.2
MODEL_FILE = "sentiment_model.npz"

_POLARITY: dict[str, Label | None] = {
    "like": "positive",
    "happiness": "positive",
    "sadness": "negative",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "surprise": None,  # no polarity: skipped
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
}
_EMPTY_REPOST = frozenset({"转发微博", "转发", "repost", "轉發微博"})


class EvalDataError(IngestError):
    """A line of a labelled evaluation file is malformed."""


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    score: float  # tanh(z / 2) = 2 P(positive) - 1, in [-1, 1]


def polarity_of(label: str) -> Label | None:
    """Polarity for an emotion or polarity name; None for surprise; KeyError if unknown."""
    return _POLARITY[label.strip().lower()]


def is_holdout(content: str) -> bool:
    """The fixed held-out fifth of a labelled set: CRC-32 of the UTF-8 text mod 5 == 0."""
    return zlib.crc32(content.encode("utf-8")) % 5 == 0


def sentiment_text(text: str | NormalisedText | None) -> str:
    """What is scored: the author's clean words, else (a bare repost) the chain's words."""
    nt = text if isinstance(text, NormalisedText) else normalise(text)
    if nt.clean and nt.clean.lower() not in _EMPTY_REPOST:
        return nt.clean
    if nt.repost_chain:
        return normalise(" ".join(t for _, t in nt.repost_chain)).clean
    return ""


def features(clean: str) -> list[str]:
    """Feature strings of a cleaned text: chars 1-3-grams, ``w:`` words, ``e:`` emoticons."""
    s = clean.lower()
    n = len(s)
    out = list(s)
    out += [s[i : i + 2] for i in range(n - 1)]
    out += [s[i : i + 3] for i in range(n - 2)]
    out += ["w:" + w for w in segmenter().cut(s) if not w.isspace()]
    if "[" in s:
        out += ["e:" + e for e in EMOTICON.findall(s)]
    return out


@dataclass(frozen=True)
class SentimentModel:
    """Vocabulary index, idf and idf * coef per feature, intercept and training notes."""

    index: dict[str, int]
    idf: np.ndarray
    weight: np.ndarray  # idf * coef
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)

    def decisions(self, cleans: Sequence[str]) -> np.ndarray:
        """Logits z for cleaned texts; 0.0 for a text with no known feature (neutral)."""
        get = self.index.get
        ids: list[int] = []
        docs: list[int] = []
        for d, clean in enumerate(cleans):
            if not clean:
                continue
            hit = [i for i in map(get, features(clean)) if i is not None]
            ids += hit
            docs += [d] * len(hit)
        out = np.zeros(len(cleans))
        if not ids:
            return out
        # sublinear TF-IDF, l2-normalised per text, dotted with coef (as scikit-learn does)
        nfeat = len(self.idf)
        keys, counts = np.unique(np.asarray(docs, np.int64) * nfeat + ids, return_counts=True)
        doc, feat = np.divmod(keys, nfeat)
        tf = 1.0 + np.log(counts)
        v = tf * self.idf[feat]
        norm = np.sqrt(np.bincount(doc, v * v, minlength=len(cleans)))
        dot = np.bincount(doc, tf * self.weight[feat], minlength=len(cleans))
        has = norm > 0
        out[has] = dot[has] / norm[has] + self.intercept
        return out

    def decision(self, clean: str) -> float:
        return float(self.decisions([clean])[0])

    @classmethod
    def from_arrays(
        cls,
        feats: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: float,
        meta: dict[str, Any] | None = None,
    ) -> SentimentModel:
        idf64 = np.asarray(idf, dtype=np.float64)
        weight = idf64 * np.asarray(coef, dtype=np.float64)
        index = {f: i for i, f in enumerate(feats)}
        return cls(index, idf64, weight, float(intercept), dict(meta or {}))

    @classmethod
    def load(cls, path: str | Path) -> SentimentModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls.from_arrays(
                z["features"].tolist(), z["idf"], z["coef"], float(z["intercept"]), meta
            )


def save_model(
    path: str | Path,
    feats: Sequence[str],
    idf: np.ndarray,
    coef: np.ndarray,
    intercept: float,
    meta: dict[str, Any],
) -> None:
    """Write the arrays the runtime needs (no pickled objects)."""
    np.savez_compressed(
        path,
        features=np.asarray(feats, dtype=np.str_),
        idf=np.asarray(idf, dtype=np.float32),
        coef=np.asarray(coef, dtype=np.float32),
        intercept=np.asarray(intercept, dtype=np.float64),
        meta=np.asarray(json.dumps(meta, ensure_ascii=False, sort_keys=True)),
    )


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> SentimentModel:
    """The shipped model, or one at ``path``; cached."""
    if path is not None:
        return SentimentModel.load(path)
    with resources.as_file(resources.files("govweibo.text") / "data" / MODEL_FILE) as p:
        if not p.is_file():
            raise NotFoundError(f"sentiment model missing: {p} (run scripts/train_sentiment.py)")
        return SentimentModel.load(p)


def _label(s: float, band: float) -> Label:
    if s > band:
        return "positive"
    if s < -band:
        return "negative"
    return "neutral"


def score(
    texts: Sequence[str | NormalisedText | None],
    *,
    neutral_band: float = NEUTRAL_BAND,
    model: SentimentModel | None = None,
) -> list[Sentiment]:
    """Score every text; empty or unknown-only text gets ``neutral`` with score 0."""
    m = model or load_model()
    z = m.decisions([sentiment_text(t) for t in texts])
    return [Sentiment(_label(s, neutral_band), s) for s in np.tanh(z / 2.0).tolist()]


@dataclass(frozen=True)
class EvalResult:
    path: str
    n: int  # scored lines
    skipped: int  # lines whose label has no polarity (surprise)
    accuracy: float
    macro_f1: float  # over the gold classes present
    labels: tuple[str, ...]  # order of the confusion matrix rows / columns
    confusion: tuple[tuple[int, ...], ...]  # rows gold, columns predicted
    gold_counts: dict[str, int]
    predicted_counts: dict[str, int]
    neutral_band: float

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_labelled(path: str | Path) -> tuple[list[str], list[Label], int]:
    """(contents, polarity labels, skipped count) of a ``{"content", "label"}`` JSON-lines file."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"{p}: no such file")
    contents: list[str] = []
    gold: list[Label] = []
    skipped = 0
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"{p}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise EvalDataError(f"{p}:{lineno}: expected a JSON object")
            content, label = rec.get("content"), rec.get("label")
            if not isinstance(content, str) or not isinstance(label, str):
                raise EvalDataError(f"{p}:{lineno}: needs string fields 'content' and 'label'")
            try:
                pol = polarity_of(label)
            except KeyError:
                raise EvalDataError(f"{p}:{lineno}: unknown label {label!r}") from None
            if pol is None:
                skipped += 1
                continue
            contents.append(content)
            gold.append(pol)
    return contents, gold, skipped


def metrics(
    gold: Sequence[str], pred: Sequence[str]
) -> tuple[float, float, tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """Accuracy, macro-F1 over gold classes, label order and confusion matrix."""
    labels = tuple(lb for lb in LABELS if lb in set(gold) | set(pred))
    idx: dict[str, int] = {lb: i for i, lb in enumerate(labels)}
    cm = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        cm[idx[g]][idx[p]] += 1
    n = len(gold)
    acc = sum(cm[i][i] for i in range(len(labels))) / n if n else 0.0
    f1s = []
    for lb in labels:
        if lb not in gold:
            continue
        i = idx[lb]
        tp = cm[i][i]
        col = sum(row[i] for row in cm)
        row_sum = sum(cm[i])
        f1s.append(2 * tp / (col + row_sum) if col + row_sum else 0.0)
    macro = sum(f1s) / len(f1s) if f1s else 0.0
    return acc, macro, labels, tuple(tuple(r) for r in cm)


def evaluate(
    path: str | Path, *, neutral_band: float | None = None, model: SentimentModel | None = None
) -> EvalResult:
    """Score a labelled JSON-lines file (emotion names or polarity labels; surprise skipped).

    ``neutral_band=None`` uses 0 when the gold labels have no neutral class (every scored
    text is then called by the sign of its score) and :data:`NEUTRAL_BAND` otherwise.
    """
    contents, gold, skipped = read_labelled(path)
    band = neutral_band
    if band is None:
        band = NEUTRAL_BAND if "neutral" in gold else 0.0
    pred = [s.label for s in score(contents, neutral_band=band, model=model)]
    acc, macro, labels, cm = metrics(gold, pred)
    return EvalResult(
        path=str(path),
        n=len(gold),
        skipped=skipped,
        accuracy=acc,
        macro_f1=macro,
        labels=labels,
        confusion=cm,
        gold_counts=dict(Counter(gold)),
        predicted_counts=dict(Counter(pred)),
        neutral_band=band,
    )
