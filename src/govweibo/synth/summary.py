"""What was written and how close the world came to the seeds' figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from govweibo.synth.calibrate import AUG_2011, DORMANT, FOR_SHOW, NOV_2011, TARGET_100K, TARGET_BASE
from govweibo.synth.world import CUMULATIVE, DEFAULT_ACCOUNTS, World
from govweibo.synth.writer import T_END, rel, to_datetime


@dataclass
class SynthSummary:
    out_dir: str
    seed: int
    accounts: int
    posts: int
    files: dict[str, dict[str, int]]  # path -> {"lines": n, "bytes": n}
    counts: dict[str, int]
    calibration: dict[str, dict[str, Any]]  # figure -> {"target": x, "achieved": y}
    monthly_cumulative: dict[str, int]  # government accounts open at each month's end
    events: dict[str, Any]
    timeline: dict[str, Any]
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f["bytes"] for f in self.files.values())

    @property
    def mb_per_s(self) -> float:
        return self.total_bytes / 1e6 / self.seconds if self.seconds else 0.0

    def report(self) -> str:
        lines = [
            f"synthetic world in {self.out_dir} (seed {self.seed}): "
            f"{self.total_bytes / 1e6:,.1f} MB in {self.seconds:,.1f} s "
            f"({self.mb_per_s:,.1f} MB/s)"
        ]
        lines += [
            f"  {p}: {f['lines']:,} lines, {f['bytes'] / 1e6:,.1f} MB"
            for p, f in self.files.items()
        ]
        lines.append("  counts: " + ", ".join(f"{k} {v:,}" for k, v in self.counts.items()))
        lines.append("  calibration (target -> achieved):")
        for k, v in self.calibration.items():
            lines.append(f"    {k}: {v['target']} -> {v['achieved']}")
        rum = self.events["rumour"]
        emg = self.events["emergency"]
        lines.append(
            f"  rumour root {rum['root_id']}, clarification {rum['clarification_id']} "
            f"by {rum['clarifier']}"
        )
        lines.append(f"  emergency {emg['city']} {emg['start']} .. {emg['end']}")
        return "\n".join(lines)

    def __rich__(self) -> object:
        from rich.text import Text

        return Text(self.report())


def _fmt(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def figures(w: World) -> tuple[dict[str, dict[str, Any]], dict[str, int], dict[str, int]]:
    """(calibration, monthly cumulative counts, counts by kind)."""
    g = w.n_gov
    t0 = w.created[:g]
    p = w.p
    scale = g / DEFAULT_ACCOUNTS
    n_oct = int((t0 < NOV_2011).sum())
    n_jan = int((t0 < rel(2011, 1, 1)).sum())
    monthly = {}
    for key in CUMULATIVE:
        y, m = int(key[:4]), int(key[5:])
        monthly[key] = int((t0 < rel(y + (m == 12), m % 12 + 1, 1)).sum())
    region_of = np.array([r.province.region for r in w.regions])[w.region[:g]]
    regions = {r: int((region_of == r).sum()) for r in ("east", "central", "west", "north-east")}
    idx = np.arange(g)
    aug_open = idx[t0 <= AUG_2011]
    f_aug = p.followers(aug_open, w.created, AUG_2011)
    oct_open = idx[t0 < NOV_2011]
    f_oct = p.followers(oct_open, w.created, NOV_2011 - 1)
    f_end = p.followers(idx, w.created, T_END)
    top = np.argsort(-f_end, kind="stable")[:5]
    zj = np.array([r.province.short_zh == "浙江" for r in w.regions])[w.region[:g]]
    first = int(np.argmin(t0))
    cal: dict[str, dict[str, Any]] = {
        "government accounts 2011-01-01": {"target": round(5000 * scale), "achieved": n_jan},
        "government accounts end Oct 2011": {"target": round(18132 * scale), "achieved": n_oct},
        "government accounts end 2011": {"target": g, "achieved": g},
        "Jan/Oct 2011 ratio": {"target": _fmt(5000 / 18132), "achieved": _fmt(n_jan / n_oct)},
        "agency share": {"target": _fmt(10000 / 19000), "achieved": _fmt(w.agency[:g].mean())},
        "provinces covered": {"target": 31, "achieved": len(set(w.region[:g].tolist()))},
        "by region (east/central/west/north-east)": {
            "target": "east > central, east > west",
            "achieved": regions,
        },
        "over 100k followers, Aug 2011": {
            "target": round(TARGET_100K * n_oct / TARGET_BASE),
            "achieved": int((f_aug > 100_000).sum()),
        },
        "share over 100k, end Oct 2011": {
            "target": _fmt(TARGET_100K / TARGET_BASE, 4),
            "achieved": _fmt((f_oct > 100_000).mean(), 4),
        },
        "over 1M followers, end 2011": {
            "target": "several",
            "achieved": int((f_end > 1_000_000).sum()),
        },
        "top 5 by followers": {
            "target": "平安北京, 中国国际救援队, 外交小灵通 among them",
            "achieved": [w.names[i] for i in top.tolist()],
        },
        "first account": {
            "target": "Yunnan provincial government, Nov 2009",
            "achieved": f"{w.names[first]} {to_datetime(int(t0[first])):%Y-%m-%d}",
        },
        "Zhejiang/national median followers": {
            "target": "> 1",
            "achieved": _fmt(np.median(f_end[zj]) / max(np.median(f_end), 1), 2),
        },
        "Zhejiang/national mean posts per account": {
            "target": "> 1",
            "achieved": _fmt(p.true_posts[:g][zj].mean() / p.true_posts[:g].mean(), 2),
        },
    }
    zjxf = w.designed.get("之江先锋")
    if zjxf is not None:
        one = np.array([zjxf])
        cal["之江先锋 followers, Aug 2011"] = {
            "target": 423_997,
            "achieved": int(p.followers(one, w.created, AUG_2011)[0]),
        }
        cal["之江先锋 opened"] = {
            "target": "2011-02-10",
            "achieved": f"{to_datetime(int(w.created[zjxf])):%Y-%m-%d}",
        }
    counts = {
        "government accounts": g,
        "agencies": int(w.agency[:g].sum()),
        "officials": int(g - w.agency[:g].sum()),
        "verified non-government accounts": int(w.verified[g : g + w.n_nongov].sum()),
        "other non-government accounts (微博达人)": int((~w.verified[g : g + w.n_nongov]).sum()),
        "public users": w.n_public,
        "dormant government accounts": int((p.mode[:g] == DORMANT).sum()),
        "for-show government accounts": int((p.mode[:g] == FOR_SHOW).sum()),
    }
    return cal, monthly, counts
