"""Scheduled outputs: the monthly and yearly reports, written once their period is over.

After each cycle the observer checks, in Beijing time (the periods' own clock), whether
the last complete month (and year) has a report in `reports.out`; if not it writes one
(`report-2026-11.html`, `report-2025.html`) with the same code as `govweibo report`, and
notes it in observe_state, so a restart does not write it again. A period the store
cannot report on (no government account posted in it) is noted as skipped with the
reason, not retried every cycle.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from govweibo.errors import GovweiboError
from govweibo.observe.config import ObserveConfig
from govweibo.store import Store

BEIJING = timezone(timedelta(hours=8))


def due_periods(at: datetime, *, monthly: bool, yearly: bool) -> list[str]:
    """The last complete month and year before `at` (Beijing time), as periods."""
    bj = at.astimezone(BEIJING)
    out = []
    if monthly:
        last = bj.replace(day=1) - timedelta(days=1)
        out.append(f"{last:%Y-%m}")
    if yearly:
        out.append(str(bj.year - 1))
    return out


def due_reports(store: Store, config: ObserveConfig, at: datetime, errors: list[str]) -> list[str]:
    """Write the reports that fell due; returns the files written."""
    from govweibo.report.yearly import build_report, render_html

    r = config.reports
    if not r.out:
        return []
    folder = config.relative(r.out)
    written = []
    for period in due_periods(at, monthly=r.monthly, yearly=r.yearly):
        key = f"report:{period}"
        if store.con.execute("SELECT 1 FROM observe_state WHERE key = ?", [key]).fetchone():
            continue
        path = Path(folder) / f"report-{period}.html"
        try:
            data = build_report(store, period=period, lang=r.lang, generated_at=at)
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(render_html(data), encoding="utf-8")
            note = str(path)
            written.append(note)
        except GovweiboError as exc:
            note = f"skipped: {exc}"
            errors.append(f"report {period}: {exc}")
        store.con.execute("INSERT OR REPLACE INTO observe_state VALUES (?, ?)", [key, note])
    return written
