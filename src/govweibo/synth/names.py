"""Government account names: organs, screen names and verified reasons by sector and level.

The patterns follow real 2010-2011 naming habits on Sina: police "平安北京", "XX公安",
"XX警方"; information offices "XX发布", "微XX"; organisation departments "XX先锋" (the
Zhejiang family "之江先锋", "西湖先锋", "红船先锋"); courts "XX法院", "XX中院", "XX高院";
procuratorates "XX检察"; youth league "共青团XX"; industry and commerce "红盾XX".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from govweibo.synth.places import County, Prefecture, Region

CENTRAL, PROVINCIAL, PREFECTURE, COUNTY = 0, 1, 2, 3
LEVELS = ("central", "provincial", "prefecture", "county")


def words(block: str) -> tuple[str, ...]:
    """Whitespace-separated words (Chinese phrases hold no spaces) as a tuple."""
    return tuple(block.split())


def rows(block: str) -> dict[str, tuple[str, ...]]:
    """Parse `key word word ...` lines (words hold no spaces) into a dict of tuples."""
    out = {}
    for line in block.strip().splitlines():
        key, *words = line.split()
        out[key] = tuple(words)
    return out


SECTORS = words("""
police traffic fire publicity party_org
government court procuratorate youth weather
health education environment transport
emergency foreign tax market civil
""")
SECTOR = {s: i for i, s in enumerate(SECTORS)}

# Shares of agencies and of individual officials by sector (normalised where used).
AGENCY_SHARE = (28, 6, 3, 8, 6, 8, 6, 4, 6, 3, 3, 4, 2, 3, 1.5, 0.5, 2.5, 3, 2)
OFFICIAL_SHARE = (22, 2, 1, 10, 8, 25, 5, 4, 4, 1, 4, 6, 2, 2, 1, 0.5, 1, 1.5, 1)

# Organ of an agency at the central/provincial/prefecture/county level; {P} is the place's
# full name, {party} its party committee.
_ORGAN = rows("""
police        公安部 {P}公安厅 {P}公安局 {P}公安局
traffic       公安部交通管理局 {P}公安厅交通管理局 {P}公安局交通警察支队 {P}公安局交通警察大队
fire          公安部消防局 {P}公安消防总队 {P}公安消防支队 {P}公安消防大队
publicity     国务院新闻办公室 {P}人民政府新闻办公室 {P}人民政府新闻办公室 {P}人民政府新闻办公室
party_org     中共中央组织部 {party}组织部 {party}组织部 {party}组织部
government    中央人民政府 {P}人民政府 {P}人民政府 {P}人民政府
court         最高人民法院 {P}高级人民法院 {P}中级人民法院 {P}人民法院
procuratorate 最高人民检察院 {P}人民检察院 {P}人民检察院 {P}人民检察院
youth         共青团中央 共青团{P}委员会 共青团{P}委员会 共青团{P}委员会
weather       中国气象局 {P}气象局 {P}气象局 {P}气象局
health        卫生部 {P}卫生厅 {P}卫生局 {P}卫生局
education     教育部 {P}教育厅 {P}教育局 {P}教育局
environment   环境保护部 {P}环境保护厅 {P}环境保护局 {P}环境保护局
transport     交通运输部 {P}交通运输厅 {P}交通运输局 {P}交通运输局
emergency     国务院应急管理办公室 {P}人民政府应急管理办公室 {P}人民政府应急管理办公室 {P}安全生产监督管理局
foreign       外交部 {P}人民政府外事办公室 {P}人民政府外事办公室 {P}人民政府外事办公室
tax           国家税务总局 {P}国家税务局 {P}地方税务局 {P}地方税务局
market        国家工商行政管理总局 {P}工商行政管理局 {P}工商行政管理局 {P}工商行政管理局
civil         民政部 {P}民政厅 {P}民政局 {P}民政局
""")

# Screen-name patterns, most common first; {p} is the place's short name.
_PATTERNS = rows("""
police        平安{p} {p}公安 {p}警方 {p}警察 {p}公安在线 {p}网警 {p}刑侦 {p}经侦 {p}出入境 {p}禁毒 {p}治安 {p}户政 {p}反扒
traffic       {p}交警 {p}交通警察 {p}交警在线 {p}路况
fire          {p}消防 {p}火警 {p}消防在线
publicity     {p}发布 微{p} {p}微博 {p}宣传 中国{p}发布
party_org     {p}组工 {p}先锋 {p}组织工作 {p}党建
government    {p}政府 {p}政务 中国{p} 魅力{p} {p}人民政府
court         {p}法院 {p}法院在线 {p}司法
procuratorate {p}检察 {p}检察院 {p}检察在线 阳光检察{p}
youth         共青团{p} {p}共青团 {p}青年 青春{p}
weather       {p}气象 {p}天气 {p}气象台
health        {p}卫生 健康{p} {p}卫生局 {p}医改
education     {p}教育 {p}教育局 {p}教育在线
environment   {p}环保 {p}环境保护 绿色{p}
transport     {p}交通 {p}交通运输 畅行{p}
emergency     {p}应急 {p}救援 {p}安监 {p}应急办
foreign       {p}外事 {p}外办 {p}外事侨务
tax           {p}国税 {p}地税 {p}税务
market        {p}工商 红盾{p} {p}消费维权
civil         {p}民政 {p}社会救助 {p}民政在线
""")

# Central accounts: a few real-style names per sector, then organ + department.
_CENTRAL = rows("""
police        公安部打四黑除四害 中国警察网 公安部刑侦局 公安部新闻中心 中国刑警 中国经侦 中国禁毒 中国网警 公安部治安局 公安部出入境管理局 公安部打拐办 人民公安报 中国人民警察 公安部监所管理局
traffic       中国交通安全 公安部交管局
fire          中国消防 公安消防在线
publicity     国新办发布 中国网
party_org     共产党员 党建网
government    中国政府网 国务院参事室
court         最高人民法院 中国法院网 最高法新闻局
procuratorate 最高人民检察院 正义网 最高检新闻
youth         共青团中央 中国青年志愿者 少先队
weather       中国气象局 中国天气 中央气象台
health        卫生部 健康中国 中国疾控
education     教育部 中国教育发布 阳光高考
environment   环境保护部 中国环境监测
transport     交通运输部 中国路网 中国海事
emergency     中国国际救援队 国家减灾委 中国地震台网
foreign       外交小灵通 外交部发言人 中国领事服务
tax           国家税务总局 中国税务
market        国家工商总局 中国消费者 红盾中国
civil         民政部 中国社会救助 中国慈善
""")
_DEPARTMENTS = words("""
新闻办 新闻中心 宣传处 信息中心 办公室 机关团委 政策研究室 法制办 老干部处 工会
服务中心 机关党委 信访办 发布 在线 资讯 监督举报 人事处 科技处 规划处 统计处
直属机关团委
""")
TOWNS = words("""
城关 新华 东城 西城 城南 城北 江滨 新城 滨江 长安 龙泉 白石 清水 石桥 大桥
花园 柳林 桃园 青山 红星 和平 胜利 建设 向阳 东风 前进 团结 新街 古镇 五里
北关 南街 西湖 金山 凤凰 双桥 三里 太平 永安 高新
""")
_MOTTO = {
    k: v[0]
    for k, v in rows("""
police        服务群众，守护平安。
traffic       畅通出行，安全到家。
fire          119，火警时刻在身边。
publicity     权威发布，服务市民。
party_org     服务党员，凝聚人才。
government    政务公开，便民服务。
court         公正司法，司法为民。
procuratorate 强化法律监督，维护公平正义。
youth         青春与梦想同行。
weather       天气预报、预警信息。
health        关注健康，服务百姓。
education     办人民满意的教育。
environment   守护蓝天碧水。
transport     交通资讯，出行服务。
emergency     应急救援，防灾减灾。
foreign       外事资讯，领事服务。
tax           依法治税，服务纳税人。
market        12315，维护消费者权益。
civil         民政为民，民政爱民。
""").items()
}

# Posts of individual officials by sector; {head} is the organ's head title.
_POSTS = rows("""
police        {head} 副{head} 政委 新闻发言人 民警 社区民警 刑警
traffic       {head} 副{head} 民警 交警
fire          {head} 政委 参谋长 消防宣传员
court         {head} 副{head} 法官 庭长 审判员
procuratorate 检察长 副检察长 检察官
youth         书记 副书记
weather       {head} 副{head} 首席预报员
""")
_HEADS = (("检察院", "检察长"), ("委员会", "书记"), ("办公室", "主任"), ("总队", "总队长"),
          ("支队", "支队长"), ("大队", "大队长"), ("法院", "院长"), ("厅", "厅长"), ("局", "局长"),
          ("部", "部长"))  # fmt: skip
_LEADER = {"省": "省长", "市": "市长", "区": "区长", "县": "县长", "旗": "旗长", "州": "州长",
           "镇": "镇长"}  # fmt: skip


def _pick(rng: np.random.Generator, seq: Sequence[str]) -> str:
    return seq[int(rng.integers(len(seq)))]


def party(place: str) -> str:
    """The party committee of a place: 浙江省 -> 浙江省委, 广西壮族自治区 -> 广西壮族自治区党委."""
    if place.endswith("地区"):
        return place[:-2] + "地委"
    return place + ("党委" if place.endswith(("自治区", "自治州")) else "委")


class Place:
    """Where an account sits: its full name for organs, short name for screen names."""

    __slots__ = ("region", "level", "full", "short", "pref", "county", "alt")

    def __init__(
        self, region: Region, level: int, pref: Prefecture | None, county: County | None
    ) -> None:
        prov = region.province
        self.region, self.level, self.pref, self.county = region, level, pref, county
        self.alt = ""  # a longer short name, for duplicates ("杭州西湖")
        if level <= PROVINCIAL:
            self.full, self.short = prov.name_zh, prov.short_zh
        elif county is None:
            assert pref is not None
            self.full, self.short = pref.full, pref.short
        else:
            assert pref is not None
            if region.municipality:
                self.full = prov.name_zh + county.full
                self.alt = prov.short_zh + county.short
            else:
                # Districts carry their city (杭州市西湖区); counties and county-level cities
                # stand alone (桐庐县, 靖江市).
                district = county.full.endswith("区") and pref.short
                self.full = pref.full + county.full if district else county.full
                self.alt = pref.short + county.short
            self.short = county.short

    @property
    def city_code(self) -> str:
        if self.county is not None:
            return self.county.city_code
        if self.level <= PROVINCIAL or self.pref is None:
            first = self.region.prefectures[0]
            return first.counties[0].city_code if self.region.municipality else str(int(first.code))
        return str(int(self.pref.code))

    @property
    def location(self) -> str:
        prov = self.region.province.short_zh
        if self.county is not None and (self.region.municipality or not self.pref_short):
            return f"{prov} {self.county.full if self.region.municipality else self.county.short}"
        if self.level <= PROVINCIAL:
            first = self.region.prefectures[0]
            if self.region.municipality:
                return f"{prov} {first.counties[0].full}"
            return f"{prov} {first.short}"
        return f"{prov} {self.pref_short}"

    @property
    def pref_short(self) -> str:
        return self.pref.short if self.pref is not None else ""


def organ(sector: str, place: Place, rng: np.random.Generator) -> str:
    """The full organ name of an agency, e.g. 杭州市西湖区人民政府新闻办公室."""
    level = place.level
    tpl = _ORGAN[sector][level]
    if level == CENTRAL:
        return tpl
    full = place.full
    if level == PREFECTURE and rng.random() < 0.5:
        full = place.region.province.name_zh + full  # 广东省肇庆市...
    if sector == "tax" and level >= PREFECTURE and rng.random() < 0.5:
        tpl = "{P}国家税务局"
    out = tpl.format(P=full, party=party(full))
    if place.region.municipality and level == PROVINCIAL:
        out = out.replace("厅", "局")
    if sector == "police" and level == COUNTY and full.endswith("区"):
        out = out[: -len("公安局")] + "公安分局"
    return out


def agency_reason(organ_name: str) -> str:
    return organ_name + "官方微博"


def agency_description(sector: str, organ_name: str) -> str:
    return f"{organ_name}官方微博。{_MOTTO[sector]}"


def agency_candidates(sector: str, place: Place, organ_name: str, zhejiang: bool) -> Iterator[str]:
    """Screen names to try in order; the caller takes the first one not yet used."""
    if place.level == CENTRAL:
        yield from _CENTRAL[sector]
        yield organ_name
        for dept in _DEPARTMENTS:
            yield organ_name + dept
        for k in range(2, 1000):
            yield f"{organ_name}{k}"
        return
    patterns = list(_PATTERNS[sector])
    if sector == "court" and place.level in (PROVINCIAL, PREFECTURE):
        patterns.insert(0, "{p}高院" if place.level == PROVINCIAL else "{p}中院")
    if sector == "party_org" and zhejiang:
        patterns.remove("{p}先锋")
        patterns.insert(0, "{p}先锋")  # the Zhejiang "Pioneer" family
    shorts = [place.short] + ([place.alt] if place.alt else [])
    for short in shorts:
        for pat in patterns:
            yield pat.format(p=short)
    yield organ_name
    if sector in ("police", "traffic", "fire") and place.level == COUNTY:
        unit = {"police": "派出所", "traffic": "交警中队", "fire": "消防中队"}[sector]
        for town in TOWNS:
            yield f"{place.alt or place.short}{town}{unit}"
    for dept in _DEPARTMENTS:
        yield organ_name + dept
    for k in range(2, 1000):
        yield f"{organ_name}{k}"


def head_title(organ_name: str) -> str:
    for suffix, head in _HEADS:
        if organ_name.endswith(suffix):
            return head
    return "负责人"


_SHARED = frozenset(
    words("民警 刑警 社区民警 交警 法官 检察官 审判员 消防宣传员 常委 研究员 处长 庭长")
)


def shared_post(post: str) -> bool:
    """Posts several people hold at once (deputies, officers); heads are unique."""
    return post.startswith("副") or post in _SHARED


def official_post(sector: str, place: Place, rng: np.random.Generator) -> tuple[str, str]:
    """(organ, post) of an individual official, e.g. (广东省肇庆市公安局, 副局长)."""
    if sector in ("government", "publicity", "party_org") or place.level == CENTRAL:
        if place.level == CENTRAL:
            org = _ORGAN[sector][CENTRAL]
            return org, _pick(rng, ["新闻发言人", "司长", "副司长", "处长", "研究员"])
        full = place.full
        if place.level == PREFECTURE and rng.random() < 0.5:
            full = place.region.province.name_zh + full
        if sector == "publicity":
            return party(full) + "宣传部", _pick(rng, ["部长", "副部长", "新闻发言人"])
        if sector == "party_org":
            return party(full) + "组织部", _pick(rng, ["部长", "副部长"])
        leader = _LEADER.get(full[-1], "主任")
        if place.level == COUNTY and rng.random() < 0.3:
            town = _pick(rng, TOWNS)
            return f"{full}{town}镇", _pick(rng, ["镇长", "党委书记", "副镇长"])
        roll = rng.random()
        if roll < 0.3:
            return party(full), _pick(rng, ["书记", "副书记", "常委"])
        return full, leader if roll < 0.45 else "副" + leader
    org = organ(sector, place, rng)
    head = head_title(org)
    posts = _POSTS.get(sector, ("{head}", "副{head}", "新闻发言人"))
    return org, _pick(rng, posts).format(head=head)


class Designed:
    """An account placed by design (the seeds' top accounts and the event responders)."""

    __slots__ = ("name", "sector", "level", "province", "pref", "county", "opened",
                 "followers", "followers_at", "tau_days", "rate", "reply_p", "organ")  # fmt: skip

    def __init__(self, row: str) -> None:
        """One table row: name sector level province pref county opened followers
        followers_at tau_days posts_per_day reply_share [organ]; '-' is the default."""
        f = row.split() + ["-"]
        self.name, self.sector, self.province = f[0], f[1], f[3]
        self.level = LEVELS.index(f[2])
        self.pref, self.county = (x if x != "-" else "" for x in f[4:6])
        self.opened = f[6].replace("T", " ")
        self.followers = int(f[7])
        self.followers_at = f[8].replace("T", " ") if f[8] != "-" else "2011-12-31 23:59"
        self.tau_days = float(f[9]) if f[9] != "-" else 200.0
        self.rate, self.reply_p = float(f[10]), float(f[11])
        self.organ = f[12] if f[12] != "-" else ""


def designed_table(block: str) -> tuple[Designed, ...]:
    return tuple(Designed(line) for line in block.strip().splitlines())


# The seeds' named accounts. Follower targets are as reported (之江先锋 423,997 and
# 之江人才 152,671 in Aug 2011; 上海发布 410,000 two weeks after opening); the top three
# (平安北京, 中国国际救援队, 外交小灵通) are the largest and most active by design.
HEADLINERS = designed_table("""
微博云南   publicity  provincial 云南 -    -      2009-11-18T10:20 260000  -                -   2.0  0.2
平安北京   police     provincial 北京 -    -      2010-11-03T09:30 2900000 -                300 14.0 0.6
中国国际救援队 emergency central 北京 -    -      2010-10-12T15:00 2100000 -                300 9.0  0.55
外交小灵通 foreign    central    北京 -    -      2011-04-12T11:00 1700000 -                200 9.0  0.55
广东公安   police     provincial 广东 -    -      2011-01-20T10:00 1400000 -                -   8.0  0.4
微成都     publicity  prefecture 四川 成都 -      2011-01-05T09:00 1250000 -                -   9.0  0.35
南京发布   publicity  prefecture 江苏 南京 -      2011-02-28T09:00 900000  -                -   8.0  0.3
上海发布   publicity  provincial 上海 -    -      2011-11-28T10:00 410000  2011-12-12T12:00 30  12.0 0.3
之江先锋   party_org  provincial 浙江 -    -      2011-02-10T09:00 423997  2011-08-31T23:59 -   4.5  0.5
之江人才   party_org  provincial 浙江 -    -      2011-02-25T09:00 152671  2011-08-31T23:59 -   3.5  0.45 中共浙江省委人才工作领导小组办公室
红船先锋   party_org  prefecture 浙江 嘉兴 -      2011-04-20T09:00 80000   -                -   2.5  0.4
西湖先锋   party_org  county     浙江 杭州 西湖区 2011-03-15T09:00 45000   -                -   2.0  0.4
上海高院   court      provincial 上海 -    -      2010-12-08T10:00 180000  -                -   2.0  0.2
""")
