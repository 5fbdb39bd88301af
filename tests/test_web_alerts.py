"""The dashboard's alerts page and API: list, filter, acknowledge, close, reopen; escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from govweibo.observe.alerts import Finding, list_alerts, record
from govweibo.store import Store
from govweibo.web import create_app

T = datetime(2026, 7, 18, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def build_alerts_store(path: Path) -> Path:
    """An empty store with four alerts: a burst, a hostile rumour, a silence, a closed one."""
    with Store(path) as store:
        record(
            store,
            [
                Finding(
                    "burst",
                    "暴雨@2026-07-18T01:30Z",
                    "暴雨（湖北）: 25 posts in 3 h (baseline 1.0 ± 0.5)",
                    {
                        "term": "暴雨",
                        "posts": 25,
                        "province": "湖北",
                        "province_share": 0.8,
                        "started_at": T.isoformat(),
                        "examples": ["p1", "p2"],
                    },
                ),  # fmt: skip
                Finding(
                    "rumour",
                    "weibo:R1",
                    f"某网友: {HOSTILE}",
                    {
                        "post_id": "R1",
                        "platform": "weibo",
                        "text": HOSTILE,
                        "rumour_probability": 0.97,
                    },
                ),  # fmt: skip
                Finding("silence", "weibo:S|暴雨", "武汉发布: silent 6.0 h", {"hours_silent": 6.0}),
                Finding("dormant", "weibo:D|2026-06-01", "老账号: no post for 47 days", {}),
            ],
            now=T,
            cycle=1,
        )
        store.con.execute("UPDATE alerts SET state = 'closed' WHERE kind = 'dormant'")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_alerts_store(tmp_path / "alerts.duckdb")


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="alert-(\d+)"', html)]


def test_page_lists_open_alerts_in_the_readers_language(db: Path) -> None:
    with TestClient(create_app(str(db))) as c:
        zh = c.get("/alerts").text
        assert _ids(zh) == [3, 2, 1]  # not the closed one
        assert "突发话题" in zh and "疑似谣言" in zh and "事件中沉默" in zh
        assert "2026-07-18 09:30" in zh and "UTC" not in zh  # Beijing time
        assert "待处理" in zh and "该省占比" in zh and "80" in zh
        assert 'href="/alerts"' in zh  # the nav link
        en = c.get("/alerts?lang=en").text
        assert "Likely rumour" in en and "Acknowledge" in en and "Open" in en
        assert "burst" not in re.sub(r'value="[^"]*"|class="[^"]*"|/alerts/\d+/\w+', "", en)


def test_hostile_title_and_evidence_are_escaped(db: Path) -> None:
    with TestClient(create_app(str(db))) as c:
        html = c.get("/alerts").text
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 2  # the title and the text


def test_filters_by_state_and_kind(db: Path) -> None:
    with TestClient(create_app(str(db))) as c:
        assert _ids(c.get("/alerts?state=closed").text) == [4]
        assert _ids(c.get("/alerts?state=all").text) == [4, 3, 2, 1]
        assert _ids(c.get("/alerts?kind=rumour").text) == [2]
        assert _ids(c.get("/alerts?kind=疑似谣言").text) == [2]  # by its name too
        assert c.get("/alerts?kind=nonsense").status_code == 400
        assert c.get("/alerts?state=nonsense").status_code == 422
        api = c.get("/api/alerts", params={"state": "all", "kind": "dormant"}).json()
        assert api["total"] == 1 and api["items"][0]["state"] == "closed"


def test_buttons_change_the_state_and_redirect_back(db: Path) -> None:
    with TestClient(create_app(str(db))) as c:
        c.get("/alerts")  # the read-only file is open when the write comes
        r = c.post("/alerts/1/ack?state=open&kind=burst", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/alerts?state=open&kind=burst"
        page = c.get(r.headers["location"]).text
        assert _ids(page) == [1] and "已确认" in page
        r = c.post("/alerts/1/close?state=open", follow_redirects=False)
        assert r.status_code == 303
        assert _ids(c.get("/alerts").text) == [3, 2]
        c.post("/alerts/1/reopen?state=closed")
        assert 1 in _ids(c.get("/alerts").text)
        assert c.post("/alerts/99/close").status_code == 404
        assert c.post("/alerts/1/explode").status_code == 422
        # A browser's cross-site form post is refused.
        cross = c.post("/alerts/2/close", headers={"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403
    with Store(db, read_only=True) as store:
        states = {a.alert_id: a.state for a in list_alerts(store, state=None)}
    assert states == {1: "open", 2: "open", 3: "open", 4: "closed"}


def test_api_sets_state_with_errors_as_4xx(db: Path) -> None:
    with TestClient(create_app(str(db))) as c:
        r = c.post("/api/alerts/2/state", json={"state": "closed"})
        assert r.status_code == 200 and r.json()["state"] == "closed"
        assert [a["alert_id"] for a in c.get("/api/alerts").json()["items"]] == [3, 1]
        missing = c.post("/api/alerts/99/state", json={"state": "closed"})
        assert missing.status_code == 404 and missing.json()["detail"] == "no alert 99"
        bad = c.post("/api/alerts/2/state", json={"state": "done"})
        assert bad.status_code == 400 and "unknown alert state 'done'" in bad.json()["detail"]
        assert c.post("/api/alerts/2/state", json={}).status_code == 422


def test_a_token_guards_the_writes(db: Path) -> None:
    app = create_app(str(db), token="s3cret", host="0.0.0.0")
    with TestClient(app) as c:
        assert c.post("/alerts/1/close").status_code == 401
        assert c.post("/api/alerts/1/state", json={"state": "closed"}).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        r = c.post("/api/alerts/1/state", json={"state": "closed"}, headers=auth)
        assert r.status_code == 200
        assert c.get("/api/alerts", headers=auth).json()["total"] == 2


def test_a_store_without_alerts_shows_none(tmp_path: Path) -> None:
    """A store of an older schema opened read-only: no alerts table, an empty list."""
    db = tmp_path / "empty.duckdb"
    Store(db).close()
    with TestClient(create_app(str(db))) as c:
        r = c.get("/alerts?lang=en")
        assert r.status_code == 200 and "No alert matches." in r.text


def test_the_write_waits_for_no_one_and_reads_see_it(db: Path) -> None:
    """After a write the read side reopens the file and sees the new state at once."""
    with TestClient(create_app(str(db))) as c:
        for _ in range(3):
            c.get("/api/alerts")
            c.post("/api/alerts/3/state", json={"state": "acknowledged"})
            assert c.get("/api/alerts?state=acknowledged").json()["total"] == 1
            c.post("/api/alerts/3/state", json={"state": "open"})


@pytest.mark.browser
def test_close_in_a_real_browser(tmp_path: Path) -> None:
    """Headless Chromium: Close on the burst's row, and it is gone from the open list."""
    import threading
    import time

    from test_web_browser import ARTIFACTS, CHROME_ARGS, CHROMIUM, _free_port, _require_browser

    _require_browser()
    import uvicorn
    from playwright.sync_api import sync_playwright

    db = build_alerts_store(tmp_path / "b.duckdb")
    port = _free_port()
    config = uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
            page = browser.new_page(base_url=f"http://127.0.0.1:{port}")
            page.set_default_timeout(15_000)
            dialogs: list[str] = []

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto("/")
            page.click('nav a[href="/alerts"]')
            page.wait_for_url("**/alerts")
            assert page.locator("#alerts tbody tr").count() == 3
            assert HOSTILE in page.locator("#alert-2 .alert-title").inner_text()
            page.locator("#alert-1 button.alert-close").click()
            page.wait_for_url("**/alerts?state=open")
            assert page.locator("#alert-1").count() == 0
            assert page.locator("#alerts tbody tr").count() == 2
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "web-alerts.png"), full_page=True)
            page.select_option("#alert-filters select[name=state]", "closed")
            page.click("#alert-filters button[type=submit]")
            page.wait_for_url("**state=closed**")
            assert page.locator("#alert-1").count() == 1
            assert "已关闭" in page.locator("#alert-1").inner_text()
            assert dialogs == []  # the hostile title ran nothing
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_is_clean(db: Path, lang: str) -> None:
    """The clean-pages checks (tests/test_pages_clean.py): no code, snake_case or UTC shown
    outside the alerts' own text, in every state's list."""
    from test_pages_clean import problems, raw_codes

    found: list[str] = []
    with TestClient(create_app(str(db))) as c:
        for state in ("open", "closed", "all"):
            r = c.get(f"/alerts?state={state}&lang={lang}")
            assert r.status_code == 200
            found += problems(r.text, lang, f"{lang} /alerts?state={state}", raw_codes())
    assert not found, "\n".join(found)


def test_a_write_waits_for_a_read_in_progress(db: Path) -> None:
    """The write closes the read-only file only once the other request is done with it."""
    import threading
    import time

    from govweibo.observe.alerts import set_state
    from govweibo.web.queries import Data

    data = Data(Store(db, read_only=True))
    got: list[object] = []
    began = threading.Event()

    def read() -> None:
        data.enter()
        try:
            view = data.view()
            began.set()
            time.sleep(0.3)  # a read in progress, its cursor open
            got.append(view.con.execute("SELECT count(*) FROM alerts").fetchone())
        except Exception as exc:  # noqa: BLE001 - the failure this test is about
            got.append(exc)
        finally:
            data.leave()

    reader = threading.Thread(target=read)
    reader.start()
    assert began.wait(10)
    data.enter()  # the write's own request
    try:
        with data.writing() as store:
            set_state(store, 1, "closed", T)
    finally:
        data.leave()
    reader.join(10)
    assert got == [(4,)]
    assert [a.alert_id for a in list_alerts(data.view(), state="closed")] == [4, 1]
    data.close()
