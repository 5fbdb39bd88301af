"""Build src/govweibo/reference/data/divisions.csv (run by hand, not in CI).

Sources (both on PyPI; install them without dependencies first):
    pip install --no-deps --target /tmp/divsrc cpca==0.5.5 GB2260==0.4.1
    PYTHONPATH=/tmp/divsrc python scripts/build_divisions.py

- cpca 0.5.5 (MIT, https://github.com/DQinYuan/chinese_province_city_area_mapper):
  `cpca/resources/adcodes.csv`, the current GB/T 2260 county-and-above table
  (Ministry of Civil Affairs codes) -> rows with status "current".
- GB2260 0.4.1 (BSD, https://github.com/cn/GB2260.py): the Ministry of Civil Affairs
  revisions 2009-2013 -> names in use then but gone from the current table (e.g. 富阳市,
  冀州市), kept with status "former" so 2010-2013 accounts still resolve.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/govweibo/reference/data/divisions.csv"
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
SUFFIXES = (
    "自治县",
    "自治旗",
    "自治州",
    "特区",
    "林区",
    "地区",
    "新区",
    "县",
    "区",
    "市",
    "旗",
    "盟",
)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not importable; see this script's docstring")
    return Path(next(iter(spec.submodule_search_locations)))


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def _short(name: str, level: str, nations: list[str], prov_short: dict[str, str], code: str) -> str:
    if level == "province":
        return prov_short[code[:2]]
    base = name
    for suffix in SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    # Strip ethnic names before an autonomous suffix: 延边朝鲜族自治州 -> 延边.
    cut = min((base.find(n) for n in nations if n in base), default=-1)
    if "自治" in name and cut > 0:
        base = base[:cut]
    # 2 characters at least, else the short form is too ambiguous to use.
    return base if len(base) >= 2 and base != name else ""


def main() -> None:
    cpca_dir = _package_dir("cpca") / "resources"
    sys.path.insert(0, str(_package_dir("gb2260").parent))
    import gb2260.data as gb  # type: ignore[import-not-found]

    lines = (cpca_dir / "56_nations.csv").read_text(encoding="utf-8").splitlines()
    nations = sorted((x.strip() for x in lines if x.strip()), key=len, reverse=True) + ["汉族"]
    with open(OUT.parent / "provinces.csv", encoding="utf-8") as fh:
        prov_short = {r["sina_code"]: r["short_zh"] for r in csv.DictReader(fh)}
    current: dict[str, str] = {}
    with open(cpca_dir / "adcodes.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"][:6], row["name"]
            if name not in PLACEHOLDERS:
                current[code] = name
    former: dict[tuple[str, str], None] = {}
    names_now = set(current.values())
    for rev in (2013, 2012, 2011, 2010, 2009):
        for icode, name in gb.data[rev].items():
            code = str(icode)
            if name in PLACEHOLDERS or name in names_now or current.get(code) == name:
                continue
            former[(code, name)] = None

    def parent(code: str, pool: set[str]) -> str:
        if _level(code) == "province":
            return ""
        pref = code[:4] + "00"
        if _level(code) == "county" and pref in pool:
            return pref
        return code[:2] + "0000"

    pool = set(current) | {c for c, _ in former}
    rows = []
    for code, name in sorted(current.items()):
        lvl = _level(code)
        rows.append(
            (
                code,
                name,
                _short(name, lvl, nations, prov_short, code),
                lvl,
                parent(code, pool),
                "current",
            )
        )
    for code, name in sorted(former):
        lvl = _level(code)
        rows.append(
            (
                code,
                name,
                _short(name, lvl, nations, prov_short, code),
                lvl,
                parent(code, pool),
                "former",
            )
        )
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["adcode", "name", "short", "level", "parent", "status"])
        out.writerows(rows)
    print(f"wrote {len(rows)} rows ({len(former)} former) to {OUT}")


if __name__ == "__main__":
    main()
