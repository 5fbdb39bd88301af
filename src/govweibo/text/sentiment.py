"""Polarity (positive / negative / neutral) with a score in [-1, 1].

A logistic regression over sublinear TF-IDF features (character 1-3-grams, rjieba words and
Weibo emoticons) plus four dense features: three from a hand-written lexicon with negators
and degree adverbs (``data/sentiment_lexicon.toml``) and the score of a "distant" model
learnt from CED reposts labelled by their emoticons. Trained by
``scripts/train_sentiment.py``; the model ships as plain arrays in
``data/sentiment_model.npz`` (read with ``allow_pickle=False``); inference here is pure
Python + numpy, scikit-learn is needed only to train. See docs/opinion.md.

Bring your own model: the ``sentiment_model`` setting may name a folder with an ONNX
classifier (:mod:`govweibo.text.onnx_model`); :func:`score` then takes P(positive) −
P(negative) from it, its class names mapped to polarity by :func:`polarity_of`.
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
import pyarrow as pa

from govweibo.errors import ConfigError, IngestError, NotFoundError
from govweibo.text.normalise import EMOTICON, NormalisedText, normalise
from govweibo.text.onnx_model import TextModel, configured, load_onnx
from govweibo.text.segment import segmenter

__all__ = [
    "EvalDataError",
    "EvalResult",
    "LABELS",
    "Lexicon",
    "LinearTfidf",
    "NEUTRAL_BAND",
    "SCORE_SCHEMA",
    "Sentiment",
    "SentimentModel",
    "default_model",
    "evaluate",
    "features",
    "is_holdout",
    "load_model",
    "model_for",
    "polarity_of",
    "score",
    "score_batch",
    "sentiment_text",
]

Label = Literal["positive", "negative", "neutral"]
LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")
# |score| below this is called neutral. A convention: the training data has no neutral class.
NEUTRAL_BAND = 0.2
MODEL_FILE = "sentiment_model.npz"
LEXICON_FILE = "sentiment_lexicon.toml"

_POLARITY: dict[str, Label | None] = {
    "like": "positive",
    "happiness": "positive",
    "sadness": "negative",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "surprise": None,  # no polarity: skipped
    # Other emotion sets' names: GoEmotions (Demszky et al. 2020) and SMP2020-EWECT.
    "optimism": "positive",
    "gratitude": "positive",
    "joy": "positive",
    "love": "positive",
    "happy": "positive",
    "sad": "negative",
    "angry": "negative",
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
    return _featurise(clean)[0]


def _featurise(clean: str) -> tuple[list[str], list[str]]:
    """(feature strings, rjieba words) of a cleaned text: the words once, for both uses."""
    s = clean.lower()
    n = len(s)
    out = list(s)
    out += [s[i : i + 2] for i in range(n - 1)]
    out += [s[i : i + 3] for i in range(n - 2)]
    words = [w for w in segmenter().cut(s) if not w.isspace()]
    out += ["w:" + w for w in words]
    if "[" in s:
        out += ["e:" + e for e in EMOTICON.findall(s)]
    return out, words


@dataclass(frozen=True)
class Lexicon:
    """Polar words, negators and degree adverbs (data/sentiment_lexicon.toml)."""

    polarity: dict[str, float]
    negations: frozenset[str]
    degree: dict[str, float]
    # How many words before a polar word are searched for negators and degree adverbs.
    window: int = 3

    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        import tomllib

        if path is None:
            with resources.as_file(resources.files("govweibo.text") / "data" / LEXICON_FILE) as p:
                raw = tomllib.loads(p.read_text(encoding="utf-8"))
        else:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        pol = {w: 1.0 for w in raw["positive"]} | {w: -1.0 for w in raw["negative"]}
        return cls(
            pol, frozenset(raw["negations"]), {k: float(v) for k, v in raw["degree"].items()}
        )

    def features(self, words: Sequence[str]) -> tuple[float, float, float]:
        """(tanh(sum / 2), log(1 + positive mass), log(1 + negative mass)) of a word list:
        each polar word is +-1, times the degree adverbs in the window before it, and
        flipped by an odd number of negators there."""
        total = pos = neg = 0.0
        for i, w in enumerate(words):
            v = self.polarity.get(w)
            if v is None:
                continue
            before = words[max(0, i - self.window) : i]
            for x in before:
                if x in self.negations:
                    v = -v
                v *= self.degree.get(x, 1.0)
            total += v
            if v > 0:
                pos += v
            else:
                neg -= v
        return float(np.tanh(total / 2.0)), float(np.log1p(pos)), float(np.log1p(neg))

    def arrays(self) -> dict[str, np.ndarray]:
        """The lexicon as plain arrays, for the model file."""
        return {
            "lex_words": np.asarray(list(self.polarity), dtype=np.str_),
            "lex_values": np.asarray(list(self.polarity.values()), dtype=np.float64),
            "lex_negations": np.asarray(sorted(self.negations), dtype=np.str_),
            "lex_degree_words": np.asarray(list(self.degree), dtype=np.str_),
            "lex_degree_values": np.asarray(list(self.degree.values()), dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, z: Any) -> Lexicon:
        return cls(
            dict(zip(z["lex_words"].tolist(), z["lex_values"].tolist(), strict=True)),
            frozenset(z["lex_negations"].tolist()),
            dict(zip(z["lex_degree_words"].tolist(), z["lex_degree_values"].tolist(), strict=True)),
        )


@dataclass(frozen=True)
class LinearTfidf:
    """A linear model over sublinear TF-IDF (l2-normalised) of feature strings, as
    scikit-learn's TfidfVectorizer(sublinear_tf=True) + a linear classifier compute it."""

    index: dict[str, int]
    idf: np.ndarray
    weight: np.ndarray  # idf * coef
    intercept: float

    @classmethod
    def from_arrays(
        cls, feats: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: float
    ) -> LinearTfidf:
        idf64 = np.asarray(idf, dtype=np.float64)
        weight = idf64 * np.asarray(coef, dtype=np.float64)
        return cls({f: i for i, f in enumerate(feats)}, idf64, weight, float(intercept))


@dataclass(frozen=True)
class SentimentModel:
    """The polarity model: a linear model over TF-IDF of the text's features, plus dense
    features (the lexicon's three, then the distant model's tanh(z / 2)) with their own
    weights. Either part of the dense features may be absent (format 1 has none)."""

    main: LinearTfidf
    lexicon: Lexicon | None = None
    distant: LinearTfidf | None = None
    dense_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    meta: dict[str, Any] = field(default_factory=dict)
    # Built from the parts above by __post_init__.
    _union: dict[str, int] = field(init=False, repr=False, compare=False)
    _tables: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One vocabulary for the main and the distant model, so each feature of a text is
        # looked up once; a feature absent from a model has idf and weight 0 there, which is
        # what scikit-learn's vectoriser does with a word it does not know.
        union = dict(self.main.index)
        parts = [self.main] if self.distant is None else [self.main, self.distant]
        for part in parts[1:]:
            for f in part.index:
                union.setdefault(f, len(union))
        tables = np.zeros((len(parts), 2, len(union)))
        for k, part in enumerate(parts):
            ids = np.fromiter((union[f] for f in part.index), np.int64, len(part.index))
            order = np.fromiter(part.index.values(), np.int64, len(part.index))
            tables[k, 0, ids] = part.idf[order]
            tables[k, 1, ids] = part.weight[order]
        object.__setattr__(self, "_union", union)
        object.__setattr__(self, "_tables", tables)

    @property
    def index(self) -> dict[str, int]:
        return self.main.index

    def _parts(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(w . x per model (main, then distant) and text, whether the main model knows
        any feature of the text), intercepts left out."""
        get = self._union.get
        ids: list[int] = []
        rows: list[int] = []
        for d, feats in enumerate(docs):
            hit = [i for i in map(get, feats) if i is not None]
            ids += hit
            rows += [d] * len(hit)
        tables = self._tables
        out = np.zeros((len(tables), len(docs)))
        if not ids:
            return out, np.zeros(len(docs), dtype=bool)
        nfeat = tables.shape[2]
        keys, counts = np.unique(np.asarray(rows, np.int64) * nfeat + ids, return_counts=True)
        doc, feat = np.divmod(keys, nfeat)
        tf = 1.0 + np.log(counts)
        has = np.zeros(len(docs), dtype=bool)
        for k in range(len(tables)):
            v = tf * tables[k, 0, feat]
            norm = np.sqrt(np.bincount(doc, v * v, minlength=len(docs)))
            dot = np.bincount(doc, tf * tables[k, 1, feat], minlength=len(docs))
            ok = norm > 0
            out[k, ok] = dot[ok] / norm[ok]
            if k == 0:
                has = ok
        return out, has

    def _dense(self, parts: np.ndarray, words: Sequence[Sequence[str]]) -> np.ndarray:
        cols: list[np.ndarray] = []
        if self.lexicon is not None:
            lex = self.lexicon
            cols.append(np.array([lex.features(w) for w in words]).reshape(len(words), 3))
        if self.distant is not None:
            cols.append(np.tanh((parts[1] + self.distant.intercept) / 2.0)[:, None])
        return np.hstack(cols) if cols else np.zeros((len(words), 0))

    def dense_features(self, cleans: Sequence[str]) -> np.ndarray:
        """The dense features of cleaned texts (texts x dense), in the order of
        `dense_weight`: the lexicon's three, then the distant model's tanh(z / 2)."""
        pairs = [_featurise(c) if c else ([], []) for c in cleans]
        parts, _ = self._parts([f for f, _ in pairs])
        return self._dense(parts, [w for _, w in pairs])

    def decisions(self, cleans: Sequence[str]) -> np.ndarray:
        """Logits z for cleaned texts; 0.0 for a text with no known feature (neutral)."""
        pairs = [_featurise(c) if c else ([], []) for c in cleans]
        parts, has = self._parts([f for f, _ in pairs])
        z = parts[0] + self.main.intercept
        if len(self.dense_weight):
            z += self._dense(parts, [w for _, w in pairs]) @ self.dense_weight
        z[~has] = 0.0
        return z

    def decision(self, clean: str) -> float:
        return float(self.decisions([clean])[0])

    # The TextModel interface (govweibo.text.onnx_model), so the shipped model and a
    # user's ONNX model are interchangeable where only probabilities are needed.
    @property
    def labels(self) -> tuple[str, ...]:
        return ("negative", "positive")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """[P(negative), P(positive)] per raw text; 0.5 each for a text with no known feature."""
        p = 1.0 / (1.0 + np.exp(-self.decisions([sentiment_text(t) for t in texts])))
        return np.column_stack([1.0 - p, p])

    @classmethod
    def from_arrays(
        cls,
        feats: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: float,
        meta: dict[str, Any] | None = None,
        *,
        lexicon: Lexicon | None = None,
        distant: LinearTfidf | None = None,
        dense_weight: np.ndarray | None = None,
    ) -> SentimentModel:
        main = LinearTfidf.from_arrays(feats, idf, coef, intercept)
        dw = np.zeros(0) if dense_weight is None else np.asarray(dense_weight, np.float64)
        want = (3 if lexicon is not None else 0) + (1 if distant is not None else 0)
        if len(dw) != want:
            raise ValueError(f"sentiment model: {len(dw)} dense weights for {want} features")
        return cls(main, lexicon, distant, dw, dict(meta or {}))

    @classmethod
    def load(cls, path: str | Path) -> SentimentModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            lexicon = Lexicon.from_arrays(z) if "lex_words" in z.files else None
            distant = None
            if "distant_features" in z.files:
                distant = LinearTfidf.from_arrays(
                    z["distant_features"].tolist(),
                    z["distant_idf"],
                    z["distant_coef"],
                    float(z["distant_intercept"]),
                )
            return cls.from_arrays(
                z["features"].tolist(),
                z["idf"],
                z["coef"],
                float(z["intercept"]),
                meta,
                lexicon=lexicon,
                distant=distant,
                dense_weight=z["dense_coef"] if "dense_coef" in z.files else None,
            )


def save_model(
    path: str | Path,
    feats: Sequence[str],
    idf: np.ndarray,
    coef: np.ndarray,
    intercept: float,
    meta: dict[str, Any],
    *,
    lexicon: Lexicon | None = None,
    distant: tuple[Sequence[str], np.ndarray, np.ndarray, float] | None = None,
    dense_coef: np.ndarray | None = None,
) -> None:
    """Write the arrays the runtime needs (no pickled objects)."""
    arrays: dict[str, np.ndarray] = {
        "features": np.asarray(feats, dtype=np.str_),
        "idf": np.asarray(idf, dtype=np.float32),
        "coef": np.asarray(coef, dtype=np.float32),
        "intercept": np.asarray(intercept, dtype=np.float64),
        "meta": np.asarray(json.dumps(meta, ensure_ascii=False, sort_keys=True)),
    }
    if lexicon is not None:
        arrays |= lexicon.arrays()
    if distant is not None:
        dfeats, didf, dcoef, dint = distant
        arrays |= {
            "distant_features": np.asarray(dfeats, dtype=np.str_),
            "distant_idf": np.asarray(didf, dtype=np.float32),
            "distant_coef": np.asarray(dcoef, dtype=np.float32),
            "distant_intercept": np.asarray(dint, dtype=np.float64),
        }
    if dense_coef is not None:
        arrays["dense_coef"] = np.asarray(dense_coef, dtype=np.float64)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> SentimentModel:
    """The shipped model, or one at ``path``; cached."""
    if path is not None:
        return SentimentModel.load(path)
    with resources.as_file(resources.files("govweibo.text") / "data" / MODEL_FILE) as p:
        if not p.is_file():
            raise NotFoundError(f"sentiment model missing: {p} (run scripts/train_sentiment.py)")
        return SentimentModel.load(p)


def model_for(folder: str | Path | None) -> SentimentModel | TextModel:
    """The shipped model for an empty setting, else the ONNX model in ``folder``."""
    folder = str(folder or "").strip()
    return load_onnx(folder) if folder else load_model()


def default_model() -> SentimentModel | TextModel:
    """The model the ``sentiment_model`` setting names (env or config file), else the shipped one."""
    return configured("sentiment_model") or load_model()


def _polarity_columns(labels: Sequence[str]) -> tuple[list[int], list[int]]:
    pos: list[int] = []
    neg: list[int] = []
    for i, name in enumerate(labels):
        try:
            pol = polarity_of(name)
        except KeyError:
            raise ConfigError(
                f"sentiment model label {name!r} has no polarity; use {sorted(_POLARITY)}"
            ) from None
        (pos if pol == "positive" else neg if pol == "negative" else []).append(i)
    if not pos or not neg:
        raise ConfigError(
            f"sentiment model labels {tuple(labels)}: need a positive and a negative class"
        )
    return pos, neg


def _scores(
    m: SentimentModel | TextModel, texts: Sequence[str | NormalisedText | None]
) -> np.ndarray:
    """Polarity scores in [-1, 1]: tanh(z / 2) for the shipped model, P(pos) - P(neg) for
    another; 0 for a text with nothing to score."""
    cleans = [sentiment_text(t) for t in texts]
    if isinstance(m, SentimentModel):
        return np.asarray(np.tanh(m.decisions(cleans) / 2.0))
    pos, neg = _polarity_columns(m.labels)
    out = np.zeros(len(cleans))
    todo = [i for i, c in enumerate(cleans) if c]
    if todo:
        p = m.predict_proba([cleans[i] for i in todo])
        out[todo] = p[:, pos].sum(axis=1) - p[:, neg].sum(axis=1)
    return out


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
    model: SentimentModel | TextModel | None = None,
) -> list[Sentiment]:
    """Score every text; empty or unknown-only text gets ``neutral`` with score 0.

    ``model=None`` is :func:`default_model` (the ``sentiment_model`` setting, else the
    shipped model)."""
    m = model if model is not None else default_model()
    return [Sentiment(_label(s, neutral_band), s) for s in _scores(m, texts).tolist()]


SCORE_SCHEMA = pa.schema([("label", pa.string()), ("score", pa.float64())])


def score_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`score` of a batch's `text` column as (label, score) rows, one per input row.

    The batch function of `store.engines.map_batches`: module-level, so Spark's Python
    workers import it by name rather than unpickling a copy of the model with it.
    """
    scored = score(batch.column("text").to_pylist())
    return pa.RecordBatch.from_arrays(
        [
            pa.array([s.label for s in scored], pa.string()),
            pa.array([s.score for s in scored], pa.float64()),
        ],
        schema=SCORE_SCHEMA,
    )


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
    path: str | Path,
    *,
    neutral_band: float | None = None,
    model: SentimentModel | TextModel | None = None,
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
