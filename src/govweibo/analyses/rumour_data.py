"""Loading rumour events: from a CED folder, or every original post of a store.

An *event* is a source post with its reposts (`rumour_features.Events`). The store reader
also returns one row per source post with what the triage needs besides the features:
its author's name, whether the author is verified or a government account, its text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from govweibo.analyses.cascades import _build, tree_depths
from govweibo.analyses.rumour_features import Events
from govweibo.errors import NotFoundError

__all__ = ["LABEL_DIRS", "load_ced", "load_store"]

LABEL_DIRS = {"rumor-repost": 1, "non-rumor-repost": 0}
_CED_USER = {"account_created": "time", "statuses": "messages"}
AUTHOR = ("verified", "verified_type", "followers", "friends", "statuses",
          "account_created", "has_url", "pics")  # fmt: skip


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, int | float) else np.nan


def load_ced(ced_dir: str | Path, *, only: set[str] | None = None) -> Events:
    """Events straight from a folder in CED layout (labels from the repost folder names).

    `only` restricts to source posts whose mid is in the set.
    """
    from govweibo.ingest.ced import CedError, _source_time

    root = Path(ced_dir)
    if not (root / "original-microblog").is_dir():
        raise NotFoundError(f"{root} is not a CED folder (no original-microblog/)")
    ids: list[str] = []
    texts: list[str] = []
    t0: list[float] = []
    labels: list[int] = []
    author: dict[str, list[float]] = {k: [] for k in AUTHOR}
    r_ev: list[int] = []
    r_t: list[str] = []
    r_par: list[Any] = []
    r_text: list[str] = []
    for src in sorted((root / "original-microblog").glob("*.json")):
        parts = src.stem.split("_")
        mid = parts[1] if len(parts) >= 3 else src.stem
        lab = next((v for d, v in LABEL_DIRS.items() if (root / d / src.name).exists()), None)
        if lab is None or (only is not None and mid not in only):
            continue
        try:
            doc = json.loads(src.read_bytes())
            when = _source_time(doc.get("time"))
        except (ValueError, CedError):
            continue
        e = len(ids)
        ids.append(mid)
        texts.append(doc.get("text") if isinstance(doc.get("text"), str) else "")
        t0.append(when.timestamp())
        labels.append(lab)
        user = doc.get("user") if isinstance(doc.get("user"), dict) else {}
        for k in AUTHOR:
            v = user.get(_CED_USER.get(k, k))
            v = doc.get("has_url") if k == "has_url" else doc.get("pics") if k == "pics" else v
            author[k].append(_num(v))
        reps = json.loads((root / next(d for d, v in LABEL_DIRS.items() if v == lab)
                           / src.name).read_bytes())  # fmt: skip
        local: dict[str, int] = {}
        for rec in reps if isinstance(reps, list) else []:
            if not isinstance(rec, dict) or not isinstance(rec.get("mid"), str):
                continue
            if rec["mid"] in local:
                continue
            local[rec["mid"]] = len(r_ev)
            r_ev.append(e)
            date, text = rec.get("date"), rec.get("text")
            r_t.append(date if isinstance(date, str) else "")
            r_par.append(rec.get("parent") or "")
            r_text.append(text if isinstance(text, str) else "")
        base = len(r_ev) - len(local)
        for i in range(base, len(r_ev)):
            r_par[i] = local.get(r_par[i], -1)
    parent = np.asarray(r_par, dtype=np.int64)
    depth, _ = tree_depths(parent)
    times = _ced_times(r_t, np.asarray(t0)[np.asarray(r_ev, dtype=np.int64)])
    return _events(ids, texts, t0, author, r_ev, times, depth + 1, r_text,
                   np.full(len(r_ev), np.nan), labels)  # fmt: skip


def _ced_times(dates: list[str], source_t: np.ndarray) -> np.ndarray:
    """Repost dates (Beijing time) to epoch seconds; odd formats go through the ingest rules."""
    import pyarrow.compute as pc

    from govweibo.ingest.ced import CedError, repost_time

    ts = pc.strptime(pa.array(dates, pa.string()), format="%Y-%m-%d %H:%M:%S", unit="s",
                     error_is_null=True)  # fmt: skip
    out = ts.cast(pa.int64()).fill_null(-1).to_numpy().astype(np.float64) - 8 * 3600.0
    for i in np.flatnonzero(ts.is_null().to_numpy(zero_copy_only=False)):
        try:
            src = datetime.fromtimestamp(float(source_t[i]), UTC)
            out[i] = repost_time(dates[i], src).timestamp()
        except (CedError, ValueError, OverflowError):
            out[i] = np.nan
    return out


def _events(
    ids: list[str],
    texts: list[str],
    t0: Any,
    author: dict[str, Any],
    r_ev: Any,
    r_t: Any,
    r_depth: Any,
    r_text: list[str],
    r_ver: Any,
    labels: Any,
) -> Events:
    r_ev = np.asarray(r_ev, dtype=np.int64)
    r_t = np.asarray(r_t, dtype=np.float64)
    order = np.lexsort((np.nan_to_num(r_t, nan=np.inf), r_ev))
    return Events(
        ids, texts, np.asarray(t0, dtype=np.float64),
        {k: np.asarray(v, dtype=np.float64) for k, v in author.items()},
        r_ev[order], r_t[order], np.asarray(r_depth, dtype=np.int64)[order],
        [r_text[i] for i in order], np.asarray(r_ver, dtype=np.float64)[order],
        np.asarray(labels, dtype=np.int8),
    )  # fmt: skip


def _sources(table: Any, has: Any) -> pa.Table:
    """Every original post with its author's profile, latest observation, government flag
    (registry `account_profiles`, null where the registry has not run) and CED label."""
    import ibis
    import pyarrow.compute as pc

    p = table("posts")
    p = p.filter(p.retweeted_post_id.isnull() & p.created_at.notnull())
    a = table("accounts")
    a = a.select(
        a_platform=a.platform, a_id=a.account_id, author=a.screen_name, verified=a.verified,
        verified_type=a.verified_type, account_created=a.created_at,
    )  # fmt: skip
    o = table("account_observations")
    o = o.mutate(
        _r=ibis.row_number().over(
            group_by=[o.platform, o.account_id], order_by=ibis.desc(o.observed_at)
        )
    )
    o = o.filter(o._r == 0)
    o = o.select(o_platform=o.platform, o_id=o.account_id, followers=o.followers,
                 friends=o.friends, statuses=o.statuses)  # fmt: skip
    t = p.left_join(a, [p.platform == a.a_platform, p.author_id == a.a_id])
    t = t.left_join(o, [t.platform == o.o_platform, t.author_id == o.o_id])
    gov: Any = ibis.null("boolean")
    if has("account_profiles"):
        g = table("account_profiles")
        g = g.select(g_platform=g.platform, g_id=g.account_id, g_gov=g.is_government)
        t = t.left_join(g, [t.platform == g.g_platform, t.author_id == g.g_id])
        gov = t.g_gov
    label: Any = ibis.null("int32")
    if has("post_labels"):
        lab = table("post_labels")
        lab = lab.filter(lab.label_set == "ced")
        lab = lab.select(l_platform=lab.platform, l_post=lab.post_id, l_label=lab.label)
        t = t.left_join(lab, [t.platform == lab.l_platform, t.post_id == lab.l_post])
        label = t.l_label.cases(("rumour", 1), ("non-rumour", 0), else_=None).cast("int32")
    src = (
        t.select(
            "platform", "post_id", "author_id", "author", "created_at", "verified", "verified_type",
            "followers", "friends", "statuses", "account_created",
            text=t.text.fill_null(""), has_url=t.has_url, pics=t.pic_count, government=gov,
            label=label,
        )
        .order_by(["platform", "post_id"])
        .to_pyarrow()
    )  # fmt: skip
    # Seconds since the epoch, fraction kept, computed here so every engine gives the same.
    created = src.column("account_created").cast(pa.timestamp("us", "UTC")).cast(pa.int64())
    i = src.column_names.index("account_created")
    return src.set_column(i, "account_created", pc.divide(created.cast(pa.float64()), 1e6))


def _key(t: pa.Table, col: str) -> pa.Array:
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(t.column("platform"), t.column(col), "\x1f")


def load_store(store: Any) -> tuple[Events, pa.Table]:
    """Events for every original post in a store (or SparkTables, or a mapping of Ibis
    tables), and their (platform, post_id, ...) rows. The tables are read through the
    engine; the trees and the features are built here, on the driver."""
    import pyarrow.compute as pc

    from govweibo.analyses.base import tables_of
    from govweibo.analyses.cascades import _POST_COLS, _arrow

    table, has = tables_of(store)
    src = _sources(table, has)
    p = table("posts")
    # A fixed row order, as in cascades(): engines scan in different orders.
    posts = _arrow(p.order_by(["platform", "post_id"]), [*_POST_COLS, "text"])
    acc = _arrow(table("accounts"), ["platform", "account_id", "screen_name", "verified"])
    assert posts is not None and acc is not None
    f = _build(posts, acc)
    rep = np.arange(f.n_roots, len(f.parent))
    nodes = f.nodes.take(rep).select(["platform", "post_id", "root_id", "author_id"])
    # Each repost's text and its author's verified flag, by key lookups on the driver.
    at_post = pc.index_in(_key(nodes, "post_id"), value_set=_key(posts, "post_id"))
    at_acc = pc.index_in(
        pc.binary_join_element_wise(nodes.column("platform"), nodes.column("author_id"), "\x1f"),
        value_set=_key(acc, "account_id"),
    )
    texts = pc.fill_null(posts.column("text").take(at_post), "").to_pylist()
    ver = acc.column("verified").take(at_acc)
    ev_i = pc.index_in(_key(nodes, "root_id"), value_set=_key(src, "post_id"))
    ev_i = ev_i.fill_null(-1).to_numpy().astype(np.int64)
    ok = ev_i >= 0
    t_all = f.nodes.column("created_at").take(rep).cast(pa.int64())
    r_t = np.where(t_all.is_null().to_numpy(zero_copy_only=False), np.nan,
                   t_all.fill_null(0).to_numpy().astype(np.float64) / 1e6)  # fmt: skip
    r_ver = np.where(ver.is_null().to_numpy(zero_copy_only=False), np.nan,
                     ver.fill_null(False).to_numpy(zero_copy_only=False).astype(float))  # fmt: skip
    keep = np.flatnonzero(ok)
    t0 = src.column("created_at").cast(pa.int64()).to_numpy().astype(np.float64) / 1e6
    author = {k: np.array(src.column(k).to_pylist(), dtype=np.float64) for k in AUTHOR}
    labels = np.array(src.column("label").fill_null(-1).to_pylist(), dtype=np.int8)
    ev = _events(src.column("post_id").to_pylist(), src.column("text").to_pylist(), t0, author,
                 ev_i[keep], r_t[keep], f.depth[rep][keep], [texts[i] for i in keep],
                 r_ver[keep], labels)  # fmt: skip
    return ev, src
