from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from govweibo.observe.config import ObserveConfig
from govweibo.observe.schedule import due_periods, due_reports
from govweibo.store import Store


def test_due_periods_are_the_last_complete_month_and_year_in_beijing_time() -> None:
    # 2026-12-31 17:00 UTC is already 1 January 2027 in Beijing.
    assert due_periods(datetime(2026, 12, 31, 17, tzinfo=UTC), monthly=True, yearly=True) == [
        "2026-12",
        "2026",
    ]
    assert due_periods(datetime(2026, 12, 31, 15, tzinfo=UTC), monthly=True, yearly=False) == [
        "2026-11"
    ]


def test_a_period_is_tried_once_and_a_failure_is_noted(store: Store, tmp_path: Path) -> None:
    cfg = ObserveConfig()
    cfg.reports.out = str(tmp_path / "reports")
    errors: list[str] = []
    at = datetime(2026, 12, 8, tzinfo=UTC)
    written = due_reports(store, cfg, at, errors)
    notes = dict(store.con.execute("SELECT key, value FROM observe_state").fetchall())
    assert set(notes) == {"report:2026-11", "report:2025"}
    # An empty store has nothing to report on: skipped with the reason, not an exception.
    assert written == [] and len(errors) == 2
    assert all(v.startswith("skipped: ") for v in notes.values())
    assert due_reports(store, cfg, at, errors) == [] and len(errors) == 2
