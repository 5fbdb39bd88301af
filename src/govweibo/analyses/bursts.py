"""Bursts: a keyword or #topic# whose volume rises above its own baseline.

Rule (documented in docs/opinion.md): count, per term and time bucket (hour, or Beijing-time
day), the texts that contain the term. A bucket is flagged when its count exceeds the mean
plus `k` standard deviations (population sd, default k = 3) of the same term's counts over
the previous `baseline_days` (default 7) and is at least `min_count`. Buckets before a
term first appears count as zero; a bucket with less than `min_history_days` of history
before it (default: the full baseline) is never flagged. A burst is a run of consecutive
flagged buckets: `start` (first bucket), `peak` (bucket with the highest count), `end`
(end of the last bucket, exclusive), `size` (texts in the run) and `excess` (size minus
the baseline mean at the start, times the run length). `ongoing` marks a burst that
reaches the last bucket of the data: the live alert.

Detection is vectorised with numpy over a dense (term x bucket) matrix of cumulative sums.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from govweibo.analyses.index import Period, tables_of
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
    ]
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def topics_of(text: str | None) -> list[str]:
    """Distinct #topics# of a text's own words (govweibo.text.normalise: simplified
    characters, repost chain left out), in order, without the # marks."""
    from govweibo.text import normalise

    return list(dict.fromkeys(t.strip() for t in normalise(text).topics if t.strip()))


def _texts(source: Any, texts: str, period: Period | None, platform: str | None) -> pa.Table:
    table, has = tables_of(source)
    parts = []
    names = {"posts": ["posts"], "interactions": ["interactions"]}.get(
        texts, ["posts", "interactions"]
    )
    if texts not in ("posts", "interactions", "all"):
        raise AnalysisError(f"texts must be posts, interactions or all, got {texts!r}")
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
        parts.append(t.select("created_at", "text").to_pyarrow())
    if not parts:
        return pa.table({"created_at": pa.array([], COUNTS_SCHEMA.field("bucket").type),
                         "text": pa.array([], pa.string())})  # fmt: skip
    return pa.concat_tables([p.cast(parts[0].schema) for p in parts])


def bucket_of(epoch_us: np.ndarray, unit: str) -> np.ndarray:
    """Bucket start (epoch seconds): whole UTC hours, or Beijing-time days."""
    if unit not in UNITS:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    secs = epoch_us // 1_000_000
    if unit == "hour":
        return secs // 3600 * 3600
    off = 8 * 3600
    return (secs + off) // 86400 * 86400 - off


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
    'topics' (#…# tags) or 'words' (tokens of govweibo.text, stopwords dropped)."""
    per = Period.parse(period) if period is not None else None
    t = _texts(source, texts, per, platform)
    us = t.column("created_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    buckets = bucket_of(us, unit)
    docs = t.column("text").to_pylist()
    if kind == "topics":
        terms = [topics_of(x) for x in docs]
    elif kind == "words":
        from govweibo.text import tokenize_many

        terms = [list(dict.fromkeys(toks)) for toks in tokenize_many(docs)]
    else:
        raise AnalysisError(f"kind must be topics or words, got {kind!r}")
    c: Counter[tuple[str, int]] = Counter()
    for b, ts in zip(buckets.tolist(), terms, strict=True):
        c.update((term, b) for term in ts)
    keys = sorted(c)
    return pa.table(
        {
            "term": [k[0] for k in keys],
            "bucket": pa.array([k[1] * 1_000_000 for k in keys], pa.int64()).cast(
                COUNTS_SCHEMA.field("bucket").type
            ),
            "count": [c[k] for k in keys],
        },
        schema=COUNTS_SCHEMA,
    )


def _ts(secs: int) -> datetime:
    return EPOCH + timedelta(seconds=int(secs))


def detect_bursts(
    counts: pa.Table,
    *,
    unit: str = "hour",
    k: float = 3.0,
    min_count: int = 5,
    baseline_days: float = 7.0,
    min_history_days: float | None = None,
) -> pa.Table:
    """Bursts in a (term, bucket, count) table; rule in the module docstring."""
    step = UNITS.get(unit)
    if step is None:
        raise AnalysisError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    if counts.num_rows == 0:
        return BURSTS_SCHEMA.empty_table()
    secs = counts.column("bucket").cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
    cnt = counts.column("count").to_numpy(zero_copy_only=False).astype(np.float64)
    term = np.asarray(counts.column("term").to_pylist(), dtype=object)
    t0, t1 = int(secs.min()), int(secs.max())
    width = (t1 - t0) // step + 1
    # Only terms that ever reach min_count can burst.
    names, idx = np.unique(term, return_inverse=True)
    peak = np.zeros(len(names))
    np.maximum.at(peak, idx, cnt)
    keep = peak[idx] >= min_count
    names_k, idx_k = np.unique(term[keep], return_inverse=True)
    m = np.zeros((len(names_k), width))
    np.add.at(m, (idx_k, (secs[keep] - t0) // step), cnt[keep])
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
    padded = np.pad(flag.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    rows = []
    for r, s in zip(*np.nonzero(edges == 1), strict=True):
        e = int(np.nonzero(edges[r, s:] == -1)[0][0]) + s  # exclusive
        seg = m[r, s:e]
        p = s + int(np.argmax(seg))
        rows.append(
            {
                "term": str(names_k[r]),
                "start": _ts(t0 + s * step),
                "peak": _ts(t0 + p * step),
                "end": _ts(t0 + e * step),
                "buckets": e - s,
                "peak_count": int(m[r, p]),
                "size": int(seg.sum()),
                "baseline_mean": float(mean[r, s]),
                "baseline_sd": float(sd[r, s]),
                "threshold": float(thr[r, s]),
                "excess": float(seg.sum() - mean[r, s] * (e - s)),
                "ongoing": e == width,
            }
        )
    rows.sort(key=lambda x: (x["start"], -x["size"], x["term"]))
    return pa.Table.from_pylist(rows, schema=BURSTS_SCHEMA)


def bursts(
    source: Any,
    *,
    unit: str = "hour",
    kind: str = "topics",
    texts: str = "all",
    period: Period | str | None = None,
    platform: str | None = None,
    k: float = 3.0,
    min_count: int = 5,
    baseline_days: float = 7.0,
) -> pa.Table:
    """term_counts then detect_bursts. The baseline needs data before the period, so the
    counts start `baseline_days` earlier and bursts are kept when they start in the period."""
    per = Period.parse(period) if period is not None else None
    span = per
    if per is not None:
        days = int(np.ceil(baseline_days))
        span = Period.between(per.start - timedelta(days=days), per.end - timedelta(days=1))
    counts = term_counts(source, unit=unit, kind=kind, texts=texts, period=span, platform=platform)
    out = detect_bursts(counts, unit=unit, k=k, min_count=min_count, baseline_days=baseline_days)
    if per is not None and out.num_rows:
        start = out.column("start").to_pylist()
        out = out.filter(pa.array([per.start_utc <= s < per.end_utc for s in start]))
    return out
