"""What the analyst sees: the zh and en reports and every dashboard page carry no raw code, no
snake_case name, no UTC time and no absolute path; empty answers say why.

The pages are built from a small demo world (synth -> ingest -> classify), crawled as text
(what a browser shows: text nodes, SVG titles, placeholders), and checked with regexes.
Text that comes from the data (screen names, post text, raw quarantined lines, ingest error
messages) is marked class="data"/"name"/"text"/"raw" in the templates and skipped: it is
the public's, not a label.
"""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from govweibo.demo import ingest_manifest
from govweibo.registry import classify_store
from govweibo.registry.ruleset import rules_dir
from govweibo.report.yearly import build_report, render_html, render_markdown
from govweibo.store import Store
from govweibo.synth import generate
from govweibo.web import create_app

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ABSOLUTE = re.compile(r"(?:(?<![\w.:/])/(?:[\w.-]+/)+[\w.-]*)|(?:\b[A-Za-z]:\\)")
# ASCII words a zh page may show: names of things (formats, the index, the language switch),
# commands, formula symbols.
ZH_ASCII_OK = {"govweibo", "report", "export", "classify", "index", "period", "ln", "csv",
               "API", "English", "JSON", "CSV", "BCI", "GSDATA", "DIR", "CED", "Mastodon",
               "Rumdect", "WeiboSpider", "Cookie", "Twitter"}  # fmt: skip
SKIP_CLASSES = {"data", "name", "text", "raw", "reason"}
VOID = {"br", "img", "input", "meta", "link", "hr", "path", "circle", "rect", "line", "polyline"}


class _Text(HTMLParser):
    """Visible text of a page: text nodes outside style/script and outside data cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: skip its text?
        self.parts: list[str] = []
        self.cells: list[str] = []  # the text of each <td>
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("placeholder"):
            self.parts.append(str(a["placeholder"]))
        if tag in VOID:
            return
        classes = set((a.get("class") or "").split())
        # <desc> is an SVG's description (the map's data licence), not drawn.
        skip = tag in ("style", "script", "desc") or bool(classes & SKIP_CLASSES)
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack:
            self.stack.pop()
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1]:
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def visible(html: str) -> tuple[str, list[str]]:
    p = _Text()
    p.feed(html)
    return " ".join(p.parts), p.cells


def raw_codes() -> set[str]:
    """The codes the rules define: sectors, kinds, levels, regions."""
    from govweibo.reference import regions

    sectors = tomllib.loads((rules_dir() / "sectors.toml").read_text(encoding="utf-8"))
    kinds = tomllib.loads((rules_dir().parent / "labels.toml").read_text(encoding="utf-8"))
    codes = {b["name"] for b in sectors["sector"]}
    codes |= {b["name"] for b in kinds["kind"]} | {b["name"] for b in kinds["level"]}
    return codes | {r.region for r in regions()}


def problems(html: str, lang: str, where: str, codes: set[str]) -> list[str]:
    text, cells = visible(html)
    out = [f"{where}: snake_case {m!r}" for m in sorted(set(SNAKE.findall(text)))]
    out += [f"{where}: a cell shows the code {c!r}" for c in cells if c in codes]
    if "UTC" in text:
        out.append(f"{where}: 'UTC' shown")
    out += [f"{where}: absolute path {m!r}" for m in ABSOLUTE.findall(text)]
    if lang == "zh":
        # File names (statuses.jsonl, weibo-api/users.jsonl) are names, not words.
        names_removed = re.sub(r"[\w./-]+\.\w+", " ", text)
        words = set(re.findall(r"\b[A-Za-z][A-Za-z-]{2,}\b", names_removed)) - ZH_ASCII_OK
        out += [f"{where}: English word or code {w!r} on a zh page" for w in sorted(words)]
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("clean")
    generate(base / "w", accounts=600, posts=3000, seed=2011)
    with Store(base / "s.duckdb") as store:
        ingest_manifest(store, base / "w")
        classify_store(store)
    return base / "s.duckdb"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reports_are_clean(world: Path, lang: str) -> None:
    with Store(world, read_only=True) as store:
        data = build_report(store, period="2011", lang=lang, draws=20)
    html, md = render_html(data), render_markdown(data)
    codes = raw_codes()
    found = problems(html, lang, f"report.{lang}.html", codes)
    assert not found, "\n".join(found)
    assert str(world.parent) not in html and str(world.parent) not in md
    # The Markdown: the same checks on its table cells and text.
    md_cells = [c.strip() for line in md.splitlines() if line.startswith("|")
                for c in line.strip("|").split("|")]  # fmt: skip
    assert not [c for c in md_cells if c in codes]
    assert not SNAKE.findall(md) and "UTC" not in md


def _pages(c: TestClient) -> list[str]:
    ranking = c.get("/api/rankings", params={"period": "2011", "limit": 1}).json()
    top = ranking["items"][0]
    # Accounts of every kind of evidence: government or not, place read from the name or code.
    accounts = c.get("/api/accounts", params={"limit": 12}).json()["items"]
    return [
        "/",
        "/?province=浙江",
        "/rankings",
        "/rankings?period=2011&list=sector",
        "/rankings?period=2011&list=level",
        "/rankings?period=2011&list=province&group=浙江",
        "/rankings?period=2011&list=sector&group=公安",
        "/rankings?period=2011Q3",
        "/rankings?period=2030",
        f"/accounts/{top['platform']}/{top['account_id']}",
        *(f"/accounts/{a['platform']}/{a['account_id']}" for a in accounts),
        "/health",
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_pages_are_clean(world: Path, lang: str) -> None:
    codes = raw_codes()
    found: list[str] = []
    with TestClient(create_app(str(world))) as c:
        for path in _pages(c):
            sep = "&" if "?" in path else "?"
            r = c.get(f"{path}{sep}lang={lang}")
            assert r.status_code == 200, (path, r.text[:300])
            found += problems(r.text, lang, f"{lang} {path}", codes)
            assert str(world.parent) not in r.text, path
    assert not found, "\n".join(found)


def test_dashboard_answers_any_period(world: Path) -> None:
    """A period not precomputed is computed (rankings for 2011Q3, like `rank --period`);
    one without posts says so, with the span the store holds."""
    with TestClient(create_app(str(world))) as c:
        q3 = c.get("/api/rankings", params={"period": "2011Q3"}).json()
        assert q3["total"] > 0 and q3["notice"] is None and not q3["precomputed"]
        far = c.get("/api/rankings", params={"period": "2030"}).json()
        assert far["notice"][0] == "no_posts_in_period"
        page = c.get("/rankings", params={"period": "2030", "lang": "en"}).text
        assert "No posts in 2030; the store holds posts from 20" in page


def test_bursts_say_why_they_are_empty(world: Path) -> None:
    """bursts for a period without posts carries the reason; the CLI prints it."""
    from govweibo.analyses.bursts import bursts, why_empty
    from govweibo.cli import main

    with Store(world, read_only=True) as store:
        none = bursts(store, period="2030")
        some = bursts(store, period="2011", unit="day", min_count=1)
    assert none.num_rows == 0
    reason = why_empty(none)
    assert reason is not None and reason.startswith("no posts in 2030: the store holds posts from")
    assert some.num_rows == 0 or why_empty(some) is None
    r = CliRunner().invoke(main, ["--db", str(world), "bursts", "--period", "2030"])
    assert r.exit_code == 0, r.output
    assert "no posts in 2030" in r.output


def test_the_checks_catch_what_they_look_for() -> None:
    codes = raw_codes()
    bad = (
        "<html><body><h1>group_rank</h1><table><tr><td>public_security</td><td>agency</td>"
        "</tr></table><p>2011-07-01 08:00 UTC</p><p>/home/me/data/x.json</p>"
        '<td class="name">user_name_is_data</td><p>Overview</p></body></html>'
    )
    found = problems(bad, "zh", "bad", codes)
    joined = "\n".join(found)
    for expected in ("'group_rank'", "'public_security'", "code 'agency'", "'UTC'",
                     "/home/me/data/x.json"):  # fmt: skip
        assert expected in joined, expected
    assert problems("<p>the overview</p>", "zh", "en words", codes)  # English on a zh page
    assert "user_name_is_data" not in joined  # the public's text is skipped
    assert problems("<p>概览 · 浙江 · 2011-07-01 08:00</p>", "zh", "ok", codes) == []
    assert problems("<p>Overview of public security</p>", "en", "ok", codes) == []
