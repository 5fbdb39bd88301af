"""The demo pipeline: synthetic world -> real ingest path -> registry -> index -> report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from govweibo.ingest import IngestSummary, ReadOptions, ingest
from govweibo.store import Store
from govweibo.store.inspect import StoreStatus, status

DEMO_PERIOD = "2011"


@dataclass
class DemoResult:
    world_dir: Path
    ingest: IngestSummary
    status: StoreStatus
    synth: Any = None
    report_path: Path | None = None
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


def _events(store: Store, events: dict[str, Any], result: DemoResult) -> None:
    """The world's emergency and rumour, seen through the official-response analysis."""
    from govweibo.analyses.events import official_response

    em, ru = events["emergency"], events["rumour"]
    r = official_response(
        store,
        keywords=em["keywords"],
        start=datetime.fromisoformat(em["start"]),
        hours=24,
        province=em["province"],
    )
    result.tables[f"Official response to the {em['city']} rainstorm ({r.event_posts} posts)"] = (
        ["account", "first post (UTC)", "hours after the start", "posts"],
        [
            (
                x["screen_name"],
                f"{x['first_post_at']:%Y-%m-%d %H:%M}",
                f"{x['delay_hours']:.1f}",
                x["posts"],
            )
            for x in r.responders.slice(0, 8).to_pylist()
        ],
    )
    city = [x for x in r.silent["screen_name"].to_pylist() if x and em["city"] in x]
    result.notes.append(f"silent {em['city']} accounts: {', '.join(city[:12])}")
    rr = official_response(
        store,
        keywords=ru["keywords"],
        start=datetime.fromisoformat(ru["posted_at"]),
        hours=72,
        rumour_root=str(ru["root_id"]),
    ).rumour
    if rr.get("clarification_post_id"):
        result.notes.append(
            f"rumour {rr['root_post_id']}: {rr['rumour_reposts']} reposts; clarified after "
            f"{rr['hours_to_clarification']:.1f} h (post {rr['clarification_post_id']}, "
            f"{rr['clarification_reposts']} reposts); rumour reposts per hour "
            f"{rr['rumour_per_hour_before']:.1f} before, {rr['rumour_per_hour_after']:.1f} after"
        )


def run(
    store: Store,
    out_dir: Path,
    *,
    accounts: int = 20000,
    posts: int = 50000,
    seed: int = 2011,
    lang: str = "zh",
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    from govweibo.analyses.index_periods import INDEX_TABLE, index_over_periods
    from govweibo.registry import classify_store
    from govweibo.report.yearly import build_report, render_html
    from govweibo.synth import generate

    say = log or (lambda _msg: None)
    world = out_dir / "world"
    say(f"generating a world of {accounts:,} government accounts and {posts:,} posts")
    synth = generate(world, accounts=accounts, posts=posts, seed=seed)
    summary = ingest_manifest(store, world, log)
    say("classifying accounts")
    reg = classify_store(store)
    say("computing the index")
    store.write_result(INDEX_TABLE, index_over_periods(store, ["2010", DEMO_PERIOD]))
    say("writing the report")
    data = build_report(store, period=DEMO_PERIOD, lang=lang)
    report_path = out_dir / f"report-{DEMO_PERIOD}.html"
    report_path.write_text(render_html(data), encoding="utf-8")
    result = DemoResult(
        world_dir=world,
        ingest=summary,
        status=status(store),
        synth=synth,
        report_path=report_path,
    )
    for title, counts in (
        ("kind", reg.by_kind),
        ("sector", reg.by_sector),
        ("level", reg.by_level),
        ("region", reg.by_region),
    ):
        result.tables[f"Government accounts by {title}"] = (
            [title, "accounts"],
            list(counts.items()),
        )
    top = data.tables["ranking_overall"].slice(0, 10).to_pylist()
    result.tables[f"Top 10 by the govweibo index, {DEMO_PERIOD}"] = (
        ["rank", "account", "sector", "province", "score"],
        [
            (r["group_rank"], r["screen_name"], r["sector"], r["province"], f"{r['score']:.1f}")
            for r in top
        ],
    )
    _events(store, synth.events, result)
    result.notes.append(f"{reg.government:,} of {reg.accounts:,} accounts classified as government")
    result.notes.append(f"report: {report_path}")
    return result


def observe_day(
    out_dir: Path, *, hours: int | None = None, on_cycle: Callable[[Any], None] | None = None
) -> tuple[Path, list[Any]]:
    """`demo --observe`: the scripted rainstorm day replayed to the observer through a
    loopback fake of Sina's API (observe/replay.py), into a fresh store
    `out_dir/observe.duckdb`; returns the store's path and each cycle's result."""
    from govweibo.observe.replay import replay, scripted_day

    path = out_dir / "observe.duckdb"
    for old in (path, path.with_name(path.name + ".wal")):
        old.unlink(missing_ok=True)
    shutil.rmtree(out_dir / "observe", ignore_errors=True)  # the last replay's spool
    day = scripted_day() if hours is None else scripted_day(hours=hours)
    with Store(path) as store:
        results = replay(store, out_dir / "observe", day, on_cycle=on_cycle)
    return path, results
