from __future__ import annotations

from govweibo.text.normalise import normalise
from govweibo.text.segment import cut, stopwords, tokenize_many, tokens, user_words


def test_user_dictionary_words_stay_whole() -> None:
    toks = tokens("平安北京发布辟谣：朝阳区公安分局和市场监督管理局联合执法，之江先锋报道")
    for word in ("平安北京", "辟谣", "市场监督管理局", "之江先锋"):
        assert word in toks
    assert "卫生健康委员会" in cut("省卫生健康委员会通报")
    assert "延边朝鲜族自治州" in tokens("延边朝鲜族自治州应急管理局")
    assert "应急管理局" in tokens("延边朝鲜族自治州应急管理局")


def test_user_dictionary_has_provinces_and_prefectures() -> None:
    words = {w for w, _ in user_words()}
    for w in ("北京市", "广西壮族自治区", "石家庄市", "石家庄", "阿拉善盟", "公安厅", "官方微博"):
        assert w in words


def test_emoticons_and_topics_single_tokens_markers_dropped() -> None:
    toks = tokens("#新冠肺炎#今天好开心[哈哈] @张三 http://t.cn/abc，！")
    assert toks[0] == "#新冠肺炎#"
    assert "[哈哈]" in toks
    assert not any("张三" in t or "t.cn" in t or "http" in t for t in toks)
    assert "，" not in toks and "！" not in toks and " " not in toks


def test_stopwords_dropped_or_kept() -> None:
    assert {"的", "了", "我们"} <= stopwords()
    text = "我们的城市变得更美了"
    kept = tokens(text, drop_stopwords=False)
    dropped = tokens(text)
    assert "的" in kept and "我们" in kept
    assert "的" not in dropped and "我们" not in dropped
    assert "城市" in dropped


def test_chain_and_batch() -> None:
    text = "转发微博//@平安北京: 请注意安全[心]"
    assert tokens(text) == []  # 转发微博 is a stop word
    assert tokens(text, include_chain=True)[-1] == "[心]"
    assert tokenize_many([text, None, normalise("天气")]) == [[], [], ["天气"]]


def test_lowercase_ascii() -> None:
    assert "iphone" in tokens("新款IPHONE发布")
