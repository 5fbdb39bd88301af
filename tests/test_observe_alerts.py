from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govweibo.errors import AnalysisError, NotFoundError
from govweibo.observe.alerts import (
    Finding,
    alerts_table,
    list_alerts,
    mark_delivered,
    record,
    set_state,
    undelivered,
)
from govweibo.store import Store

T = datetime(2026, 7, 18, tzinfo=UTC)


def test_a_finding_opens_once_and_is_refreshed_after(store: Store) -> None:
    f = Finding("burst", "暴雨@2026-07-18T01:30Z", "暴雨: 25 posts", {"posts": 25})
    opened = record(store, [f, f], now=T, cycle=1)
    assert [a.alert_id for a in opened] == [1]
    again = Finding(f.kind, f.subject, "暴雨: 40 posts", {"posts": 40})
    assert record(store, [again], now=T + timedelta(hours=1), cycle=2) == []
    (alert,) = list_alerts(store)
    assert alert.first_cycle == 1 and alert.last_cycle == 2 and alert.evidence == {"posts": 40}
    assert alert.first_seen == T and alert.last_seen == T + timedelta(hours=1)


def test_closed_stays_closed_and_delivery_is_recorded(store: Store) -> None:
    (a,) = record(store, [Finding("dormant", "weibo:1", "x")], now=T, cycle=1)
    assert [x.alert_id for x in undelivered(store)] == [a.alert_id]
    mark_delivered(store, [a.alert_id], T)
    assert undelivered(store) == []
    set_state(store, a.alert_id, "closed", T)
    assert record(store, [Finding("dormant", "weibo:1", "x")], now=T, cycle=2) == []
    assert list_alerts(store, state="open") == []
    assert [x.state for x in list_alerts(store, state="closed")] == ["closed"]
    assert alerts_table(list_alerts(store)).num_rows == 1


def test_bad_input_is_a_clear_error(store: Store) -> None:
    with pytest.raises(AnalysisError, match="unknown alert kind"):
        record(store, [Finding("weather", "x", "y")], now=T, cycle=1)
    with pytest.raises(NotFoundError, match="no alert 9"):
        set_state(store, 9, "closed", T)
    with pytest.raises(AnalysisError, match="unknown alert state"):
        list_alerts(store, state="gone")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["burst", "rumour"]), st.text(min_size=1, max_size=5)),
        max_size=12,
    )
)
def test_alerts_are_unique_per_kind_and_subject(pairs: list[tuple[str, str]]) -> None:
    with Store(":memory:") as store:
        for cycle, (kind, subject) in enumerate(pairs, start=1):
            record(store, [Finding(kind, subject, subject)], now=T, cycle=cycle)
        got = [(a.kind, a.subject) for a in list_alerts(store)]
        assert sorted(got) == sorted(set(pairs))
