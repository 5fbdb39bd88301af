"""A calibrated synthetic world of government microblogs, written as Sina open-API JSON lines.

`generate(out_dir)` writes profile snapshots, statuses (with repost cascades), comments
(with official replies), two timeline crawls and a manifest; the demo ingests it through
the real ingest path. Same seed and sizes give byte-identical files. See docs/synth.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from govweibo.synth import calibrate, events, observe, posting, summary, world
from govweibo.synth.activity import Ctx
from govweibo.synth.names import HEADLINERS
from govweibo.synth.observe import T1, T2, FileEntry, iso, set_mtime
from govweibo.synth.summary import SynthSummary
from govweibo.synth.writer import T0, T_END, Sink

__all__ = ["SynthSummary", "generate"]


def generate(
    out_dir: str | Path,
    *,
    accounts: int = world.DEFAULT_ACCOUNTS,
    posts: int = 200_000,
    seed: int = 2011,
    progress: Callable[[str, int], None] | None = None,
    gzip: bool = False,
) -> SynthSummary:
    """Write the world to `out_dir`; `accounts` government accounts at the end of 2011
    (20,000 gives 18,132 at the end of October) and exactly `posts` statuses. With `gzip`,
    the status and comment dumps are written gzip-compressed (`.jsonl.gz`, about a fifth
    of the disk: a 50M-post world is about 100 GB of JSON)."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = world.build(accounts, posts, seed, [*HEADLINERS, *events.EVENT_ACCOUNTS])
    w.params = calibrate.assign(w)
    if progress:
        progress("accounts", w.n)
    users = observe.Users(w)
    tl_accounts, deleted_plan = observe.choose_timeline(w, np.random.default_rng([seed, 3]))
    entries = observe.write_snapshots(w, users, out, progress)
    final = users.at(np.arange(w.n), T_END)
    tl_users = dict(
        zip(
            tl_accounts.tolist(),
            zip(users.at(tl_accounts, T1), users.at(tl_accounts, T2), strict=True),
            strict=True,
        )
    )
    del users  # the rendered parts are no longer needed; free them before the big stream
    sink = Sink(out, final, tl_users, T1, T2, progress, gzip=gzip)
    ctx = Ctx(w, sink)
    sizes = events.sizes(posts)
    budget = posting.plan(w, posts, sizes.statuses, sizes.comments)
    deleted_ids = posting.run_gov(ctx, budget, deleted_plan, seed, events.quiet(ctx))
    posting.run_others(ctx, budget, seed)
    found = events.run(ctx, sizes, seed)
    sink.close()
    assert sink.n_status == posts, (sink.n_status, posts)
    for f, t, is_tl in (
        (sink.statuses, T_END, False),
        (sink.comments, T_END, False),
        (sink.tl[0], T1, True),
        (sink.tl[1], T2, True),
    ):
        set_mtime(f.path, t)
        entries.append(FileEntry(f.path.relative_to(out).as_posix(), t, is_tl, f.lines, f.bytes))
    cal, monthly, counts = summary.figures(w)
    counts.update(
        {
            "statuses": sink.n_status,
            "reposts": sink.n_repost,
            "comments": sink.n_comment,
            "official replies": sink.n_reply,
            "deleted posts": len(deleted_ids),
            "timeline accounts": len(tl_accounts),
        }
    )
    counts["originals"] = sink.n_status - sink.n_repost
    timeline = {
        "observed_at": [iso(T1), iso(T2)],
        "accounts": len(tl_accounts),
        "deleted_post_ids": deleted_ids,
    }
    manifest = {
        "seed": seed,
        "generated_with": "govweibo synth",
        "accounts": accounts,
        "posts": posts,
        "world": {"start": iso(0), "end": iso(T_END)},
        "files": [e.manifest() for e in entries],
        "events": found,
        "timeline": timeline,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    result = SynthSummary(
        out_dir=str(out),
        seed=seed,
        accounts=accounts,
        posts=posts,
        files={e.path: {"lines": e.lines, "bytes": e.bytes} for e in entries},
        counts=counts,
        calibration=cal,
        monthly_cumulative=monthly,
        events=found,
        timeline=timeline,
        seconds=time.perf_counter() - started,
        extra={"follower_mu": w.p.mu, "world_start": T0.isoformat()},
    )
    if progress:
        progress("done", sink.n_status)
    return result
