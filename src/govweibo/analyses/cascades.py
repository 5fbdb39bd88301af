"""Repost cascades: rebuild the trees and measure them.

Parents come from `parent_post_id` where known, else from the first `//@name:` of the
repost's chain matched to the latest earlier reposter (or the root's author) with that
screen name in the same cascade, else the post is a direct repost of the root. A chain
name that matches nobody is an *unresolved* hop: the post is hung on the root for the
metrics (a lower bound on depth) and flagged, never given an invented parent.

Tree arithmetic is vectorised over all cascades at once: depth by pointer doubling on the
parent-index array, subtree sizes level by level (deepest first), and the structural
virality of Goel et al. (2016) from the Wiener index W = sum over edges s*(n-s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govweibo.errors import AnalysisError, NotFoundError

__all__ = ["cascades", "cascade_metrics", "cascade_tree"]
__all__ += ["tree_depths", "subtree_sizes"]
_POST_COLS = [
    "platform", "post_id", "author_id", "created_at",
    "retweeted_post_id", "parent_post_id", "repost_chain",
]  # fmt: skip


def _arrow(t: Any, cols: list[str] | None = None) -> pa.Table | None:
    """An Arrow table from Arrow or an Ibis expression, with only the columns wanted."""
    if t is None:
        return None
    names = t.column_names if isinstance(t, pa.Table) else list(t.columns)
    keep = [c for c in (cols or names) if c in names]
    return t.select(keep) if isinstance(t, pa.Table) else t.select(keep).to_pyarrow()


def tree_depths(parent: np.ndarray, max_rounds: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Depth and top ancestor of every node (parent -1 at a root), by pointer doubling.

    O(n log depth). Nodes caught in a parent cycle get depth -1 and top -1.
    """
    n = len(parent)
    idx = np.arange(n, dtype=np.int64)
    jump = np.where(parent < 0, idx, parent).astype(np.int64)
    dist = (parent >= 0).astype(np.int64)
    for _ in range(max_rounds):
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        dist = dist + dist[jump]
        jump = nxt
    bad = jump[jump] != jump
    bad |= parent[jump] >= 0
    dist[bad] = -1
    jump[bad] = -1
    return dist, jump


def subtree_sizes(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Number of nodes in each node's subtree, accumulated from the deepest level up."""
    size = np.ones(len(parent), dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max(initial=0)) + 2))
    for d in range(len(bounds) - 2, 0, -1):
        level = order[bounds[d] : bounds[d + 1]]
        np.add.at(size, parent[level], size[level])
    return size


@dataclass
class _Forest:
    nodes: pa.Table  # one row per node; roots first
    parent: np.ndarray  # tree parent index (-1 at roots)
    root: np.ndarray  # root index of every node
    n_roots: int
    depth: np.ndarray
    size: np.ndarray


_DEDUPE = (
    "SELECT * FROM _posts QUALIFY row_number() OVER (PARTITION BY platform, post_id "
    "ORDER BY created_at) = 1"
)
# The latest earlier post of the same cascade whose author has the chain's first name.
_CHAIN_SQL = """
SELECT q.i, c.i AS parent FROM _q q ASOF JOIN (
  SELECT n.i, n.root, n.created_at, a.screen_name FROM _n n
  JOIN _a a ON a.platform = n.platform AND a.account_id = n.author_id
  WHERE n.created_at IS NOT NULL AND a.screen_name IS NOT NULL) c
ON c.root = q.root AND c.screen_name = q.chain_head AND q.created_at > c.created_at
ORDER BY q.i
"""


def _arr(c: Any) -> pa.Array:
    if isinstance(c, pa.ChunkedArray):
        return pa.concat_arrays(c.chunks) if c.num_chunks else pa.array([], c.type)
    return c


def _encode(*arrays: pa.Array) -> list[np.ndarray]:
    """Integer codes (-1 for null) from one dictionary over all the id arrays."""
    whole = pa.concat_arrays([x.cast(pa.string()) for x in arrays])
    codes = pc.dictionary_encode(whole).indices.fill_null(-1).to_numpy().astype(np.int64)
    return np.split(codes, np.cumsum([len(x) for x in arrays])[:-1])


def _finder(index: np.ndarray, n_codes: int) -> np.ndarray:
    """code -> first position in index (-1 when absent); slot -1 (null) maps to -1."""
    table = np.full(n_codes + 1, -1, dtype=np.int64)
    table[index[::-1]] = np.arange(len(index) - 1, -1, -1)  # the first occurrence wins
    table[-1] = -1
    return table


def _several(platform: Any) -> bool:
    """More than one platform (min/max compare strings without hashing them)."""
    mm = pc.min_max(platform)
    return bool(mm["min"].as_py() != mm["max"].as_py())


def _has_duplicates(posts: pa.Table) -> bool:
    plat, ids = _arr(posts.column("platform")), _arr(posts.column("post_id"))
    if _several(plat):
        ids = pc.binary_join_element_wise(plat, ids, "\x1f")
    codes = _encode(ids)[0]
    return bool(np.bincount(codes[codes >= 0]).max(initial=0) > 1)


def _take(a: pa.Array, rows: np.ndarray) -> pa.Array:
    """a[rows], null where rows is -1."""
    return a.take(pa.array(rows, pa.int64(), mask=rows < 0))


def _build(posts: pa.Table, accounts: pa.Table | None) -> _Forest:
    if "repost_chain" not in posts.column_names:
        posts = posts.append_column("repost_chain", pa.nulls(posts.num_rows, pa.list_(pa.string())))
    for name in _POST_COLS:
        if name not in posts.column_names:
            raise AnalysisError(f"posts need a '{name}' column for cascades")
    posts = posts.select(_POST_COLS)
    if _has_duplicates(posts):
        con = duckdb.connect()
        con.register("_posts", posts)
        posts = con.execute(_DEDUPE).to_arrow_table()
        con.close()
    col = {c: _arr(posts.column(c)) for c in _POST_COLS}
    multi = _several(col["platform"])

    def key(ids: pa.Array, plat: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(plat, ids, "\x1f") if multi else ids

    plat = col["platform"]
    pk_c, rt_c, par_c = _encode(key(col["post_id"], plat), key(col["retweeted_post_id"], plat),
                                key(col["parent_post_id"], plat))  # fmt: skip
    n_codes = int(max(pk_c.max(initial=-1), rt_c.max(initial=-1), par_c.max(initial=-1))) + 1
    row_of = _finder(pk_c, n_codes)
    is_rep = (rt_c >= 0) & (rt_c != pk_c)
    rep, orig = np.flatnonzero(is_rep), np.flatnonzero(~is_rep)
    up = row_of[rt_c[rep]]  # a repost of a repost: the root is one step further up
    nested = (up >= 0) & is_rep[np.maximum(up, 0)]
    root_row = np.where(nested, up, rep)  # the row whose retweeted id is the root
    root_c = rt_c[root_row]
    roots_c = np.unique(np.concatenate([pk_c[orig], root_c]))
    n_roots = len(roots_c)
    at = row_of[roots_c]  # the root's own row, -1 when we do not have it
    some = np.maximum(_finder(root_c, n_codes)[roots_c], 0)  # one repost of each root
    any_row = np.where(at >= 0, at, rep[some] if len(rep) else 0)
    roots_raw = pc.if_else(pa.array(at >= 0), col["post_id"].take(np.maximum(at, 0)),
                           col["retweeted_post_id"].take(root_row[some] if len(rep) else at * 0))  # fmt: skip
    node_rows = np.concatenate([at, rep])
    root = np.concatenate([np.arange(n_roots), _finder(roots_c, n_codes)[root_c]])
    # Parents: the given id, else the retweeted post when there is no chain, else the chain.
    chain_len = pc.fill_null(pc.list_value_length(col["repost_chain"].take(rep)), 0).to_numpy()
    has_par = par_c[rep] >= 0
    raw = np.where(has_par, par_c[rep], np.where(chain_len == 0, rt_c[rep], -1))
    node_of = _finder(np.concatenate([roots_c, pk_c[rep]]), n_codes)
    parent = np.concatenate([np.full(n_roots, -1), node_of[raw]])
    via = np.concatenate([np.full(n_roots, "root", dtype=object),
                          np.where(has_par, "parent_id",
                                   np.where(chain_len == 0, "direct", "chain"))])  # fmt: skip
    plat_r = plat.take(rep)
    heads = np.flatnonzero(~has_par & (chain_len > 0))
    head = pa.nulls(len(parent), pa.string())
    nodes = pa.table({
        "platform": pa.concat_arrays([col["platform"].take(any_row), plat_r]),
        "post_id": pa.concat_arrays([roots_raw, col["post_id"].take(rep)]),
        "root_id": roots_raw.take(root),
        "author_id": _take(col["author_id"], node_rows),
        "created_at": _take(col["created_at"], node_rows),
        "present": pa.array(node_rows >= 0),
    })  # fmt: skip
    if len(heads):
        names = pc.list_element(col["repost_chain"].take(rep[heads]), 0)
        at_heads = np.full(len(parent), -1)
        at_heads[n_roots + heads] = np.arange(len(heads))
        head = _take(names, at_heads)
        nodes = nodes.append_column("chain_head", head)
        parent[n_roots + heads] = _chain_parents(nodes, root, n_roots + heads, accounts)
    else:
        nodes = nodes.append_column("chain_head", head)
    is_root = np.arange(len(parent)) < n_roots
    bad = ~is_root & (parent < 0)
    _, top = tree_depths(np.where(bad, root, parent))
    bad |= ~is_root & (top != root)  # a parent in another cascade, or a cycle
    parent = np.where(bad, root, parent)
    via[bad] = "unresolved"
    depth, _ = tree_depths(parent)
    size = subtree_sizes(parent, depth)
    nodes = nodes.append_column("via", pa.array(via, pa.string()))
    return _Forest(nodes, parent, root, n_roots, depth, size)


def _chain_parents(
    nodes: pa.Table, root: np.ndarray, heads: np.ndarray, accounts: pa.Table | None
) -> np.ndarray:
    """Node index of each chain head's parent (-1 when the name matches nobody earlier)."""
    out = np.full(len(heads), -1, dtype=np.int64)
    if accounts is None or "screen_name" not in accounts.column_names:
        return out
    cand = np.flatnonzero(np.isin(root, root[heads]))
    q = nodes.select(["chain_head", "created_at"]).take(heads)
    q = q.append_column("i", pa.array(heads)).append_column("root", pa.array(root[heads]))
    n = nodes.select(["platform", "author_id", "created_at"]).take(cand)
    n = n.append_column("i", pa.array(cand)).append_column("root", pa.array(root[cand]))
    con = duckdb.connect()
    try:
        con.register("_q", q)
        con.register("_n", n)
        con.register("_a", accounts.select(["platform", "account_id", "screen_name"]))
        res = con.execute(_CHAIN_SQL).to_arrow_table()
    finally:
        con.close()
    pos = np.searchsorted(heads, res.column("i").to_numpy())
    out[pos] = res.column("parent").to_numpy()
    return out


def _flags(nodes: pa.Table, table: pa.Table | None, col: str) -> np.ndarray:
    """Per node: 1.0 / 0.0 for the author's flag, NaN where unknown."""
    if table is None or col not in table.column_names:
        return np.full(nodes.num_rows, np.nan)
    if "platform" not in table.column_names:
        table = table.append_column("platform", pa.array(["weibo"] * table.num_rows))
    acc, who = _arr(table.column("account_id")), _arr(nodes.column("author_id"))
    ap, wp = _arr(table.column("platform")), _arr(nodes.column("platform"))
    if _several(pa.concat_arrays([ap.cast(pa.string()), wp.cast(pa.string())])):
        acc = pc.binary_join_element_wise(ap, acc, "\x1f")
        who = pc.binary_join_element_wise(wp, who, "\x1f")
    acc_c, who_c = _encode(acc, who)
    found = _finder(acc_c, int(max(acc_c.max(initial=-1), who_c.max(initial=-1))) + 1)[who_c]
    v = _take(_arr(table.column(col)).cast(pa.float64()), found)
    return v.to_numpy(zero_copy_only=False).astype(np.float64)


def cascade_metrics(posts: Any, *, accounts: Any = None, profiles: Any = None) -> pa.Table:
    """One row per cascade root: size, depth, breadth, structural virality, timing, shares.

    `posts` is an Arrow table or Ibis expression with the canonical post columns;
    `accounts` (screen_name, verified) resolves `//@name:` hops and the verified share;
    `profiles` (account_id, is_government) gives the government share.
    """
    pt = _arrow(posts, _POST_COLS)
    acc = _arrow(accounts, ["platform", "account_id", "screen_name", "verified"])
    prof = _arrow(profiles, ["platform", "account_id", "is_government"])
    assert pt is not None
    f = _build(pt, acc)
    r, nr, parent, depth = f.root, f.n_roots, f.parent, f.depth
    n_all = len(parent)
    size = f.size[:nr]
    # Wiener index per tree: every edge (v, parent v) splits the tree into s and n - s.
    child = np.arange(nr, n_all)
    s = f.size[child].astype(np.float64)
    w = np.bincount(r[child], weights=s * (size[r[child]] - s), minlength=nr)
    pairs = size.astype(np.float64) * (size - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        virality = np.where(size > 1, 2.0 * w / pairs, np.nan)
    max_depth = np.zeros(nr, dtype=np.int64)
    np.maximum.at(max_depth, r, depth)
    dmax = int(depth.max(initial=0)) + 1
    lv, counts = np.unique(r * dmax + depth, return_counts=True)
    breadth = np.zeros(nr, dtype=np.int64)
    keep = lv % dmax > 0
    np.maximum.at(breadth, lv[keep] // dmax, counts[keep])
    via = f.nodes.column("via").to_numpy(zero_copy_only=False)
    out: dict[str, Any] = {
        "platform": f.nodes.column("platform").slice(0, nr),
        "root_post_id": f.nodes.column("post_id").slice(0, nr),
        "root_present": f.nodes.column("present").slice(0, nr),
        "root_author_id": f.nodes.column("author_id").slice(0, nr),
        "root_created_at": f.nodes.column("created_at").slice(0, nr),
        "size": size,
        "reposts": size - 1,
        "depth": max_depth,
        "max_breadth": breadth,
        "structural_virality": pa.array(virality, from_pandas=True),
    }
    for name in ("parent_id", "chain", "direct", "unresolved"):
        out[f"hops_{name}"] = np.bincount(r[via == name], minlength=nr)
    out.update(_timing(f))
    for name, table, col in (("gov", prof, "is_government"), ("verified", acc, "verified")):
        flag = _flags(f.nodes, table, col)[nr:]
        known = ~np.isnan(flag)
        num = np.bincount(r[nr:][known], weights=flag[known], minlength=nr)
        den = np.bincount(r[nr:][known], minlength=nr)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_repost_share"] = pa.array(
                np.where(den > 0, num / den, np.nan), from_pandas=True
            )
    return pa.table(out)


def cascades(source: Any, *, platform: str | None = None) -> pa.Table:
    """cascade_metrics over a Store (or a mapping of table name -> Ibis table)."""
    if isinstance(source, dict):
        table, has = source.__getitem__, source.__contains__
    else:
        table, has = source.table, source.has_table
    posts = table("posts")
    if platform:
        posts = posts.filter(posts.platform == platform)
    # A fixed row order: root order and tie-breaks follow it, and engines scan differently.
    posts = posts.order_by(["platform", "post_id"])
    profiles = table("account_profiles") if has("account_profiles") else None
    return cascade_metrics(posts, accounts=table("accounts"), profiles=profiles)


def _timing(f: _Forest) -> dict[str, pa.Array]:
    """Seconds from the root to 50 % / 90 % of its reposts, to the first and to the last."""
    nr = f.n_roots
    ts = f.nodes.column("created_at").cast(pa.int64())
    known = ~ts.is_null().to_numpy(zero_copy_only=False)
    t = ts.fill_null(0).to_numpy().astype(np.float64) / 1e6
    t0 = np.where(known[:nr], t[:nr], np.nan)
    rep = np.flatnonzero(known[nr:]) + nr
    order = rep[np.lexsort((t[rep], f.root[rep]))]
    roots = f.root[order]
    n_rep = np.bincount(roots, minlength=nr)
    start = np.concatenate([[0], np.cumsum(n_rep)[:-1]])
    res: dict[str, pa.Array] = {}
    for label, q in (("first_repost_s", 0.0), ("time_to_50pct_s", 0.5),
                     ("time_to_90pct_s", 0.9), ("lifetime_s", 1.0)):  # fmt: skip
        k = np.maximum(np.ceil(q * n_rep).astype(np.int64), 1) - 1
        val = np.full(nr, np.nan)
        has = n_rep > 0
        val[has] = t[order[start[has] + k[has]]] - t0[has]
        res[label] = pa.array(val, from_pandas=True)
    return res


def cascade_tree(source: Any, root_post_id: str, *, platform: str = "weibo") -> pa.Table:
    """The nodes of one cascade: tree parent, depth, subtree size and how each was linked
    (`via`: root, parent_id, direct, chain or unresolved, with the unmatched `chain_head`).

    `source` is a Store, SparkTables or a mapping of table name -> Ibis table.
    """
    table = source.__getitem__ if isinstance(source, dict) else source.table
    p = table("posts")
    p = p.filter(p.platform == platform)
    # The root, its reposts, and reposts that name one of those as their retweeted post.
    firsts = p.filter(p.retweeted_post_id == root_post_id).post_id
    direct = (p.post_id == root_post_id) | (p.retweeted_post_id == root_post_id)
    posts = p.filter(direct | p.retweeted_post_id.isin(firsts))
    posts = _arrow(posts, [*_POST_COLS, "text"])
    assert posts is not None
    if posts.num_rows == 0:
        raise NotFoundError(f"no post or repost of {platform}:{root_post_id} in the store")
    authors = list({a for a in posts.column("author_id").to_pylist() if a is not None})
    a = table("accounts")
    accounts = _arrow(
        a.filter((a.platform == platform) & a.account_id.isin(authors)),
        ["platform", "account_id", "screen_name"],
    )
    f = _build(posts, accounts)
    mine = np.flatnonzero(f.nodes.column("root_id").to_numpy(zero_copy_only=False) == root_post_id)
    ids = f.nodes.column("post_id").to_numpy(zero_copy_only=False)
    par = f.parent[mine]
    texts = dict(
        zip(posts.column("post_id").to_pylist(), posts.column("text").to_pylist(), strict=True)
    )
    # Level by level (then by time, then id: not the engine's row order): any prefix of
    # the rows is a connected tree.
    return pa.table({
        "post_id": ids[mine],
        "parent_post_id": pa.array([ids[p] if p >= 0 else None for p in par], pa.string()),
        "via": f.nodes.column("via").take(mine),
        "chain_head": f.nodes.column("chain_head").take(mine),
        "depth": f.depth[mine],
        "subtree_size": f.size[mine],
        "author_id": f.nodes.column("author_id").take(mine),
        "created_at": f.nodes.column("created_at").take(mine),
        "text": pa.array([texts.get(i) for i in ids[mine]], pa.string()),
    }).sort_by([("depth", "ascending"), ("created_at", "ascending"),
                ("post_id", "ascending")])  # fmt: skip
