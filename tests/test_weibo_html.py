"""weibo_html: Weibo's HTML as text, display counts, picture counts, user and status rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govweibo.ingest.weibo_html import (
    Context,
    FieldError,
    clean_text,
    html_to_text,
    parse_count,
    pic_count,
    status_records,
    user_records,
)

NOW = datetime(2020, 12, 8, 6, 0, tzinfo=UTC)


def test_html_to_text_keeps_what_the_api_shows() -> None:
    html = (
        '【防火】<a  href="https://m.weibo.cn/search?containerid=1" data-hide="">'
        '<span class="surl-text">#冬季防火#</span></a>请转告<span class="url-icon">'
        '<img alt=[心] src="//h5.sinaimg.cn/x.png" style="width:1em;" /></span><br />见'
        '<a data-url="http://t.cn/A6tP" href="https://weibo.cn/sinaurl?u=x">'
        "<span class=\"surl-text\">网页链接</span></a> <a href='/n/某消防'>@某消防</a>&amp;"
        '<a href="https://example.gov.cn/a">通知</a>'
    )
    assert html_to_text(html) == (
        "【防火】#冬季防火#请转告[心]\n见http://t.cn/A6tP @某消防&通知 https://example.gov.cn/a"
    )
    # Links within Weibo keep their text; weibo.cn's redirect leads to its target.
    place = '<a href="https://m.weibo.cn/p/index?containerid=2306570042">北京·天安门</a>'
    assert html_to_text(f"在{place}") == "在北京·天安门"
    wrapped = '<a href="https://weibo.cn/sinaurl?u=https%3A%2F%2Fwww.gov.cn%2Fx">网页链接</a>'
    assert html_to_text(wrapped) == "https://www.gov.cn/x"
    assert html_to_text('<a href="http://t.cn/A6x">http://t.cn/A6x</a>') == "http://t.cn/A6x"
    cut = '通告：一、二...<a href="/status/4579769521800402">全文</a>'
    assert html_to_text(cut) == "通告：一、二"
    assert html_to_text('正文 ...<span class="expand">展开</span>') == "正文"


@pytest.mark.parametrize(
    ("shown", "value"),
    [(7, 7), ("123", 123), ("1.2万", 12000), ("100万+", 1000000), ("3亿", 300000000), ("", None)],
)
def test_parse_count(shown: object, value: int | None) -> None:
    assert parse_count(shown, "reposts_count") == value


def test_parse_count_rejects_words() -> None:
    with pytest.raises(FieldError) as err:
        parse_count("很多", "reposts_count")
    assert err.value.field == "reposts_count"


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_count_reads_any_number_shown_plainly(n: int) -> None:
    assert parse_count(str(n), "x") == n == parse_count(n, "x")


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=9))
def test_parse_count_wan(whole: int, tenth: int) -> None:
    assert parse_count(f"{whole}.{tenth}万", "x") == whole * 10000 + tenth * 1000


def test_pic_count_from_every_field() -> None:
    assert pic_count({"pic_num": 3, "pics": [{}]}) == 3
    assert pic_count({"pics": [{}, {}]}) == 2
    assert pic_count({"pic_ids": ["a"]}) == 1
    assert pic_count({"pic_infos": {"a": {}, "b": {}}}) == 2
    assert pic_count({"thumbnail_pic": "http://wx3.sinaimg.cn/thumbnail/a.jpg"}) == 1
    assert pic_count({}) == 0


def test_clean_text_keeps_plain_text() -> None:
    assert clean_text("a<b and c>d") == "a<b and c>d"  # no tags: not HTML
    assert clean_text(" 正文\u200b ") == "正文"
    assert clean_text(None) is None


def test_user_rows_made_once_per_user_and_time() -> None:
    ctx = Context("weibo", NOW)
    user = {"id": 1, "screen_name": "a", "followers_count": "1.2万"}
    first = user_records(user, ctx, "user")
    again = user_records(dict(user), ctx, "user")
    assert [id(r) for r in first] == [id(r) for r in again]  # the same rows, not new ones
    first.append("x")  # a caller's list is its own
    assert len(user_records(user, ctx, "user")) == 2
    changed = user_records({**user, "followers_count": 5}, ctx, "user")
    assert changed[1].followers == 5


def test_status_without_user_is_rejected_but_an_original_without_one_is_not() -> None:
    ctx = Context("weibo", NOW)
    with pytest.raises(FieldError) as err:
        status_records({"id": 4579792150070482, "text": "x"}, ctx)
    assert err.value.field == "user"
    deleted = {"id": "4577000000000000", "text": "抱歉，此微博已被作者删除。", "user": None}
    status = {
        "id": 4579792150070482,
        "created_at": "刚刚",
        "text": "转发微博",
        "user": {"id": 1},
        "retweeted_status": deleted,
    }
    post, nested = status_records(status, ctx)
    assert post.retweeted_post_id == "4577000000000000"
    assert [type(r).__name__ for r in nested] == ["Account"]
    assert post.created_at == datetime(2020, 12, 8, 1, 30, tzinfo=UTC)  # from the id
    assert ctx.stats["time_from_id"] == 1 and ctx.stats["retweeted_without_user"] == 1


def test_plain_text_fields_preferred_to_html() -> None:
    ctx = Context("weibo", NOW)
    base = {"id": 4579792150070482, "created_at": "刚刚", "user": {"id": 1}}
    html = "转发<a href='/n/某'>@某</a>"
    assert status_records({**base, "text": html}, ctx)[0].text == "转发@某"
    assert status_records({**base, "text": html, "raw_text": "转发 raw"}, ctx)[0].text == "转发 raw"
    assert status_records({**base, "text": html, "text_raw": "转发 @某"}, ctx)[0].text == "转发 @某"


def test_long_text_saved_in_the_status() -> None:
    ctx = Context("weibo", NOW)
    base = {"id": 4579792150070482, "created_at": "刚刚", "user": {"id": 1}, "isLongText": True}
    cut = status_records({**base, "text_raw": "前半"}, ctx)[0]
    assert (cut.text, cut.is_truncated) == ("前半", True)
    whole = status_records({**base, "text_raw": "前半", "longTextContent": "前半后半"}, ctx)[0]
    assert (whole.text, whole.is_truncated) == ("前半后半", False)
    nested = {**base, "text": "前半", "longText": {"longTextContent": "前半<br />后半"}}
    assert status_records(nested, ctx)[0].text == "前半\n后半"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60))
def test_escaped_plain_text_comes_back(text: str) -> None:
    import html

    expected = text.replace("\u200b", "").strip()
    assert html_to_text(html.escape(text)) == expected
