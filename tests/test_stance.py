"""govweibo.text.stance: rules, repost chains, the rule file, and the labelled real set."""

from __future__ import annotations

from pathlib import Path

import pytest

from govweibo.errors import ConfigError, GovweiboError
from govweibo.text.stance import LABELS, load_rules, stance, stance_one


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("【辟谣】网传碘盐能防核辐射，消息不实", "denies"),
        ("转发辟谣", "denies"),
        ("网传某地发生地震系谣言，请勿相信", "denies"),
        ("这是假的！大家别信", "denies"),
        ("真的吗？", "questions"),
        ("@微博辟谣 求辟谣", "questions"),
        ("是不是谣言啊", "questions"),
        ("扩散！孩子在火车站走失了", "asserts"),
        ("这不是谣言，是真的！", "asserts"),
        ("好可怜[泪]", "neutral"),
        ("转发微博", "neutral"),
        ("", "neutral"),
    ],
)
def test_own_words(text: str, label: str) -> None:
    assert stance_one(text)[0] == label


def test_reason_names_the_cue() -> None:
    label, reason = stance_one("【辟谣】网传碘盐能防核辐射，消息不实")
    assert label == "denies" and "辟谣" in reason


def test_bare_repost_takes_the_chain_stance_nearest_first() -> None:
    label, reason = stance_one("转发微博//@张三:谣言！别信//@李四:扩散！")
    assert (label, reason.startswith("repost of @张三")) == ("denies", True)
    assert stance_one("//@李四:扩散！")[0] == "asserts"
    # Own words decide when they carry a cue, whatever the chain says.
    assert stance_one("真的吗？//@张三:谣言！")[0] == "questions"
    # Own words with no cue that are not bare do not inherit the chain.
    assert stance_one("哈哈哈//@张三:谣言！")[0] == "neutral"


def test_mention_of_the_debunk_account_is_not_a_debunk() -> None:
    assert stance_one("@微博辟谣 哈哈")[0] == "neutral"


def test_batch_matches_one_by_one() -> None:
    texts = ["转发辟谣", "真的吗？", None, "扩散！"]
    assert stance(texts) == [stance_one(t)[0] for t in texts]
    assert set(stance(texts)) <= set(LABELS)


def test_bad_rule_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\nlabel = "maybe"\npattern = "a"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_rules(bad)
    bad.write_text('[[rule]]\nname = "x"\nlabel = "denies"\npattern = "("\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_rules(bad)
    with pytest.raises(GovweiboError):
        load_rules(tmp_path / "missing.toml")


def test_custom_rule_file(tmp_path: Path) -> None:
    f = tmp_path / "r.toml"
    f.write_text('[[rule]]\nname = "fake"\nlabel = "denies"\npattern = "假"\n', encoding="utf-8")
    assert stance_one("假的", load_rules(f)) == ("denies", "fake: 假")
    assert stance_one("真的", load_rules(f))[0] == "neutral"
