"""Docs that cannot drift: every command and every setting is documented."""

from __future__ import annotations

from conftest import ROOT

from govweibo import settings
from govweibo.cli import main


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in main.commands if f"govweibo {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in settings.SETTINGS if f"| `{s.name}` |" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_reader_is_in_the_ingest_doc() -> None:
    from govweibo.ingest import READERS

    doc = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    missing = [r.name for r in READERS if f"`{r.name}`" not in doc]
    assert not missing
