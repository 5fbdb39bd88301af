"""Rankings, rank change, province aggregates, threshold counts and distributions.

Pure functions over the index table (compute_index's output, one row per account, which fits
in memory on any engine): pandas inside, Arrow in and out. Ibis/DuckDB measured 10-50x slower
here because of per-query overhead on such small tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from govweibo.errors import AnalysisError
from govweibo.reference import provinces

GROUPINGS = ("province", "region", "sector", "level", "kind")
THRESHOLDS = (100_000, 1_000_000)
# Province power = POWER_TOP_WEIGHT * mean score of top-N + (1 - it) * 100 * coverage.
POWER_TOP_WEIGHT = 0.8


def _df(index: Any) -> pd.DataFrame:
    if isinstance(index, pd.DataFrame):
        return index
    if not isinstance(index, pa.Table):
        index = index.to_pyarrow()  # an Ibis expression
    return index.to_pandas(types_mapper=pd.ArrowDtype)


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)


def _check(by: str | None) -> None:
    if by is not None and by not in GROUPINGS:
        raise AnalysisError(f"cannot group by {by!r}; choose from {GROUPINGS}")


def _desc_rank(s: pd.Series) -> pd.Series:
    return s.rank(method="min", ascending=False).astype("int64")


def rankings(
    index: Any, *, by: str | None = None, kind: str | None = None, top_n: int | None = 20
) -> pa.Table:
    """Top-N accounts overall (by=None) or within each value of `by`; kind='agency'/'official'
    restricts to agencies or officials. Adds `group` and `group_rank` (1 = best)."""
    _check(by)
    df = _df(index)
    if kind is not None:
        df = df[df["kind"] == kind]
    if by is None:
        group = pd.Series("all", index=df.index, dtype=pd.ArrowDtype(pa.string()))
    else:
        df = df[df[by].notna()]
        group = df[by]
    score = df["score"].astype("float64")
    ranks = score.groupby(group.to_numpy()).rank(method="min", ascending=False)
    keep = ranks <= top_n if top_n is not None else ranks.notna() | True
    out = df[keep].assign(group=group[keep], group_rank=ranks[keep].astype("int64"))
    out = out.sort_values(["group", "group_rank", "platform", "account_id"], kind="stable")
    cols = ["group", "group_rank", *[c for c in df.columns if c not in ("group", "group_rank")]]
    return _arrow(out[cols])


def ranking_lists(index: Any, *, top_n: int = 20) -> dict[str, pa.Table]:
    """The standard lists: overall, agencies, officials, by sector, level and province."""
    df = _df(index)
    return {
        "overall": rankings(df, top_n=top_n),
        "agencies": rankings(df, kind="agency", top_n=top_n),
        "officials": rankings(df, kind="official", top_n=top_n),
        "by_sector": rankings(df, by="sector", top_n=top_n),
        "by_level": rankings(df, by="level", top_n=top_n),
        "by_province": rankings(df, by="province", top_n=top_n),
    }


def rank_change(current: Any, previous: Any) -> pa.Table:
    """Current index with previous_rank and rank_change (previous - current; + = moved up;
    null when the account was not ranked in the previous period)."""
    cur, prev = _df(current), _df(previous)
    prev = prev[["platform", "account_id", "rank"]].rename(columns={"rank": "previous_rank"})
    out = cur.merge(prev, on=["platform", "account_id"], how="left")
    out["rank_change"] = out["previous_rank"] - out["rank"]
    return _arrow(out.sort_values(["rank", "platform", "account_id"], kind="stable"))


def province_aggregates(index: Any, *, top_n: int = 10) -> pa.Table:
    """Per province: accounts, coverage (share active in the period), mean score of the top-N
    accounts, communication dimension of the top-N, followers, and `power` (see methods doc)."""
    df = _df(index)
    df = df[df["province"].notna()].sort_values(["score", "account_id"], ascending=[False, True])
    comm = "communication" if "communication" in df.columns else "score"
    df = df.assign(
        _active=(df["posts"] > 0).astype("int64"),
        _agency=(df["kind"] == "agency").astype("int64"),
        _official=(df["kind"] == "official").astype("int64"),
        _over=(df["followers"] >= 100_000).astype("int64"),
    )
    g = df.groupby("province", sort=False)
    top = df[g.cumcount() < top_n].groupby("province", sort=False)
    out = pd.DataFrame(
        {
            "accounts": g.size(),
            "active_accounts": g["_active"].sum(),
            "agencies": g["_agency"].sum(),
            "officials": g["_official"].sum(),
            "followers_total": g["followers"].sum(),
            "over_100k": g["_over"].sum(),
            "mean_score": g["score"].mean(),
            "top_mean_score": top["score"].mean(),
            "top_communication": top[comm].mean(),
        }
    )
    out["coverage"] = out["active_accounts"] / out["accounts"]
    out["power"] = (
        POWER_TOP_WEIGHT * out["top_mean_score"] + (1 - POWER_TOP_WEIGHT) * 100 * out["coverage"]
    )
    out["power_rank"] = _desc_rank(out["power"].astype("float64"))
    ref = pd.DataFrame(
        [(p.short_zh, p.name_en, p.region) for p in provinces()],
        columns=["province", "name_en", "region"],
    )
    out = out.reset_index().merge(ref, on="province", how="left")
    first = ["province", "name_en", "region"]
    out = out[first + [c for c in out.columns if c not in first]]
    return _arrow(out.sort_values(["power_rank", "province"], kind="stable"))


def threshold_counts(
    index: Any, *, thresholds: tuple[int, ...] = THRESHOLDS, by: str | None = None
) -> pa.Table:
    """Accounts with followers >= each threshold, overall or per value of `by`."""
    _check(by)
    df = _df(index)
    group = np.full(len(df), "all", dtype=object) if by is None else df[by].to_numpy()
    cols = {f"over_{n}": (df["followers"] >= n).astype("int64").to_numpy() for n in thresholds}
    tmp = pd.DataFrame({"group": group, "accounts": 1, **cols})
    out = tmp.groupby("group", dropna=False, sort=False).sum().reset_index()
    out = out.sort_values([f"over_{thresholds[0]}", "group"], ascending=[False, True])
    return _arrow(out.astype({"group": pd.ArrowDtype(pa.string())}))


def distribution(index: Any, *, by: str = "province") -> pa.Table:
    """How the ranked accounts are spread over a grouping (nulls form their own row)."""
    _check(by)
    df = _df(index)
    tmp = pd.DataFrame(
        {
            "group": df[by].to_numpy(),
            "accounts": 1,
            "agencies": (df["kind"] == "agency").fillna(False).astype("int64").to_numpy(),
            "officials": (df["kind"] == "official").fillna(False).astype("int64").to_numpy(),
            "active_accounts": (df["posts"] > 0).astype("int64").to_numpy(),
            "followers_total": df["followers"].astype("int64").to_numpy(),
            "score": df["score"].astype("float64").to_numpy(),
        }
    )
    g = tmp.groupby("group", dropna=False, sort=False)
    out = g.sum(numeric_only=True).drop(columns="score")
    out["mean_score"] = g["score"].mean()
    out = out.reset_index()
    out.insert(2, "share", out["accounts"] / max(len(df), 1))
    out = out.sort_values(["accounts", "group"], ascending=[False, True], na_position="last")
    return _arrow(out.astype({"group": pd.ArrowDtype(pa.string())}))


def all_distributions(index: Any) -> dict[str, pa.Table]:
    return {by: distribution(index, by=by) for by in GROUPINGS}
