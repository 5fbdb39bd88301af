"""The numbers of the world: followers over time, posting rates, interaction, calibrated.

Followers follow a saturating curve F(t) = K * (1 - exp(-(t - opened) / tau)) with a
heavy-tailed (log-normal, compressed above ~200,000) potential K. The location of K is
solved so that the number of government accounts above 100,000 followers at the end of
August 2011 is 689 per 18,132 accounts open at the end of October (the seeds' figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from govweibo.synth.names import SECTORS
from govweibo.synth.writer import DAY, T_END, rel, rel_iso

if TYPE_CHECKING:
    from govweibo.synth.world import World

NORMAL, DORMANT, FOR_SHOW = 0, 1, 2
AUG_2011 = rel(2011, 8, 31, 23, 59, 59)
NOV_2011 = rel(2011, 11, 1)
TARGET_100K, TARGET_BASE = 689, 18132

_SECTOR_F = {
    "police": 0.3,
    "publicity": 0.35,
    "government": 0.1,
    "emergency": 0.2,
    "foreign": 0.5,
    "traffic": 0.15,
    "fire": 0.1,
    "weather": 0.2,
    "court": -0.1,
    "procuratorate": -0.15,
    "health": -0.05,
    "education": -0.05,
    "environment": -0.1,
    "transport": -0.05,
    "tax": -0.3,
    "market": -0.25,
    "civil": -0.2,
}
_SECTOR_RATE = {
    "police": 1.4,
    "publicity": 1.5,
    "weather": 1.3,
    "traffic": 1.2,
    "fire": 1.1,
    "tax": 0.7,
    "market": 0.8,
    "civil": 0.7,
    "court": 0.9,
}
_LEVEL_F = np.array([0.9, 0.6, 0.15, -0.25])
_LEVEL_RATE = np.array([1.3, 1.3, 1.0, 0.8])
_REGION_F = {"east": 0.05, "central": 0.0, "west": -0.1, "north-east": -0.05}
SIGMA = 0.8
# log10 potential is compressed above the knee and capped, so few reach a million and
# the designed top accounts stay on top.
KNEE, SLOPE, CAP = 5.3, 0.45, 1_400_000
ZHEJIANG_F, ZHEJIANG_RATE, ZHEJIANG_TALK = 0.15, 1.3, 1.4


@dataclass
class Params:
    K: np.ndarray  # follower potential
    tau: np.ndarray  # seconds
    mode: np.ndarray  # NORMAL / DORMANT / FOR_SHOW (government only)
    t_stop: np.ndarray  # last possible post
    true_posts: np.ndarray  # posts in the world (statuses_count at the end)
    reply_p: np.ndarray  # chance of answering a public question
    reply_med: np.ndarray  # median reply delay, seconds
    pop: np.ndarray  # weight for reposts and comments received
    post_w: np.ndarray  # weight for authoring non-government originals
    friends: np.ndarray
    favs: np.ndarray
    mu: float  # the solved log10 location of K

    def followers(self, idx: np.ndarray, created: np.ndarray, t: int) -> np.ndarray:
        age = np.maximum(t - created[idx], 0) / self.tau[idx]
        return np.floor(self.K[idx] * -np.expm1(-age)).astype(np.int64)

    def statuses(self, idx: np.ndarray, created: np.ndarray, t: int) -> np.ndarray:
        span = np.maximum(self.t_stop[idx] - created[idx], 1)
        frac = np.clip((t - created[idx]) / span, 0.0, 1.0)
        return np.round(self.true_posts[idx] * frac).astype(np.int64)


def _compress(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.where(x > KNEE, KNEE + (x - KNEE) * SLOPE, x), np.log10(CAP))


def assign(w: World) -> Params:
    g = w.n_gov
    n = w.n
    # Government draws come from their own stream, so the government world does not change
    # with `posts` (which sizes the public pool).
    rng, rn, rp = (np.random.default_rng([w.seed, k]) for k in (2, 4, 7))

    def normal() -> np.ndarray:
        return np.concatenate(
            [rng.standard_normal(g), rn.standard_normal(w.n_nongov), rp.standard_normal(w.n_public)]
        )

    t0 = w.created
    zj = np.array([r.province.short_zh == "浙江" for r in w.regions])[w.region[:g]]
    region_f = np.array([_REGION_F[r.province.region] for r in w.regions])[w.region[:g]]
    sec_names = [SECTORS[s] for s in w.sector[:g].tolist()]
    sector_f = np.array([_SECTOR_F.get(s, 0.0) for s in sec_names])
    sector_rate = np.array([_SECTOR_RATE.get(s, 1.0) for s in sec_names])
    designed = np.zeros(g, bool)
    designed[list(w.designed.values())] = True

    # Modes: "for show" accounts post a handful early and never talk; dormant ones stop.
    mode = np.zeros(n, np.int8)
    u = rng.random(g)
    mode[:g][(u < 0.08) & ~designed] = FOR_SHOW
    can_sleep = (t0[:g] < T_END - 240 * DAY) & ~designed
    mode[:g][(u >= 0.08) & (u < 0.15) & can_sleep] = DORMANT
    gm = mode[:g]

    z = normal()
    eff = (
        _LEVEL_F[np.maximum(w.level[:g], 0)]
        + sector_f
        + region_f
        + ZHEJIANG_F * zj
        - 0.2 * ~w.agency[:g]
        - 0.6 * (gm == FOR_SHOW)
        - 0.3 * (gm == DORMANT)
    )
    tau = np.full(n, 200.0 * DAY) * np.exp(0.3 * normal())
    K = np.zeros(n)

    # Solve the location mu: accounts over 100k at end of August = 689 per 18,132.
    free = ~designed
    target = round(TARGET_100K * int((t0[:g] < NOV_2011).sum()) / TARGET_BASE)
    for name, i in w.designed.items():
        d = w.specs[name]
        tau[i] = d.tau_days * DAY
        at = rel_iso(d.followers_at)
        K[i] = d.followers / -np.expm1(-max(at - t0[i], DAY) / tau[i])
    aug_age = np.maximum(AUG_2011 - t0[:g], 0) / tau[:g]
    aug_frac = -np.expm1(-aug_age)
    fixed = int((K[:g][designed] * aug_frac[designed] > 1e5).sum())
    base = eff + SIGMA * z[:g]

    def over(mu: float) -> int:
        k = 10 ** _compress(mu + base[free])
        return int((k * aug_frac[free] > 1e5).sum()) + fixed

    lo, hi = 0.0, 7.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if over(mid) < target else (lo, mid)
    mu = hi
    K[:g][free] = 10 ** _compress(mu + base[free])

    # Posting rates (posts/day), correlated with popularity.
    rate = (
        np.where(w.agency[:g], 0.9, 0.6)
        * sector_rate
        * _LEVEL_RATE[np.maximum(w.level[:g], 0)]
        * np.exp(SIGMA * (0.5 * z[:g] + 0.87 * rng.standard_normal(g)))
        * np.where(zj, ZHEJIANG_RATE, 1.0)
    )
    rate = np.minimum(rate, 30.0)
    t_stop = np.full(n, T_END, np.int64)
    sleepers = np.flatnonzero(gm == DORMANT)
    lo_t = t0[sleepers] + 30 * DAY
    t_stop[sleepers] = lo_t + (rng.random(len(sleepers)) * (T_END - 181 * DAY - lo_t)).astype(
        np.int64
    )
    show = np.flatnonzero(gm == FOR_SHOW)
    t_stop[show] = np.minimum(t0[show] + 30 * DAY, T_END)
    true_posts = np.zeros(n, np.int64)
    days = np.maximum(t_stop[:g] - t0[:g], DAY) / DAY
    true_posts[:g] = np.maximum(1, rng.poisson(rate * days))
    true_posts[show] = rng.integers(1, 6, len(show))
    reply_p = np.zeros(n)
    talk = rng.random(g) >= 0.35
    reply_p[:g] = np.where(talk, rng.beta(2, 4, g), 0.0) * np.where(zj, ZHEJIANG_TALK, 1.0)
    reply_p[show] = 0.0
    reply_med = np.exp(np.log(2.5 * 3600) + 0.9 * normal())
    for name, i in w.designed.items():
        d = w.specs[name]
        rate_i = d.rate
        true_posts[i] = max(1, int(rng.poisson(rate_i * (T_END - t0[i]) / DAY)))
        reply_p[i] = d.reply_p
        reply_med[i] = np.exp(np.log(3600) + 0.5 * rng.standard_normal())
    reply_p = np.minimum(reply_p, 0.95)

    # Non-government accounts: followers around each kind's median; public users small.
    ng = slice(g, g + w.n_nongov)
    pub = slice(g + w.n_nongov, n)
    med = np.array([a.followers_median for a in w.nongov])
    K[ng] = med * np.exp(1.1 * z[ng])
    K[pub] = np.exp(np.log(60) + 1.3 * z[pub])
    tau[g:] = 300.0 * DAY
    true_posts[ng] = np.exp(np.log(2000) + rn.standard_normal(w.n_nongov)).astype(np.int64)
    true_posts[pub] = np.exp(np.log(300) + 1.3 * rp.standard_normal(w.n_public)).astype(np.int64)
    post_w = np.zeros(n)
    post_w[ng] = np.array([a.post_weight for a in w.nongov]) * np.exp(
        0.8 * rn.standard_normal(w.n_nongov)
    )
    post_w[pub] = np.exp(1.2 * rp.standard_normal(w.n_public))

    talkative = np.exp(0.5 * normal())
    pop = np.sqrt(K) * talkative
    pop[:g] *= np.where(zj, ZHEJIANG_TALK, 1.0) * np.where(gm == FOR_SHOW, 0.15, 1.0)
    persons = ~w.agency & (w.vtype != 1)
    friends = np.exp(np.where(persons, np.log(300), np.log(150)) + 0.85 * normal())
    friends = np.clip(friends, 1, 2000).astype(np.int64)
    favs = np.exp(np.log(5) + 1.2 * normal()).astype(np.int64)
    return Params(
        K=K,
        tau=tau,
        mode=mode,
        t_stop=t_stop,
        true_posts=true_posts,
        reply_p=reply_p,
        reply_med=reply_med,
        pop=pop,
        post_w=post_w,
        friends=friends,
        favs=favs,
        mu=mu,
    )
