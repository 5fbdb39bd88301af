"""Readers other packages add: the `govweibo.readers` entry-point group.

A package adds a source format by naming a Reader in its pyproject.toml (the way datasette
finds its plugins):

    [project.entry-points."govweibo.readers"]
    my-format = "my_package.reader:MyReader"

The object named is a Reader class (instantiated without arguments) or a Reader instance
(`name`, `description`, `detect`, `files`, `read`: ingest/base.py). The entry point's name
should be the reader's `name`, which is what `--format` takes.

Detection order: the built-in readers of specific formats first (they are tested together
and never claim each other's files), then the plugins (by entry-point name, so the order does
not depend on which package was installed first), then the broad built-in fallbacks
(`FALLBACKS`: the Sina reader claims any JSON with Sina-like keys; `csv` and `jsonl` claim
nothing). A plugin therefore cannot take a built-in format's files in auto-detection, but the
Sina reader cannot swallow a plugin's JSON either; `--format NAME` forces any reader.

A plugin that fails to load (its import raises, the object is no reader, or its name is
taken) is skipped with a logged warning naming the entry point and its package: one broken
install must not stop every ingest. Asking for it by name raises PluginError with the cause;
`govweibo formats` lists it with the reason.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from govweibo.errors import IngestError
from govweibo.ingest.base import Reader

GROUP = "govweibo.readers"
# Built-in readers that claim broadly or never detect: plugins are tried before them.
FALLBACKS = frozenset({"weibo-api", "csv", "jsonl"})

log = logging.getLogger(__name__)


class PluginError(IngestError):
    """A reader plugin that was asked for could not be loaded."""


@dataclass(frozen=True)
class ReaderInfo:
    """One format as `govweibo formats` lists it."""

    name: str
    description: str
    origin: str  # "built-in" or "plugin <distribution> <version>"
    error: str = ""  # why a plugin was not loaded ("" when it was)


@dataclass(frozen=True)
class _Loaded:
    readers: tuple[Reader, ...]
    infos: tuple[ReaderInfo, ...]


def _origin(ep: EntryPoint) -> str:
    dist = ep.dist
    if dist is None:
        return f"plugin {ep.value}"
    return f"plugin {dist.metadata['Name']} {dist.version}"


def _as_reader(obj: Any) -> Reader:
    if isinstance(obj, type):
        obj = obj()
    missing = [
        attr for attr in ("detect", "files", "read") if not callable(getattr(obj, attr, None))
    ]
    if missing:
        raise TypeError(f"{type(obj).__name__} is not a reader (no {', '.join(missing)})")
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"{type(obj).__name__} has no name")
    if not isinstance(getattr(obj, "description", ""), str):
        raise TypeError(f"{type(obj).__name__}.description is not a string")
    reader: Reader = obj
    return reader


@functools.cache
def _load() -> _Loaded:
    from govweibo.ingest import READERS

    builtin = list(READERS)
    taken = {r.name: "the built-in reader" for r in builtin}
    plugins: list[Reader] = []
    infos = [ReaderInfo(r.name, r.description, "built-in") for r in builtin]
    seen: set[tuple[str, str]] = set()
    # The same distribution can be found twice on sys.path (an editable install and a
    # copy): one entry point per (name, target).
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        if (ep.name, ep.value) in seen:
            continue
        seen.add((ep.name, ep.value))
        origin = _origin(ep)
        try:
            reader = _as_reader(ep.load())
            if reader.name in taken:
                raise ValueError(f"format name '{reader.name}' is taken by {taken[reader.name]}")
        except Exception as exc:  # a plugin's import may raise anything
            why = f"{type(exc).__name__}: {exc}"
            log.warning("reader plugin '%s' (%s) skipped: %s", ep.name, origin, why)
            infos.append(ReaderInfo(ep.name, "", origin, why))
            continue
        taken[reader.name] = f"the plugin '{ep.name}' ({origin})"
        plugins.append(reader)
        infos.append(ReaderInfo(reader.name, getattr(reader, "description", ""), origin))
    cut = next((i for i, r in enumerate(builtin) if r.name in FALLBACKS), len(builtin))
    ordered = [*builtin[:cut], *plugins, *builtin[cut:]]
    rank = {r.name: i for i, r in enumerate(ordered)}
    infos.sort(key=lambda info: rank.get(info.name, len(ordered)))
    return _Loaded(tuple(ordered), tuple(infos))


def all_readers() -> list[Reader]:
    """Every reader, built-in and plugin, in detection order."""
    return list(_load().readers)


def describe() -> list[ReaderInfo]:
    """Every format in detection order, then the plugins that failed to load."""
    return list(_load().infos)


def failed_plugin(name: str) -> PluginError | None:
    """The error for a plugin of this name that did not load, or None."""
    info = next((i for i in _load().infos if i.name == name and i.error), None)
    if info is None:
        return None
    return PluginError(f"reader plugin '{name}' ({info.origin}) could not be loaded: {info.error}")


def refresh() -> None:
    """Look for plugins again (after a package was installed into a running process)."""
    _load.cache_clear()
