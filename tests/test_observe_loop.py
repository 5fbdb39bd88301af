"""One cycle's bookkeeping: failures become alerts, once; undelivered alerts wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from govweibo.collect import watch_add
from govweibo.observe import list_alerts, load_config, run_cycle
from govweibo.observe.alerts import undelivered
from govweibo.store import Store

T = datetime(2026, 7, 18, tzinfo=UTC)


def test_collector_and_delivery_failures_are_alerts_once(store: Store, tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("2.00FAKE", encoding="utf-8")
    config = tmp_path / "observe.toml"
    # Port 1 on loopback: nothing listens, every request is refused.
    config.write_text(
        """[collect]
platform = "weibo"
base_url = "http://127.0.0.1:1/2/"
token_file = "token.txt"
[deliver.webhook]
url = "http://127.0.0.1:1/hook"
retries = 1
""",
        encoding="utf-8",
    )
    watch_add(store, "1001")
    cfg = load_config(config)
    first = run_cycle(store, cfg, now=lambda: T, sleep=lambda s: None)
    assert sorted(a.kind for a in first.opened) == ["collector_failed"]
    assert "1001" in first.opened[0].title and first.delivered == 0
    assert any("webhook http://127.0.0.1:1/hook" in e for e in first.errors)
    kinds = sorted(a.kind for a in list_alerts(store))
    assert kinds == ["collector_failed", "delivery_failed"]
    second = run_cycle(store, cfg, now=lambda: T + timedelta(hours=1), sleep=lambda s: None)
    assert second.opened == [] and second.cycle == 2
    assert len(list_alerts(store)) == 2 and len(undelivered(store)) == 2
    # Without a channel the table is the channel: everything counts as delivered.
    cfg.deliver.webhook.url = ""
    third = run_cycle(store, cfg, now=lambda: T + timedelta(hours=2), sleep=lambda s: None)
    assert third.delivered == 2 and undelivered(store) == []
