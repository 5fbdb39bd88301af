from __future__ import annotations

from pathlib import Path

import pytest

from govweibo.errors import ConfigError
from govweibo.text.questions import detect_many, is_question, load_rules, question_reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("这条路什么时候修好？", "question_mark"),
        ("这条路什么时候修好", "when_where_who"),
        ("请问办证要带什么材料", "qing_wen"),
        ("能不能延长办理时间", "neng_fou"),
        ("为什么还没有人处理", "wei_shen_me"),
        ("这个怎么办理", "zen_me"),
        ("核酸检测点在哪里", "when_where_who"),
        ("学校下周开学吗", "final_particle"),
        ("真的吗[哭]", "final_particle"),
        ("你好吗，谢谢", "final_particle"),
        ("你们在干什么", "final_particle"),
        ("那我们呢", "and_you"),
        ("结果呢，还是没人管", "and_you"),
    ],
)
def test_questions(text: str, reason: str) -> None:
    assert question_reason(text) == reason
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "辛苦了，致敬！",
        "吗啡管制很严格",  # 吗 not at a clause end
        "不管怎么说都要坚持",
        "不知道为什么很感动",
        "这么好的消息",
        "还年轻呢，大大",  # emphatic 呢 (real comments on the CCTV file)
        "我到现在还喜欢孙悟空呢",
        "支持//@某网友:为什么不早说？",  # only the repost chain asks
        "回复@怎么办:收到",
        "",
        None,
    ],
)
def test_not_questions(text: str | None) -> None:
    assert not is_question(text)


def test_detect_many_and_custom_rules(tmp_path: Path) -> None:
    assert detect_many(["好吗", "好", None]) == [True, False, False]
    p = tmp_path / "q.toml"
    p.write_text('[[rule]]\nname = "x"\npattern = "啊"\nwhere = "clause_end"\n', "utf-8")
    r = load_rules(p)
    assert r.reason("好啊") == "x" and r.reason("啊好") is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\npattern = "("\n', "utf-8")
    with pytest.raises(ConfigError):
        load_rules(bad)
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "missing.toml")
