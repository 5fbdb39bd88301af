"""The two scripted events; every specific lives here so analyses and tests can find them.

Emergency: a rainstorm floods Wuhan on 18 July 2011. Public posts with the same keywords
burst over the day; the city's weather, fire, police and information-office accounts
respond after hours; its traffic-police and transport accounts stay silent.

Rumour: on 16 March 2011 (the days of the real salt panic after Fukushima) a public user
in Guangzhou claims iodised salt protects from radiation and sea salt is contaminated; it
spreads as a repost cascade with `//@` chains; 广州发布 posts a clarification containing
辟谣 some hours later, itself reposted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from govweibo.synth import texts
from govweibo.synth.activity import Ctx, Originals, emit
from govweibo.synth.names import designed_table, words
from govweibo.synth.observe import iso as _iso
from govweibo.synth.writer import rel_iso

EMERGENCY_CITY, EMERGENCY_PROVINCE = "武汉", "湖北"
EMERGENCY_START, EMERGENCY_END = "2011-07-18 06:00", "2011-07-19 06:00"
EMERGENCY_KEYWORDS = ("暴雨", "积水", "内涝", "被困")
RUMOUR_CITY, RUMOUR_PROVINCE = "广州", "广东"
RUMOUR_AT = "2011-03-16 09:12"
RUMOUR_KEYWORDS = ("碘盐", "抢盐", "核辐射")
CLARIFY_AFTER_HOURS = 7.5
CLARIFIER = "广州发布"

EVENT_ACCOUNTS = designed_table("""
平安武汉 police    prefecture 湖北 武汉 - 2010-12-20T10:00 600000 - - 6.0 0.4
武汉发布 publicity prefecture 湖北 武汉 - 2011-03-08T10:00 450000 - - 5.0 0.25
武汉消防 fire      prefecture 湖北 武汉 - 2011-01-15T10:00 120000 - - 3.0 0.3
武汉气象 weather   prefecture 湖北 武汉 - 2011-02-22T10:00 150000 - - 3.0 0.2
武汉交警 traffic   prefecture 湖北 武汉 - 2011-01-28T10:00 200000 - - 3.0 0.1
武汉交通 transport prefecture 湖北 武汉 - 2011-05-10T10:00 40000  - - 1.5 0.0
广州发布 publicity prefecture 广东 广州 - 2011-01-18T10:00 700000 - - 6.0 0.3
""")
# Responders: (hours after the rain starts of the first post, number of posts).
RESPONDERS = {
    "武汉气象": (0.6, 3),
    "武汉消防": (1.5, 4),
    "平安武汉": (2.5, 5),
    "武汉发布": (5.0, 3),
}
SILENT = ("武汉交警", "武汉交通")

_ROADS = words(
    "解放大道 中山大道 武珞路 雄楚大道 光谷广场 汉口火车站 武昌火车站 友谊大道 珞喻路 建设大道"
)
_BURST = words("""
{c}暴雨太大了，{r}积水已经没过膝盖了！
{c}又看海了，{r}好多车被淹了
求助！{r}有人被困在车里，谁能帮忙联系救援
暴雨中{c}交通瘫痪，{r}一片汪洋
上班路上{r}积水严重，公交车都停了
{c}内涝，{r}地下通道被淹，大家绕行！
暴雨！{r}停电了，有没有人知道什么时候恢复？
这雨下得，{c}变水城了，{r}积水一米多
{r}被困群众急需救援！扩散！
{c}积水这么深，{r}排水什么时候能好？
""")
_RESPONSE = {
    "武汉气象": words("""
【暴雨红色预警】{c}气象台发布暴雨红色预警信号，未来6小时仍有强降雨，请减少外出。
【天气实况】今晨以来{c}中心城区普降暴雨，局地降雨量超过150毫米。
【气象提示】暴雨仍将持续，低洼地区注意防范内涝。
"""),
    "武汉消防": words("""
【救援】{c}消防支队已出动{n}个中队赶赴{r}等积水严重路段，救援被困群众。
【救援进展】消防官兵在{r}成功救出被困群众{n}人。
【提示】遇到积水路段切勿涉水驾车，如被困请拨打119。
【救援进展】截至目前，共救出被困群众{n}人。
"""),
    "平安武汉": words("""
【暴雨出行提示】受强降雨影响，{r}等路段积水严重，请绕行。如遇险情请拨打110。
【警情通报】民警在{r}疏导交通，协助转移被困群众{n}人。
【提醒】暴雨期间请勿靠近电线杆和地下通道。
全市民警坚守在暴雨一线，请大家注意安全！
【路况】{r}积水已逐步消退，交通恢复。
"""),
    "武汉发布": words("""
【权威发布】受强降雨影响，全市多处出现积水内涝，各部门已启动应急预案全力排涝。
【发布】{c}防汛指挥部：目前积水路段{n}处，正在抓紧抽排。
【发布】今日全市中小学停课，请家长注意孩子安全。
"""),
}
_EMERGENCY_REPOSTS = words("求扩散！ 大家注意安全 注意安全！ 太吓人了 转发微博 出门的注意 辛苦了！")
RUMOUR_TEXT = (
    "扩散！日本核电站泄漏，核辐射污染了海水，以后的盐都不能吃了，碘盐还能防辐射，"
    "广州超市已经开始抢盐了，赶紧去买！转给家人！"
)
CLARIFY_TEXT = (
    "【辟谣】网传碘盐能防核辐射、海盐已被污染的消息不实。我市食盐储备充足，市场供应正常，"
    "请市民不要听信谣言，不要盲目抢盐。如发现哄抬物价请拨打12358举报。"
)
_RUMOUR_REPOSTS = words(
    "真的假的？ 太可怕了，赶紧囤盐 扩散！ 转给家人 已经去超市了 盐都卖光了 宁可信其有 转发微博"
)
_RUMOUR_COMMENTS = words(
    "真的假的？ 已经买了十袋 求辟谣！ 别信谣 有图有真相吗？ 超市排长队了 我妈让我去买盐"
)
_CLARIFY_REPOSTS = words(
    "辟谣了，大家别信谣传谣 官方辟谣了，不要抢盐了 谣言止于智者 转发辟谣 别再传了 终于辟谣了 转发微博"
)
texts.check_safe(
    _BURST,
    _RESPONSE,
    _EMERGENCY_REPOSTS,
    RUMOUR_TEXT,
    CLARIFY_TEXT,
    _RUMOUR_REPOSTS,
    _RUMOUR_COMMENTS,
    _CLARIFY_REPOSTS,
)


@dataclass(frozen=True)
class Sizes:
    burst: int
    burst_reposts: int
    response_reposts: int
    rumour_reposts: int
    clarify_reposts: int
    comments: int

    @property
    def statuses(self) -> int:
        responses = sum(n for _, n in RESPONDERS.values())
        return (
            self.burst
            + self.burst_reposts
            + responses
            + self.response_reposts
            + 2
            + self.rumour_reposts
            + self.clarify_reposts
        )


def sizes(posts: int) -> Sizes:
    burst = max(60, round(0.004 * posts))
    rumour = max(60, round(0.004 * posts))
    return Sizes(
        burst=burst,
        burst_reposts=burst // 2,
        response_reposts=max(20, round(0.002 * posts)),
        rumour_reposts=rumour,
        clarify_reposts=round(0.6 * rumour),
        comments=max(40, round(0.002 * posts)),
    )


def quiet(ctx: Ctx) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Keep the Wuhan accounts' routine posts out of the emergency day (shift them back two
    days), so that what they post that day is their response, or nothing."""
    city = np.array([ctx.w.designed[n] for n in (*RESPONDERS, *SILENT)])
    lo, hi = rel_iso(EMERGENCY_START), rel_iso(EMERGENCY_END)

    def shift(author: np.ndarray, t: np.ndarray) -> np.ndarray:
        hit = np.isin(author, city) & (t >= lo) & (t <= hi)
        return np.where(hit, t - 2 * 86400, t)

    return shift


def run(ctx: Ctx, s: Sizes, seed: int) -> dict[str, object]:
    """Write both events; return what an analysis should find."""
    w = ctx.w
    rng = np.random.default_rng([seed, 30])
    idx = w.designed
    uid = ctx.uid
    # --- emergency -----------------------------------------------------------------
    lo, hi = rel_iso(EMERGENCY_START), rel_iso(EMERGENCY_END)
    hubei = _locals(ctx, EMERGENCY_PROVINCE, lo)
    bt = np.sort(
        lo
        + np.minimum(
            np.exp(np.log(3.5 * 3600) + 0.6 * rng.standard_normal(s.burst)), hi - lo - 3600
        ).astype(np.int64)
    )
    b_author = hubei[rng.integers(0, len(hubei), s.burst)]
    road = rng.integers(0, len(_ROADS), s.burst).tolist()
    b_text = [
        _BURST[k % len(_BURST)].format(c=EMERGENCY_CITY, r=_ROADS[road[k]])
        for k in rng.integers(0, len(_BURST), s.burst).tolist()
    ]
    n_rep = rng.multinomial(s.burst_reposts, _weights(rng, s.burst))
    n_com = rng.multinomial(s.comments // 4, _weights(rng, s.burst))
    emit(
        ctx,
        rng,
        Originals(
            b_author,
            bt,
            b_text,
            n_rep,
            n_com,
            rep_texts=_EMERGENCY_REPOSTS,
            rep_med=1800,
            rep_sigma=1.0,
            pool=hubei,
            rep_gov=0.0,
        ),
    )
    responders = []
    r_author, r_t, r_text = [], [], []
    for name, (hours, k) in RESPONDERS.items():
        first = lo + int(hours * 3600) + int(rng.integers(-600, 600))
        more = np.sort(rng.integers(first + 1800, hi - 3600, k - 1)).tolist()
        for j, t in enumerate([first, *more]):
            tpl = _RESPONSE[name][j % len(_RESPONSE[name])]
            r_author.append(idx[name])
            r_t.append(t)
            r_text.append(
                tpl.format(
                    c=EMERGENCY_CITY,
                    r=_ROADS[int(rng.integers(len(_ROADS)))],
                    n=int(rng.integers(3, 60)),
                )
            )
        responders.append(
            {
                "screen_name": name,
                "account_id": uid[idx[name]],
                "first_post": _iso(first),
                "delay_hours": round((first - lo) / 3600, 2),
            }
        )
    order = np.argsort(r_t, kind="stable")
    ra, rt = np.array(r_author)[order], np.array(r_t)[order]
    r_ids = emit(
        ctx,
        rng,
        Originals(
            ra,
            rt,
            [r_text[k] for k in order.tolist()],
            rng.multinomial(s.response_reposts, _weights(rng, len(ra))),
            rng.multinomial(s.comments // 4, _weights(rng, len(ra))),
            rep_texts=_EMERGENCY_REPOSTS,
            rep_med=2400,
            rep_sigma=1.2,
            rep_gov=0.1,
        ),
    )
    for r in responders:
        mine = [i for i, a in zip(r_ids, ra.tolist(), strict=True) if uid[a] == r["account_id"]]
        r["post_ids"] = mine
    # --- rumour ----------------------------------------------------------------------
    t_root = rel_iso(RUMOUR_AT)
    gd = _locals(ctx, RUMOUR_PROVINCE, t_root - 30 * 86400)
    poster = int(gd[int(rng.integers(len(gd)))])
    root_id = emit(
        ctx,
        rng,
        Originals(
            np.array([poster]),
            np.array([t_root]),
            [RUMOUR_TEXT],
            np.array([s.rumour_reposts]),
            np.array([s.comments // 4]),
            rep_texts=_RUMOUR_REPOSTS,
            com_texts=_RUMOUR_COMMENTS,
            rep_med=3 * 3600,
            rep_sigma=1.3,
            p_root=0.35,
            rep_gov=0.0,
            question_share=0.0,
            likes_scale=30.0,
        ),
    )[0]
    t_clar = t_root + int(CLARIFY_AFTER_HOURS * 3600)
    clar_id = emit(
        ctx,
        rng,
        Originals(
            np.array([idx[CLARIFIER]]),
            np.array([t_clar]),
            [CLARIFY_TEXT],
            np.array([s.clarify_reposts]),
            np.array([s.comments - 3 * (s.comments // 4)]),
            rep_texts=_CLARIFY_REPOSTS,
            rep_med=2 * 3600,
            rep_sigma=1.2,
            p_root=0.5,
            rep_gov=0.15,
        ),
    )[0]
    return {
        "emergency": {
            "city": EMERGENCY_CITY,
            "province": EMERGENCY_PROVINCE,
            "start": _iso(lo),
            "end": _iso(hi),
            "keywords": list(EMERGENCY_KEYWORDS),
            "burst_posts": s.burst,
            "responders": responders,
            "silent": [{"screen_name": n, "account_id": uid[idx[n]]} for n in SILENT],
        },
        "rumour": {
            "city": RUMOUR_CITY,
            "keywords": list(RUMOUR_KEYWORDS),
            "root_id": root_id,
            "root_author_id": uid[poster],
            "posted_at": _iso(t_root),
            "reposts_written": s.rumour_reposts,
            "clarification_id": clar_id,
            "clarifier": CLARIFIER,
            "clarifier_id": uid[idx[CLARIFIER]],
            "clarified_at": _iso(t_clar),
            "clarification_reposts_written": s.clarify_reposts,
        },
    }


def _region(w: object, short: str) -> int:
    regs = w.regions  # type: ignore[attr-defined]
    return next(i for i, r in enumerate(regs) if r.province.short_zh == short)


def _locals(ctx: Ctx, province: str, before: int) -> np.ndarray:
    """Public users of a province registered before a time (any province if none)."""
    w = ctx.w
    public = (np.arange(w.n) >= ctx.pub0) & (w.created < before)
    here = np.flatnonzero(public & (w.region == _region(w, province)))
    return here if len(here) >= 10 else np.flatnonzero(public)


def _weights(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.exp(1.2 * rng.standard_normal(n))
    return x / x.sum()
