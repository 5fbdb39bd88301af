"""Bursts: a keyword or #topic# whose volume rises above its own baseline.

Two methods, documented in docs/opinion.md.

``method="threshold"`` (the default): count, per term and time bucket (hour, or
Beijing-time day), the texts that contain the term. A bucket is flagged when its count
exceeds the mean plus `k` standard deviations (population sd, default k = 3) of the same
term's counts over the previous `baseline_days` (default 7) and is at least `min_count`.
Buckets before a term first appears count as zero; a bucket with less than
`min_history_days` of history before it (default: the full baseline) is never flagged. A
burst is a run of consecutive flagged buckets: `start` (first bucket), `peak` (bucket with
the highest count), `end` (end of the last bucket, exclusive), `size` (texts in the run) and
`excess` (size minus the baseline mean at the start, times the run length). `ongoing` marks
a burst that reaches the last bucket of the data: the live alert.

``method="kleinberg"``: Kleinberg's burst automaton for batched counts (Kleinberg 2002,
"Bursty and Hierarchical Structure in Streams", KDD; the enumerated/batched model of its
section 4). Bucket t holds d_t texts, r_t of them with the term. State i emits a text with the
term with probability p_i = p_0 s^i, p_0 = sum(r) / sum(d) (capped below 1); its cost at t is
-ln(p_i^r_t (1 - p_i)^(d_t - r_t)) (the binomial coefficient is the same in every state and
is dropped); moving up i -> j costs (j - i) gamma ln n (n buckets), moving down is free. The
cheapest state sequence (Viterbi) marks the bursts: runs of state >= 1. Unlike the
threshold rule it compares a term's *share* of the texts with its overall share, so a term
that grows only because everything grows is not a burst, and it needs no warm-up, but it
is retrospective: the base rate is taken over the whole series.

Tokenising runs in Arrow batches on the engine (`store.engines.map_batches`: Spark's
executors on Spark) and the (term, bucket) counts are an engine group-by; detection, on the
driver, is vectorised with numpy over a dense (term x bucket) matrix of those counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from govweibo.analyses.base import Period, tables_of
from govweibo.errors import AnalysisError

UNITS = {"hour": 3600, "day": 86400}
COUNTS_SCHEMA = pa.schema(
    [("term", pa.string()), ("bucket", pa.timestamp("us", tz="UTC")), ("count", pa.int64())]
)
BURSTS_SCHEMA = pa.schema(
    [
        ("term", pa.string()),
        ("start", pa.timestamp("us", tz="UTC")),
        ("peak", pa.timestamp("us", tz="UTC")),
        ("end", pa.timestamp("us", tz="UTC")),
        ("buckets", pa.int64()),
        ("peak_count", pa.int64()),
        ("size", pa.int64()),
        ("baseline_mean", pa.float64()),
        ("baseline_sd", pa.float64()),
        ("threshold", pa.float64()),
        ("excess", pa.float64()),
        ("ongoing", pa.bool_()),
        # Kleinberg only (null for the threshold rule): the highest automaton state in the
        # run, and the burst's weight, the cost the burst states save over the base state.
        ("level", pa.int64()),
        ("weight", pa.float64()),
    ]
)
TOTALS_SCHEMA = pa.schema([("bucket", pa.timestamp("us", tz="UTC")), ("texts", pa.int64())])
METHODS = ("threshold", "kleinberg")
# Why a result of bursts() is empty, in its schema metadata (see why_empty): an empty table
# alone does not tell "no burst" from "no posts in that period".
REASON = b"govweibo.reason"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def topics_of(text: str | None) -> list[str]:
    """Distinct #topics# of a text's own words (govweibo.text.normalise: simplified
    characters, repost chain left out), in order, without the # marks."""
    from govweibo.text import normalise

    return list(dict.fromkeys(t.strip() for t in normalise(text).topics if t.strip()))


def _texts(
    source: Any,
    texts: str,
    period: Period | None,
    platform: str | None,
) -> Any | None:
    """Ibis expression of (created_at, text) of the texts to count; None if no table."""
    table, has = tables_of(source)
    names = {"posts": ["posts"], "interactions": ["interactions"]}.get(
        texts, ["posts", "interactions"]
    )
    if texts not in ("posts", "interactions", "all"):
        raise AnalysisError(f"texts must be posts, interactions or all, got {texts!r}")
    parts = []
    for name in names:
        if not has(name):
            continue
        t = table(name)
        t = t.filter(t.text.notnull() & t.created_at.notnull())
        if platform:
            t = t.filter(t.platform == platform)
        if period is not None:
            lo, hi = period.start_utc, period.end_utc
            t = t.filter((t.created_at >= lo) & (t.created_at < hi))
        parts.append(t.select("created_at", "text"))
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part.cast(parts[0].schema()))
    return out


def bucket_of(epoch_us: np.ndarray, unit: str) -> np.ndarray:
    """Bucket start (epoch seconds): whole UTC hours, or Beijing-time days."""
    if unit not in UNITS:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    secs = epoch_us // 1_000_000
    if unit == "hour":
        return secs // 3600 * 3600
    off = 8 * 3600
    return (secs + off) // 86400 * 86400 - off


BUCKET_TYPE = pa.timestamp("us", tz="UTC")
TERM_ROWS_SCHEMA = pa.schema([("term", pa.string()), ("bucket", BUCKET_TYPE)])
BUCKET_ROWS_SCHEMA = pa.schema([("bucket", BUCKET_TYPE)])


def _buckets(batch: pa.RecordBatch, unit: str) -> np.ndarray:
    # The engine's timestamp unit may differ (Spark's Arrow batches): microseconds first.
    at = batch.column("created_at").cast(BUCKET_TYPE).cast(pa.int64())
    return bucket_of(at.to_numpy(zero_copy_only=False), unit)


def term_rows(batch: pa.RecordBatch, *, unit: str, kind: str) -> pa.RecordBatch:
    """(term, bucket) rows of a batch of (created_at, text): one per distinct term of each
    text. The batch function of term_counts (`store.engines.map_batches`), module-level so
    that Spark's Python workers import it."""
    buckets = _buckets(batch, unit).tolist()
    docs = batch.column("text").to_pylist()
    if kind == "topics":
        terms = [topics_of(x) for x in docs]
    else:
        from govweibo.text import tokenize_many

        terms = [list(dict.fromkeys(toks)) for toks in tokenize_many(docs)]
    out_terms = [term for ts in terms for term in ts]
    out_secs = [b for b, ts in zip(buckets, terms, strict=True) for _ in ts]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(out_terms, pa.string()),
            pa.array([b * 1_000_000 for b in out_secs], pa.int64()).cast(BUCKET_TYPE),
        ],
        schema=TERM_ROWS_SCHEMA,
    )


def bucket_rows(batch: pa.RecordBatch, *, unit: str) -> pa.RecordBatch:
    """The bucket of each row of a batch of (created_at, ...): the batch function of
    bucket_totals."""
    secs = _buckets(batch, unit)
    return pa.RecordBatch.from_arrays(
        [pa.array(secs * 1_000_000, pa.int64()).cast(BUCKET_TYPE)], schema=BUCKET_ROWS_SCHEMA
    )


def term_counts(
    source: Any,
    *,
    unit: str = "hour",
    kind: str = "topics",
    texts: str = "all",
    period: Period | str | None = None,
    platform: str | None = None,
) -> pa.Table:
    """(term, bucket, count): texts per time bucket containing each term. `kind` is
    'topics' (#…# tags) or 'words' (tokens of govweibo.text, stopwords dropped).

    The texts are tokenised in Arrow batches on the engine (`map_batches`: in Spark's
    executors on Spark) and counted by an engine group-by; only the counts come back."""
    from govweibo.store.engines import map_batches

    if unit not in UNITS:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    if kind not in ("topics", "words"):
        raise AnalysisError(f"kind must be topics or words, got {kind!r}")
    per = Period.parse(period) if period is not None else None
    t = _texts(source, texts, per, platform)
    if t is None:
        return COUNTS_SCHEMA.empty_table()
    rows = map_batches(source, t, partial(term_rows, unit=unit, kind=kind), TERM_ROWS_SCHEMA)
    counts = rows.group_by(["term", "bucket"]).aggregate(count=rows.count())
    # Sorted here, not by the engine: the same order whatever the engine's collation.
    out = counts.to_pyarrow().select(COUNTS_SCHEMA.names).cast(COUNTS_SCHEMA)
    return out.sort_by([("term", "ascending"), ("bucket", "ascending")])


def bucket_totals(
    source: Any,
    *,
    unit: str = "hour",
    texts: str = "all",
    period: Period | str | None = None,
    platform: str | None = None,
) -> pa.Table:
    """(bucket, texts): all texts per time bucket, the d_t of Kleinberg's model. The same
    texts term_counts reads (text and created_at present), without the text pipeline."""
    from govweibo.store.engines import map_batches

    if unit not in UNITS:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    per = Period.parse(period) if period is not None else None
    t = _texts(source, texts, per, platform)
    if t is None:
        return TOTALS_SCHEMA.empty_table()
    rows = map_batches(
        source, t.select("created_at"), partial(bucket_rows, unit=unit), BUCKET_ROWS_SCHEMA
    )
    totals = rows.group_by("bucket").aggregate(texts=rows.count())
    out = totals.to_pyarrow().select(TOTALS_SCHEMA.names).cast(TOTALS_SCHEMA)
    return out.sort_by([("bucket", "ascending")])


def kleinberg_states(
    r: np.ndarray, d: np.ndarray, *, s: float = 2.0, gamma: float = 1.0, states: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest state sequence of Kleinberg's batched burst automaton, per row of `r`.

    `r` (terms x n) counts the texts with each term per bucket, `d` (n) all texts per
    bucket. Returns (state per term and bucket, the emission probability of every state
    for every term, states x terms). Solved by Viterbi, vectorised over terms; the costs
    are computed bucket by bucket, so memory is the back-pointers only (1 byte per term,
    bucket and state).
    """
    r = np.asarray(r, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    if r.ndim != 2 or d.shape != (r.shape[1],):
        raise AnalysisError("kleinberg: r must be terms x buckets and d one total per bucket")
    if s <= 1.0 or gamma < 0 or states < 2:
        raise AnalysisError("kleinberg: needs s > 1, gamma >= 0 and at least 2 states")
    if np.any(r < 0) or np.any(r > d):
        raise AnalysisError("kleinberg: a bucket has more texts with a term than texts")
    terms, n = r.shape
    p0 = r.sum(axis=1) / max(d.sum(), 1.0)
    # p_i = p0 s^i must stay a probability: cap it just below 1 (a term in every text).
    p = np.minimum(p0[None, :] * s ** np.arange(states)[:, None], 1.0 - 1e-9)
    if n == 0 or terms == 0:
        return np.zeros((terms, n), np.int64), p
    up = gamma * np.log(n)
    # tau[i, j]: moving up from i to j costs (j - i) gamma ln n; moving down is free.
    lv = np.arange(states)
    tau = np.maximum(lv[None, :] - lv[:, None], 0) * up
    back = np.zeros((n, terms, states), np.int8 if states < 128 else np.int64)
    # The automaton starts in the base state, so entering state j at t = 0 pays tau[0, j].
    acc = _emission_cost(r[:, 0], d[0], p).T + tau[0][None, :]
    rows = np.arange(terms)
    for t in range(1, n):
        cand = acc[:, :, None] + tau[None, :, :]  # terms x from x to
        back[t] = np.argmin(cand, axis=1)
        acc = cand[rows[:, None], back[t], lv[None, :]] + _emission_cost(r[:, t], d[t], p).T
    q = np.zeros((terms, n), np.int64)
    q[:, -1] = np.argmin(acc, axis=1)
    for t in range(n - 1, 0, -1):
        q[:, t - 1] = back[t][rows, q[:, t]]
    return q, p


def _emission_cost(r: np.ndarray, d: np.ndarray | float, p: np.ndarray) -> np.ndarray:
    """-ln(p^r (1 - p)^(d - r)) for every state (rows of p) and term; a term never seen has
    p = 0 and r = 0, which costs 0 (0 * log 0 taken as 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(r > 0, r * np.log(p), 0.0)
    return -(hit + (d - r) * np.log1p(-p))


def _ts(secs: int) -> datetime:
    return EPOCH + timedelta(seconds=int(secs))


def detect_bursts(
    counts: pa.Table,
    *,
    unit: str = "hour",
    method: str = "threshold",
    k: float = 3.0,
    min_count: int = 5,
    baseline_days: float = 7.0,
    min_history_days: float | None = None,
    totals: pa.Table | None = None,
    s: float = 2.0,
    gamma: float = 1.0,
    states: int = 2,
) -> pa.Table:
    """Bursts in a (term, bucket, count) table; the methods are in the module docstring.

    The threshold rule uses `k`, `baseline_days` and `min_history_days`; Kleinberg's
    automaton uses `s`, `gamma`, `states` and needs `totals` (bucket_totals: all texts per
    bucket). Both consider only terms whose count reaches `min_count` in some bucket.
    """
    step = UNITS.get(unit)
    if step is None:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    if method not in METHODS:
        raise AnalysisError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "kleinberg" and totals is None:
        raise AnalysisError("method 'kleinberg' needs totals: texts per bucket (bucket_totals)")
    if counts.num_rows == 0:
        return BURSTS_SCHEMA.empty_table()
    secs = counts.column("bucket").cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
    cnt = counts.column("count").to_numpy(zero_copy_only=False).astype(np.float64)
    term = np.asarray(counts.column("term").to_pylist(), dtype=object)
    t0, t1 = int(secs.min()), int(secs.max())
    tsecs = np.zeros(0, np.int64)
    tn = np.zeros(0)
    if totals is not None and method == "kleinberg":
        tsecs = totals.column("bucket").cast(pa.int64()).to_numpy(zero_copy_only=False)
        tsecs = tsecs // 1_000_000
        tn = totals.column("texts").to_numpy(zero_copy_only=False).astype(np.float64)
        if len(tsecs):
            t0, t1 = min(t0, int(tsecs.min())), max(t1, int(tsecs.max()))
    width = (t1 - t0) // step + 1
    # Only terms that ever reach min_count can burst.
    names, idx = np.unique(term, return_inverse=True)
    peak = np.zeros(len(names))
    np.maximum.at(peak, idx, cnt)
    keep = peak[idx] >= min_count
    names_k, idx_k = np.unique(term[keep], return_inverse=True)
    m = np.zeros((len(names_k), width))
    np.add.at(m, (idx_k, (secs[keep] - t0) // step), cnt[keep])
    if method == "threshold":
        flag, fields = _threshold(m, step, k, min_count, baseline_days, min_history_days)
    else:
        d = np.zeros(width)
        np.add.at(d, (tsecs - t0) // step, tn)
        flag, fields = _kleinberg(m, d, s, gamma, states)
    padded = np.pad(flag.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    rows = []
    for r, b in zip(*np.nonzero(edges == 1), strict=True):
        e = int(np.nonzero(edges[r, b:] == -1)[0][0]) + b  # exclusive
        seg = m[r, b:e]
        p = b + int(np.argmax(seg))
        rows.append(
            {
                "term": str(names_k[r]),
                "start": _ts(t0 + b * step),
                "peak": _ts(t0 + p * step),
                "end": _ts(t0 + e * step),
                "buckets": e - b,
                "peak_count": int(m[r, p]),
                "size": int(seg.sum()),
                "ongoing": e == width,
                **fields(int(r), int(b), e),
            }
        )
    rows.sort(key=lambda x: (x["start"], -x["size"], x["term"]))
    return pa.Table.from_pylist(rows, schema=BURSTS_SCHEMA)


RunFields = Callable[[int, int, int], dict[str, Any]]


def _threshold(
    m: np.ndarray,
    step: int,
    k: float,
    min_count: int,
    baseline_days: float,
    min_history_days: float | None,
) -> tuple[np.ndarray, RunFields]:
    """Flags of the mean + k sd rule over cumulative sums, and a run's baseline fields."""
    width = m.shape[1]
    window = max(1, int(round(baseline_days * 86400 / step)))
    need = window if min_history_days is None else int(round(min_history_days * 86400 / step))
    cs = np.concatenate([np.zeros((len(m), 1)), np.cumsum(m, axis=1)], axis=1)
    cs2 = np.concatenate([np.zeros((len(m), 1)), np.cumsum(m * m, axis=1)], axis=1)
    pos = np.arange(width)
    lo = np.maximum(pos - window, 0)
    n = (pos - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cs[:, pos] - cs[:, lo]) / n
        var = (cs2[:, pos] - cs2[:, lo]) / n - mean * mean
    sd = np.sqrt(np.clip(np.nan_to_num(var), 0, None))
    thr = mean + k * sd
    flag = (m > thr) & (m >= min_count) & (n >= max(need, 1))

    def fields(r: int, b: int, e: int) -> dict[str, Any]:
        return {
            "baseline_mean": float(mean[r, b]),
            "baseline_sd": float(sd[r, b]),
            "threshold": float(thr[r, b]),
            "excess": float(m[r, b:e].sum() - mean[r, b] * (e - b)),
            "level": None,
            "weight": None,
        }

    return flag, fields


def _kleinberg(
    m: np.ndarray, d: np.ndarray, s: float, gamma: float, states: int
) -> tuple[np.ndarray, RunFields]:
    """Flags (automaton state >= 1) and a run's fields: baseline = the term's overall share
    of the texts, expected per bucket; excess over it; the highest level; the weight."""
    q, p = kleinberg_states(m, d, s=s, gamma=gamma, states=states)
    p0 = p[0]

    def weight(r: int, b: int, e: int) -> float:
        # Kleinberg's weight: what the burst states save over the base state on the run.
        cost = _emission_cost(m[r, b:e], d[b:e], p[:, [r]])  # states x buckets
        return float((cost[0] - cost[q[r, b:e], np.arange(e - b)]).sum())

    def fields(r: int, b: int, e: int) -> dict[str, Any]:
        expected = float(p0[r] * d[b:e].sum())
        return {
            "baseline_mean": expected / (e - b),
            "baseline_sd": None,
            "threshold": None,
            "excess": float(m[r, b:e].sum() - expected),
            "level": int(q[r, b:e].max()),
            "weight": weight(r, b, e),
        }

    return q >= 1, fields


def bursts(
    source: Any,
    *,
    unit: str = "hour",
    kind: str = "topics",
    texts: str = "all",
    period: Period | str | None = None,
    platform: str | None = None,
    method: str = "threshold",
    k: float = 3.0,
    min_count: int = 5,
    baseline_days: float = 7.0,
    s: float = 2.0,
    gamma: float = 1.0,
    states: int = 2,
) -> pa.Table:
    """term_counts then detect_bursts.

    The threshold rule's baseline needs data before the period, so its counts start
    `baseline_days` earlier and bursts are kept when they start in the period. Kleinberg's
    automaton needs no warm-up: it reads the period only, with the texts per bucket.
    """
    if method not in METHODS:
        raise AnalysisError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    per = Period.parse(period) if period is not None else None
    span = per
    if per is not None and method == "threshold":
        days = int(np.ceil(baseline_days))
        span = Period.between(per.start - timedelta(days=days), per.end - timedelta(days=1))
    counts = term_counts(source, unit=unit, kind=kind, texts=texts, period=span, platform=platform)
    totals = None
    if method == "kleinberg":
        totals = bucket_totals(source, unit=unit, texts=texts, period=span, platform=platform)
    out = detect_bursts(
        counts,
        unit=unit,
        method=method,
        k=k,
        min_count=min_count,
        baseline_days=baseline_days,
        totals=totals,
        s=s,
        gamma=gamma,
        states=states,
    )
    if per is not None and out.num_rows:
        start = out.column("start").to_pylist()
        out = out.filter(pa.array([per.start_utc <= x < per.end_utc for x in start]))
    if out.num_rows == 0:
        reason = _empty_reason(source, per, counts.num_rows, kind, unit, min_count)
        out = out.replace_schema_metadata({REASON: reason.encode("utf-8")})
    return out


def why_empty(result: pa.Table) -> str | None:
    """Why a result of bursts() has no rows (the store's span when the period has no
    posts, or that no term rose enough), or None."""
    reason = (result.schema.metadata or {}).get(REASON)
    return reason.decode("utf-8") if reason else None


def _empty_reason(
    source: Any, per: Period | None, counted: int, kind: str, unit: str, min_count: int
) -> str:
    from govweibo.labels import beijing

    where = f"in {per.label}" if per is not None else "in the store"
    if counted:
        return (
            f"no burst {where}: no {kind[:-1]}'s count in one {unit} reached {min_count} "
            "and rose above its baseline (try --min-count, --k or --unit day)"
        )
    table, has = tables_of(source)
    if not has("posts"):
        return "the store holds no posts"
    posts = table("posts")
    span = posts.aggregate(lo=posts.created_at.min(), hi=posts.created_at.max()).to_pyarrow()
    lo, hi = span.column("lo")[0].as_py(), span.column("hi")[0].as_py()
    if lo is None:
        return "the store holds no posts"
    held = f"the store holds posts from {beijing(lo)[:10]} to {beijing(hi)[:10]} (Beijing time)"
    if per is not None and (beijing(hi)[:10] < per.start.isoformat() or
                            beijing(lo)[:10] >= per.end.isoformat()):  # fmt: skip
        return f"no posts {where}: {held}"
    return f"no {kind} {where} ({held})"
