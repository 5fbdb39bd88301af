"""Registry: hand cases for each rule family, overrides, missing fields, the store."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from govweibo import model
from govweibo.errors import ConfigError, GovweiboError
from govweibo.registry import (
    PROFILE_SCHEMA,
    RuleSet,
    classify_accounts,
    classify_store,
    user_to_account,
)
from govweibo.store import Store


def accounts(*rows: dict) -> pa.Table:
    names = model.ACCOUNTS.names
    full = [
        {n: None for n in names} | {"platform": "weibo", "account_id": str(i)} | r
        for i, r in enumerate(rows)
    ]
    return pa.Table.from_pylist(full, schema=model.ACCOUNTS)


def one(**fields) -> dict:
    return classify_accounts(accounts(fields)).to_pylist()[0]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "screen_name": "浙江省公安厅",
                "verified_type": 1,
                "verified_reason": "浙江省公安厅官方微博",
            },
            {
                "kind": "agency",
                "sector": "public_security",
                "level": "provincial",
                "province": "浙江",
                "region": "east",
            },
        ),
        (
            {"screen_name": "北京市朝阳区人民法院", "verified_type": 1},
            {"sector": "courts_procuratorate", "level": "county", "province": "北京"},
        ),
        (
            {
                "screen_name": "上海发布",
                "verified_type": 1,
                "verified_reason": "上海市人民政府新闻办公室官方微博",
            },
            {"sector": "publicity", "level": "provincial", "province": "上海", "family": "…发布"},
        ),
        (
            {
                "screen_name": "之江先锋",
                "verified_type": 1,
                "verified_reason": "中共浙江省委组织部官方微博",
            },
            {"sector": "party_organisation", "level": "provincial", "family": "…先锋"},
        ),
        (
            {
                "screen_name": "外交小灵通",
                "verified_type": 1,
                "verified_reason": "外交部官方微博",
                "province_code": "11",
            },
            {"sector": "foreign_affairs", "level": "central", "province": None},
        ),
        (
            {"screen_name": "张某", "verified_type": 0, "verified_reason": "肇庆市公安局副局长"},
            {
                "kind": "official",
                "sector": "public_security",
                "level": "prefecture",
                "province": "广东",
            },
        ),
        (
            {"screen_name": "平安北京"},
            {
                "kind": "agency",
                "sector": "public_security",
                "level": "provincial",
                "province": "北京",
                "family": "平安…",
            },
        ),
        (
            {"screen_name": "大兴安岭发布", "verified_type": 1},
            {"level": "prefecture", "province": "黑龙江"},
        ),
        (
            {"verified_reason": "上海市公安局普陀分局白丽路派出所民警", "verified_type": 0},
            {"kind": "official", "level": "county", "province": "上海"},
        ),
        (
            {"verified_reason": "湖北省公安县人民政府官方微博"},
            {"sector": "government_general", "level": "county", "province": "湖北"},
        ),
        (
            {"verified_reason": "中国国际救援队官方微博", "verified_type": 1},
            {"sector": "emergency_rescue", "level": "central"},
        ),
        (
            {"screen_name": "微言教育", "verified_reason": "教育部新闻办公室官方微博"},
            {"sector": "education", "level": "central"},
        ),
        (
            {"screen_name": "上海高院"},
            {"sector": "courts_procuratorate", "level": "provincial", "province": "上海"},
        ),
        (
            {"verified_reason": "浙江省诸暨市枫桥镇人民政府官方微博"},
            {"sector": "government_general", "level": "county", "province": "浙江"},
        ),
        (
            {"verified_reason": "青海省海南藏族自治州公安局官方微博"},
            {"level": "prefecture", "province": "青海"},
        ),
        (
            {"screen_name": "首都机场公安", "verified_reason": "首都机场公安局官方微博"},
            {"sector": "public_security", "province": "北京", "family": "…公安"},
        ),
    ],
)
def test_government_hand_cases(fields, expected):
    got = one(**fields)
    assert got["is_government"] is True, got["evidence"]
    for key, value in expected.items():
        assert got[key] == value, (key, got)


@pytest.mark.parametrize(
    "fields",
    [
        {"screen_name": "人民日报", "verified_type": 3, "verified_reason": "《人民日报》法人微博"},
        {"screen_name": "人民日报", "verified_reason": "《人民日报》法人微博"},
        {"screen_name": "北京大学", "verified_reason": "北京大学官方微博"},
        {"screen_name": "中国人民公安大学", "verified_reason": "中国人民公安大学官方微博"},
        {"screen_name": "中国石化", "verified_reason": "中国石油化工集团公司官方微博"},
        {"screen_name": "中国平安", "verified_reason": "中国平安保险（集团）股份有限公司官方微博"},
        {"screen_name": "中国红十字基金会", "verified_type": 7},
        {
            "screen_name": "某演员",
            "verified_type": 0,
            "verified_reason": "演员",
            "description": "曾饰演公安局长，感谢北京市公安局支持",
        },
        {
            "screen_name": "郭明义",
            "verified_type": 0,
            "verified_reason": "鞍钢集团矿业公司公路管理员、全国劳动模范",
        },
        {
            "screen_name": "于建嵘",
            "verified_type": 0,
            "verified_reason": "中国社会科学院农村发展研究所教授",
        },
        {"screen_name": "检察日报", "verified_reason": "最高人民检察院《检察日报》官方微博"},
        {"screen_name": "路人甲", "verified_type": -1, "description": "喜欢看平安北京的微博"},
        {"screen_name": "赵律师", "verified_type": 0, "verified_reason": "知名律师，前检察官"},
        {"screen_name": "首都机场", "verified_reason": "北京首都国际机场股份有限公司官方微博"},
    ],
)
def test_non_government_hand_cases(fields):
    got = one(**fields)
    assert got["is_government"] is False, got["evidence"]
    assert got["kind"] is None and got["sector"] is None and got["level"] is None


def test_official_with_a_personal_non_government_role_is_still_an_official():
    got = one(screen_name="某副市长", verified_reason="某大学教授，肇庆市副市长")
    assert got["is_government"] is False  # an institution word (大学) wins
    got = one(screen_name="叶青", verified_type=0, verified_reason="湖北省统计局副局长、人大代表")
    assert got["is_government"] and got["kind"] == "official" and got["sector"] == "other"


def test_description_only_signal():
    got = one(screen_name="小编", description="北京市公安局官方微博，欢迎关注")
    assert got["is_government"] and got["confidence"] == 0.6
    assert "rule=description" in got["evidence"]


def test_province_fallbacks_and_missing_fields():
    rows = classify_accounts(
        accounts(
            {"verified_type": 1, "province_code": "33"},
            {"verified_type": 1, "location": "四川 成都"},
            {"verified_type": 1, "province_code": "400", "location": "海外 美国"},
            {},
            {"screen_name": None, "verified_reason": None, "description": None},
        )
    ).to_pylist()
    assert [r["province"] for r in rows] == ["浙江", "四川", None, None, None]
    assert "province_code 33" in rows[0]["evidence"]
    assert "location 四川 成都" in rows[1]["evidence"]
    assert [r["is_government"] for r in rows] == [True, True, True, False, False]


def test_output_schema_order_and_a_table_with_few_columns():
    table = pa.table({"account_id": ["b", "a"], "screen_name": ["平安北京", "人民日报"]})
    out = classify_accounts(table)
    assert out.schema == PROFILE_SCHEMA
    assert out["account_id"].to_pylist() == ["b", "a"]
    assert out["is_government"].to_pylist() == [True, False]


def test_ibis_table_input_runs_on_its_backend():
    con = ibis.duckdb.connect()
    t = con.create_table("accounts", accounts({"screen_name": "成都发布", "verified_type": 1}))
    got = classify_accounts(t).to_pylist()[0]
    assert got["level"] == "prefecture" and got["province"] == "四川"


def test_overrides_win_and_are_recorded(tmp_path: Path):
    path = tmp_path / "overrides.csv"
    path.write_text(
        "account_id,platform,is_government,kind,sector,level,province,note\n"
        "0,weibo,true,official,government_general,county,广东,profile hides the post\n"
        "1,,false,,,,,\n",
        encoding="utf-8",
    )
    rows = classify_accounts(
        accounts(
            {"screen_name": "樵山潮人", "verified_type": 0, "description": "暨南大学教授"},
            {"screen_name": "平安北京", "verified_type": 1},
            {"screen_name": "上海发布", "verified_type": 1},
        ),
        overrides=path,
    ).to_pylist()
    assert rows[0]["is_government"] and rows[0]["kind"] == "official"
    assert (rows[0]["sector"], rows[0]["level"], rows[0]["province"]) == (
        "government_general",
        "county",
        "广东",
    )
    assert rows[0]["region"] == "east" and rows[0]["confidence"] == 1.0
    assert rows[0]["evidence"].startswith(
        "override=overrides.csv (is_gov kind sector level province: profile hides the post)"
    )
    assert rows[1]["is_government"] is False and rows[1]["sector"] is None
    assert "override=overrides.csv" in rows[1]["evidence"]
    assert rows[2]["is_government"] and "override" not in rows[2]["evidence"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("platform\nweibo\n", "account_id column"),
        ("account_id,sector\n1,police\n", ":2: sector 'police'"),
        ("account_id,is_government\n1,maybe\n", ":2: is_government"),
        ("account_id,province\n1,加州\n", ":2: province"),
        ("account_id\n1\n1\n", ":3: account 1 is overridden twice"),
    ],
)
def test_bad_overrides_name_file_and_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "o.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        classify_accounts(accounts({"screen_name": "x"}), overrides=path)


def test_user_rules_extend_the_shipped_ones(tmp_path: Path):
    extra = tmp_path / "mine.toml"
    extra.write_text(
        'lang = "zh"\n[[sector]]\nname = "transport"\nkeywords = ["高铁站"]\n'
        '[[family]]\nname = "…高铁"\nsuffix = "高铁"\nsector = "transport"\n',
        encoding="utf-8",
    )
    rules = RuleSet.load([extra])
    got = classify_accounts(
        accounts({"screen_name": "杭州高铁", "verified_type": 1}), rules=rules
    ).to_pylist()[0]
    assert got["family"] == "…高铁" and got["sector"] == "transport"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sector]]\nname = "police"\nkeywords = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown sector 'police'"):
        RuleSet.load([bad])


def test_lexicon_longest_match_and_inheritance():
    lex = {r["term"]: r for r in RuleSet.load().lexicon.to_pylist()}
    assert lex["公安局"]["sector"] == "public_security" and lex["公安局"]["organ"]
    assert lex["公安县"]["plevel"] == 3 and lex["公安县"]["sector"] is None
    assert lex["朝阳区"]["pprov"] is None  # in Beijing and in Changchun
    assert lex["之江"]["pprov"] == "浙江"
    assert lex["红河州"]["plevel"] == 2


def test_user_to_account_reads_sina_fields():
    row = user_to_account(
        {
            "idstr": "42",
            "name": "x",
            "province": 33,
            "city": 1,
            "verified_type": "1",
            "description": "",
        }
    )
    assert row["account_id"] == "42" and row["screen_name"] == "x"
    assert row["province_code"] == "33" and row["verified_type"] == 1
    assert row["description"] is None


def test_classify_store_writes_account_profiles(tmp_path: Path):
    with Store(tmp_path / "s.duckdb") as store:
        data = accounts(
            {"screen_name": "平安北京", "verified_type": 1},
            {"screen_name": "人民日报", "verified_type": 3},
            {
                "screen_name": "蔡奇",
                "verified_type": 0,
                "verified_reason": "浙江省委常委、组织部部长",
            },
        )
        store.con.register("_acc", data)
        store.con.execute("INSERT INTO accounts SELECT * FROM _acc")
        summary = classify_store(store)
        assert (summary.accounts, summary.government) == (3, 2)
        assert summary.by_kind == {"agency": 1, "official": 1}
        assert summary.by_region == {"east": 2}
        saved = store.arrow("SELECT * FROM account_profiles ORDER BY account_id")
        assert saved.num_rows == 3 and saved.schema.names == PROFILE_SCHEMA.names


def test_errors_are_govweibo_errors():
    from govweibo.registry.evaluate import LabelFileError

    assert issubclass(LabelFileError, GovweiboError)
