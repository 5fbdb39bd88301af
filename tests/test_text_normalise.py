from __future__ import annotations

import dataclasses

import pytest

from govweibo.text.normalise import (
    NormalisedText,
    normalise,
    normalise_many,
    to_halfwidth,
    to_simplified,
)


def test_traditional_to_simplified() -> None:
    assert to_simplified("後來我們乾杯，頭髮很長") == "后来我们干杯，头发很长"
    assert normalise("國務院臺灣事務辦公室").text == "国务院台湾事务办公室"
    # simplified text passes through untouched (fast path), including 著 in 显著
    s = "显著的著作，干部"
    assert to_simplified(s) is s


def test_fullwidth_ascii_to_halfwidth_keeps_chinese_punctuation() -> None:
    assert to_halfwidth("ＡＢＣ１２３＃＠／．") == "ABC123#@/."
    assert to_halfwidth("你好，是吗？好！：；（）") == "你好，是吗？好！：；（）"
    assert normalise("真的吗？\u3000Ｗｅｉｂｏ。").text == "真的吗？ Weibo。"


def test_repost_chain_split() -> None:
    nt = normalise("说得好//@平安北京: 请大家注意安全[心] http://t.cn/A6abc //@张三：转发")
    assert nt.own == "说得好"
    assert nt.repost_chain == (
        ("平安北京", "请大家注意安全[心] http://t.cn/A6abc"),
        ("张三", "转发"),
    )
    assert nt.urls == ()  # URLs of the chain are not the author's
    assert nt.clean == "说得好"


def test_mentions_topics_urls_emoticons() -> None:
    nt = normalise(
        "#新冠肺炎#今天好[哈哈]@李四 看 https://weibo.com/123?x=1 和 t.cn/RxYz9 谢谢@王五_wu："
    )
    assert nt.topics == ("新冠肺炎",)
    assert nt.mentions == ("李四", "王五_wu")
    assert nt.urls == ("https://weibo.com/123?x=1", "t.cn/RxYz9")
    assert nt.emoticons == ("[哈哈]",)
    assert nt.clean == "新冠肺炎 今天好[哈哈] 看 和 谢谢 ："
    assert "http" not in nt.clean and "@" not in nt.clean and "#" not in nt.clean


def test_not_markers() -> None:
    nt = normalise("邮箱abc@163.com 参考[1] C#和#1")
    assert nt.mentions == ()
    assert nt.topics == ()
    assert nt.emoticons == ()


def test_fullwidth_markers_are_recognised() -> None:
    nt = normalise("＃话题＃ ［心］ ＠某人 ")
    assert nt.topics == ("话题",)
    assert nt.emoticons == ("[心]",)
    assert nt.mentions == ("某人",)


@pytest.mark.parametrize("value", [None, "", "   \n\t"])
def test_empty(value: str | None) -> None:
    nt = normalise(value)
    assert nt.is_empty
    assert nt.clean == "" and nt.repost_chain == () and nt.mentions == ()


def test_frozen_and_batch() -> None:
    texts = ["後來", None, "好//@a:b"]
    batch = normalise_many(texts)
    assert batch == [normalise(t) for t in texts]
    assert isinstance(batch[0], NormalisedText)
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch[0].own = "x"  # type: ignore[misc]


def test_fast_paths_agree_with_opencc() -> None:
    import opencc

    cc = opencc.OpenCC("t2s")
    for text in [
        "她那是吃蒜薹",
        "後來我們乾杯",
        "頭髮很長",
        "反覆思量",
        "沈默是金",
        "显著的著作",
        "简体",
    ]:
        assert to_simplified(text) == cc.convert(text)
