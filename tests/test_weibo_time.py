from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govweibo.ingest.weibo_time import (
    DAY,
    EXACT,
    RELATIVE,
    TimeFormatError,
    best_time,
    resolve_time,
    time_from_id,
)

# 2020-12-16 20:30 Beijing time.
NOW = datetime(2020, 12, 16, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("刚刚", datetime(2020, 12, 16, 12, 30, tzinfo=UTC), RELATIVE),
        ("30秒前", datetime(2020, 12, 16, 12, 29, 30, tzinfo=UTC), RELATIVE),
        ("5分钟前", datetime(2020, 12, 16, 12, 25, tzinfo=UTC), RELATIVE),
        ("6小时前", datetime(2020, 12, 16, 6, 30, tzinfo=UTC), RELATIVE),
        ("今天 08:05", datetime(2020, 12, 16, 0, 5, tzinfo=UTC), RELATIVE),
        ("昨天 18:12", datetime(2020, 12, 15, 10, 12, tzinfo=UTC), RELATIVE),
        ("12-16", datetime(2020, 12, 15, 16, 0, tzinfo=UTC), DAY),
        ("12-17 09:00", datetime(2019, 12, 17, 1, 0, tzinfo=UTC), RELATIVE),
        ("3月1日 10:00", datetime(2020, 3, 1, 2, 0, tzinfo=UTC), RELATIVE),
        ("2019-05-04", datetime(2019, 5, 3, 16, 0, tzinfo=UTC), DAY),
        ("2019-05-04 10:11", datetime(2019, 5, 4, 2, 11, tzinfo=UTC), EXACT),
        ("2019-05-04T10:11:12+08:00", datetime(2019, 5, 4, 2, 11, 12, tzinfo=UTC), EXACT),
        ("2019-05-04T02:11:12Z", datetime(2019, 5, 4, 2, 11, 12, tzinfo=UTC), EXACT),
        ("Sat May 04 10:11:12 +0800 2019", datetime(2019, 5, 4, 2, 11, 12, tzinfo=UTC), EXACT),
        ("2019年5月4日 10:11", datetime(2019, 5, 4, 2, 11, tzinfo=UTC), EXACT),
        ("1556935872", datetime(2019, 5, 4, 2, 11, 12, tzinfo=UTC), EXACT),
    ],
)
def test_resolve_time(text: str, expected: datetime, kind: str) -> None:
    assert resolve_time(text, NOW) == (expected, kind)


@pytest.mark.parametrize("text", ["", "yesterday", "13-45", "2019-02-30 10:00", "Mon Foo"])
def test_resolve_time_rejects(text: str) -> None:
    with pytest.raises(TimeFormatError):
        resolve_time(text, NOW)


def test_relative_needs_a_crawl_time() -> None:
    with pytest.raises(TimeFormatError, match="crawl time"):
        resolve_time("5分钟前", None)
    assert resolve_time("2019-05-04 10:11", None)[1] == EXACT


def test_time_from_id() -> None:
    # A CED source post: mid 4655484863... is 2010 (no rule); 4474868624926880 is 2020.
    assert time_from_id(4016873519) is None
    assert time_from_id("3430152690624619") == datetime.fromtimestamp(
        (3430152690624619 >> 22) + 515483463, UTC
    )
    assert time_from_id("abc") is None


@given(st.integers(min_value=1_330_000_000, max_value=4_000_000_000), st.integers(0, (1 << 22) - 1))
def test_time_from_id_round_trip(seconds: int, low: int) -> None:
    post_id = ((seconds - 515483463) << 22) | low
    assert time_from_id(post_id) == datetime.fromtimestamp(seconds, UTC)


def test_best_time_prefers_exact_text_then_id() -> None:
    post_id = ((1_600_000_000 - 515483463) << 22) | 5
    exact = datetime.fromtimestamp(1_600_000_000, UTC)
    assert best_time("6小时前", post_id, NOW) == (exact, "id")
    assert best_time("2019-05-04", post_id, NOW) == (exact, "id")
    assert best_time(None, post_id, NOW) == (exact, "id")
    assert best_time("2019-05-04 10:11", post_id, NOW)[1] == EXACT
    assert best_time("6小时前", 12345, NOW)[1] == RELATIVE
    assert best_time(None, None, NOW) == (None, "")
    with pytest.raises(TimeFormatError):
        best_time("garbage", 12345, NOW)
