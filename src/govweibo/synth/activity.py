"""Posts, repost cascades, public comments and official replies, in vectorised chunks.

Each chunk of original posts is sampled with numpy (times, authors, counts, who reposts
and comments, who is answered and when); only string assembly runs per record. A cascade
is written right after its root, so nothing but the current chunk is held in memory.
On Sina a repost's `retweeted_status` is always the root; the path through intermediate
reposts lives only in the text, as `//@name:their text`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from govweibo.synth import texts
from govweibo.synth.names import SECTORS
from govweibo.synth.world import World
from govweibo.synth.writer import (
    SOURCE_P_GOV,
    SOURCE_P_PUBLIC,
    SOURCES,
    T_END,
    Sink,
    comment_core,
    pic_urls,
    status_head,
)

_Q_ITEMS = [texts.QUESTION_ITEMS.get(s, texts.QUESTION_GENERIC) for s in SECTORS]
_REPLIES = [texts.REPLIES.get(s, ()) + texts.REPLIES_GENERIC for s in SECTORS]
QUESTION, PRAISE, COMPLAINT, NEUTRAL = 0, 1, 2, 3


@dataclass
class Originals:
    """A chunk of original posts with how much public reaction each gets (written)."""

    author: np.ndarray
    t: np.ndarray
    text: list[str]
    n_rep: np.ndarray
    n_com: np.ndarray
    deleted: np.ndarray | None = None  # seen only in the first timeline crawl
    rep_med: float = 2.5 * 3600  # median delay of reposts after the root, seconds
    rep_sigma: float = 1.7
    com_med: float = 1.5 * 3600
    com_sigma: float = 1.5
    p_root: float = 0.65  # a repost is of the root itself, else of an earlier repost
    rep_texts: tuple[str, ...] = texts.REPOSTS
    com_texts: tuple[str, ...] | None = None  # fixed comment texts instead of the mix
    rep_gov: float = 0.06  # shares of reposters that are government / verified accounts
    rep_ng: float = 0.04
    pool: np.ndarray | None = None  # draw public reactions from these accounts only
    question_share: float = 0.35
    likes_scale: float = 1.0


class Ctx:
    """What every chunk needs from the world, in the shapes the loops want."""

    def __init__(self, w: World, sink: Sink) -> None:
        self.w, self.sink = w, sink
        g, ng = w.n_gov, w.n_nongov
        self.g, self.ng0, self.pub0 = g, g, g + ng
        self.gov_t = w.created[:g]
        self.ng_t = w.created[g : g + ng]
        self.pub_t = w.created[g + ng :]
        self.names = w.names
        self.uid = w.uid.tolist()
        self.sector = w.sector.tolist()
        self.K = w.p.K

    def pick_public(
        self, rng: np.random.Generator, t: np.ndarray, pool: np.ndarray | None = None
    ) -> np.ndarray:
        """Public users registered by t; earlier registrants are more active."""
        u = rng.random(len(t)) ** 1.5
        if pool is not None:
            k = np.maximum(np.searchsorted(self.w.created[pool], t, "right"), 1)
            return pool[(k * u).astype(np.int64)]
        k = np.maximum(np.searchsorted(self.pub_t, t, "right"), 1)
        return self.pub0 + (k * u).astype(np.int64)

    def pick_gov(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.gov_t, t, "right")
        return np.where(k > 0, (k * rng.random(len(t))).astype(np.int64), -1)

    def pick_ng(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.ng_t, t, "right")
        return np.where(k > 0, self.ng0 + (k * rng.random(len(t))).astype(np.int64), -1)

    def reactors(
        self,
        rng: np.random.Generator,
        t: np.ndarray,
        p_gov: float,
        p_ng: float,
        pool: np.ndarray | None,
    ) -> np.ndarray:
        who = self.pick_public(rng, t, pool)
        u = rng.random(len(t))
        gov = np.where(u < p_gov, self.pick_gov(rng, t), -1)
        ngv = np.where((u >= p_gov) & (u < p_gov + p_ng), self.pick_ng(rng, t), -1)
        who = np.where(gov >= 0, gov, who)
        return np.where(ngv >= 0, ngv, who)


def _later(
    rng: np.random.Generator, base: np.ndarray, med: np.ndarray | float, sigma: float
) -> np.ndarray:
    """base + a log-normal delay (>= 30 s), kept inside the world."""
    delay = np.maximum(np.exp(np.log(med) + sigma * rng.standard_normal(len(base))), 30)
    t = base + delay.astype(np.int64)
    late = t > T_END
    if late.any():
        span = np.maximum(T_END - base[late], 1)
        t[late] = base[late] + (rng.random(late.sum()) * span).astype(np.int64)
    return t


def _sources(rng: np.random.Generator, who: np.ndarray, g: int) -> list[str]:
    gov = rng.choice(len(SOURCES), len(who), p=SOURCE_P_GOV)
    pub = rng.choice(len(SOURCES), len(who), p=SOURCE_P_PUBLIC)
    return [SOURCES[k] for k in np.where(who < g, gov, pub).tolist()]


def comment_texts(
    rng: np.random.Generator, kinds: np.ndarray, sectors: np.ndarray, places: list[str]
) -> list[str]:
    n = len(kinds)
    a, b, c = rng.integers(0, 1 << 30, (3, n))
    out = []
    for k, s, x, y, z, p in zip(
        kinds.tolist(), sectors.tolist(), a.tolist(), b.tolist(), c.tolist(), places, strict=True
    ):
        issue = texts.ISSUES[y % len(texts.ISSUES)]
        if k == QUESTION:
            items = _Q_ITEMS[s] if s >= 0 else texts.QUESTION_GENERIC
            tpl = texts.QUESTIONS[x % len(texts.QUESTIONS)]
            out.append(tpl.format(q=items[z % len(items)], i=issue, p=p))
        elif k == PRAISE:
            out.append(texts.PRAISE[x % len(texts.PRAISE)])
        elif k == COMPLAINT:
            out.append(texts.COMPLAINTS[x % len(texts.COMPLAINTS)].format(i=issue))
        else:
            out.append(texts.NEUTRAL[x % len(texts.NEUTRAL)])
    return out


def emit(ctx: Ctx, rng: np.random.Generator, o: Originals) -> list[int]:
    """Write a chunk of originals (sorted by time), their cascades, comments and replies;
    return the originals' ids."""
    w, sink, g = ctx.w, ctx.sink, ctx.g
    n = len(o.t)
    deleted = o.deleted if o.deleted is not None else np.zeros(n, bool)
    ids = sink.ids.take(o.t).tolist()

    # Reposts: times sorted within each cascade, parents among earlier reposts.
    rstart = np.concatenate([[0], np.cumsum(o.n_rep)])
    rgrp = np.repeat(np.arange(n), o.n_rep)
    rt = _later(rng, o.t[rgrp], o.rep_med, o.rep_sigma)
    order = np.lexsort((rt, rgrp))
    rt = rt[order]
    pos = np.arange(len(rgrp)) - rstart[rgrp]
    to_root = (rng.random(len(rgrp)) < o.p_root) | (pos == 0)
    parent = np.where(to_root, -1, (rng.random(len(rgrp)) * pos).astype(np.int64))
    r_who = ctx.reactors(rng, rt, o.rep_gov, o.rep_ng, o.pool)
    r_ids = sink.ids.take(rt).tolist()
    r_own = rng.integers(0, len(o.rep_texts), len(rgrp)).tolist()
    # Each repost's own repost count is its direct children in the cascade.
    child = np.zeros(len(rgrp), np.int64)
    has_parent = parent >= 0
    np.add.at(child, (rstart[rgrp] + parent)[has_parent], 1)
    r_src = _sources(rng, r_who, g)

    # Comments, and which of them the author answers, when.
    cstart = np.concatenate([[0], np.cumsum(o.n_com)])
    cgrp = np.repeat(np.arange(n), o.n_com)
    ct = _later(rng, o.t[cgrp], o.com_med, o.com_sigma)
    ct = ct[np.lexsort((ct, cgrp))]
    c_who = ctx.reactors(rng, ct, 0.0, 0.05, o.pool)
    c_author = o.author[cgrp]
    c_sector = w.sector[c_author].astype(np.int64)
    if o.com_texts is not None:
        kinds = np.full(len(cgrp), NEUTRAL)
        ctext = [o.com_texts[k] for k in rng.integers(0, len(o.com_texts), len(cgrp)).tolist()]
        q = rng.random(len(cgrp)) < o.question_share
        kinds[q] = QUESTION
    else:
        qs = np.where(c_author < g, o.question_share, 0.15)
        u = rng.random(len(cgrp))
        kinds = np.where(
            u < qs,
            QUESTION,
            np.where(u < qs + 0.3, PRAISE, np.where(u < qs + 0.45, COMPLAINT, NEUTRAL)),
        )
        ctext = comment_texts(rng, kinds, c_sector, [w.place[a] for a in c_author.tolist()])
    c_ids = sink.ids.take(ct).tolist()
    p_reply = w.p.reply_p[c_author] * np.where(kinds == QUESTION, 1.0, 0.2)
    replied = rng.random(len(cgrp)) < p_reply
    rep_t = _later(rng, ct, w.p.reply_med[c_author], 1.2)
    replied &= rep_t < T_END
    n_replies = np.bincount(cgrp[replied], minlength=n)
    rp_ids = np.zeros(len(cgrp), np.int64)
    rp_ids[replied] = sink.ids.take(rep_t[replied])
    rp_kind = rng.integers(0, 1 << 30, len(cgrp)).tolist()
    c_src = _sources(rng, c_who, g)

    # Displayed counts: at least what was written, usually more (the rest is unobserved).
    m = 0.003 * ctx.K[o.author] ** 0.75 * np.exp(rng.standard_normal(n))
    reposts = np.maximum(o.n_rep, np.round(m)).astype(np.int64).tolist()
    comments = np.maximum(o.n_com + n_replies, np.round(0.8 * m)).astype(np.int64).tolist()
    likes = (
        np.round(0.4 * o.likes_scale * m * np.exp(rng.standard_normal(n))).astype(np.int64).tolist()
    )
    src = _sources(rng, o.author, g)
    has_pic = (rng.random(n) < 0.3).tolist()

    users, names = sink.users, ctx.names
    tt, authors = o.t.tolist(), o.author.tolist()
    rt_l, rw_l, par_l, ch_l = rt.tolist(), r_who.tolist(), parent.tolist(), child.tolist()
    ct_l, cw_l, rep_l = ct.tolist(), c_who.tolist(), replied.tolist()
    rep_t_l, rp_ids_l = rep_t.tolist(), rp_ids.tolist()
    rstart_l, cstart_l = rstart.tolist(), cstart.tolist()
    rep_texts = o.rep_texts
    for j in range(n):
        a, t, sid = authors[j], tt[j], ids[j]
        pics = pic_urls(ctx.uid[a], sid) if has_pic[j] else "[]"
        head = status_head(t, sid, o.text[j], src[j], reposts[j], comments[j], likes[j], pics)
        sink.status(a, t, head, "", deleted=bool(deleted[j]))
        root = head + users[a] + "}"
        retweeted = ',"retweeted_status":' + root
        chain: list[str] = []
        for r in range(rstart_l[j], rstart_l[j + 1]):
            own = rep_texts[r_own[r]]
            p = par_l[r]
            if p >= 0:
                pr = rstart_l[j] + p
                own = f"{own}//@{names[rw_l[pr]]}:{chain[p]}"[:140]
            chain.append(own)
            rhead = status_head(rt_l[r], r_ids[r], own, r_src[r], ch_l[r], 0, 0, "[]")
            sink.status(rw_l[r], rt_l[r], rhead, retweeted)
        status = ',"status":' + root
        for c in range(cstart_l[j], cstart_l[j + 1]):
            core = comment_core(ct_l[c], c_ids[c], ctext[c], c_src[c], users[cw_l[c]])
            sink.comment(core + status + "}", False)
            if rep_l[c]:
                sec = ctx.sector[a]
                pool = _REPLIES[sec] if sec >= 0 else texts.REPLIES_GENERIC
                body = f"回复@{names[cw_l[c]]}:{pool[rp_kind[c] % len(pool)]}"[:140]
                reply = comment_core(rep_t_l[c], rp_ids_l[c], body, src[j], users[a])
                sink.comment(f'{reply}{status},"reply_comment":{core}}}}}', True)
    return ids
