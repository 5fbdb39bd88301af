"""What this installation has: versions, optional parts, outside tools and the store.

`diagnose` never fails on what it finds missing: each check is a row saying what was found
and whether that is fine ("ok"), absent but optional ("missing"), or needs attention
("problem"), so that a bug report can carry the whole picture (`govweibo doctor --format
json`).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from govweibo import __version__

# (distribution, what needs it): the core first, then each extra.
PACKAGES: tuple[tuple[str, str], ...] = (
    ("duckdb", "core"),
    ("pyarrow", "core"),
    ("ibis-framework", "core"),
    ("sqlglot", "core"),
    ("pandas", "core"),
    ("numpy", "core"),
    ("click", "core"),
    ("rich", "core"),
    ("jinja2", "core"),
    ("rjieba", "core"),
    ("opencc-python-reimplemented", "core"),
    ("chinesecalendar", "core"),
    ("fastapi", "web extra (govweibo serve)"),
    ("uvicorn", "web extra (govweibo serve)"),
    ("scikit-learn", "opinion extra (topic clusters of govweibo concerns)"),
    ("pyspark", "spark extra (--engine spark)"),
    ("matplotlib", "report extra"),
    ("playwright", "browser tests"),
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@dataclass
class Check:
    check: str
    value: str
    status: str  # ok, missing (optional and absent), problem
    detail: str = ""


def diagnose(db: str | None = None, *, lock_wait: float = 0.0) -> list[dict[str, Any]]:
    """One row per check: python, govweibo and package versions, the native reader,
    Java (for Spark), Chromium (browser tests), and the store at `db` if given."""
    checks = [
        Check("python", platform.python_version(), "ok", sys.executable),
        Check("platform", platform.platform(), "ok"),
        Check("govweibo", __version__, "ok", str(Path(__file__).resolve().parent)),
    ]
    checks += [_package(dist, needed_by) for dist, needed_by in PACKAGES]
    checks.append(_native_reader())
    checks.append(_java())
    checks.append(_chromium())
    if db is not None:
        checks += _store(db, lock_wait)
    return [asdict(c) for c in checks]


def _package(dist: str, needed_by: str) -> Check:
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        status = "problem" if needed_by == "core" else "missing"
        return Check(dist, "", status, f"not installed; needed by the {needed_by}")
    return Check(dist, version, "ok", needed_by)


def _native_reader() -> Check:
    from govweibo.ingest import sina_fast

    if sina_fast.AVAILABLE:
        return Check("native reader", "built", "ok", "C scan of Sina status lines")
    return Check(
        "native reader",
        "not built",
        "missing",
        "ingest maps every record in SQL (same results, slower); reinstall with gcc and "
        "python3-dev present to build it",
    )


def _java() -> Check:
    java = shutil.which("java")
    if java is None:
        home = os.environ.get("JAVA_HOME")
        if home and Path(home, "bin", "java").exists():
            java = str(Path(home, "bin", "java"))
    if java is None:
        return Check("java", "", "missing", "needed by --engine spark (Spark runs on a JVM)")
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20)
        first = (done.stderr or done.stdout).strip().splitlines()
        version = first[0] if first else "unknown version"
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("java", java, "problem", f"'java -version' failed: {exc}")
    return Check("java", version, "ok", java)


def _chromium() -> Check:
    given = os.environ.get("GOVWEIBO_CHROMIUM")
    for name in ([given] if given else []) + list(CHROMIUM_NAMES):
        path = name if Path(name).exists() else shutil.which(name)
        if path:
            return Check("chromium", path, "ok", "for the browser tests (-m browser)")
    return Check(
        "chromium",
        "",
        "missing",
        "the browser tests need it: apt-get install -y chromium (.ci/run installs it)",
    )


def _store(db: str, lock_wait: float) -> list[Check]:
    from govweibo.errors import StoreError
    from govweibo.store import SCHEMA_VERSION, Store

    checks = [Check("store", db, "ok" if Path(db).exists() else "missing")]
    if not Path(db).exists():
        checks[0].detail = "no store yet (govweibo ingest makes one)"
        return checks
    checks[0].detail = f"{Path(db).stat().st_size / 2**20:.1f} MB"
    try:
        with Store(db, read_only=True, lock_wait=lock_wait) as store:
            version = store.schema_version()
    except StoreError as exc:
        checks.append(Check("store schema", "", "problem", str(exc)))
        return checks
    if version == SCHEMA_VERSION:
        checks.append(Check("store schema", str(version), "ok", "as this govweibo writes"))
    elif version < SCHEMA_VERSION:
        checks.append(
            Check(
                "store schema",
                str(version),
                "ok",
                f"older than this govweibo's {SCHEMA_VERSION}: migrated on the next write",
            )
        )
    else:
        checks.append(
            Check(
                "store schema",
                str(version),
                "problem",
                f"newer than this govweibo's {SCHEMA_VERSION}: upgrade govweibo",
            )
        )
    return checks
