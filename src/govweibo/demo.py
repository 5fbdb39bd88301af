"""The demo pipeline: synthetic world -> real ingest path -> analyses -> summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo.ingest import IngestSummary, ReadOptions, ingest
from govweibo.store import Store
from govweibo.store.inspect import StoreStatus, status


@dataclass
class DemoResult:
    world_dir: Path
    ingest: IngestSummary
    status: StoreStatus
    synth: Any = None
    # Titled tables (columns, rows) and lines for a face to render, in order.
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def ingest_manifest(
    store: Store, world_dir: Path, log: Callable[[str], None] | None = None
) -> IngestSummary:
    """Ingest a world folder file by file, with each file's own observation time."""
    manifest = json.loads((world_dir / "manifest.json").read_text(encoding="utf-8"))
    total = IngestSummary()
    for entry in manifest["files"]:
        opts = ReadOptions(
            observed_at=datetime.fromisoformat(entry["observed_at"]),
            timeline=bool(entry.get("timeline")),
        )
        if log:
            log(f"ingesting {entry['path']}")
        part = ingest(store, [world_dir / entry["path"]], fmt=entry["format"], options=opts)
        total.files.extend(part.files)
        total.skipped.extend(part.skipped)
    return total


def run(
    store: Store,
    out_dir: Path,
    *,
    accounts: int = 20000,
    posts: int = 200000,
    seed: int = 2011,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    from govweibo.synth import generate

    world = out_dir / "world"
    if log:
        log(f"generating a world of {accounts:,} government accounts and {posts:,} posts")
    synth = generate(world, accounts=accounts, posts=posts, seed=seed)
    summary = ingest_manifest(store, world, log)
    result = DemoResult(world_dir=world, ingest=summary, status=status(store), synth=synth)
    return result
