"""Rankings, rank change, province aggregates, threshold counts and distributions.

Pure functions over the index table (compute_index's output, one row per account, which fits
in memory on any engine): Arrow in and out, numpy inside. Ibis/DuckDB measured 10-50x slower
here because of per-query overhead on such small tables, and pandas with Arrow-backed columns
about 10x slower than working on the few columns each function needs and taking the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.errors import AnalysisError
from govweibo.reference import provinces

GROUPINGS = ("province", "region", "sector", "level", "kind")
THRESHOLDS = (100_000, 1_000_000)
# Province power = POWER_TOP_WEIGHT * mean score of top-N + (1 - it) * 100 * coverage.
POWER_TOP_WEIGHT = 0.8
KEYS = ["platform", "account_id"]


def _table(index: Any) -> pa.Table:
    """The index as one Arrow table (from Arrow, pandas or an Ibis expression)."""
    if isinstance(index, pa.Table):
        t = index
    elif hasattr(index, "to_pyarrow"):  # an Ibis expression
        t = index.to_pyarrow()
    else:  # a pandas DataFrame
        t = pa.Table.from_pandas(index, preserve_index=False)
    return t.combine_chunks().replace_schema_metadata(None)


def _check(by: str | None) -> None:
    if by is not None and by not in GROUPINGS:
        raise AnalysisError(f"cannot group by {by!r}; choose from {GROUPINGS}")


def _floats(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(col, pa.int64()), 0).to_numpy(zero_copy_only=False)


def _is(col: pa.ChunkedArray | pa.Array, value: str) -> np.ndarray:
    """Rows whose value equals `value` (null: no), as 0/1 integers."""
    return _ints(pc.fill_null(pc.equal(col, value), False))


def _all(n: int) -> pa.Array:
    return pa.repeat(pa.scalar("all", pa.string()), n)


def _groups(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of each row's group, numbered in the sorted order of the group values
    (null last, when present), and those values."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    values = enc.dictionary.to_pylist()
    order = sorted(range(len(values)), key=lambda i: values[i])
    recode = np.empty(len(values) + 1, dtype=np.int64)
    recode[order] = np.arange(len(values))
    recode[len(values)] = len(values)  # the null group
    idx = pc.fill_null(enc.indices, len(values)).to_numpy(zero_copy_only=False)
    labels = [values[i] for i in order] + [None] * (enc.indices.null_count > 0)
    return recode[idx.astype(np.int64)], labels


def _int_totals(codes: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Exact int64 sums per group (np.bincount sums in float64)."""
    out = np.zeros(k, dtype=np.int64)
    np.add.at(out, codes, values)
    return out


def _min_rank_desc(codes: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per row, 1 + the rows of its group with a strictly higher score (ties share a rank)."""
    n = len(score)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    # One group (the overall list): a plain sort; else by group, then score.
    order = np.argsort(-score) if codes.min() == codes.max() else np.lexsort((-score, codes))
    g, s = codes[order], score[order]
    pos = np.arange(n)
    first_group = np.r_[True, g[1:] != g[:-1]]
    first_value = first_group | np.r_[True, s[1:] != s[:-1]]
    group_start = np.maximum.accumulate(np.where(first_group, pos, 0))
    value_start = np.maximum.accumulate(np.where(first_value, pos, 0))
    out[order] = value_start - group_start + 1
    return out


def rankings(
    index: Any, *, by: str | None = None, kind: str | None = None, top_n: int | None = 20
) -> pa.Table:
    """Top-N accounts overall (by=None) or within each value of `by`; kind='agency'/'official'
    restricts to agencies or officials. Adds `group` and `group_rank` (1 = best)."""
    _check(by)
    t = _table(index)
    t = t.drop_columns([c for c in ("group", "group_rank") if c in t.column_names])
    # Only the few columns needed are worked on; the kept rows are taken at the end (filtering
    # the whole table first copies every column and measured most of the time).
    rows = pc.is_valid(t["score"])
    if kind is not None:
        rows = pc.and_(rows, pc.fill_null(pc.equal(t["kind"], kind), False))
    if by is not None:
        rows = pc.and_(rows, pc.is_valid(t[by]))
    rows = np.flatnonzero(rows.to_numpy(zero_copy_only=False))
    group = _all(len(rows)) if by is None else t[by].take(rows)
    codes, _ = _groups(group)
    ranks = _min_rank_desc(codes, _floats(t["score"].take(rows)))
    keep = np.arange(len(rows)) if top_n is None else np.flatnonzero(ranks <= top_n)
    out = t.take(rows[keep])
    out = out.add_column(0, "group_rank", pa.array(ranks[keep], pa.int64()))
    out = out.add_column(0, "group", pc.cast(group.take(keep), pa.string()))
    return out.sort_by(
        [("group", "ascending"), ("group_rank", "ascending"), ("platform", "ascending"),
         ("account_id", "ascending")]
    ).combine_chunks()  # fmt: skip


def ranking_lists(index: Any, *, top_n: int = 20) -> dict[str, pa.Table]:
    """The standard lists: overall, agencies, officials, by sector, level and province."""
    t = _table(index)
    return {
        "overall": rankings(t, top_n=top_n),
        "agencies": rankings(t, kind="agency", top_n=top_n),
        "officials": rankings(t, kind="official", top_n=top_n),
        "by_sector": rankings(t, by="sector", top_n=top_n),
        "by_level": rankings(t, by="level", top_n=top_n),
        "by_province": rankings(t, by="province", top_n=top_n),
    }


def rank_change(current: Any, previous: Any) -> pa.Table:
    """Current index with previous_rank and rank_change (previous - current; + = moved up;
    null when the account was not ranked in the previous period)."""
    cur, prev = _table(current), _table(previous)
    prev = prev.select([*KEYS, "rank"]).rename_columns([*KEYS, "previous_rank"])
    out = cur.join(prev, KEYS, join_type="left outer")
    out = out.append_column("rank_change", pc.subtract(out["previous_rank"], out["rank"]))
    return out.sort_by([("rank", "ascending"), ("platform", "ascending"),
                        ("account_id", "ascending")]).combine_chunks()  # fmt: skip


def province_aggregates(index: Any, *, top_n: int = 10) -> pa.Table:
    """Per province: accounts, coverage (share active in the period), mean score of the top-N
    accounts, communication dimension of the top-N, followers, and `power` (see methods doc)."""
    t = _table(index)
    comm = "communication" if "communication" in t.column_names else "score"
    t = t.select(
        list(dict.fromkeys(["province", "account_id", "score", comm, "kind", "posts", "followers"]))
    )  # only what is used: no copy of the rest
    t = t.filter(pc.is_valid(t["province"]))
    # Best first; equal scores in account order, so the top-N is deterministic.
    t = t.sort_by([("score", "descending"), ("account_id", "ascending")])
    codes, names = _groups(t["province"])
    k = len(names)
    order = np.argsort(codes, kind="stable")  # groups together, best first within each
    g = codes[order]
    pos = np.arange(len(g))
    start = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], pos, 0))
    top = np.zeros(len(g), dtype=bool)
    top[order] = (pos - start) < top_n
    score = _floats(t["score"])
    followers = _ints(t["followers"])
    accounts = np.bincount(codes, minlength=k)
    n_top = np.bincount(codes[top], minlength=k)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, values, minlength=k)

    def top_mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes[top], values[top], minlength=k) / n_top

    cols: dict[str, np.ndarray] = {
        "accounts": accounts.astype(np.int64),
        "active_accounts": total(_ints(t["posts"]) > 0).astype(np.int64),
        "agencies": total(_is(t["kind"], "agency")).astype(np.int64),
        "officials": total(_is(t["kind"], "official")).astype(np.int64),
        "followers_total": _int_totals(codes, followers, k),
        "over_100k": total(followers >= 100_000).astype(np.int64),
        "mean_score": total(score) / accounts,
        "top_mean_score": top_mean(score),
        "top_communication": top_mean(_floats(t[comm])),
    }
    cols["coverage"] = cols["active_accounts"] / accounts
    cols["power"] = (
        POWER_TOP_WEIGHT * cols["top_mean_score"] + (1 - POWER_TOP_WEIGHT) * 100 * cols["coverage"]
    )
    cols["power_rank"] = _min_rank_desc(np.zeros(k, dtype=np.int64), cols["power"])
    ref = {p.short_zh: (p.name_en, p.region) for p in provinces()}
    out = pa.table(
        {
            "province": pa.array(names, pa.string()),
            "name_en": pa.array([ref.get(n, (None, None))[0] for n in names], pa.string()),
            "region": pa.array([ref.get(n, (None, None))[1] for n in names], pa.string()),
            **{c: pa.array(v) for c, v in cols.items()},
        }
    )
    return out.sort_by([("power_rank", "ascending"), ("province", "ascending")])


def threshold_counts(
    index: Any, *, thresholds: tuple[int, ...] = THRESHOLDS, by: str | None = None
) -> pa.Table:
    """Accounts with followers >= each threshold, overall or per value of `by`."""
    _check(by)
    t = _table(index)
    group = _all(t.num_rows) if by is None else t[by]
    codes, labels = _groups(group)
    k = len(labels)
    followers = _ints(t["followers"])
    cols = {"accounts": np.bincount(codes, minlength=k).astype(np.int64)}
    for n in thresholds:
        cols[f"over_{n}"] = np.bincount(codes, followers >= n, minlength=k).astype(np.int64)
    out = pa.table({"group": pa.array(labels, pa.string()), **cols})
    return out.sort_by([(f"over_{thresholds[0]}", "descending"), ("group", "ascending")])


def distribution(index: Any, *, by: str = "province") -> pa.Table:
    """How the ranked accounts are spread over a grouping (nulls form their own row)."""
    _check(by)
    t = _table(index)
    codes, labels = _groups(t[by])
    k = len(labels)
    accounts = np.bincount(codes, minlength=k).astype(np.int64)
    score = np.bincount(codes, _floats(t["score"]), minlength=k)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, values, minlength=k).astype(np.int64)

    out = pa.table(
        {
            "group": pa.array(labels, pa.string()),
            "accounts": accounts,
            "share": accounts / max(t.num_rows, 1),
            "agencies": total(_is(t["kind"], "agency")),
            "officials": total(_is(t["kind"], "official")),
            "active_accounts": total(_ints(t["posts"]) > 0),
            "followers_total": _int_totals(codes, _ints(t["followers"]), k),
            "mean_score": score / np.maximum(accounts, 1),
        }
    )
    return out.sort_by([("accounts", "descending"), ("group", "ascending")])  # nulls last


def all_distributions(index: Any) -> dict[str, pa.Table]:
    t = _table(index)
    return {by: distribution(t, by=by) for by in GROUPINGS}
