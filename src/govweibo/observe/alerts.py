"""The alerts table: one row per (kind, subject), found again and again without repeating.

A finding of a cycle either opens an alert (a new row, state `open`, to be delivered) or
refreshes the row it matches (`last_seen`, `last_cycle` and the evidence move on; the
state does not). So an alert fires once however many cycles see it, a killed observer
that redoes a cycle adds nothing, and an alert an analyst closed stays closed. Delivery
is recorded per alert (`delivered_at`): alerts stored but not yet delivered when the
process died are delivered by the next cycle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from govweibo.errors import AnalysisError, NotFoundError
from govweibo.store import Store

# Every kind a rule or the loop raises (docs/observe.md describes each).
KINDS = (
    "burst",
    "rumour",
    "silence",
    "questions",
    "dormant",
    "deleted",
    "collector_failed",
    "delivery_failed",
)
STATES = ("open", "acknowledged", "closed")


@dataclass
class Finding:
    kind: str
    subject: str
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Alert:
    alert_id: int
    kind: str
    subject: str
    title: str
    evidence: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    first_cycle: int | None
    last_cycle: int | None
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "kind": self.kind,
            "subject": self.subject,
            "title": self.title,
            "evidence": self.evidence,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "first_cycle": self.first_cycle,
            "last_cycle": self.last_cycle,
            "state": self.state,
        }


_COLUMNS = (
    "alert_id, kind, subject, title, evidence, first_seen, last_seen, first_cycle, "
    "last_cycle, state"
)


def _alert(row: tuple[Any, ...]) -> Alert:
    evidence = json.loads(row[4]) if row[4] else {}
    return Alert(row[0], row[1], row[2], row[3] or "", evidence, *row[5:10])


def record(store: Store, findings: list[Finding], *, now: datetime, cycle: int) -> list[Alert]:
    """Store a cycle's findings; returns the alerts they opened (the ones to deliver).

    Three statements whatever the number of findings (a lookup, an update, an insert):
    a cycle of thousands of findings spent 8 s on three statements per finding
    (bench/observe.py)."""
    fresh: dict[tuple[str, str], Finding] = {}
    for f in findings:
        if f.kind not in KINDS:
            raise AnalysisError(f"unknown alert kind '{f.kind}'")
        fresh.setdefault((f.kind, f.subject), f)
    if not fresh:
        return []
    con = store.con
    keys = pa.table({"kind": [k for k, _ in fresh], "subject": [s for _, s in fresh]})
    con.register("_alert_keys", keys)
    try:
        rows = con.execute(
            "SELECT a.kind, a.subject, a.alert_id FROM alerts a "
            "JOIN _alert_keys k USING (kind, subject)"
        ).fetchall()
    finally:
        con.unregister("_alert_keys")
    known = {(r[0], r[1]): int(r[2]) for r in rows}
    top = con.execute("SELECT coalesce(max(alert_id), 0) FROM alerts").fetchone()
    next_id = int(top[0] if top else 0) + 1
    seen_ids: list[int] = []
    seen_ev: list[str] = []
    seen_title: list[str] = []
    opened: list[Alert] = []
    opened_ev: list[str] = []
    for key, f in fresh.items():
        evidence = json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str)
        if key in known:
            seen_ids.append(known[key])
            seen_ev.append(evidence)
            seen_title.append(f.title)
            continue
        opened.append(
            Alert(next_id, f.kind, f.subject, f.title, f.evidence, now, now, cycle, cycle, "open")
        )
        opened_ev.append(evidence)
        next_id += 1
    if seen_ids:
        upd = pa.table({"alert_id": pa.array(seen_ids, pa.int64()),
                        "evidence": seen_ev, "title": seen_title})  # fmt: skip
        con.register("_alert_seen", upd)
        try:
            con.execute(
                "UPDATE alerts SET last_seen = ?, last_cycle = ?, evidence = u.evidence, "
                "title = u.title FROM _alert_seen u WHERE alerts.alert_id = u.alert_id",
                [now, cycle],
            )
        finally:
            con.unregister("_alert_seen")
    if opened:
        add = pa.table(
            {
                "alert_id": pa.array([a.alert_id for a in opened], pa.int64()),
                "kind": [a.kind for a in opened],
                "subject": [a.subject for a in opened],
                "title": [a.title for a in opened],
                "evidence": opened_ev,
            }
        )
        con.register("_alert_new", add)
        try:
            con.execute(
                f"INSERT INTO alerts ({_COLUMNS}, state_changed_at, delivered_at) "
                "SELECT alert_id, kind, subject, title, evidence, $now, $now, $cycle, $cycle, "
                "'open', $now, NULL FROM _alert_new ORDER BY alert_id",
                {"now": now, "cycle": cycle},
            )
        finally:
            con.unregister("_alert_new")
    return opened


def undelivered(store: Store) -> list[Alert]:
    rows = store.con.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE delivered_at IS NULL ORDER BY alert_id"
    ).fetchall()
    return [_alert(r) for r in rows]


def mark_delivered(store: Store, alert_ids: list[int], when: datetime) -> None:
    if alert_ids:
        store.con.execute(
            "UPDATE alerts SET delivered_at = ? WHERE alert_id IN (SELECT unnest(?::BIGINT[]))",
            [when, alert_ids],
        )


def list_alerts(
    store: Store, *, state: str | None = None, kind: str | None = None, limit: int = 500
) -> list[Alert]:
    """Alerts, newest first; `state` 'open' means open or acknowledged (not closed)."""
    where, params = [], []
    if state == "open":
        where.append("state <> 'closed'")
    elif state:
        if state not in STATES:
            raise AnalysisError(f"unknown alert state '{state}' (known: {', '.join(STATES)})")
        where.append("state = ?")
        params.append(state)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if not store.has_table("alerts"):
        return []
    sql = f"SELECT {_COLUMNS} FROM alerts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.con.execute(
        sql + " ORDER BY last_seen DESC, alert_id DESC LIMIT ?", [*params, limit]
    ).fetchall()
    return [_alert(r) for r in rows]


def set_state(store: Store, alert_id: int, state: str, now: datetime) -> Alert:
    """Acknowledge or close an alert (or open it again)."""
    if state not in STATES:
        raise AnalysisError(f"unknown alert state '{state}' (known: {', '.join(STATES)})")
    row = store.con.execute(f"SELECT {_COLUMNS} FROM alerts WHERE alert_id = ?", [alert_id])
    found = row.fetchone()
    if found is None:
        raise NotFoundError(f"no alert {alert_id}")
    store.con.execute(
        "UPDATE alerts SET state = ?, state_changed_at = ? WHERE alert_id = ?",
        [state, now, alert_id],
    )
    alert = _alert(found)
    alert.state = state
    return alert


def alerts_table(alerts: list[Alert]) -> pa.Table:
    """Alerts as a table for the faces (evidence as JSON text)."""
    return pa.table(
        {
            "alert_id": pa.array([a.alert_id for a in alerts], pa.int64()),
            "kind": pa.array([a.kind for a in alerts], pa.string()),
            "subject": pa.array([a.subject for a in alerts], pa.string()),
            "title": pa.array([a.title for a in alerts], pa.string()),
            "state": pa.array([a.state for a in alerts], pa.string()),
            "first_seen": pa.array([a.first_seen for a in alerts], pa.timestamp("us", "UTC")),
            "last_seen": pa.array([a.last_seen for a in alerts], pa.timestamp("us", "UTC")),
            "first_cycle": pa.array([a.first_cycle for a in alerts], pa.int64()),
            "evidence": pa.array(
                [json.dumps(a.evidence, ensure_ascii=False, sort_keys=True) for a in alerts],
                pa.string(),
            ),
        }
    )
