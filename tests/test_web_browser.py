"""The dashboard in a real headless Chromium (Debian's), driven by Playwright.

Needs `apt-get install -y chromium` and `pip install playwright` (its wheel ships the driver;
never `playwright install`). Fails when they are missing unless GOVWEIBO_SKIP_BROWSER=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web import XSS_NAME, XSS_TEXT, build_web_store

from govweibo.web import create_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("GOVWEIBO_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO = (
    "install the browser test tools: `apt-get update && apt-get install -y chromium` and "
    "`pip install playwright` (do not run `playwright install`), or set "
    "GOVWEIBO_SKIP_BROWSER=1 to skip the browser tests explicitly"
)


def _require_browser() -> None:
    if os.environ.get("GOVWEIBO_SKIP_BROWSER") == "1":
        pytest.skip("GOVWEIBO_SKIP_BROWSER=1")
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python package 'playwright' not installed")
    if missing:
        pytest.fail(f"{'; '.join(missing)}: {HOW_TO}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()  # before building anything
    import uvicorn

    db = build_web_store(tmp_path_factory.mktemp("browser") / "b.duckdb", index_table=True)
    port = _free_port()
    config = uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(base_url: str):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        pg.dialogs = []  # type: ignore[attr-defined]

        def on_dialog(dialog) -> None:
            pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()

        pg.on("dialog", on_dialog)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def test_overview_and_map_filter(page) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text().startswith("概览")  # the `lang` setting: zh
    assert page.locator('#province-map path[data-province="浙江"]').count() == 1
    shot(page, "overview")
    page.locator('#province-map a[aria-label="浙江"]').first.click()
    page.wait_for_url("**/?province=*")
    assert "浙江" in page.locator("h1").inner_text()
    assert page.locator("#dist-sector svg").count() == 1
    shot(page, "overview-zhejiang")


def test_rankings_filter_sort_and_follow(page) -> None:
    page.goto("/rankings")
    rows = page.locator("#ranking tbody tr")
    assert rows.count() == 50
    first = rows.nth(0).locator("td")
    assert first.nth(0).inner_text().strip() == "1"
    second_rank = int(rows.nth(1).locator("td").nth(0).inner_text().strip())
    assert second_rank >= 1
    shot(page, "rankings")
    # Apply a filter with the form: the officials list.
    page.select_option("#rank-form select[name=list]", "officials")
    page.click("#rank-form button[type=submit]")
    page.wait_for_url("**list=officials**")
    kind_col = [h.strip() for h in page.locator("#ranking thead th").all_inner_texts()].index(
        "类型"
    )
    kinds = {r.locator("td").nth(kind_col).inner_text() for r in rows.all()}
    assert kinds == {"公务人员"}
    # Server-side sort by followers, descending (second click on the header).
    page.click('#ranking thead a:text-is("粉丝数")')
    page.wait_for_url("**sort=followers**")
    page.click("#ranking thead a:has-text('粉丝数')")
    page.wait_for_url("**sort=-followers**")
    shot(page, "rankings-officials-by-followers")
    link = rows.nth(0).locator("td.name a")
    name = link.inner_text()
    link.click()
    page.wait_for_url("**/accounts/weibo/**")
    assert page.locator("#account-name").inner_text() == name
    shot(page, "account")


def test_xss_text_is_shown_as_text(page) -> None:
    page.goto("/accounts/weibo/X")
    assert page.locator("#account-name").inner_text() == XSS_NAME
    assert XSS_NAME in page.locator("#evidence").inner_text()
    assert XSS_TEXT in page.locator("#posts").inner_text()
    assert XSS_TEXT in page.locator("#profile").inner_text()
    assert page.locator("img[src=x]").count() == 0
    page.goto("/rankings?region=west&limit=100")
    assert page.locator(f'#ranking td.name a:text-is("{XSS_NAME}")').count() == 1
    page.goto("/health")
    assert XSS_NAME in page.locator("#quarantine").inner_text()
    assert "bad date" in page.locator("#quarantine").inner_text()
    shot(page, "health")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_bad_parameter_page(page) -> None:
    resp = page.goto("/rankings?period=soon")
    assert resp is not None and resp.status == 400
    assert "bad period" in page.locator("#error-message").inner_text()


def test_language_switch_and_group_by_name(page) -> None:
    """The switch shows the page in English and is remembered; the group box takes 公安."""
    page.goto("/rankings?list=sector")
    page.fill("#rank-form input[name=group]", "公安")
    page.click("#rank-form button[type=submit]")
    page.wait_for_url("**group=**")
    assert page.locator("#ranking tbody tr").count() == 16
    sector_col = [h.strip() for h in page.locator("#ranking thead th").all_inner_texts()].index(
        "行业"
    )
    rows = page.locator("#ranking tbody tr").all()
    assert {r.locator("td").nth(sector_col).inner_text() for r in rows} == {"公安"}
    page.click("#lang-switch")
    page.wait_for_url("**lang=en**")
    assert page.locator("h1").inner_text().startswith("Rankings")
    assert "Public security" in page.locator("#ranking").inner_text()
    shot(page, "rankings-en")
    page.goto("/health")  # no ?lang: the cookie keeps English
    assert page.locator("h1").inner_text() == "Data health"
    page.click("#lang-switch")
    page.wait_for_url("**lang=zh**")
    assert page.locator("h1").inner_text() == "数据状况"


def test_period_not_precomputed_is_computed(page) -> None:
    """The index table holds 2010 and 2011; a quarter is computed from the store on demand,
    and a period without posts says so and what the store holds."""
    page.goto("/rankings?period=2011Q1")
    assert page.locator("#ranking tbody tr").count() == 18  # the accounts opened by March
    assert "即时计算" in page.locator("p.meta").inner_text()
    page.goto("/rankings?period=2015")
    assert "2015内没有帖子" in page.locator("#notice").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_summary_prints_on_one_a4_page(
    page, tmp_path_factory: pytest.TempPathFactory, lang: str
) -> None:
    """The report's summary (title to top provinces) fits the printable height of an A4 page
    (297 mm less the 12 mm margins of the print CSS) at its printable width, in print media."""
    from govweibo.report.yearly import build_report, render_html
    from govweibo.store import Store

    base = tmp_path_factory.mktemp("a4")
    db = build_web_store(base / "r.duckdb")
    with Store(db, read_only=True) as store:
        html = render_html(build_report(store, period="2011", lang=lang, draws=10))
    (base / "r.html").write_text(html, encoding="utf-8")
    mm = 96 / 25.4  # CSS px per mm
    page.set_viewport_size({"width": round((210 - 24) * mm), "height": round((297 - 24) * mm)})
    try:
        page.emulate_media(media="print")
        page.goto(f"file://{base / 'r.html'}")
        box = page.locator("#summary").bounding_box()
        assert box is not None and box["y"] + box["height"] <= (297 - 24) * mm
        assert page.locator("#summary table").count() == 2  # top accounts and provinces
        shot(page, f"report-summary-{lang}")
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1400, "height": 1000})
