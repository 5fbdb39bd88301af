"""Concerns: what the public says to an account, a sector or a province, and how it differs.

Foreground ("the slice"), by default the public's voice (`voice="public"`): comments on the
slice accounts' posts by others and others' posts that @mention them (as in
`responsiveness.items_expr`), created in the period. Without account, sector or province,
the slice is every public comment (interactions not written by the post's author) and every
post mentioning a known account. `voice="account"` takes the slice accounts' own posts.
Background: every other post and interaction of the period (at most `max_background`,
chosen by a hash of the id so the choice is stable).

Three sections in one table (`section` column):

- `keyword`: tokens (govweibo.text, stopwords dropped, at least `min_token_len` characters;
  #topic# and [emoticon] tokens left to the topic section)
  over-used in the slice, ranked by log-likelihood G2 (Dunning 1993) against the background;
  `log_ratio` = log2 of the relative-frequency ratio (background zero counts as 0.5).
- `topic`: #topics# in the slice, ranked by documents, with G2 against the background.
- `cluster`: NMF (scikit-learn, nndsvda init, seeded) on TF-IDF of the slice's tokens;
  the label is the component's top words, `docs` the documents whose strongest component it
  is, `examples` the texts weighing most on it.

Where it runs: the background is tokenised in Arrow batches on the engine
(`store.engines.map_batches`) and its terms counted there; the slice's own texts come to the
caller, since examples and NMF need every one of them. `slice_sentiment` scores the slice's
texts on the engine too and counts the labels there.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from govweibo.analyses.activity import universe
from govweibo.analyses.addressed import in_period, items_expr, mentions_expr
from govweibo.analyses.base import Period, tables_of
from govweibo.analyses.bursts import topics_of
from govweibo.errors import AnalysisError

Tokenizer = Callable[[Sequence[str]], list[list[str]]]
CONCERNS_SCHEMA = pa.schema(
    [
        ("section", pa.string()),
        ("rank", pa.int64()),
        ("label", pa.string()),
        ("freq", pa.int64()),
        ("docs", pa.int64()),
        ("background_freq", pa.int64()),
        ("g2", pa.float64()),
        ("log_ratio", pa.float64()),
        ("examples", pa.list_(pa.string())),
    ]
)


def g2(a: float, b: float, c: float, d: float) -> float:
    """Log-likelihood G2 of a word seen a times in c foreground tokens, b in d background."""
    e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
    return 2.0 * sum(o * math.log(o / e) for o, e in ((a, e1), (b, e2)) if o > 0)


def keyness(fg: Counter[str], bg: Counter[str], *, min_freq: int = 2, top: int = 30) -> pa.Table:
    """Words over-used in `fg` against `bg`, by G2 (ties: frequency, then the word)."""
    c, d = sum(fg.values()), sum(bg.values())
    rows = []
    for w, a in fg.items():
        b = bg.get(w, 0)
        if a < min_freq or (d and a / c <= b / d):
            continue
        score = g2(a, b, c, d) if d else 0.0
        ratio = math.log2((a / c) / (max(b, 0.5) / d)) if d else None
        rows.append((w, a, b, score, ratio))
    rows.sort(key=lambda r: (-r[3], -r[1], r[0]))
    return pa.table(
        {
            "label": [r[0] for r in rows[:top]],
            "freq": pa.array([r[1] for r in rows[:top]], pa.int64()),
            "background_freq": pa.array([r[2] for r in rows[:top]], pa.int64()),
            "g2": pa.array([r[3] for r in rows[:top]], pa.float64()),
            "log_ratio": pa.array([r[4] for r in rows[:top]], pa.float64()),
        }
    )


def _tokenizer(min_len: int, tokenizer: Tokenizer | None) -> Tokenizer:
    if tokenizer is None:
        from govweibo.text import tokenize_many

        tok: Tokenizer = tokenize_many
    else:
        tok = tokenizer

    def run(texts: Sequence[str]) -> list[list[str]]:
        return [
            [t for t in doc if len(t) >= min_len and t[0] not in "#[" and any(map(str.isalnum, t))]
            for doc in tok(list(texts))
        ]

    return run


def slice_texts(
    source: Any,
    *,
    account_id: str | None = None,
    sector: str | None = None,
    province: str | None = None,
    period: Period | str | None = None,
    platform: str | None = None,
    voice: str = "public",
    max_background: int = 200_000,
) -> tuple[list[str], list[str]]:
    """(foreground texts, background texts) for a slice; see the module docstring."""
    fore, back = slice_docs(
        source, account_id=account_id, sector=sector, province=province, period=period,
        platform=platform, voice=voice, max_background=max_background,
    )  # fmt: skip
    return (
        fore.order_by(["platform", "doc_id"])
        .select("text")
        .to_pyarrow()
        .column("text")
        .to_pylist(),
        back.select("text").to_pyarrow().column("text").to_pylist(),
    )


def slice_docs(
    source: Any,
    *,
    account_id: str | None = None,
    sector: str | None = None,
    province: str | None = None,
    period: Period | str | None = None,
    platform: str | None = None,
    voice: str = "public",
    max_background: int = 200_000,
) -> tuple[Any, Any]:
    """Ibis expressions of (platform, doc_id, text): the slice's documents (unordered) and
    the background (ordered by the hash of the id, at most `max_background`); see the module
    docstring. Expressions, so that text work can run on the engine (`map_batches`)."""
    if voice not in ("public", "account"):
        raise AnalysisError(f"voice must be public or account, got {voice!r}")
    per = Period.parse(period) if period is not None else None
    table, _ = tables_of(source)
    sliced = any(x is not None for x in (account_id, sector, province))

    def span(t: Any) -> Any:
        t = t.filter(t.text.notnull())
        if platform:
            t = t.filter(t.platform == platform)
        return in_period(t, "created_at", per)

    if sliced:
        acc = universe(source, government_only=False, platform=platform)
        for col, val in (("account_id", account_id), ("sector", sector), ("province", province)):
            if val is not None:
                acc = acc.filter(acc[col] == val)
        ids = acc.select("platform", "account_id")
    if voice == "account":
        p = span(table("posts"))
        fg = p.select("platform", doc_id=ibis.literal("p:").concat(p.post_id), a=p.author_id)
        if sliced:
            fg = fg.semi_join(ids, [fg.platform == ids.platform, fg.a == ids.account_id])
    else:
        if sliced:
            items = items_expr(source, period=per, platform=platform)
            items = items.semi_join(ids, ["platform", "account_id"])
        else:
            i = span(table("interactions"))
            i = i.filter(i.target_account_id.isnull() | i.actor_id.isnull()
                         | (i.actor_id != i.target_account_id))  # fmt: skip
            m = mentions_expr(source, period=per, platform=platform)
            ic = i.select("platform", item_id=i.interaction_id, item_kind=ibis.literal("comment"))
            mm = m.select("platform", item_id=m.post_id, item_kind=ibis.literal("mention"))
            items = ic.union(mm.cast(ic.schema()))
        pre = ibis.ifelse(items.item_kind == "comment", "i:", "p:")
        fg = items.select("platform", doc_id=pre.concat(items.item_id)).distinct()
    fg = fg.select("platform", "doc_id")
    p, i = span(table("posts")), span(table("interactions"))
    docs = p.select("platform", doc_id=ibis.literal("p:").concat(p.post_id), text=p.text).union(
        i.select("platform", doc_id=ibis.literal("i:").concat(i.interaction_id), text=i.text)
    )
    fore = docs.semi_join(fg, ["platform", "doc_id"])
    back = docs.anti_join(fg, ["platform", "doc_id"])
    back = back.order_by([back.doc_id.hash(), back.doc_id]).limit(max_background)
    return fore, back


BACKGROUND_ROWS_SCHEMA = pa.schema([("section", pa.string()), ("term", pa.string())])


def background_terms(
    batch: pa.RecordBatch, *, min_len: int, tokenizer: Tokenizer | None = None
) -> pa.RecordBatch:
    """(section, term) rows of a batch of texts: ("doc", "") once per text, ("keyword",
    token) per token (as `concerns` keeps them), ("topic", #topic#) per distinct topic of a
    text. The batch function of concerns' background counts (`store.engines.map_batches`),
    module-level so that Spark's Python workers import it."""
    texts = batch.column("text").to_pylist()
    sections: list[str] = ["doc"] * len(texts)
    terms: list[str] = [""] * len(texts)
    for doc in _tokenizer(min_len, tokenizer)(texts) if texts else []:
        sections += ["keyword"] * len(doc)
        terms += doc
    for text in texts:
        topics = topics_of(text)
        sections += ["topic"] * len(topics)
        terms += topics
    return pa.RecordBatch.from_arrays(
        [pa.array(sections, pa.string()), pa.array(terms, pa.string())],
        schema=BACKGROUND_ROWS_SCHEMA,
    )


def _background_counts(
    source: Any, back: Any, min_len: int, tokenizer: Tokenizer | None
) -> tuple[Counter[str], Counter[str], int]:
    """(token counts, topic counts, documents) of the background, counted on the engine."""
    from govweibo.store.engines import map_batches

    fn = partial(background_terms, min_len=min_len, tokenizer=tokenizer)
    rows = map_batches(source, back.select("text"), fn, BACKGROUND_ROWS_SCHEMA)
    counts = rows.group_by(["section", "term"]).aggregate(n=rows.count()).to_pyarrow()
    by: dict[str, Counter[str]] = {"doc": Counter(), "keyword": Counter(), "topic": Counter()}
    for r in counts.to_pylist():
        by[r["section"]][r["term"]] = r["n"]
    return by["keyword"], by["topic"], by["doc"][""]


def _examples(texts: Sequence[str], idx: Sequence[int], n: int) -> list[str]:
    out: list[str] = []
    for j in idx:
        t = texts[j].strip()
        if t and t not in out:
            out.append(t)
        if len(out) == n:
            break
    return out


def topic_clusters(
    texts: Sequence[str], tokens: Sequence[list[str]], *, clusters: int = 5, top_words: int = 5,
    examples: int = 3, seed: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """NMF on TF-IDF of pre-tokenised documents: label (top words), docs, example texts."""
    try:
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ModuleNotFoundError:  # scikit-learn is the opinion extra, not the core
        raise AnalysisError(
            "topic clusters need scikit-learn: pip install 'govweibo[opinion]' (or --clusters 0)"
        ) from None

    keep = [j for j, t in enumerate(tokens) if t]
    if len(keep) < 2 or clusters < 1:
        return []
    vec = TfidfVectorizer(analyzer=lambda d: d, min_df=2 if len(keep) >= 100 else 1)
    x = vec.fit_transform([tokens[j] for j in keep])
    n = min(clusters, len(keep) - 1, x.shape[1])
    if n < 1:
        return []
    nmf = NMF(n_components=n, init="nndsvda", random_state=seed, max_iter=500)
    w = nmf.fit_transform(x)
    vocab = np.asarray(vec.get_feature_names_out())
    best = w.argmax(axis=1)
    rows: list[dict[str, Any]] = []
    for k in range(n):
        order = np.argsort(-nmf.components_[k], kind="stable")[:top_words]
        members = np.nonzero((best == k) & (w[:, k] > 0))[0]
        top = np.argsort(-w[:, k], kind="stable")
        rows.append(
            {
                "label": " / ".join(vocab[order]),
                "docs": len(members),
                "examples": _examples(texts, [keep[j] for j in top if w[j, k] > 0], examples),
            }
        )
    rows.sort(key=lambda r: (-r["docs"], r["label"]))
    return rows


def concerns(
    source: Any,
    *,
    account_id: str | None = None,
    sector: str | None = None,
    province: str | None = None,
    period: Period | str | None = None,
    platform: str | None = None,
    voice: str = "public",
    top: int = 20,
    min_freq: int = 2,
    min_token_len: int = 2,
    clusters: int = 5,
    examples: int = 3,
    max_background: int = 200_000,
    tokenizer: Tokenizer | None = None,
) -> pa.Table:
    """Keywords (G2 keyness), #topics# and NMF topic clusters of a slice, one table with a
    `section` column (keyword | topic | cluster); see the module docstring."""
    fore, back = slice_docs(
        source, account_id=account_id, sector=sector, province=province, period=period,
        platform=platform, voice=voice, max_background=max_background,
    )  # fmt: skip
    # The slice's texts come to the driver (examples and NMF need every one of them); the
    # background, the larger part, is tokenised and counted on the engine.
    fg = fore.order_by(["platform", "doc_id"]).select("text").to_pyarrow()
    fg = fg.column("text").to_pylist()
    if not fg:
        return CONCERNS_SCHEMA.empty_table()
    tok = _tokenizer(min_token_len, tokenizer)
    fg_tokens = tok(fg)
    fgc = Counter(t for doc in fg_tokens for t in doc)
    bgc, tbg, n_bg = _background_counts(source, back, min_token_len, tokenizer)
    docs = Counter(t for doc in fg_tokens for t in set(doc))
    out: list[dict[str, Any]] = []
    kw = keyness(fgc, bgc, min_freq=min_freq, top=top).to_pylist()
    for r, row in enumerate(kw, 1):
        ex = _examples(fg, [j for j, d in enumerate(fg_tokens) if row["label"] in d], examples)
        out.append({"section": "keyword", "rank": r, "docs": docs[row["label"]],
                    "examples": ex, **row})  # fmt: skip
    fg_topics = [topics_of(t) for t in fg]
    tfg = Counter(t for ts in fg_topics for t in ts)
    c, d = sum(tfg.values()), sum(tbg.values())
    ranked = sorted(tfg.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    for r, (topic, n) in enumerate(ranked, 1):
        b = tbg.get(topic, 0)
        out.append(
            {
                "section": "topic", "rank": r, "label": topic, "freq": n, "docs": n,
                "background_freq": b, "g2": g2(n, b, c, d) if d else 0.0,
                "log_ratio": math.log2((n / c) / (max(b, 0.5) / d)) if d else None,
                "examples": _examples(fg, [j for j, ts in enumerate(fg_topics) if topic in ts],
                                      examples),
            }
        )  # fmt: skip
    for r, row in enumerate(topic_clusters(fg, fg_tokens, clusters=clusters,
                                           examples=examples), 1):  # fmt: skip
        out.append({"section": "cluster", "rank": r, "freq": None, "background_freq": None,
                    "g2": None, "log_ratio": None, **row})  # fmt: skip
    return pa.Table.from_pylist(out, schema=CONCERNS_SCHEMA).replace_schema_metadata(
        {"foreground_docs": str(len(fg)), "background_docs": str(n_bg)}
    )


SENTIMENT_SCHEMA = pa.schema(
    [
        ("label", pa.string()),
        ("texts", pa.int64()),
        ("share", pa.float64()),
        ("mean_score", pa.float64()),
    ]
)


def slice_sentiment(
    source: Any,
    *,
    account_id: str | None = None,
    sector: str | None = None,
    province: str | None = None,
    period: Period | str | None = None,
    platform: str | None = None,
    voice: str = "public",
) -> pa.Table:
    """Sentiment of a slice's texts (as in `concerns`): per label, texts, share, mean score,
    from `govweibo.text.sentiment.score`.

    The texts are scored in Arrow batches on the engine (`store.engines.map_batches`: in
    Spark's executors on Spark) and the labels counted by an engine group-by, so only the
    (at most three) label rows come back."""
    from govweibo.store.engines import map_batches
    from govweibo.text import sentiment

    fore, _ = slice_docs(
        source, account_id=account_id, sector=sector, province=province, period=period,
        platform=platform, voice=voice, max_background=0,
    )  # fmt: skip
    scored = map_batches(source, fore.select("text"), sentiment.score_batch, sentiment.SCORE_SCHEMA)
    by = (
        scored.group_by("label")
        .aggregate(texts=scored.count(), mean_score=scored.score.mean())
        .to_pyarrow()
        .to_pylist()
    )
    n = sum(r["texts"] for r in by)
    rows = [
        {"label": r["label"], "texts": r["texts"], "share": r["texts"] / n,
         "mean_score": float(r["mean_score"])}
        for r in sorted(by, key=lambda r: (-r["texts"], r["label"]))
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SENTIMENT_SCHEMA)
