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
    """Store a cycle's findings; returns the alerts they opened (the ones to deliver)."""
    opened: list[Alert] = []
    seen: set[tuple[str, str]] = set()
    con = store.con
    for f in findings:
        if f.kind not in KINDS:
            raise AnalysisError(f"unknown alert kind '{f.kind}'")
        if (f.kind, f.subject) in seen:
            continue
        seen.add((f.kind, f.subject))
        evidence = json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str)
        row = con.execute(
            "SELECT alert_id FROM alerts WHERE kind = ? AND subject = ?", [f.kind, f.subject]
        ).fetchone()
        if row is not None:
            con.execute(
                "UPDATE alerts SET last_seen = ?, last_cycle = ?, evidence = ?, title = ? "
                "WHERE alert_id = ?",
                [now, cycle, evidence, f.title, row[0]],
            )
            continue
        top = con.execute("SELECT coalesce(max(alert_id), 0) FROM alerts").fetchone()
        alert_id = int(top[0] if top else 0) + 1
        con.execute(
            f"INSERT INTO alerts ({_COLUMNS}, state_changed_at, delivered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, NULL)",
            [alert_id, f.kind, f.subject, f.title, evidence, now, now, cycle, cycle, now],
        )
        opened.append(
            Alert(alert_id, f.kind, f.subject, f.title, f.evidence, now, now, cycle, cycle, "open")
        )
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
