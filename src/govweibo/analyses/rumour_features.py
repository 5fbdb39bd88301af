"""Features for the rumour classifier, computed with numpy only (no scikit-learn).

Text: character 1-3-grams hashed into 2**bits buckets with a fixed 64-bit multiply-xor
hash over Unicode code points (stable across runs, machines and Python versions), then
sublinear TF-IDF with per-document L2 norm. Two text blocks: the source post, and the
reposts' own texts seen in the window. Numeric block: the author and the early cascade.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_P = np.uint64(0x100000001B3)  # FNV-1a prime
_SEED = np.uint64(0xCBF29CE484222325)  # FNV offset basis
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)  # murmur3 fmix64 constants
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_URL = re.compile(r"https?://[\w./?=&%#:+~-]*")
_MENTION = re.compile(r"@[\w\-]{1,30}")
_SPACE = re.compile(r"\s+")

DOUBT_WORDS = (
    "谣言", "辟谣", "假的", "求证", "真的吗", "不信", "骗", "造谣", "不实", "澄清",
    "假消息", "传谣", "真假", "是真的", "谣",
)  # fmt: skip
_DOUBT = re.compile("|".join(DOUBT_WORDS))

NUMERIC = (
    "verified", "vt_personal", "vt_government", "vt_organisation", "vt_other",
    "log_followers", "log_friends", "log_statuses", "log_account_age_days",
    "log_source_len", "has_url", "has_pics",
    "log_reposts", "log_reposts_10min", "log_reposts_1h", "log_rate_per_h",
    "max_depth", "mean_depth", "share_deep", "log_median_delay",
    "doubt_share", "log_doubt_count", "verified_reposter_share",
)  # fmt: skip


@dataclass
class Events:
    """Source posts (one per event) and their reposts, reposts sorted by event then time."""

    ids: list[str]
    text: list[str]
    t0: np.ndarray  # source time, epoch seconds (nan unknown)
    author: dict[str, np.ndarray]  # verified, verified_type, followers, friends, statuses,
    # account_created (epoch s), has_url, pics; nan where unknown
    rep_event: np.ndarray
    rep_t: np.ndarray
    rep_depth: np.ndarray
    rep_text: list[str]
    rep_verified: np.ndarray  # nan unknown
    label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # 1 rumour
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def concat(cls, parts: list[Events]) -> Events:
        """The events of several sets, in order (reposts follow their events)."""
        base = np.cumsum([0] + [len(p) for p in parts[:-1]])
        return cls(
            [i for p in parts for i in p.ids],
            [t for p in parts for t in p.text],
            np.concatenate([p.t0 for p in parts]),
            {k: np.concatenate([p.author[k] for p in parts]) for k in parts[0].author},
            np.concatenate([p.rep_event + b for p, b in zip(parts, base, strict=True)]),
            np.concatenate([p.rep_t for p in parts]),
            np.concatenate([p.rep_depth for p in parts]),
            [t for p in parts for t in p.rep_text],
            np.concatenate([p.rep_verified for p in parts]),
            np.concatenate([p.label for p in parts]).astype(np.int8),
        )

    def subset(self, keep: np.ndarray) -> Events:
        """Only the events where keep is True (reposts follow)."""
        new = np.full(len(self), -1, dtype=np.int64)
        new[keep] = np.arange(int(keep.sum()))
        rk = keep[self.rep_event]
        ri = np.flatnonzero(rk)
        return Events(
            [i for i, k in zip(self.ids, keep, strict=True) if k],
            [t for t, k in zip(self.text, keep, strict=True) if k],
            self.t0[keep],
            {k: v[keep] for k, v in self.author.items()},
            new[self.rep_event[rk]],
            self.rep_t[rk],
            self.rep_depth[rk],
            [self.rep_text[i] for i in ri],
            self.rep_verified[rk],
            self.label[keep] if len(self.label) else self.label,
        )


def normalise_joined(texts: list[str]) -> str:
    """NFKC, lower case, URLs and @mentions reduced; texts joined by NUL (one pass)."""
    joined = "\x00".join(t.replace("\x00", " ") if t else "" for t in texts)
    joined = unicodedata.normalize("NFKC", joined).lower()
    joined = _URL.sub(" ", joined)
    joined = _MENTION.sub("@", joined)
    return _SPACE.sub(" ", joined)


def hash_ngrams(texts: list[str], bits: int, n_max: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(document index, bucket) for every character 1..n_max-gram of every text."""
    joined = normalise_joined(texts) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    sep = codes == 0
    doc = np.cumsum(sep) - sep
    docs, buckets = [], []
    with np.errstate(over="ignore"):
        for n in range(1, n_max + 1):
            length = len(codes) - n + 1
            if length <= 0:
                break
            valid = ~sep[:length]
            h = np.full(length, _SEED ^ np.uint64(n), dtype=np.uint64)
            for k in range(n):
                valid &= ~sep[k : k + length]
                h = (h ^ codes[k : k + length]) * _P
            h ^= h >> np.uint64(33)
            h *= _MIX1
            h ^= h >> np.uint64(33)
            h *= _MIX2
            h ^= h >> np.uint64(33)
            docs.append(doc[:length][valid])
            buckets.append((h[valid] >> np.uint64(64 - bits)).astype(np.int64))
    return np.concatenate(docs), np.concatenate(buckets)


def term_counts(
    doc: np.ndarray, bucket: np.ndarray, bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (doc, bucket) pairs with their counts."""
    key, count = np.unique((doc.astype(np.int64) << bits) | bucket, return_counts=True)
    return key >> bits, key & ((1 << bits) - 1), count


def smooth_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0


def tfidf_values(doc: np.ndarray, bucket: np.ndarray, count: np.ndarray,
                 idf: np.ndarray, n_docs: int) -> np.ndarray:  # fmt: skip
    """Sublinear TF-IDF values, L2-normalised per document."""
    val = (1.0 + np.log(count)) * idf[bucket]
    norm = np.sqrt(np.bincount(doc, weights=val * val, minlength=n_docs))
    return val / np.maximum(norm[doc], 1e-12)


def window_mask(ev: Events, hours: float | None) -> np.ndarray:
    """Reposts made within `hours` of their source post (all of them when None)."""
    if hours is None:
        return np.ones(len(ev.rep_event), dtype=bool)
    delay = ev.rep_t - ev.t0[ev.rep_event]
    return delay <= hours * 3600.0


def _log(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.nan_to_num(np.maximum(x, 0), nan=0.0))


def numeric_features(ev: Events, mask: np.ndarray, hours: float | None) -> np.ndarray:
    """The NUMERIC columns for every event, from the reposts in `mask` only."""
    n_ev = len(ev)
    a = ev.author
    e = ev.rep_event[mask]
    delay = np.maximum((ev.rep_t - ev.t0[ev.rep_event])[mask], 0)
    delay = np.nan_to_num(delay, nan=0.0)
    depth = ev.rep_depth[mask].astype(np.float64)
    doubt = doubt_flags(ev)[mask]
    ver = ev.rep_verified[mask]
    cnt = np.bincount(e, minlength=n_ev).astype(np.float64)
    safe = np.maximum(cnt, 1)

    def per(w: np.ndarray) -> np.ndarray:
        return np.bincount(e, weights=w, minlength=n_ev)

    max_depth = np.zeros(n_ev)
    np.maximum.at(max_depth, e, depth)
    span_h = np.zeros(n_ev)
    np.maximum.at(span_h, e, delay / 3600.0)
    if hours is not None:
        span_h = np.minimum(np.maximum(span_h, 0), hours)
    median = np.zeros(n_ev)
    if len(e):
        order = np.lexsort((delay, e))
        start = np.concatenate([[0], np.cumsum(cnt.astype(np.int64))[:-1]])
        has = cnt > 0
        median[has] = delay[order[start[has] + (cnt[has].astype(np.int64) - 1) // 2]]
    known = ~np.isnan(ver)
    vk = np.bincount(e[known], minlength=n_ev)
    vs = np.bincount(e[known], weights=ver[known], minlength=n_ev)
    vt = a["verified_type"]
    age_days = (ev.t0 - a["account_created"]) / 86400.0
    cols = [
        np.nan_to_num(a["verified"]), (vt == 0).astype(float), (vt == 1).astype(float),
        ((vt >= 2) & (vt <= 7)).astype(float), ((vt > 7) | (vt < -1)).astype(float),
        _log(a["followers"]), _log(a["friends"]), _log(a["statuses"]), _log(age_days),
        np.log1p([len(t or "") for t in ev.text]), np.nan_to_num(a["has_url"]),
        (np.nan_to_num(a["pics"]) > 0).astype(float),
        np.log1p(cnt), np.log1p(per((delay <= 600).astype(float))),
        np.log1p(per((delay <= 3600).astype(float))), np.log1p(cnt / np.maximum(span_h, 1.0)),
        max_depth, per(depth) / safe, per((depth >= 2).astype(float)) / safe, np.log1p(median),
        per(doubt) / safe, np.log1p(per(doubt)), np.where(vk > 0, vs / np.maximum(vk, 1), 0.0),
    ]  # fmt: skip
    return np.column_stack(cols).astype(np.float64)


# Which NUMERIC columns each author field feeds: an unknown field is imputed as the
# training mean (0 after scaling) rather than read as zero followers, unverified, ...
# (crawled pages often carry no profile at all; "unknown" must not look like "nobody").
_FROM_AUTHOR = {
    "verified": ("verified",),
    "verified_type": ("vt_personal", "vt_government", "vt_organisation", "vt_other"),
    "followers": ("log_followers",),
    "friends": ("log_friends",),
    "statuses": ("log_statuses",),
    "account_created": ("log_account_age_days",),
    "has_url": ("has_url",),
    "pics": ("has_pics",),
}


def author_unknown(ev: Events) -> np.ndarray:
    """(events x NUMERIC) True where the value comes from an unknown author field."""
    out = np.zeros((len(ev), len(NUMERIC)), dtype=bool)
    for field_name, cols in _FROM_AUTHOR.items():
        miss = np.isnan(ev.author[field_name])
        for c in cols:
            out[:, NUMERIC.index(c)] = miss
    return out


def doubt_flags(ev: Events) -> np.ndarray:
    """1.0 for each repost whose text has a doubting word (cached on the events)."""
    if "doubt" not in ev._cache:
        ev._cache["doubt"] = np.array(
            [bool(_DOUBT.search(t)) if t else False for t in ev.rep_text], dtype=np.float64
        )
    return ev._cache["doubt"]  # type: ignore[return-value]


def _hashed(ev: Events, which: str, bits: int) -> tuple[np.ndarray, np.ndarray]:
    key = f"{which}{bits}"
    if key not in ev._cache:
        ev._cache[key] = hash_ngrams(ev.text if which == "src" else ev.rep_text, bits)
    return ev._cache[key]  # type: ignore[return-value]


def _runs(key: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc, bucket, count) from sorted keys, by run lengths (no sort)."""
    if len(key) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    start = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    count = np.diff(np.append(start, len(key)))
    k = key[start]
    return k >> bits, k & ((1 << bits) - 1), count


def text_counts(
    ev: Events, hours: float | None, bits: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(event, bucket, count) for the source texts and for the reposts in the window."""
    key = f"counts{bits}:{hours}"
    if key not in ev._cache:
        base = f"sorted{bits}"
        if base not in ev._cache:  # one sort of all repost n-grams serves every window
            sd, sb = _hashed(ev, "src", bits)
            rd, rb = _hashed(ev, "rep", bits)
            k = (ev.rep_event[rd] << bits) | rb
            order = np.argsort(k, kind="stable")
            ev._cache[base] = (term_counts(sd, sb, bits), k[order], rd[order])
        cached: Any = ev._cache[base]
        counts, keys, reps = cached
        ev._cache[key] = [counts, _runs(keys[window_mask(ev, hours)[reps]], bits)]
    return ev._cache[key]  # type: ignore[return-value]


def doc_freqs(
    ev: Events, bits: int, events: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket: in how many of the chosen events' source / full repost text it occurs."""
    out = []
    for d, b, _ in text_counts(ev, None, bits):
        sel = events[d] if events is not None else slice(None)
        out.append(np.bincount(b[sel], minlength=1 << bits).astype(np.float64))
    return out[0], out[1]


@dataclass
class Spec:
    """Everything the design needs besides the events (the fitted, shipped part)."""

    bits: int
    idf_src: np.ndarray
    idf_rep: np.ndarray
    num_mean: np.ndarray
    num_std: np.ndarray
    num_weight: float
    rep_weight: float = 1.0
    # When num_mean/num_std have one row per observation window: those windows (hours,
    # inf = all reposts); a cascade seen for h hours is scaled like the first window >= h.
    windows: np.ndarray | None = None

    def scaling(self, hours: float | None) -> tuple[np.ndarray, np.ndarray]:
        if self.windows is None or self.num_mean.ndim == 1:
            return self.num_mean, self.num_std
        h = np.inf if hours is None else hours
        row = min(int(np.searchsorted(self.windows, h, side="left")), len(self.windows) - 1)
        return self.num_mean[row], self.num_std[row]

    @property
    def n_features(self) -> int:
        return 2 * (1 << self.bits) + len(NUMERIC)


def design(ev: Events, hours: float | None, spec: Spec) -> tuple[np.ndarray, ...]:
    """Sparse design as (row, column, value) triplets: source | reposts | numeric."""
    n, width = len(ev), 1 << spec.bits
    mask = window_mask(ev, hours)
    (sd, sb, sc), (rd, rb, rc) = text_counts(ev, hours, spec.bits)
    sv = tfidf_values(sd, sb, sc, spec.idf_src, n)
    rv = tfidf_values(rd, rb, rc, spec.idf_rep, n) * spec.rep_weight
    mean, std = spec.scaling(hours)
    num = (numeric_features(ev, mask, hours) - mean) / std
    num[author_unknown(ev)] = 0.0
    rows = np.concatenate([sd, rd, np.repeat(np.arange(n), len(NUMERIC))])
    cols = np.concatenate([sb, rb + width, np.tile(np.arange(len(NUMERIC)) + 2 * width, n)])
    vals = np.concatenate([sv, rv, num.ravel() * spec.num_weight])
    return rows, cols, vals
