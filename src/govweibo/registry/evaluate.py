"""Evaluate the classifier on a labelled JSONL file of Sina user objects.

Each line: {"user": <Sina user object>, "label": {"is_government": bool,
"kind": "agency"|"official"|null, "sector": …|null, "level": …|null,
"province": "浙江"|null}, "source": "where the label comes from"}, and optionally
"platform" ("weibo" when absent; "x" or "mastodon:<host>" for the English rules, with the
user's fields named as the canonical accounts columns: screen_name, description, url,
verified_type, verified_reason).
Kind, sector, level and province are scored on the accounts labelled government,
a null label meaning "none" (a central organ has no province).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from govweibo import model
from govweibo.errors import ConfigError
from govweibo.reference import provinces
from govweibo.registry.ruleset import KINDS, LEVELS, SECTORS, RuleSet

FIELDS = ("kind", "sector", "level", "province")


class LabelFileError(ConfigError):
    """A labelled evaluation file has a line that cannot be read."""


@dataclass
class WrongRow:
    line: int
    name: str | None
    field: str
    expected: Any
    got: Any
    evidence: str | None
    source: str | None


@dataclass
class RegistryEval:
    path: str
    accounts: int
    government: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    kind_accuracy: float
    level_accuracy: float
    province_accuracy: float
    sector_macro_f1: float
    per_sector: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    wrong: list[WrongRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["wrong"] = [w.__dict__ for w in self.wrong]
        return out


def _int_or_none(v: Any) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def user_to_account(user: dict[str, Any], platform: str = "weibo") -> dict[str, Any]:
    """A Sina user object -> a row of the canonical accounts columns (missing -> None)."""

    def text(*keys: str) -> str | None:
        for key in keys:
            v = user.get(key)
            if isinstance(v, str) and v.strip():
                return v
        return None

    ident = user.get("idstr") or user.get("id")
    verified = user.get("verified")
    return {
        "platform": platform,
        "account_id": str(ident) if ident not in (None, "") else None,
        "screen_name": text("screen_name", "name"),
        "description": text("description"),
        "url": text("url"),
        "verified": verified if isinstance(verified, bool) else None,
        "verified_type": _int_or_none(user.get("verified_type")),
        "verified_reason": text("verified_reason"),
        "province_code": str(user["province"]) if user.get("province") not in (None, "") else None,
        "city_code": str(user["city"]) if user.get("city") not in (None, "") else None,
        "location": text("location"),
        "gender": text("gender"),
    }


def read_labels(path: str | Path) -> list[tuple[int, dict[str, Any], dict[str, Any], Any]]:
    """(line, account row, label, source) per line; a bad line raises LabelFileError."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LabelFileError(f"{p}: {exc.strerror or exc}") from None
    shorts = {x.short_zh for x in provinces()}
    allowed = {"kind": KINDS, "sector": SECTORS, "level": LEVELS, "province": shorts}
    out = []
    seen: set[str] = set()
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LabelFileError(f"{p}:{n}: not JSON ({exc.msg})") from None
        user, label = (obj.get("user"), obj.get("label")) if isinstance(obj, dict) else (0, 0)
        if not isinstance(user, dict) or not isinstance(label, dict):
            raise LabelFileError(f"{p}:{n}: needs a 'user' object and a 'label' object")
        if not isinstance(label.get("is_government"), bool):
            raise LabelFileError(f"{p}:{n}: label.is_government must be true or false")
        for key, ok in allowed.items():
            v = label.get(key)
            if v is not None and v not in ok:
                raise LabelFileError(f"{p}:{n}: label.{key} {v!r} is not allowed")
        platform = obj.get("platform", "weibo")
        if not isinstance(platform, str) or not platform:
            raise LabelFileError(f"{p}:{n}: platform must be a non-empty string")
        row = user_to_account(user, platform)
        row["account_id"] = row["account_id"] or f"line-{n}"
        if row["account_id"] in seen:
            raise LabelFileError(f"{p}:{n}: account {row['account_id']} is labelled twice")
        seen.add(row["account_id"])
        out.append((n, row, label, obj.get("source")))
    if not out:
        raise LabelFileError(f"{p}: no labelled lines")
    return out


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(
    path: str | Path, *, overrides: str | Path | None = None, rules: RuleSet | None = None
) -> RegistryEval:
    """Classify the labelled accounts and score them (see the module docstring)."""
    from govweibo.registry import classify_accounts

    items = read_labels(path)
    rows = [row for _, row, _, _ in items]
    table = model.conform("accounts", pa.Table.from_pylist(rows))
    by_id = {
        r["account_id"]: r
        for r in classify_accounts(table, overrides=overrides, rules=rules).to_pylist()
    }
    got = [by_id[row["account_id"]] for _, row, _, _ in items]
    tp = fp = fn = tn = 0
    wrong: list[WrongRow] = []
    correct = Counter[str]()
    gov_total = 0
    pairs: list[tuple[str | None, str | None]] = []
    confusion: dict[str, Counter[str]] = {f: Counter() for f in ("is_government", *FIELDS)}
    for (line, row, label, source), pred in zip(items, got, strict=True):
        truth, guess = label["is_government"], bool(pred["is_government"])
        tp += truth and guess
        fp += (not truth) and guess
        fn += truth and not guess
        tn += not truth and not guess
        name = row["screen_name"]
        if truth != guess:
            wrong.append(
                WrongRow(line, name, "is_government", truth, guess, pred["evidence"], source)
            )
            confusion["is_government"][f"{truth} -> {guess}"] += 1
        if not truth:
            continue
        gov_total += 1
        pairs.append((label.get("sector"), pred["sector"]))
        for f in FIELDS:
            if label.get(f) == pred[f]:
                correct[f] += 1
            else:
                wrong.append(
                    WrongRow(line, name, f, label.get(f), pred[f], pred["evidence"], source)
                )
                confusion[f][f"{label.get(f)} -> {pred[f]}"] += 1
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    per_sector: dict[str, dict[str, float]] = {}
    for s in sorted({x for pair in pairs for x in pair if x is not None}):
        stp = sum(1 for t, g in pairs if t == s and g == s)
        sp, sr = (
            _ratio(stp, sum(1 for _, g in pairs if g == s)),
            _ratio(stp, sum(1 for t, _ in pairs if t == s)),
        )
        per_sector[s] = {
            "precision": sp,
            "recall": sr,
            "f1": _f1(sp, sr),
            "support": float(sum(1 for t, _ in pairs if t == s)),
        }
    macro = (sum(v["f1"] for v in per_sector.values()) / len(per_sector)) if per_sector else 0.0
    return RegistryEval(
        path=str(path),
        accounts=len(items),
        government=gov_total,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        kind_accuracy=_ratio(correct["kind"], gov_total),
        level_accuracy=_ratio(correct["level"], gov_total),
        province_accuracy=_ratio(correct["province"], gov_total),
        sector_macro_f1=macro,
        per_sector=per_sector,
        confusion={k: dict(v.most_common()) for k, v in confusion.items() if v},
        wrong=sorted(wrong, key=lambda w: (w.field, w.line)),
    )
