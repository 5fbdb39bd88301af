"""The radial cascade picture: one circle per post, one line per repost edge, text escaped."""

from __future__ import annotations

import pyarrow as pa

from govweibo.report.cascade_svg import tree_svg

# m <- x <- x1 <- x11, m <- y, x <- x2 (the last hop unresolved)
TREE = pa.table(
    {
        "post_id": ["m", "x", "y", "x1", "x2", "x11"],
        "parent_post_id": [None, "m", "m", "x", "x", "x1"],
        "via": [None, "parent", "parent", "chain", "unresolved", "chain"],
    }
)


def test_every_post_and_edge_is_drawn_and_text_is_escaped() -> None:
    svg = tree_svg(TREE, title="<script>&")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<circle") == 6 and svg.count("<line") == 5
    assert svg.count('stroke-dasharray="2,2"') == 1  # the unresolved hop
    assert "<script>" not in svg and "&lt;script&gt;&amp;" in svg


def test_large_trees_are_cut_and_say_so() -> None:
    n = 50
    big = pa.table(
        {
            "post_id": [f"p{i}" for i in range(n)],
            "parent_post_id": [None] + ["p0"] * (n - 1),
            "via": [None] + ["parent"] * (n - 1),
        }
    )
    svg = tree_svg(big, max_nodes=10)
    assert svg.count("<circle") == 10 and svg.count("<line") == 9
    assert "first 10 of 50 nodes" in svg
