"""Cascades on hand-built trees, with metrics worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from govweibo import model
from govweibo.analyses.cascades import (
    cascade_metrics,
    cascade_tree,
    cascades,
    subtree_sizes,
    tree_depths,
)

T0 = datetime(2013, 6, 1, tzinfo=UTC)


def post(pid: str, author: str, minutes: float, root: str | None = None,
         parent: str | None = None, chain: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "platform": "weibo", "post_id": pid, "author_id": author,
        "created_at": T0 + timedelta(minutes=minutes), "retweeted_post_id": root,
        "parent_post_id": parent, "repost_chain": chain or [], "text": f"t{pid}",
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> pa.Table:
    return model.conform("posts", pa.Table.from_pylist(rows))


def by_root(t: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["root_post_id"]: r for r in t.to_pylist()}


# Chain of 3: a <- b <- c. Distances 1, 1, 2: mean 4/3.
CHAIN = [post("a", "u0", 0), post("b", "u1", 10, "a", "a"), post("c", "u2", 20, "a", "b")]
# Star of 4: s with three direct reposts. Pairs: 3 at 1, 3 at 2 -> 9/6 = 1.5.
STAR = [post("s", "u0", 0)] + [post(f"s{i}", f"u{i}", 10 * i, "s", "s") for i in (1, 2, 3)]
# Mixed: m <- x, m <- y, x <- x1, x <- x2, x1 <- x11 (n = 6).
# Subtree sizes x 4, y 1, x1 2, x2 1, x11 1: W = 4*2 + 1*5 + 2*4 + 1*5 + 1*5 = 31;
# virality = 2 * 31 / 30.
MIXED = [
    post("m", "u0", 0), post("x", "u1", 1, "m", "m"), post("y", "u2", 2, "m", "m"),
    post("x1", "u3", 3, "m", "x"), post("x2", "u4", 4, "m", "x"), post("x11", "u5", 60, "m", "x1"),
]  # fmt: skip


def test_hand_built_trees_exact() -> None:
    m = by_root(cascade_metrics(table(CHAIN + STAR + MIXED + [STAR[1]])))  # one duplicate
    assert set(m) == {"a", "s", "m"}
    a, s, x = m["a"], m["s"], m["m"]
    assert (a["size"], a["depth"], a["max_breadth"]) == (3, 2, 1)
    assert a["structural_virality"] == pytest.approx(4 / 3)
    assert (s["size"], s["depth"], s["max_breadth"]) == (4, 1, 3)
    assert s["structural_virality"] == pytest.approx(1.5)
    assert (x["size"], x["depth"], x["max_breadth"]) == (6, 3, 2)
    assert x["structural_virality"] == pytest.approx(62 / 30)
    # Timing of the star: reposts at 10, 20, 30 min -> 50 % at the 2nd, 90 % at the 3rd.
    assert s["first_repost_s"] == 600 and s["time_to_50pct_s"] == 1200
    assert s["time_to_90pct_s"] == 1800 and s["lifetime_s"] == 1800
    assert x["hops_parent_id"] == 5 and x["hops_unresolved"] == 0


def test_single_post_and_brute_force_virality() -> None:
    rng = np.random.default_rng(1)
    rows = [post("r", "u", 0)]
    for i in range(1, 40):
        rows.append(post(f"n{i}", f"u{i}", i, "r", rows[int(rng.integers(0, i))]["post_id"]))
    rows.append(post("lonely", "z", 0))
    m = by_root(cascade_metrics(table(rows)))
    assert m["lonely"]["size"] == 1 and m["lonely"]["structural_virality"] is None
    # Brute force: all-pairs distances by BFS over the undirected tree.
    ids = [r["post_id"] for r in rows[:-1]]
    adj: dict[str, list[str]] = {i: [] for i in ids}
    for r in rows[1:-1]:
        adj[r["post_id"]].append(r["parent_post_id"])
        adj[r["parent_post_id"]].append(r["post_id"])
    total = 0
    for s in ids:
        dist, todo = {s: 0}, [s]
        while todo:
            u = todo.pop()
            for v in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    todo.append(v)
        total += sum(dist.values())
    n = len(ids)
    assert m["r"]["structural_virality"] == pytest.approx(total / (n * (n - 1)))


def test_chain_names_resolved_and_unresolved_kept() -> None:
    rows = [
        post("r", "A", 0),
        post("p1", "B", 1, "r", chain=[]),  # direct repost, no chain
        post("p2", "C", 2, "r", chain=["B"]),  # //@B: -> p1
        post("p3", "D", 3, "r", chain=["C", "B"]),  # //@C: -> p2
        post("p4", "E", 4, "r", chain=["Ghost"]),  # nobody called Ghost: unresolved
        post("p5", "F", 5, "r", chain=["A"]),  # the root's author
        post("p6", "G", 6, "r", parent="missing"),  # a parent id we do not have
    ]
    accounts = pa.table({
        "platform": ["weibo"] * 6, "account_id": list("ABCDEF"),
        "screen_name": ["A", "B", "C", "D", "E", "F"],
        "verified": [True, True, False, None, None, False],
    })  # fmt: skip
    m = cascade_metrics(table(rows), accounts=accounts).to_pylist()[0]
    assert m["size"] == 7 and m["depth"] == 3
    assert (m["hops_direct"], m["hops_chain"], m["hops_unresolved"]) == (1, 3, 2)
    # Reposters with known verified status: B yes, C no, F no -> 1/3.
    assert m["verified_repost_share"] == pytest.approx(1 / 3)
    assert m["gov_repost_share"] is None


def test_government_share_from_profiles() -> None:
    profiles = pa.table({"account_id": ["u1", "u2"], "is_government": [True, False]})
    m = by_root(cascade_metrics(table(STAR), profiles=profiles))["s"]
    assert m["gov_repost_share"] == pytest.approx(0.5)


def test_cycle_is_broken_not_looped() -> None:
    rows = [post("r", "u", 0), post("a", "u1", 1, "r", "b"), post("b", "u2", 2, "r", "a")]
    m = cascade_metrics(table(rows)).to_pylist()[0]
    assert m["size"] == 3 and m["hops_unresolved"] == 2 and m["depth"] == 1


def test_depth_and_sizes_vectorised() -> None:
    parent = np.array([-1, 0, 1, 2, 0, -1, 5])
    depth, top = tree_depths(parent)
    assert depth.tolist() == [0, 1, 2, 3, 1, 0, 1]
    assert top.tolist() == [0, 0, 0, 0, 0, 5, 5]
    assert subtree_sizes(parent, depth).tolist() == [5, 3, 2, 1, 1, 2, 1]


def test_tree_from_store_and_svg(store: Any) -> None:
    store.con.register("_p", table(MIXED))
    store.con.execute("INSERT INTO posts SELECT * FROM _p")
    tree = cascade_tree(store, "m")
    assert cascades(store).column("structural_virality").to_pylist() == [pytest.approx(62 / 30)]
    assert tree.num_rows == 6
    got = dict(zip(tree.column("post_id").to_pylist(), tree.column("depth").to_pylist(),
                   strict=True))  # fmt: skip
    assert got == {"m": 0, "x": 1, "y": 1, "x1": 2, "x2": 2, "x11": 3}


def test_missing_root_nested_reposts_and_platforms() -> None:
    rows = [
        post("g1", "u1", 1, "gone", "gone"),
        post("g2", "u2", 2, "g1"),  # names a repost as its retweeted post: root is 'gone'
        post("a", "u0", 0),
    ]
    other = dict(post("a", "v0", 0), platform="mastodon")
    other_rep = dict(post("a1", "v1", 5, "a", "a"), platform="mastodon")
    m = {(r["platform"], r["root_post_id"]): r
         for r in cascade_metrics(table(rows + [other, other_rep])).to_pylist()}  # fmt: skip
    gone = m[("weibo", "gone")]
    assert gone["root_present"] is False and gone["size"] == 3 and gone["depth"] == 2
    assert gone["first_repost_s"] is None  # no root time to count from
    assert m[("weibo", "a")]["size"] == 1 and m[("mastodon", "a")]["size"] == 2
