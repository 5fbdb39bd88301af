"""The post budget and the two big streams: government posts and everyone else's.

`posts` statuses are written exactly: event posts first come out of the budget, then
~42% government originals, ~33% reposts of them, ~8% reposts of other posts, and the
rest non-government originals (media, celebrities, the public). Government accounts'
true totals (statuses_count) are usually larger: the dump is a sample, like a crawl.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from govweibo.synth import texts
from govweibo.synth.activity import Ctx, Originals, emit
from govweibo.synth.names import SECTORS
from govweibo.synth.world import World, office_time
from govweibo.synth.writer import DAY, T_END, rel, weekday

CHUNK = 20_000
GOV_SHARE, GOV_REPOST_SHARE, OTHER_REPOST_SHARE = 0.42, 0.33, 0.08
COMMENTS_PER_POST, GOV_COMMENT_SHARE = 0.5, 0.85


@dataclass
class Budget:
    gov_written: np.ndarray  # originals written per government account
    gov_reposts: int
    gov_comments: int
    ng_originals: int
    ng_reposts: int
    ng_comments: int


def allocate(total: int, true: np.ndarray) -> np.ndarray:
    """Sample `total` posts from accounts' true totals: small accounts keep all of theirs and
    every account at least one (when the budget allows), the rest in proportion."""
    true = true.astype(np.int64)
    given = np.zeros_like(true)
    small = true <= 5
    if int(true[small].sum()) + int((~small).sum()) <= total // 3:
        given[small] = true[small]
        given[~small] = 1
    rest = total - int(given.sum())
    room = true - given
    if int(room.sum()) <= rest:
        return true.copy()
    exact = room * (rest / room.sum())
    out = np.floor(exact).astype(np.int64)
    short = rest - int(out.sum())
    frac = exact - out
    out[np.argsort(-frac, kind="stable")[:short]] += 1
    return given + out


def plan(w: World, posts: int, event_statuses: int, event_comments: int) -> Budget:
    avail = posts - event_statuses
    if avail < 100:
        raise ValueError(f"posts must be at least {event_statuses + 100}")
    written = allocate(round(GOV_SHARE * avail), w.p.true_posts[: w.n_gov])
    g_total = int(written.sum())
    g_rep = round(GOV_REPOST_SHARE * avail) if g_total else 0
    o_rep = round(OTHER_REPOST_SHARE * avail)
    comments = max(0, round(COMMENTS_PER_POST * posts) - event_comments)
    g_com = round(GOV_COMMENT_SHARE * comments) if g_total else 0
    return Budget(written, g_rep, g_com, avail - g_total - g_rep - o_rep, o_rep, comments - g_com)


def gov_texts(rng: np.random.Generator, sectors: np.ndarray, places: list[str]) -> list[str]:
    n = len(sectors)
    generic = (rng.random(n) < 0.2).tolist()
    h, b, tl = rng.integers(0, 1 << 30, (3, n)).tolist()
    num = rng.integers(3, 200, n).tolist()
    out = []
    for k, s in enumerate(sectors.tolist()):
        sec = SECTORS[s]
        heads = texts.GOV_HEAD[sec]
        bodies = texts.GOV_GENERIC if generic[k] else texts.GOV_BODY[sec]
        tpl = (
            f"【{heads[h[k] % len(heads)]}】{bodies[b[k] % len(bodies)]}"
            f"{texts.GOV_TAIL[tl[k] % len(texts.GOV_TAIL)]}"
        )
        out.append(tpl.format(p=places[k], n=num[k], n2=num[k] + 8)[:140])
    return out


def other_texts(ctx: Ctx, rng: np.random.Generator, author: np.ndarray, t: np.ndarray) -> list[str]:
    """Media, celebrities, universities... and the public, some of it addressed to officials."""
    w = ctx.w
    n = len(author)
    gov = ctx.pick_gov(rng, t).tolist()
    at = (rng.random(n) < 0.12).tolist()
    a, b, c = rng.integers(0, 1 << 30, (3, n)).tolist()
    num = rng.integers(3, 200, n).tolist()
    out = []
    for k, i in enumerate(author.tolist()):
        vt = int(w.vtype[i])
        p = w.place[i]
        if vt == -1:
            if at[k] and gov[k] >= 0:
                tpl = texts.PUBLIC_AT[a[k] % len(texts.PUBLIC_AT)]
                items = texts.QUESTION_GENERIC
                out.append(
                    tpl.format(
                        g=w.names[gov[k]],
                        i=texts.ISSUES[b[k] % len(texts.ISSUES)],
                        q=items[c[k] % len(items)],
                    )
                )
                continue
            out.append(texts.PUBLIC_BODY[a[k] % len(texts.PUBLIC_BODY)].format(p=p))
            continue
        bodies = texts.NONGOV_BODY.get(vt, texts.NONGOV_BODY[220])
        body = bodies[a[k] % len(bodies)].format(p=p, n=num[k], n2=num[k] % 9 + 1)
        if vt in (3, 5):
            body = f"【{texts.NONGOV_HEAD[b[k] % len(texts.NONGOV_HEAD)]}】{body}"
        out.append(body[:140])
    return out


def _react(
    rng: np.random.Generator, pop: np.ndarray, live: np.ndarray, reposts: int, comments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split a chunk's reposts and comments over its posts: heavy-tailed, popularity-led."""
    e1, e2 = rng.standard_normal((2, len(pop)))
    wr = pop * np.exp(1.2 * e1) * live
    wc = pop * np.exp(0.8 * e1 + 0.8 * e2) * live
    n_rep = rng.multinomial(reposts, wr / wr.sum()) if wr.sum() > 0 else np.zeros(len(pop), int)
    n_com = rng.multinomial(comments, wc / wc.sum()) if wc.sum() > 0 else np.zeros(len(pop), int)
    return n_rep.astype(np.int64), n_com.astype(np.int64)


def run_gov(
    ctx: Ctx,
    b: Budget,
    deleted: list[tuple[int, int]],
    seed: int,
    quiet: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[int]:
    """Government originals, account by account in chunks, with their reactions; returns
    the ids of the posts deleted between the two timeline crawls."""
    w = ctx.w
    written = b.gov_written
    total = int(written.sum())
    deleted_ids: list[int] = []
    if total == 0:
        return deleted_ids
    cum = np.cumsum(written)
    cuts = np.unique(np.searchsorted(cum, np.arange(CHUNK, total, CHUNK)) + 1)
    bounds = [0, *[int(c) for c in cuts if 0 < c < w.n_gov], w.n_gov]
    dels: dict[int, list[int]] = {}
    for who, when in deleted:
        dels.setdefault(who, []).append(when)
    done = done_r = done_c = 0
    for ci, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rng = np.random.default_rng([seed, 10, ci])
        author = np.repeat(np.arange(lo, hi), written[lo:hi])
        start, stop = w.created[author], w.p.t_stop[author]
        raw = start + (rng.random(len(author)) * (stop - start)).astype(np.int64)
        t = office_time(rng, raw - raw % DAY)
        wd = weekday(t)
        t = np.where((wd >= 5) & (rng.random(len(t)) < 0.6), t - (wd - 4) * DAY, t)
        t = np.clip(t, start + 60, stop)
        t = quiet(author, t)
        extra = [(a, x) for a in range(lo, hi) for x in dels.get(a, ())]
        gone = np.zeros(len(author) + len(extra), bool)
        gone[len(author) :] = True
        if extra:
            author = np.concatenate([author, [a for a, _ in extra]])
            t = np.concatenate([t, [x for _, x in extra]])
        order = np.argsort(t, kind="stable")
        author, t, gone = author[order], t[order], gone[order]
        done += int(written[lo:hi].sum())
        reposts = round(b.gov_reposts * done / total) - done_r
        comments = round(b.gov_comments * done / total) - done_c
        n_rep, n_com = _react(rng, w.p.pop[author], ~gone, reposts, comments)
        done_r += int(n_rep.sum())
        done_c += int(n_com.sum())
        txt = gov_texts(rng, w.sector[author], [w.place[a] for a in author.tolist()])
        ids = emit(ctx, rng, Originals(author, t, txt, n_rep, n_com, deleted=gone))
        deleted_ids += [ids[k] for k in np.flatnonzero(gone).tolist()]
        if ctx.sink.progress:
            ctx.sink.progress("government posts", done)
    return deleted_ids


def run_others(ctx: Ctx, b: Budget, seed: int) -> None:
    """Non-government originals: 40% by verified accounts, 60% by the public."""
    w = ctx.w
    total = b.ng_originals
    ng = np.arange(ctx.ng0, ctx.pub0)
    pub = np.arange(ctx.pub0, w.n)
    p_ng = w.p.post_w[ng] / w.p.post_w[ng].sum()
    p_pub = w.p.post_w[pub] / w.p.post_w[pub].sum()
    done = done_r = done_c = 0
    ci = 0
    while done < total:
        rng = np.random.default_rng([seed, 20, ci])
        m = min(CHUNK, total - done)
        m_v = int(rng.binomial(m, 0.4))
        author = np.concatenate([rng.choice(ng, m_v, p=p_ng), rng.choice(pub, m - m_v, p=p_pub)])
        lo = np.maximum(w.created[author], rel(2009, 9, 1))
        raw = lo + ((T_END - lo) * rng.random(m) ** 0.6).astype(np.int64)
        u = rng.random(m)
        tod = np.where(
            u < 0.5,
            rng.uniform(7, 24, m),
            np.where(u < 0.8, rng.uniform(19, 24, m), rng.uniform(0, 24, m)),
        )
        t = np.clip(raw - raw % DAY + (tod * 3600).astype(np.int64), lo + 60, T_END)
        order = np.argsort(t, kind="stable")
        author, t = author[order], t[order]
        done += m
        reposts = round(b.ng_reposts * done / total) - done_r
        comments = round(b.ng_comments * done / total) - done_c
        n_rep, n_com = _react(rng, w.p.pop[author], np.ones(m, bool), reposts, comments)
        done_r += int(n_rep.sum())
        done_c += int(n_com.sum())
        emit(
            ctx,
            rng,
            Originals(
                author,
                t,
                other_texts(ctx, rng, author, t),
                n_rep,
                n_com,
                rep_gov=0.01,
                rep_ng=0.05,
                question_share=0.15,
            ),
        )
        ci += 1
        if ctx.sink.progress:
            ctx.sink.progress("other posts", done)
