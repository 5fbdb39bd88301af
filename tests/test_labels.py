"""Labels: the label files are complete and alike, codes get names, values are formatted."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from govweibo import labels
from govweibo.errors import ConfigError


def _doc(lang: str) -> dict:
    return tomllib.loads((resources.files("govweibo.labels") / f"{lang}.toml").read_text("utf-8"))


def _keys(doc: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in doc.items():
        out |= _keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return out


def test_both_languages_have_the_same_keys() -> None:
    """Every label exists in both languages (a page in one language never falls back)."""
    zh, en = _keys(_doc("zh")), _keys(_doc("en"))
    assert zh == en, sorted(zh ^ en)
    for lang in labels.LANGS:  # and the texts the pages format take the same fields
        for section in ("text", "report", "web"):
            for key in labels.texts(section, "zh"):
                fields = set(re.findall(r"{(\w+)}", labels.texts(section, "zh")[key]))
                assert fields == set(re.findall(r"{(\w+)}", labels.texts(section, lang)[key]))


def test_headers_are_labels_not_codes() -> None:
    assert labels.header("group_rank", "zh") == "排名"
    assert labels.header("group_rank", "en") == "Rank"
    assert labels.header("cumulative_yoy", "zh") == "累计（同比）"
    for lang in labels.LANGS:
        for col, label in _doc(lang)["headers"].items():
            assert not labels.is_snake(label), (lang, col, label)
    # A column without a label is still shown readably, never as snake_case.
    assert labels.header("some_new_column", "en") == "Some new column"
    assert not labels.is_snake(labels.header("some_new_column", "zh"))


def test_code_names_come_from_where_codes_are_defined() -> None:
    assert labels.value("sector", "public_security", "zh") == "公安"
    assert labels.value("sector", "public_security", "en") == "Public security"
    assert labels.value("sector", "courts_procuratorate", "zh") == "法院检察"
    assert labels.value("kind", "agency", "zh") == "机构"
    assert labels.value("level", "prefecture", "en") == "Prefecture"
    assert labels.value("region", "north-east", "zh") == "东北"
    assert labels.value("province", "北京", "en") == "Beijing"
    assert labels.value("province", "北京", "zh") == "北京"
    assert labels.value("status", "done", "zh") == "完成"
    assert labels.value("sector", "no_such_code", "en") == "no_such_code"  # shown as is
    assert labels.value("sector", None, "en") == "–"


def test_code_of_accepts_either_language() -> None:
    assert labels.code_of("sector", "公安") == "public_security"
    assert labels.code_of("sector", "public_security") == "public_security"
    assert labels.code_of("sector", "public SECURITY") == "public_security"
    assert labels.code_of("level", "县级") == "county"
    assert labels.code_of("province", "Beijing") == "北京"
    assert labels.code_of("sector", "公安局长") is None


def test_text_formats_and_unknown_keys_fail() -> None:
    assert labels.text("top_n", "zh", n=10) == "前10名"
    assert labels.text("top_n", "en", n=10) == "top 10"
    with pytest.raises(KeyError):
        labels.text("no_such_key", "en")
    with pytest.raises(ConfigError):
        labels.header("rank", "fr")


def test_formatting() -> None:
    assert labels.number(1234567) == "1,234,567"
    assert labels.number(1653.04) == "1,653.0" and labels.number(91.0) == "91.0"
    assert labels.number(0.1234) == "0.123"
    assert labels.number(None) == "–"
    assert labels.number(True, "zh") == "是"
    assert labels.percent(0.1234) == "12.3%"
    assert labels.ratio(16.53) == "16.5×"
    assert labels.duration(12300, "en") == "3 h 25 min"
    assert labels.duration(12300, "zh") == "3小时25分"
    assert labels.duration(timedelta(minutes=7), "en") == "7 min"
    assert labels.duration(90000, "en") == "25 h 0 min"


def test_beijing_time() -> None:
    t = datetime(2011, 6, 30, 16, 30, tzinfo=UTC)
    assert labels.beijing(t) == "2011-07-01 00:30"
    assert labels.beijing(t.replace(tzinfo=None)) == "2011-07-01 00:30"  # naive = UTC
    assert labels.beijing("2011-06-30T16:30:00Z") == "2011-07-01 00:30"
    assert labels.beijing(t, seconds=True) == "2011-07-01 00:30:00"


def test_cell_formats_by_column() -> None:
    assert labels.cell("sector", "public_security", "zh") == "公安"
    assert labels.cell("coverage", 0.5, "en") == "50.0%"
    assert labels.cell("cumulative_yoy", 16.53, "en") == "16.5×"
    assert labels.cell("followers", 1234567, "en") == "1,234,567"
    assert labels.cell("finished_at", datetime(2012, 1, 5, tzinfo=UTC), "en") == "2012-01-05 08:00"
    assert labels.cell("screen_name", "平安北京", "en") == "平安北京"


def test_rank_changes_are_signed() -> None:
    assert labels.cell("group_rank_change", 2, "en") == "+2"
    assert labels.cell("group_rank_change", -2601, "en") == "-2,601"
    assert labels.cell("rank_change", 0, "en") == "0"
    assert labels.cell("group_rank_change", None, "zh") == "新上榜"
