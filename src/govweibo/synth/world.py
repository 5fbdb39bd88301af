"""The accounts of the world: who exists, where, since when, named how.

Index layout of every per-account array: government accounts first, in order of opening
(so "accounts open at time t" is a prefix, found by binary search), then verified
non-government accounts, then ordinary public users, each block in order of creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from govweibo.synth import calibrate, names
from govweibo.synth.names import CENTRAL, COUNTY, PREFECTURE, PROVINCIAL, SECTORS, Designed, Place
from govweibo.synth.people import NICK_SPACE, NonGov, nickname, nongov_accounts, person_name
from govweibo.synth.places import Region, regions
from govweibo.synth.writer import DAY, rel, rel_iso

# Government accounts by province (relative): more in the east, fewer in the centre and west.
PROVINCE_WEIGHT = {
    "广东": 10,
    "浙江": 9,
    "江苏": 8,
    "北京": 6.5,
    "山东": 6,
    "上海": 5,
    "福建": 5,
    "河北": 3,
    "天津": 2,
    "海南": 1,
    "辽宁": 3,
    "吉林": 1.5,
    "黑龙江": 2,
    "河南": 4,
    "湖北": 3.5,
    "湖南": 3,
    "安徽": 3,
    "江西": 2,
    "山西": 2,
    "四川": 4,
    "重庆": 2,
    "云南": 2.5,
    "贵州": 1.5,
    "广西": 2,
    "陕西": 2,
    "内蒙古": 1.2,
    "甘肃": 1,
    "新疆": 0.8,
    "宁夏": 0.5,
    "青海": 0.4,
    "西藏": 0.3,
}
AGENCY_SHARE = 0.53  # ~10,000 agencies vs ~9,000 officials
LEVEL_SHARE = {  # central, provincial, prefecture, county
    True: (0.012, 0.09, 0.39, 0.508),
    False: (0.005, 0.06, 0.35, 0.585),
}
# Cumulative government accounts at month ends, per 20,000 at the end of 2011:
# 5,000 by 2011-01-01 and 18,132 by the end of October (the seeds), Yunnan first (Nov 2009).
CUMULATIVE = {
    "2009-11": 1,
    "2009-12": 3,
    "2010-01": 8,
    "2010-02": 15,
    "2010-03": 30,
    "2010-04": 60,
    "2010-05": 110,
    "2010-06": 200,
    "2010-07": 380,
    "2010-08": 700,
    "2010-09": 1200,
    "2010-10": 2000,
    "2010-11": 3300,
    "2010-12": 5000,
    "2011-01": 6000,
    "2011-02": 7100,
    "2011-03": 8400,
    "2011-04": 9800,
    "2011-05": 11200,
    "2011-06": 12550,
    "2011-07": 13900,
    "2011-08": 15300,
    "2011-09": 16700,
    "2011-10": 18132,
    "2011-11": 19082,
    "2011-12": 20000,
}
DEFAULT_ACCOUNTS = 20000


@dataclass
class World:
    seed: int
    n_gov: int
    n_nongov: int
    n_public: int
    regions: tuple[Region, ...]
    created: np.ndarray  # int64 seconds since T0
    vtype: np.ndarray
    verified: np.ndarray
    region: np.ndarray  # index into regions
    sector: np.ndarray  # index into SECTORS, -1 outside government
    level: np.ndarray  # 0..3, -1 outside government
    agency: np.ndarray  # bool
    names: list[str]
    place: list[str]  # short place name used in texts
    location: list[str]
    province_code: list[str]
    city_code: list[str]
    description: list[str]
    gender: list[str]
    reason: list[str]
    designed: dict[str, int] = field(default_factory=dict)  # name -> index
    specs: dict[str, Designed] = field(default_factory=dict)
    nongov: list[NonGov] = field(default_factory=list)
    uid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Filled by calibrate.assign: followers model, activity and interaction.
    params: calibrate.Params | None = None

    @property
    def n(self) -> int:
        return self.n_gov + self.n_nongov + self.n_public

    @property
    def p(self) -> calibrate.Params:
        assert self.params is not None
        return self.params


def month_quotas(accounts: int) -> list[tuple[int, int, int]]:
    """(month start, month end, openings) for each month, cumulative scaled to `accounts`."""
    out, prev = [], 0
    for key, cum in CUMULATIVE.items():
        y, m = int(key[:4]), int(key[5:])
        target = max(1, round(cum * accounts / DEFAULT_ACCOUNTS))
        target = max(target, prev)
        start = rel(y, m, 1)
        end = rel(y + (m == 12), m % 12 + 1, 1)
        out.append((start, end, target - prev))
        prev = target
    return out


def _quota(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Largest-remainder allocation of `total` in proportion to weights, each >= minimum."""
    w = np.asarray(weights, float) / np.sum(weights)
    base = np.full(len(w), minimum if total >= minimum * len(w) else 0)
    rest = total - base.sum()
    exact = w * rest
    out = base + np.floor(exact).astype(int)
    short = total - out.sum()
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    out[order[:short]] += 1
    return out


def _spread(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """A shuffled array holding value i counts[i] times."""
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def office_time(rng: np.random.Generator, day_start: np.ndarray) -> np.ndarray:
    """Times during office hours mostly (08:30-17:30), some evenings, a few at night."""
    u = rng.random(len(day_start))
    tod = np.where(
        u < 0.75,
        rng.uniform(8.5, 17.5, len(u)),
        np.where(u < 0.95, rng.uniform(17.5, 23.0, len(u)), rng.uniform(0, 24, len(u))),
    )
    return day_start + (tod * 3600).astype(np.int64)


def _find_place(reg: Region, level: int, pref: str, county: str) -> Place:
    p = next((x for x in reg.prefectures if x.short == pref), None) if pref else None
    c = next((x for x in p.counties if x.full == county), None) if (p and county) else None
    return Place(reg, level, p, c)


def _random_place(rng: np.random.Generator, reg: Region, level: int) -> Place:
    if level <= PROVINCIAL:
        return Place(reg, level, None, None)
    if level == PREFECTURE and not reg.municipality:
        prefs = [p for p in reg.prefectures if p.short]
        return Place(reg, level, prefs[int(rng.integers(len(prefs)))], None)
    pairs = reg.counties
    pref, county = pairs[int(rng.integers(len(pairs)))]
    return Place(reg, COUNTY, pref, county)


def build(accounts: int, posts: int, seed: int, designed: list[Designed]) -> World:
    """Create every account with its identity; numbers come from calibrate.assign."""
    if accounts < 2 * len(designed) + 31:
        raise ValueError(f"accounts must be at least {2 * len(designed) + 31}")
    rng = np.random.default_rng([seed, 1])
    regs = regions()
    by_short = {r.province.short_zh: i for i, r in enumerate(regs)}
    pw = np.array([PROVINCE_WEIGHT[r.province.short_zh] for r in regs], float)
    used: set[str] = {d.name for d in designed}

    # Opening times: month quotas, less the designed accounts opening in each month.
    d_times = [rel_iso(d.opened) for d in designed]
    times: list[np.ndarray] = []
    carry = 0  # designed accounts beyond a small month's quota come out of the next months
    for start, end, quota in month_quotas(accounts):
        n = quota - sum(start <= t < end for t in d_times) + carry
        carry = min(n, 0)
        if n > 0:
            days = rng.integers(0, (end - start) // DAY, n) * DAY + start
            times.append(office_time(rng, days))
    free_t = np.sort(np.concatenate(times))[: accounts - len(designed)]
    n_free = len(free_t)
    n_agency = round(AGENCY_SHARE * accounts) - len(designed)
    is_agency = rng.permutation(np.arange(n_free) < n_agency)
    level = np.empty(n_free, np.int8)
    for kind in (True, False):
        idx = np.flatnonzero(is_agency == kind)
        level[idx] = _spread(rng, _quota(len(idx), np.array(LEVEL_SHARE[kind])))
    region = np.full(n_free, by_short["北京"], np.int16)
    local = np.flatnonzero(level != CENTRAL)
    region[local] = _spread(rng, _quota(len(local), pw, minimum=1))
    sector = np.empty(n_free, np.int16)
    for kind, share in ((True, names.AGENCY_SHARE), (False, names.OFFICIAL_SHARE)):
        idx = np.flatnonzero(is_agency == kind)
        sector[idx] = _spread(rng, _quota(len(idx), np.array(share)))
    foreign, government = names.SECTOR["foreign"], names.SECTOR["government"]
    sector[(sector == foreign) & (level == COUNTY)] = government

    # Merge with the designed accounts and order everything by opening time.
    order = np.argsort(np.concatenate([free_t, d_times]), kind="stable")
    created = np.concatenate([free_t, d_times]).astype(np.int64)[order]
    n_gov = len(created)
    w = World(
        seed=seed,
        n_gov=n_gov,
        n_nongov=0,
        n_public=0,
        regions=regs,
        created=created,
        vtype=np.zeros(n_gov, np.int16),
        verified=np.ones(n_gov, bool),
        region=np.zeros(n_gov, np.int16),
        sector=np.zeros(n_gov, np.int16),
        level=np.zeros(n_gov, np.int8),
        agency=np.zeros(n_gov, bool),
        names=[""] * n_gov,
        place=[""] * n_gov,
        location=[""] * n_gov,
        province_code=[""] * n_gov,
        city_code=[""] * n_gov,
        description=[""] * n_gov,
        gender=[""] * n_gov,
        reason=[""] * n_gov,
    )
    w.specs = {d.name: d for d in designed}
    heads: set[str] = set()
    zj = by_short["浙江"]
    for pos, src in enumerate(order.tolist()):
        if src >= n_free:
            d = designed[src - n_free]
            ri, lev, sec, agency = by_short[d.province], d.level, d.sector, True
            place = _find_place(regs[ri], lev, d.pref, d.county)
            org = d.organ or names.organ(sec, place, rng)
            name = d.name
            w.designed[name] = pos
        else:
            ri, lev = int(region[src]), int(level[src])
            sec, agency = SECTORS[int(sector[src])], bool(is_agency[src])
            place = _random_place(rng, regs[ri], lev)
            lev = place.level  # municipalities have no prefecture level
        if src < n_free and agency:
            org = names.organ(sec, place, rng)
            name = next(
                c for c in names.agency_candidates(sec, place, org, ri == zj) if c not in used
            )
        if agency:
            w.reason[pos] = names.agency_reason(org)
            w.description[pos] = names.agency_description(sec, org)
            w.gender[pos] = ("m", "m", "m", "f", "n")[int(rng.integers(5))]
            w.vtype[pos] = 1
        else:
            name = person_name(rng, used)
            for _ in range(10):  # one head per organ: 广东省公安厅厅长 exists once
                org, post = names.official_post(sec, place, rng)
                if names.shared_post(post) or org + post not in heads:
                    break
            else:
                post = "副" + post
            heads.add(org + post)
            w.reason[pos] = f"{org}{post}" + (f" {name}" if rng.random() < 0.3 else "")
            w.description[pos] = ("", "为人民服务", "欢迎网友交流", "多听群众意见", "勤政为民")[
                int(rng.integers(5))
            ]
            w.gender[pos] = "m" if rng.random() < 0.85 else "f"
        used.add(name)
        w.names[pos], w.agency[pos], w.region[pos] = name, agency, ri
        w.level[pos], w.sector[pos] = lev, names.SECTOR[sec]
        w.place[pos] = place.short if lev != CENTRAL else "全国"
        w.location[pos] = place.location
        w.province_code[pos] = regs[ri].province.sina_code
        w.city_code[pos] = place.city_code
    _add_others(w, rng, accounts, posts, pw, used)
    return w


def _add_others(
    w: World, rng: np.random.Generator, accounts: int, posts: int, pw: np.ndarray, used: set[str]
) -> None:
    """Append verified non-government accounts and public users."""
    regs = w.regions
    ng = nongov_accounts(accounts / DEFAULT_ACCOUNTS, regs, pw / pw.sum(), rng, used)
    start, stop = rel(2009, 8, 28), rel(2011, 9, 30)
    ng_t = np.sort(rng.integers(start, stop, len(ng)))
    # Public users: more joined later (Sina's own growth); a bounded pool whatever `posts`.
    n_pub = int(np.clip(posts // 4, 1000, 100_000))
    rp = np.random.default_rng([w.seed, 6])  # the public pool's own stream (sized by posts)
    pub_t = np.sort(start + ((rel(2011, 12, 20) - start) * rp.random(n_pub) ** 0.7)).astype(
        np.int64
    )
    pub_w = pw**0.6
    pub_r = rp.choice(len(regs), n_pub, p=pub_w / pub_w.sum())
    perm_k = rp.permutation(NICK_SPACE)
    pub_names: list[str] = []
    for k in perm_k.tolist():
        nick = nickname(k)
        if nick not in used:
            pub_names.append(nick)
            if len(pub_names) == n_pub:
                break
    ng_r = [regs.index(a.region) for a in ng]
    w.n_nongov, w.n_public = len(ng), n_pub
    w.created = np.concatenate([w.created, ng_t, pub_t]).astype(np.int64)
    w.vtype = np.concatenate([w.vtype, [a.vtype for a in ng], np.full(n_pub, -1)]).astype(np.int16)
    w.verified = np.concatenate([w.verified, [a.verified for a in ng], np.zeros(n_pub, bool)])
    w.region = np.concatenate([w.region, ng_r, pub_r]).astype(np.int16)
    w.sector = np.concatenate([w.sector, np.full(len(ng) + n_pub, -1)]).astype(np.int16)
    w.level = np.concatenate([w.level, np.full(len(ng) + n_pub, -1)]).astype(np.int8)
    w.agency = np.concatenate([w.agency, np.zeros(len(ng) + n_pub, bool)])
    persons = {0, 220}
    for a, ri in zip(ng, ng_r, strict=True):
        place = _random_place(rng, regs[ri], PREFECTURE)
        w.names.append(a.screen_name)
        w.place.append(place.pref_short or regs[ri].province.short_zh)
        w.location.append(place.location)
        w.province_code.append(regs[ri].province.sina_code)
        w.city_code.append(place.city_code)
        w.description.append(a.description)
        w.reason.append(a.reason)
        w.gender.append(("m", "f")[int(rng.integers(2))] if a.vtype in persons else "m")
    genders = rp.choice(np.array(["m", "f", "n"]), n_pub, p=[0.49, 0.49, 0.02]).tolist()
    for i, ri in enumerate(pub_r.tolist()):
        place = _random_place(rp, regs[ri], PREFECTURE)
        w.names.append(pub_names[i])
        w.place.append(place.pref_short or regs[ri].province.short_zh)
        w.location.append(place.location)
        w.province_code.append(regs[ri].province.sina_code)
        w.city_code.append(place.city_code)
        w.description.append(
            (
                "",
                "",
                "热爱生活",
                "吃货一枚",
                "简单就好",
                "努力工作，快乐生活",
                "爱旅行爱摄影",
                "做最好的自己",
            )[i % 8]
        )
        w.reason.append("")
        w.gender.append(genders[i])
    # Sina uids grew with registration time. Government accounts are numbered first and
    # keep their ids whatever the size of the public pool.
    base = 1_100_000_000 + w.created * 16
    jitter = np.concatenate([
        np.random.default_rng([w.seed, 5, k]).integers(0, 16, m)
        for k, m in enumerate((w.n_gov, w.n_nongov, w.n_public))
    ])  # fmt: skip
    taken: set[int] = set()
    uid = (base + jitter).tolist()
    for i, u in enumerate(uid):
        while u in taken:
            u += 1
        taken.add(u)
        uid[i] = u
    w.uid = np.array(uid, np.int64)
    w.nongov = ng
