"""How the world is observed: profile snapshots, two timeline crawls, user objects at a time."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from govweibo.synth.calibrate import NORMAL
from govweibo.synth.world import World, office_time
from govweibo.synth.writer import DAY, T_END, JsonlFile, rel, to_datetime, user_json, user_parts

# Profile snapshots: quarter ends, plus the report dates (Aug 2011: 689 over 100k; Oct 2011).
SNAPSHOTS = tuple(
    rel(y, m, d, 23, 59, 59)
    for y, m, d in (
        (2010, 3, 31),
        (2010, 6, 30),
        (2010, 9, 30),
        (2010, 12, 31),
        (2011, 3, 31),
        (2011, 6, 30),
        (2011, 8, 31),
        (2011, 9, 30),
        (2011, 10, 31),
        (2011, 12, 31),
    )
)
# Two full-timeline crawls three weeks apart; posts seen in the first and not the second
# were deleted in between.
T1 = rel(2011, 11, 30, 23, 59, 59)
T2 = rel(2011, 12, 21, 23, 59, 59)


@dataclass
class FileEntry:
    path: str
    observed_at: int
    timeline: bool
    lines: int
    bytes: int

    def manifest(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": "weibo-api",
            "observed_at": iso(self.observed_at),
            "timeline": self.timeline,
            "lines": self.lines,
            "bytes": self.bytes,
        }


def iso(t: int) -> str:
    return to_datetime(t).isoformat()


def set_mtime(path: Path, t: int) -> None:
    """The ingest falls back to mtime for the observation time; make it agree."""
    stamp = to_datetime(t).timestamp()
    os.utime(path, (stamp, stamp))


class Users:
    """User objects: the fixed parts per account, with counts filled for a given time."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.heads: list[str] = []
        self.tails: list[str] = []
        for i in range(w.n):
            h, t = user_parts(
                int(w.uid[i]),
                w.names[i],
                w.province_code[i],
                w.city_code[i],
                w.location[i],
                w.description[i],
                "",
                w.gender[i],
                int(w.created[i]),
                bool(w.verified[i]),
                int(w.vtype[i]),
                w.reason[i],
            )
            self.heads.append(h)
            self.tails.append(t)

    def at(self, idx: np.ndarray, t: int) -> list[str]:
        w, p = self.w, self.w.p
        fol = p.followers(idx, w.created, t).tolist()
        st = p.statuses(idx, w.created, t).tolist()
        fr = np.minimum(p.friends[idx], 1 + (t - w.created[idx]) // DAY * 3).tolist()
        fav = p.favs[idx].tolist()
        return [
            user_json(self.heads[i], self.tails[i], fol[k], fr[k], st[k], fav[k])
            for k, i in enumerate(idx.tolist())
        ]


def choose_timeline(w: World, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """~200 government accounts crawled twice; a handful of their posts deleted in between."""
    g = w.n_gov
    n_tl = min(200, max(10, g // 100))
    old = np.flatnonzero(w.created[:g] < T1 - 30 * DAY)
    top = old[np.argsort(-w.p.K[old], kind="stable")][: n_tl // 4]
    rest = np.setdiff1d(old, top)
    pick = np.sort(np.concatenate([top, rng.choice(rest, n_tl - len(top), replace=False)]))
    ok = pick[(w.p.mode[pick] == NORMAL) & (w.created[pick] < T1 - 60 * DAY)]
    n_del = min(len(ok), max(3, n_tl // 20))
    who = np.sort(rng.choice(ok, n_del, replace=False))
    days = T1 - rng.integers(2, 50, n_del) * DAY
    when = office_time(rng, days - days % DAY)
    return pick, list(zip(who.tolist(), when.tolist(), strict=True))


def write_snapshots(
    w: World, users: Users, out: Path, progress: Callable[[str, int], None] | None
) -> list[FileEntry]:
    """users/<YYYY-MM>.jsonl: every government and verified non-government account open then."""
    entries = []
    keep = np.flatnonzero((np.arange(w.n) < w.n_gov) | (w.verified & (w.vtype != 1)))
    keep = keep[keep < w.n_gov + w.n_nongov]
    for t in SNAPSHOTS:
        idx = keep[w.created[keep] <= t]
        rel_path = f"users/{to_datetime(t):%Y-%m}.jsonl"
        f = JsonlFile(out / rel_path)
        for line in users.at(idx, t):
            f.add(line)
        f.close()
        set_mtime(f.path, t)
        entries.append(FileEntry(rel_path, t, False, f.lines, f.bytes))
        if progress:
            progress("snapshots", len(entries))
    return entries


__all__ = [
    "SNAPSHOTS",
    "T1",
    "T2",
    "T_END",
    "FileEntry",
    "Users",
    "choose_timeline",
    "write_snapshots",
    "iso",
    "set_mtime",
]
