"""Reader plugins: a package adds a format through the `govweibo.readers` entry points.

Each test installs a tiny distribution of its own into tmp_path (a module and a
`*.dist-info` with METADATA and entry_points.txt, the layout `pip install --target` leaves)
and puts it on sys.path, so importlib.metadata finds it as it would an installed package.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from govweibo.cli import main
from govweibo.ingest import ingest, plugins
from govweibo.ingest.plugins import PluginError
from govweibo.ingest.runner import detect, reader_named, readers
from govweibo.store import Store

# A reader for "tiny" files: one post a line, `post_id<TAB>author_id<TAB>epoch<TAB>text`.
TINY_READER = """
from __future__ import annotations

from datetime import UTC, datetime

from govweibo import model
from govweibo.model import Batch, Post, Reject


class TinyReader:
    name = "tiny"
    description = "Tab-separated tiny posts (a test plugin)"

    def detect(self, path, head):
        return path.suffix == ".tiny" and head.startswith(b"#tiny")

    def files(self, path):
        return [path]

    def read(self, source, opts):
        batch, posts = Batch(), []
        content, batch.bytes_read = source.read_text()
        for line, text in enumerate(content.splitlines(), start=1):
            if not text or text.startswith("#"):
                continue
            batch.records_read += 1
            parts = text.split("\\t")
            if len(parts) != 4 or not parts[2].isdigit():
                batch.rejects.append(Reject(line=line, item=0, reason="not 4 fields", raw=text))
                continue
            posts.append(
                Post(
                    platform="tiny",
                    post_id=parts[0],
                    author_id=parts[1],
                    created_at=datetime.fromtimestamp(int(parts[2]), UTC),
                    text=parts[3],
                )
            )
        batch.primary["posts"] = model.records_to_table("posts", posts)
        yield batch
"""

TINY_FILE = "#tiny\np1\tu1\t1300000000\t第一条\np2\tu2\t1300000600\t第二条\np3\tbroken\n"


def install(site: Path, dist: str, module: str, source: str, entry_points: dict[str, str]) -> None:
    """Write a module and its dist-info into `site`, as an installed distribution."""
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8"
    )
    eps = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[govweibo.readers]\n{eps}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site folder on sys.path; plugins are looked for again before and after."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.refresh()
    yield folder
    monkeypatch.undo()
    # Forget the plugin modules too: the next test installs its own under the same name.
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]
    plugins.refresh()


@pytest.fixture
def tiny(site: Path) -> Path:
    install(site, "tinyfmt", "tinyfmt_reader", TINY_READER, {"tiny": "tinyfmt_reader:TinyReader"})
    plugins.refresh()
    return site


def cli(tmp_path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "s.duckdb"), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_an_installed_plugin_is_detected_and_read_by_govweibo_ingest(
    tiny: Path, tmp_path: Path
) -> None:
    data = tmp_path / "posts.tiny"
    data.write_text(TINY_FILE, encoding="utf-8")
    # Exit 3: a record was quarantined.
    out = cli(tmp_path, "ingest", str(data), "--observed-at", "2011-06-01", code=3)
    assert "tiny" in out
    with Store(tmp_path / "s.duckdb") as store:
        rows = store.con.execute(
            "SELECT platform, post_id, author_id, text FROM posts ORDER BY post_id"
        ).fetchall()
        runs = store.con.execute("SELECT format, rejected FROM ingest_runs").fetchall()
        rejects = store.con.execute("SELECT line FROM quarantine").fetchall()
    assert rows == [("tiny", "p1", "u1", "第一条"), ("tiny", "p2", "u2", "第二条")]
    assert runs == [("tiny", 1)]
    assert rejects == [(4,)]


def test_format_forces_a_plugin_by_its_name(tiny: Path, tmp_path: Path) -> None:
    # No "#tiny" header and another suffix: only --format makes the plugin read it.
    data = tmp_path / "posts.txt"
    data.write_text(TINY_FILE.removeprefix("#tiny\n"), encoding="utf-8")
    assert detect(data) is None
    cli(tmp_path, "ingest", str(data), code=1)
    out = cli(
        tmp_path, "ingest", "--format", "tiny", str(data), "--observed-at", "2011-06-01", code=3
    )
    assert "tiny" in out
    with Store(tmp_path / "s.duckdb") as store:
        assert store.con.execute("SELECT count(*) FROM posts").fetchone() == (2,)


def test_plugins_come_after_specific_readers_and_before_the_fallbacks(tiny: Path) -> None:
    names = [r.name for r in readers()]
    assert names.index("tiny") < names.index("weibo-api") < names.index("csv")
    assert names.index("ced") < names.index("tiny")
    listed = [info.name for info in plugins.describe()]
    assert listed == names
    info = next(i for i in plugins.describe() if i.name == "tiny")
    assert info.origin == "plugin tinyfmt 0.1" and not info.error


def test_govweibo_formats_lists_builtins_and_plugins(tiny: Path, tmp_path: Path) -> None:
    out = cli(tmp_path, "formats")
    assert "tiny" in out and "plugin tinyfmt 0.1" in out and "built-in" in out
    assert out.index("twitter-v2") < out.index("tiny") < out.index("weibo-api")


def test_a_broken_plugin_is_skipped_with_a_warning_and_named_when_asked_for(
    site: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(
        site,
        "badfmt",
        "badfmt_reader",
        "raise ImportError('no lxml')\n",
        {
            "bad": "badfmt_reader:Reader",
        },
    )
    install(
        site,
        "clash",
        "clash_reader",
        TINY_READER.replace('"tiny"', '"ced"'),
        {
            "ced": "clash_reader:TinyReader",
        },
    )
    install(
        site,
        "notareader",
        "nar_reader",
        "class Thing:\n    name = 'thing'\n",
        {
            "thing": "nar_reader:Thing",
        },
    )
    with caplog.at_level(logging.WARNING, logger="govweibo.ingest.plugins"):
        plugins.refresh()
        names = [r.name for r in readers()]
    assert "bad" not in names and "thing" not in names and names.count("ced") == 1
    assert "reader plugin 'bad' (plugin badfmt 0.1) skipped: ImportError: no lxml" in caplog.text
    errors = {i.name: i.error for i in plugins.describe() if i.error}
    assert errors["ced"] == "ValueError: format name 'ced' is taken by the built-in reader"
    assert errors["thing"] == "TypeError: Thing is not a reader (no detect, files, read)"
    with pytest.raises(PluginError, match=r"reader plugin 'bad' \(plugin badfmt 0.1\)"):
        reader_named("bad")
    # Other formats still ingest; forcing the broken one is one readable error line.
    fixture = Path(__file__).parent / "fixtures" / "weibo_users.jsonl"
    with Store(tmp_path / "t.duckdb") as store:
        summary = ingest(store, [fixture], options=None)
    assert summary.files[0].format == "weibo-api" and summary.files[0].status == "done"
    out = cli(tmp_path, "ingest", "--format", "bad", str(fixture), code=1)
    assert out.strip().startswith("error: reader plugin 'bad'") and "no lxml" in out
    out = cli(tmp_path, "formats")
    assert "not loaded" in out and "no lxml" in out


def test_an_instance_is_accepted_and_duplicates_on_the_path_count_once(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        site,
        "tinyfmt",
        "tinyfmt_reader",
        TINY_READER + "\nREADER = TinyReader()\n",
        {
            "tiny": "tinyfmt_reader:READER",
        },
    )
    # The same distribution a second time further down sys.path (an editable install
    # beside a copy) must not count as a name clash.
    copy = tmp_path / "copy"
    copy.mkdir()
    install(
        copy,
        "tinyfmt",
        "tinyfmt_reader",
        TINY_READER + "\nREADER = TinyReader()\n",
        {
            "tiny": "tinyfmt_reader:READER",
        },
    )
    monkeypatch.syspath_prepend(str(copy))
    plugins.refresh()
    assert [r.name for r in readers()].count("tiny") == 1
    assert not [i for i in plugins.describe() if i.error]
