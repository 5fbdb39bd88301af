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


def desc_order(score: np.ndarray, ties: list[pa.ChunkedArray | pa.Array]) -> np.ndarray:
    """Row order by score descending (NaN last), equal scores in ascending order of the `ties`
    columns. One numeric sort; the string keys are compared only within runs of equal
    scores (a full sort on (score, strings) measured 15-20 ms for 100,000 rows, this 8)."""
    order = np.argsort(-score, kind="stable")
    if len(order) < 2 or not ties:
        return order
    s = score[order]
    same = s[1:] == s[:-1]
    tied = np.r_[same, False] | np.r_[False, same]
    if tied.any():
        pos = np.flatnonzero(tied)
        rows = order[pos]
        run = np.cumsum(np.r_[True, ~same])[pos]  # which run of equal scores
        sub = pa.table({"_run": run, **{f"_k{i}": c.take(rows) for i, c in enumerate(ties)}})
        keys = [("_run", "ascending")] + [(f"_k{i}", "ascending") for i in range(len(ties))]
        order[pos] = rows[pc.sort_indices(sub, keys).to_numpy()]
    return order


def _group_ranks(codes: np.ndarray, score: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per row of `order` (rows by score descending), 1 + the rows of `order` in its group with
    a strictly higher score (ties share a rank); 0 for the rows not in `order`. The groups are
    put together by a stable sort of the small integer codes (a radix sort), so that each
    stays in score order: measured a third of the time of a lexsort on (group, score)."""
    out = np.zeros(len(codes), dtype=np.int64)
    n = len(order)
    if n == 0:
        return out
    g = codes[order]
    if g.max() > g.min():
        small = g.astype(np.int16) if g.max() < 2**15 else g
        order = order[np.argsort(small, kind="stable")]
        g = codes[order]
    s = score[order]
    pos = np.arange(n)
    first_group = np.r_[True, g[1:] != g[:-1]]
    first_value = first_group | np.r_[True, s[1:] != s[:-1]]
    group_start = np.maximum.accumulate(np.where(first_group, pos, 0))
    value_start = np.maximum.accumulate(np.where(first_value, pos, 0))
    out[order] = value_start - group_start + 1
    return out


def _codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An integer code per row, equal for equal values (nulls: -1)."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def rankings(
    index: Any, *, by: str | None = None, kind: str | None = None, top_n: int | None = 20
) -> pa.Table:
    """Top-N accounts overall (by=None) or within each value of `by`; kind='agency'/'official'
    restricts to agencies or officials. Adds `group` and `group_rank` (1 = best)."""
    _check(by)
    return _rankings(_table(index), by, kind, top_n, None)


def _rankings(
    t: pa.Table, by: str | None, kind: str | None, top_n: int | None, order: np.ndarray | None
) -> pa.Table:
    """rankings() given `order`, every row of `t` by score descending (ranking_lists sorts
    once for all its lists)."""
    t = t.drop_columns([c for c in ("group", "group_rank") if c in t.column_names])
    score = _floats(t["score"])
    if order is None:
        order = np.argsort(-score, kind="stable")
    # Only the few columns needed are worked on; the kept rows are taken at the end (filtering
    # the whole table first copies every column and measured most of the time).
    rows = pc.is_valid(t["score"])
    if kind is not None:
        rows = pc.and_(rows, pc.fill_null(pc.equal(t["kind"], kind), False))
    if by is not None:
        rows = pc.and_(rows, pc.is_valid(t[by]))
    mask = rows.to_numpy(zero_copy_only=False)
    ranked = order[mask[order]]  # the rows to rank, by score descending
    codes = np.zeros(t.num_rows, dtype=np.int64) if by is None else _codes(t[by])
    ranks = _group_ranks(codes, score, ranked)
    keep = ranked if top_n is None else ranked[ranks[ranked] <= top_n]
    out = t.take(keep)
    group = _all(len(keep)) if by is None else pc.cast(t[by].take(keep), pa.string())
    out = out.add_column(0, "group_rank", pa.array(ranks[keep], pa.int64()))
    out = out.add_column(0, "group", group)
    return out.sort_by(
        [("group", "ascending"), ("group_rank", "ascending"), ("platform", "ascending"),
         ("account_id", "ascending")]
    ).combine_chunks()  # fmt: skip


# The standard lists: name -> (grouping, kind).
LISTS: dict[str, tuple[str | None, str | None]] = {
    "overall": (None, None),
    "agencies": (None, "agency"),
    "officials": (None, "official"),
    "by_sector": ("sector", None),
    "by_level": ("level", None),
    "by_province": ("province", None),
}


def ranking_lists(
    index: Any, *, top_n: int | None = 20, previous: Any | None = None
) -> dict[str, pa.Table]:
    """The standard lists (LISTS): overall, agencies, officials, by sector, level and
    province. With `previous` (the previous period's index) each list also gets the group
    rank change (group_rank_change)."""
    t = _table(index)
    order = np.argsort(-_floats(t["score"]), kind="stable")  # one sort for all the lists
    out = {name: _rankings(t, by, kind, top_n, order) for name, (by, kind) in LISTS.items()}
    if previous is not None:
        p = _table(previous)
        p_order = np.argsort(-_floats(p["score"]), kind="stable")
        for name, (by, kind) in LISTS.items():
            out[name] = _with_previous(out[name], _rankings(p, by, kind, None, p_order))
    return out


def group_rank_change(
    current: Any,
    previous: Any,
    *,
    by: str | None = None,
    kind: str | None = None,
    top_n: int | None = 20,
) -> pa.Table:
    """rankings(current, by=, kind=, top_n=) with the rank each account had in the same list
    and group in the previous period (`previous_group_rank`) and `group_rank_change`
    (previous - current; + = moved up; null when the account was not in that group's list
    then). The change is within the group: the 4th of 42 foreign-affairs accounts that was
    6th moved up 2, whatever its overall rank did."""
    _check(by)
    ranked = _rankings(_table(current), by, kind, top_n, None)
    return _with_previous(ranked, _rankings(_table(previous), by, kind, None, None))


def _with_previous(ranked: pa.Table, before: pa.Table) -> pa.Table:
    """`ranked` (a list of _rankings) joined to the full list of the previous period on the
    account and its group (an account that changed group is new to its group)."""
    ranked = ranked.drop_columns(
        [c for c in ("previous_group_rank", "group_rank_change") if c in ranked.column_names]
    )
    prev = before.select(["group", *KEYS, "group_rank"]).rename_columns(
        ["group", *KEYS, "previous_group_rank"]
    )
    # One string key per row (group, platform, account) looked up in the previous list's
    # keys: rows stay in order (0.09-0.16 s for 100,000 rows; a join, which loses the order,
    # and a sort back on group, rank and the string keys measured 0.16-0.22 s).

    def key(t: pa.Table) -> pa.Array:
        cols = [pc.fill_null(pc.cast(t[c], pa.string()), "") for c in ("group", *KEYS)]
        return pc.binary_join_element_wise(*cols, "\x1f")

    at = pc.index_in(key(ranked), value_set=key(prev))
    previous = pc.take(prev["previous_group_rank"], at)
    out = ranked.append_column("previous_group_rank", previous)
    return out.append_column(
        "group_rank_change", pc.subtract(out["previous_group_rank"], out["group_rank"])
    ).combine_chunks()


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
    if t["province"].null_count:  # (a filter copies every column, even when it keeps all)
        t = t.filter(pc.is_valid(t["province"]))
    # Best first; equal scores in account order, so the top-N is deterministic. The columns
    # summed are taken in that order (numpy), not the table (a sort on score and account
    # measured most of the time).
    order = desc_order(_floats(t["score"]), [t["account_id"]])
    codes_all, names = _groups(t["province"])
    codes = codes_all[order]
    k = len(names)
    small = codes.astype(np.int16) if k < 2**15 else codes
    by_group = np.argsort(small, kind="stable")  # groups together, best first within each
    g = codes[by_group]
    pos = np.arange(len(g))
    start = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], pos, 0))
    top = np.zeros(len(g), dtype=bool)
    top[by_group] = (pos - start) < top_n
    score = _floats(t["score"])[order]
    comm_score = _floats(t[comm])[order]
    followers = _ints(t["followers"])[order]
    accounts = np.bincount(codes, minlength=k)
    n_top = np.bincount(codes[top], minlength=k)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, values, minlength=k)

    def top_mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes[top], values[top], minlength=k) / n_top

    cols: dict[str, np.ndarray] = {
        "accounts": accounts.astype(np.int64),
        "active_accounts": total(_ints(t["posts"])[order] > 0).astype(np.int64),
        "agencies": total(_is(t["kind"], "agency")[order]).astype(np.int64),
        "officials": total(_is(t["kind"], "official")[order]).astype(np.int64),
        "followers_total": _int_totals(codes, followers, k),
        "over_100k": total(followers >= 100_000).astype(np.int64),
        "mean_score": total(score) / accounts,
        "top_mean_score": top_mean(score),
        "top_communication": top_mean(comm_score),
    }
    cols["coverage"] = cols["active_accounts"] / accounts
    cols["power"] = (
        POWER_TOP_WEIGHT * cols["top_mean_score"] + (1 - POWER_TOP_WEIGHT) * 100 * cols["coverage"]
    )
    power = cols["power"]
    cols["power_rank"] = _group_ranks(
        np.zeros(k, dtype=np.int64), power, np.argsort(-power, kind="stable")
    )
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
