"""A radial SVG picture of one repost cascade (the table `analyses.cascades.cascade_tree`
returns): the root in the centre, one ring per depth, unresolved hops dashed. Post ids and
the title are escaped; nothing from the data is drawn as markup."""

from __future__ import annotations

import math
from html import escape

import pyarrow as pa


def tree_svg(tree: pa.Table, *, title: str = "", max_nodes: int = 3000, px: int = 640) -> str:
    """A self-contained radial SVG of one tree (root in the centre, one ring per depth)."""
    t = tree.slice(0, max_nodes) if tree.num_rows > max_nodes else tree
    ids = t.column("post_id").to_pylist()
    pos = {p: i for i, p in enumerate(ids)}
    par = [pos.get(p, 0) if p is not None else -1 for p in t.column("parent_post_id").to_pylist()]
    kids: list[list[int]] = [[] for _ in ids]
    roots: list[int] = []
    for i, p in enumerate(par):
        (kids[p] if p >= 0 else roots).append(i)
    # Leaves take consecutive angular slots in depth-first order; parents sit mid-way.
    order, stack, depth = [], [(r, 0) for r in reversed(roots)], [0] * len(ids)
    while stack:
        i, d = stack.pop()
        depth[i] = d
        order.append(i)
        stack.extend((k, d + 1) for k in reversed(kids[i]))
    leaves = [i for i in order if not kids[i]]
    slot = {i: k for k, i in enumerate(leaves)}
    ang = [0.0] * len(ids)
    for i in reversed(order):
        ang[i] = (
            (slot[i] + 0.5) / max(len(leaves), 1)
            if not kids[i]
            else (ang[kids[i][0]] + ang[kids[i][-1]]) / 2
        )
    ring = (px / 2 - 20) / max(max(depth, default=0), 1)
    c = px / 2

    def xy(i: int) -> tuple[float, float]:
        a = 2 * math.pi * ang[i]
        return c + depth[i] * ring * math.cos(a), c + 20 + depth[i] * ring * math.sin(a)

    via = t.column("via").to_pylist() if "via" in t.column_names else [None] * len(ids)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px + 20}" '
        f'viewBox="0 0 {px} {px + 20}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<text x="{c}" y="14" text-anchor="middle" font-size="13">{escape(title)}</text>',
        '<g stroke="#8aa" stroke-width="0.6">',
    ]
    for i, p in enumerate(par):
        if p >= 0:
            (x1, y1), (x2, y2) = xy(p), xy(i)
            dash = ' stroke-dasharray="2,2"' if via[i] == "unresolved" else ""
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{dash}/>')
    parts.append('</g><g stroke="none">')
    for i in order:
        x, y = xy(i)
        r = 5 if depth[i] == 0 else 2
        fill = "#c33" if depth[i] == 0 else ("#999" if via[i] == "unresolved" else "#369")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}">'
            f"<title>{escape(str(ids[i]))}</title></circle>"
        )
    if tree.num_rows > max_nodes:
        parts.append(
            f'<text x="4" y="{px + 16}" font-size="10">first {max_nodes} of '
            f"{tree.num_rows} nodes</text>"
        )
    parts.append("</g></svg>")
    return "\n".join(parts)
