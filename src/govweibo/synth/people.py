"""People and non-government accounts: personal names, hard negatives, public nicknames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from govweibo.synth.places import Region

# Common surnames, roughly by frequency (the weights fall off geometrically).
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉鹏宇飞斌波宁红玉海燕"
    "晓东志新春立林峰云凯俊浩亮成翔龙德福永生光荣兴宏昌庆祥瑞安康清正和顺利忠义"
    "雪梅兰琳晶婷颖佳欣怡丹倩蕾薇晨阳旭晖彬鑫博文武振江河山松柏青松"
)
_SURNAME_CUM = np.cumsum([0.97**i for i in range(len(SURNAMES))])
_SURNAME_CUM /= _SURNAME_CUM[-1]


def person_name(rng: np.random.Generator, used: set[str]) -> str:
    """A plausible unused Chinese personal name (surname + one or two given characters)."""
    for _ in range(1000):
        name = SURNAMES[min(int(np.searchsorted(_SURNAME_CUM, rng.random())), len(SURNAMES) - 1)]
        n = 1 if rng.random() < 0.25 else 2
        name += "".join(GIVEN[k] for k in rng.integers(0, len(GIVEN), n))
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("personal names exhausted")


@dataclass
class NonGov:
    screen_name: str
    vtype: int
    verified: bool
    reason: str
    description: str
    region: Region
    followers_median: float
    post_weight: float


_NATIONAL_MEDIA = (
    "人民日报",
    "央视新闻",
    "新华视点",
    "人民网",
    "中国新闻网",
    "新京报",
    "南方周末",
    "南方都市报",
    "财经网",
    "头条新闻",
    "环球时报",
    "中国日报",
    "中国青年报",
    "经济观察报",
    "新闻晨报",
)
_MEDIA_KINDS = ("日报", "晚报", "都市报", "电视台", "新闻广播", "新闻网", "商报", "手机报")
_UNIVERSITIES = (
    "北京大学",
    "清华大学",
    "复旦大学",
    "浙江大学",
    "南京大学",
    "中山大学",
    "武汉大学",
    "四川大学",
    "山东大学",
    "厦门大学",
    "南开大学",
    "吉林大学",
    "中国人民大学",
    "同济大学",
    "上海交通大学",
    "华中科技大学",
    "西安交通大学",
    "哈尔滨工业大学",
    "中南大学",
    "兰州大学",
    "云南大学",
    "郑州大学",
    "湖南大学",
    "重庆大学",
    "东南大学",
)
_UNI_KINDS = (
    "大学",
    "师范大学",
    "理工大学",
    "医科大学",
    "财经大学",
    "农业大学",
    "工业大学",
    "科技大学",
    "中医药大学",
)
_CITY_UNI_KINDS = ("学院", "职业技术学院", "师范学院", "医学院")
_UNI_UNITS = ("团委", "学生会", "图书馆", "招生办")
_SOES = (
    "国家电网",
    "中国石油",
    "中国石化",
    "中国移动",
    "中国联通",
    "中国电信",
    "中国南方航空",
    "中国国际航空",
    "中国银行",
    "中国工商银行",
    "中国建设银行",
    "中国邮政",
    "中国中铁",
)
_SOE_BRANDS = ("中国移动", "中国联通", "中国电信", "中国银行", "中国邮政", "中国石化")
_CITY_SOE = ("电力", "供电公司", "地铁", "公交集团", "自来水", "燃气", "烟草")
_NGOS = ("免费午餐", "壹基金", "中国扶贫基金会", "中华慈善总会", "自然之友", "嫣然天使基金")
_CITY_NGO = ("志愿者协会", "义工联合会", "慈善总会", "红十字会", "爱心协会", "环保协会")
_WEB = ("在线", "网", "论坛", "生活网", "热线")
_CELEB_REASONS = (
    "知名演员",
    "影视演员",
    "歌手",
    "主持人",
    "知名作家",
    "经济学家",
    "财经评论员",
    "律师",
    "知名媒体人",
    "导演",
    "企业家",
    "足球运动员",
)
_SCHOLAR_POSTS = ("教授", "副教授", "研究员", "博士生导师")
_MODEL = ("全国劳动模范", "全国道德模范", "全国五一劳动奖章获得者")
_BIOS = (
    "",
    "热爱生活",
    "吃货一枚",
    "简单就好",
    "努力工作，快乐生活",
    "爱旅行爱摄影",
    "好好学习",
    "做最好的自己",
    "一个人的精彩",
    "关注民生",
    "正能量",
    "宅",
    "我是我自己",
)
NICK_PRE = (
    "小",
    "阿",
    "大",
    "老",
    "爱吃",
    "快乐的",
    "安静的",
    "追风",
    "夏天的",
    "蓝色",
    "风中的",
    "路过的",
    "宅",
    "懒懒的",
    "北漂",
    "沪漂",
    "吃货",
    "呆呆",
    "萌萌",
    "傻傻的",
    "会飞的",
    "爱笑的",
    "孤独的",
    "淡定的",
    "开心",
    "江南",
    "北方的",
    "南方的",
    "微笑",
    "流浪",
    "听雨",
    "看海",
    "星空",
    "阳光",
    "我是",
    "就叫",
    "天天",
    "叮当",
    "麦兜",
    "木木",
    "糖糖",
    "七月",
    "九月",
    "十一",
    "乐乐",
    "嘟嘟",
    "果果",
    "菜菜",
    "亮亮",
    "默默",
)
NICK_MID = (
    "鱼",
    "猫",
    "兔子",
    "土豆",
    "小熊",
    "糖果",
    "西瓜",
    "蜗牛",
    "星星",
    "月亮",
    "木头",
    "石头",
    "叶子",
    "苹果",
    "咖啡",
    "奶茶",
    "包子",
    "饺子",
    "豆豆",
    "阿飞",
    "宝宝",
    "妞妞",
    "丫头",
    "少年",
    "大叔",
    "姑娘",
    "同学",
    "先生",
    "小姐",
    "书生",
    "侠客",
    "旅人",
    "行者",
    "猎人",
    "老师",
    "学长",
    "胖子",
    "瘦子",
    "狐狸",
    "企鹅",
    "考拉",
    "海豚",
    "飞鸟",
    "蒲公英",
    "向日葵",
    "薄荷",
    "柠檬",
    "橙子",
    "草莓",
    "葡萄",
)
NICK_SUF = (
    "",
    "君",
    "酱",
    "呀",
    "ing",
    "控",
    *(str(y) for y in range(1975, 2000)),
    *(f"_{k}" for k in range(10, 90)),
)


def nickname(k: int) -> str:
    """The k-th nickname of a fixed enumeration (unique for k below NICK_SPACE)."""
    k, a = divmod(k, len(NICK_PRE))
    s, m = divmod(k, len(NICK_MID))
    return NICK_PRE[a] + NICK_MID[m] + NICK_SUF[s % len(NICK_SUF)]


NICK_SPACE = len(NICK_PRE) * len(NICK_MID) * len(NICK_SUF)


def bio(rng: np.random.Generator) -> str:
    return _BIOS[int(rng.integers(len(_BIOS)))]


def nongov_accounts(
    scale: float,
    regions: tuple[Region, ...],
    weights: np.ndarray,
    rng: np.random.Generator,
    used: set[str],
) -> list[NonGov]:
    """Verified non-government accounts (hard negatives for the classifier)."""
    out: list[NonGov] = []
    by_short = {r.province.short_zh: r for r in regions}
    beijing = by_short["北京"]

    cum = np.cumsum(weights) / np.sum(weights)

    def region() -> Region:
        return regions[min(int(np.searchsorted(cum, rng.random())), len(regions) - 1)]

    def add(
        name: str, vtype: int, reason: str, reg: Region, med: float, w: float, verified: bool = True
    ) -> None:
        if name in used:
            return
        used.add(name)
        desc = reason if vtype in (1, 2, 3, 4, 5, 7) else bio(rng)
        out.append(NonGov(name, vtype, verified, reason, desc, reg, med, w))

    def n(default: int) -> int:
        return max(3, round(default * scale))

    def place(reg: Region) -> str:
        if rng.random() < 0.4:
            return reg.province.short_zh
        pref = reg.prefectures[int(rng.integers(len(reg.prefectures)))]
        return pref.short or reg.province.short_zh

    for name in _NATIONAL_MEDIA[: n(len(_NATIONAL_MEDIA))]:
        add(name, 3, f"{name}官方微博", beijing, 800_000, 8.0)
    for _ in range(n(480)):
        reg = region()
        p, kind = place(reg), _MEDIA_KINDS[int(rng.integers(len(_MEDIA_KINDS)))]
        reason = f"《{p}{kind}》官方微博" if kind.endswith("报") else f"{p}{kind}官方微博"
        add(p + kind, 3, reason, reg, 60_000, 5.0)
    for name in _UNIVERSITIES[: n(len(_UNIVERSITIES))]:
        add(name, 4, f"{name}官方微博", region(), 40_000, 1.0)
    for _ in range(n(280)):
        reg = region()
        if rng.random() < 0.5:
            uni = reg.province.short_zh + _UNI_KINDS[int(rng.integers(len(_UNI_KINDS)))]
        else:
            uni = place(reg) + _CITY_UNI_KINDS[int(rng.integers(len(_CITY_UNI_KINDS)))]
        if uni in used or rng.random() < 0.3:
            uni += _UNI_UNITS[int(rng.integers(len(_UNI_UNITS)))]
        add(uni, 4, f"{uni}官方微博", reg, 8_000, 1.0)
    for name in _SOES[: n(len(_SOES))]:
        add(name, 2, f"{name}官方微博", beijing, 150_000, 1.5)
    for _ in range(n(290)):
        reg = region()
        p = place(reg)
        roll = rng.random()
        if roll < 0.4:
            name = _SOE_BRANDS[int(rng.integers(len(_SOE_BRANDS)))] + p
        elif roll < 0.7:
            name = p + _CITY_SOE[int(rng.integers(len(_CITY_SOE)))]
        else:
            name = f"中国银行{p}分行"
        add(name, 2, f"{name}官方微博", reg, 15_000, 1.0)
    for name in _NGOS[: n(len(_NGOS))]:
        add(name, 7, f"{name}官方微博", beijing, 200_000, 2.0)
    for _ in range(n(145)):
        reg = region()
        name = place(reg) + _CITY_NGO[int(rng.integers(len(_CITY_NGO)))]
        add(name, 7, f"{name}官方微博", reg, 6_000, 1.0)
    for _ in range(n(100)):
        reg = region()
        name = place(reg) + _WEB[int(rng.integers(len(_WEB)))]
        add(name, 5, f"{name}官方微博", reg, 40_000, 3.0)
    for _ in range(n(600)):
        reg = region()
        if rng.random() < 0.35:
            uni = _UNIVERSITIES[int(rng.integers(len(_UNIVERSITIES)))]
            reason = uni + _SCHOLAR_POSTS[int(rng.integers(len(_SCHOLAR_POSTS)))]
            med = 60_000.0
        else:
            reason = _CELEB_REASONS[int(rng.integers(len(_CELEB_REASONS)))]
            med = 400_000.0
        add(person_name(rng, used), 0, reason, reg, med, 4.0)
    for _ in range(n(50)):
        add(person_name(rng, used), 0, _MODEL[int(rng.integers(len(_MODEL)))], region(), 5_000, 1.0)
    for _ in range(n(400)):
        k = int(rng.integers(NICK_SPACE))
        add(nickname(k), 220, "", region(), 20_000, 2.5, verified=False)
    return out
