"""The observer's alerts on the dashboard: list them, acknowledge, close or reopen them.

The only writes the app makes: each POST opens a short read-write connection
(queries.Data.writing) and closes it. The token, when the app has one, guards these as
every other request (app.Guard); a browser's cross-site POST is refused (Sec-Fetch-Site),
so that a page elsewhere cannot close alerts through an analyst's browser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from govweibo import labels
from govweibo.observe.alerts import KINDS, Alert, list_alerts, set_state
from govweibo.web import pages
from govweibo.web.api import JSON, DataDep

router = APIRouter()
StateFilter = Literal["open", "acknowledged", "closed", "all"]
KindFilter = Annotated[str | None, Query(max_length=40)]
ACTIONS = {"ack": "acknowledged", "close": "closed", "reopen": "open"}
TIME_KEYS = frozenset({"started_at", "created_at", "last_post_at", "last_seen", "first_missing"})
SHARE_KEYS = frozenset({"province_share", "rumour_probability"})


def _kind(kind: str | None) -> str | None:
    if not kind:
        return None
    if kind in KINDS:
        return kind
    code = labels.code_of("alert_kind", kind)  # the kind's name in either language
    if code is None:
        raise HTTPException(400, f"unknown alert kind '{kind}' (known: {', '.join(KINDS)})")
    return code


def _alerts(d: DataDep, state: str, kind: str | None) -> list[Alert]:
    return list_alerts(d.view(), state=None if state == "all" else state, kind=_kind(kind))


def _same_site(request: Request) -> None:
    """Refuse a POST a browser sends from another site (forms cannot be fetched cross-site
    with the token, but without one the loopback app would take them)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "cross-site requests may not change alerts")


def _change(request: Request, d: DataDep, alert_id: int, state: str) -> Alert:
    _same_site(request)
    with d.writing() as store:
        return set_state(store, alert_id, state, datetime.now(UTC))


def evidence_lines(evidence: dict[str, Any], w: pages.Words) -> list[tuple[str, str]]:
    """An alert's evidence as (label, text) pairs in the reader's language."""
    out = []
    for key, value in evidence.items():
        if value is None or value == "" or value == []:
            continue
        known = labels.values("alert_evidence", w.lang)
        name = known.get(key) or w.h(key)
        if key in TIME_KEYS:
            text = w.time(value)
        elif key in SHARE_KEYS and isinstance(value, int | float):
            text = labels.percent(value, w.lang)
        elif key == "platform":
            text = w.v("platform", value)
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, float):
            text = w.n(value)
        else:
            text = str(value)
        out.append((name, text))
    return out


@router.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
def alerts_page(
    request: Request, d: DataDep, state: StateFilter = "open", kind: KindFilter = None
) -> Response:
    w = pages.Words(pages.page_lang(request))
    items = _alerts(d, state, kind)
    return pages.render(
        request,
        "alerts.html",
        title=w.t("alerts"),
        items=items,
        state=state,
        kind=_kind(kind),
        kinds=KINDS,
        back="?" + urlencode({"state": state, **({"kind": k} if (k := _kind(kind)) else {})}),
        evidence=lambda a: evidence_lines(a.evidence, w),
    )


@router.post("/alerts/{alert_id}/{action}", include_in_schema=False)
def alert_action(
    request: Request,
    d: DataDep,
    alert_id: int,
    action: Literal["ack", "close", "reopen"],
    state: StateFilter = "open",
    kind: KindFilter = None,
) -> Response:
    """The buttons' forms carry the list's filters in their address, to go back to it."""
    _change(request, d, alert_id, ACTIONS[action])
    back = {"state": state, **({"kind": k} if (k := _kind(kind)) else {})}
    return RedirectResponse(f"/alerts?{urlencode(back)}", status_code=303)


class StateChange(BaseModel):
    state: str


@router.get("/api/alerts", response_class=JSON, tags=["api"])
def api_alerts(d: DataDep, state: StateFilter = "open", kind: KindFilter = None) -> Response:
    """The observer's alerts, newest first (`state=open`: not closed)."""
    items = [a.as_dict() for a in _alerts(d, state, kind)]
    return JSON({"total": len(items), "items": items})


@router.post("/api/alerts/{alert_id}/state", response_class=JSON, tags=["api"])
def api_alert_state(request: Request, d: DataDep, alert_id: int, body: StateChange) -> Response:
    """Set an alert's state: open, acknowledged or closed (404 for an unknown alert)."""
    return JSON(_change(request, d, alert_id, body.state).as_dict())


__all__ = ["router", "evidence_lines"]
