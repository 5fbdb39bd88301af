"""One observer cycle, and the loop of cycles.

A cycle: collect the watch list (unless another process does), classify the accounts
that arrived, count the new posts' terms, run the rules over what arrived, record the
findings as alerts, deliver the new ones, write the reports that fell due, and move the
cycle's bookmark (the last ingest run it read). Everything between reading the
arrivals and moving the bookmark is one transaction: a process killed inside a cycle
leaves the store as the previous cycle left it, and the next one redoes the work
(ingest is idempotent, alerts are keyed), so nothing is lost and nothing fires twice.
Delivery follows the commit; alerts not yet delivered are retried every cycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govweibo.errors import GovweiboError
from govweibo.observe import alerts as alerts_mod
from govweibo.observe.alerts import Alert, Finding
from govweibo.observe.config import ObserveConfig
from govweibo.observe.deliver import DeliveryError, post_webhook, send_email
from govweibo.observe.rules import Window, bursts
from govweibo.observe.rumour_rule import rumours
from govweibo.observe.schedule import due_reports
from govweibo.observe.terms import count_arrivals
from govweibo.observe.watched import deleted, dormant, questions, silence, watched_accounts
from govweibo.store import Store

logger = logging.getLogger(__name__)
Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


@dataclass
class CycleResult:
    cycle: int
    now: datetime
    after_run: int
    upto_run: int
    arrived: int = 0
    collected: dict[str, Any] = field(default_factory=dict)
    findings: int = 0
    opened: list[Alert] = field(default_factory=list)
    delivered: int = 0
    reports: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "now": self.now.isoformat(),
            "runs": [self.after_run, self.upto_run],
            "arrived": self.arrived,
            "collected": self.collected,
            "findings": self.findings,
            "opened": [a.as_dict() for a in self.opened],
            "delivered": self.delivered,
            "reports": self.reports,
            "errors": self.errors,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _get(store: Store, key: str, default: str = "") -> str:
    row = store.con.execute("SELECT value FROM observe_state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row and row[0] is not None else default


def _put(store: Store, key: str, value: str) -> None:
    store.con.execute("INSERT OR REPLACE INTO observe_state VALUES (?, ?)", [key, value])


def _newest_run(store: Store) -> int:
    row = store.con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs").fetchone()
    return int(row[0]) if row else 0


def _collect(
    store: Store, config: ObserveConfig, now: Clock, sleep: Sleep
) -> tuple[dict[str, Any], list[Finding]]:
    """Collect the watch list; each failure becomes a `collector_failed` finding."""
    from govweibo.collect import collect_once, load_token
    from govweibo.collect.weibo_web import load_cookie

    c = config.collect
    if c.platform == "none":
        return {}, []
    try:
        token = cookie = ""
        if c.platform == "weibo-web":
            cookie = load_cookie(config.relative(c.cookie_file) if c.cookie_file else None)
        else:
            token = load_token(c.platform, config.relative(c.token_file) if c.token_file else None)
        spool = (
            config.relative(c.spool) if c.spool else Path(store.path).resolve().parent / "collect"
        )
        summary = collect_once(
            store,
            platform=c.platform,
            base_url=c.base_url or None,
            token=token,
            cookie=cookie,
            collect_dir=spool,
            max_pages=c.max_pages,
            count=c.count,
            sleep=sleep,
            now=now,
        )
    except GovweiboError as exc:
        return {"error": str(exc)}, [_failed("collector_failed", c.platform, str(exc))]
    done = {"requests": summary.requests, "pages": summary.pages, "stored": summary.stored,
            "duplicate": summary.duplicate, "rejected": summary.rejected}  # fmt: skip
    return done, [_failed("collector_failed", c.platform, e) for e in summary.errors]


def _failed(kind: str, channel: str, message: str) -> Finding:
    # One alert per channel and problem: the same failure every cycle is one alert.
    problem = message.split(":", 2)[:2]
    return Finding(
        kind, f"{channel}|{':'.join(problem)[:120]}", message[:300], {"message": message}
    )


def classify_arrivals(store: Store, after_run: int, upto_run: int) -> int:
    """Registry profiles for the accounts the new runs brought (the rules need their
    province), merged into account_profiles; returns how many."""
    from govweibo.registry import classify_accounts

    acc = store.table("accounts")
    acc = acc.filter((acc.run_id > after_run) & (acc.run_id <= upto_run))
    profiles = classify_accounts(acc)
    if profiles.num_rows == 0:
        return 0
    if not store.has_table("account_profiles"):
        store.write_result("account_profiles", profiles)
        return profiles.num_rows
    con = store.con
    con.register("_observe_profiles", profiles)
    try:
        con.execute(
            """DELETE FROM account_profiles WHERE (platform, account_id) IN
               (SELECT (platform, account_id) FROM _observe_profiles)"""
        )
        con.execute("INSERT INTO account_profiles BY NAME SELECT * FROM _observe_profiles")
    finally:
        con.unregister("_observe_profiles")
    return profiles.num_rows


def run_cycle(
    store: Store,
    config: ObserveConfig,
    *,
    now: Clock | None = None,
    sleep: Sleep = time.sleep,
) -> CycleResult:
    clock = now or (lambda: datetime.now(UTC))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    collected, failures = _collect(store, config, clock, sleep)
    timings["collect"] = time.perf_counter() - started
    at = clock()
    cycle = int(_get(store, "cycle", "0")) + 1
    after = int(_get(store, "last_run", "0"))
    upto = _newest_run(store)
    result = CycleResult(cycle, at, after, upto, collected=collected)
    w = Window(after, upto, at, cycle)
    rules = config.rules
    findings: list[Finding] = list(failures)
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        mark = time.perf_counter()
        if upto > after:
            classify_arrivals(store, after, upto)
        timings["classify"] = time.perf_counter() - mark
        mark = time.perf_counter()
        keep = rules.burst.baseline_days + 1
        result.arrived = count_arrivals(
            store, after_run=after, upto_run=upto, now=at, keep_days=keep
        ).posts
        timings["terms"] = time.perf_counter() - mark
        watched = watched_accounts(store)
        since = datetime.fromisoformat(_get(store, "last_now", "1970-01-01T00:00:00+00:00"))
        steps: list[tuple[str, bool, Callable[[], list[Finding]]]] = [
            ("burst", rules.burst.enabled, lambda: bursts(store, w, rules)),
            ("rumour", rules.rumour.enabled and upto > after, lambda: rumours(store, w, rules)),
            ("silence", rules.silence.enabled, lambda: silence(store, w, rules, watched)),
            ("questions", rules.questions.enabled, lambda: questions(store, w, rules, watched)),
            ("dormant", rules.dormant.enabled, lambda: dormant(store, w, rules, watched)),
            ("deleted", rules.deleted.enabled, lambda: deleted(store, w, rules, watched, since)),
        ]
        for name, enabled, rule in steps:
            if not enabled:
                continue
            mark = time.perf_counter()
            findings.extend(rule())
            timings[name] = time.perf_counter() - mark
        result.findings = len(findings)
        result.opened = alerts_mod.record(store, findings, now=at, cycle=cycle)
        _put(store, "cycle", str(cycle))
        _put(store, "last_run", str(upto))
        _put(store, "last_now", at.isoformat())
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    mark = time.perf_counter()
    result.delivered = deliver_pending(store, config, at, cycle, sleep, result.errors)
    timings["deliver"] = time.perf_counter() - mark
    mark = time.perf_counter()
    result.reports = due_reports(store, config, at, result.errors)
    timings["reports"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    result.seconds = timings
    logger.info(
        "cycle %d: %d posts arrived, %d findings, %d new alerts, %d delivered (%.1f s)",
        cycle, result.arrived, result.findings, len(result.opened), result.delivered,
        timings["total"],
    )  # fmt: skip
    return result


def deliver_pending(
    store: Store, config: ObserveConfig, at: datetime, cycle: int, sleep: Sleep, errors: list[str]
) -> int:
    """Send every undelivered alert through each configured channel. Alerts count as
    delivered once every channel took them; a channel's failure is itself an alert."""
    pending = alerts_mod.undelivered(store)
    if not pending:
        return 0
    d = config.deliver
    failures: list[Finding] = []
    for name, configured, send in (
        ("webhook", bool(d.webhook.url), lambda: post_webhook(d.webhook, pending, sleep=sleep)),
        ("email", bool(d.email.host), lambda: send_email(d.email, pending)),
    ):
        if not configured:
            continue
        try:
            send()
        except DeliveryError as exc:
            errors.append(str(exc))
            failures.append(_failed("delivery_failed", name, str(exc)))
    if failures:
        alerts_mod.record(store, failures, now=at, cycle=cycle)
        return 0
    alerts_mod.mark_delivered(store, [a.alert_id for a in pending], at)
    return len(pending)


def observe(
    store_factory: Callable[[], Store],
    config: ObserveConfig,
    *,
    interval_s: float,
    max_cycles: int | None = None,
    sleep: Sleep = time.sleep,
    now: Clock | None = None,
    on_cycle: Callable[[CycleResult], None] | None = None,
) -> list[CycleResult]:
    """Cycles every `interval_s` seconds (None cycles: until interrupted). The store is
    opened for each cycle and closed between them, so readers (`serve`, `status`) get
    it while the observer waits."""
    results: list[CycleResult] = []
    n = 0
    while max_cycles is None or n < max_cycles:
        began = time.monotonic()
        with store_factory() as store:
            result = run_cycle(store, config, now=now, sleep=sleep)
        n += 1
        if on_cycle:
            on_cycle(result)
        if max_cycles is not None:  # an endless loop keeps no history
            results.append(result)
        if max_cycles is not None and n >= max_cycles:
            break
        sleep(max(0.0, interval_s - (time.monotonic() - began)))
    return results
