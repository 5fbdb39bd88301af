"""`govweibo demo --observe`: the scripted rainstorm day through the replay server, hour by
hour, raises a burst, a rumour and a silence, each once and at its cycle."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from govweibo import labels
from govweibo.cli import main
from govweibo.observe import list_alerts
from govweibo.observe.replay import RUMOUR, SinaReplay, scripted_day
from govweibo.store import Store


def test_demo_observe_prints_each_alert_once_at_its_cycle(tmp_path: Path) -> None:
    day = scripted_day()
    hours = max(day.expected.values())  # stop at the last expected alert
    out = tmp_path / "demo"
    r = CliRunner().invoke(
        main,
        ["--db", str(tmp_path / "unused.duckdb"), "demo", "--observe", "--out", str(out),
         "--observe-hours", str(hours)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    names = {labels.value("alert_kind", k, "zh"): k for k in labels.values("alert_kind", "zh")}
    seen: list[tuple[int, str]] = []
    cycle = 0
    for line in r.output.splitlines():
        if m := re.match(r"cycle (\d+) · (\S+ \S+) · ", line):
            cycle = int(m.group(1))
            assert m.group(2).endswith(":00") and "UTC" not in line  # Beijing hours
        elif m := re.match(r"  \[(.+?)\] ", line):
            seen.append((cycle, names[m.group(1)]))
    assert cycle == hours
    assert sorted(seen) == sorted((c, k) for k, c in day.expected.items()), r.output
    assert "cycle 1 · 2011-07-18 06:00" in r.output
    assert "users/show.json" not in r.output  # the hourly lines, not every request's log
    assert f"[疑似谣言] 热点爆料哥: {RUMOUR}" in r.output  # the rumour, not its debunk
    # The store holds the three alerts, open, for `alerts list` and the dashboard.
    assert not (tmp_path / "unused.duckdb").exists()
    with Store(out / "observe.duckdb", read_only=True) as store:
        alerts = list_alerts(store)
    assert sorted(a.kind for a in alerts) == ["burst", "rumour", "silence"]
    burst = next(a for a in alerts if a.kind == "burst")
    assert burst.evidence["province"] == "湖北"
    # Run again: a fresh store, the same alerts (nothing left over from the first run).
    again = CliRunner().invoke(
        main, ["--db", str(tmp_path / "unused.duckdb"), "demo", "--observe", "--out", str(out),
               "--observe-hours", "1"],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    with Store(out / "observe.duckdb", read_only=True) as store:
        assert list_alerts(store) == []


def test_the_replay_server_shows_only_what_was_posted_by_its_clock() -> None:
    day = scripted_day()
    with SinaReplay(day) as server:

        def timeline(uid: str) -> list[str]:
            url = f"{server.base_url}statuses/user_timeline.json?uid={uid}&count=100"
            with urllib.request.urlopen(url, timeout=10) as resp:
                return [s["text"] for s in json.load(resp)["statuses"]]

        assert server.base_url.startswith("http://127.0.0.1:")
        assert RUMOUR not in timeline("1006")
        server.clock = day.start + timedelta(hours=4)
        assert timeline("1006")[0] == RUMOUR
        assert timeline("1002") and all("暴雨" not in t for t in timeline("1002"))  # silent
        url = f"{server.base_url}users/show.json?screen_name=武汉公安"
        with urllib.request.urlopen(urllib.parse.quote(url, safe=":/?=&"), timeout=10) as resp:
            assert json.load(resp)["idstr"] == "1002"
