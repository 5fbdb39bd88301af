"""The labelled set of real accounts: floors, format, and the evaluation's error handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govweibo.registry import evaluate
from govweibo.registry.evaluate import LabelFileError, read_labels

LABELS = Path(__file__).parent / "data" / "registry_labels.jsonl"


@pytest.fixture(scope="module")
def result():
    return evaluate(LABELS)


def test_labelled_set_is_large_sourced_and_mixed():
    lines = [json.loads(x) for x in LABELS.read_text(encoding="utf-8").splitlines() if x]
    assert len(lines) >= 200
    assert all(isinstance(x.get("source"), str) and x["source"] for x in lines)
    labels = [x["label"] for x in lines]
    assert sum(1 for lab in labels if lab["kind"] == "official") >= 20
    assert sum(1 for lab in labels if not lab["is_government"]) >= 50
    gov = [lab for lab in labels if lab["is_government"]]
    assert {lab["level"] for lab in gov} == {"central", "provincial", "prefecture", "county"}
    assert len({lab["sector"] for lab in gov}) >= 13


def test_floors(result):
    assert result.f1 >= 0.95
    assert result.kind_accuracy >= 0.95
    assert result.level_accuracy >= 0.90
    assert result.province_accuracy >= 0.90
    assert result.sector_macro_f1 >= 0.85


def test_wrong_rows_are_listed_with_evidence(result):
    assert result.tp + result.fp + result.fn + result.tn == result.accounts
    for wrong in result.wrong:
        assert wrong.field in ("is_government", "kind", "sector", "level", "province")
        assert wrong.evidence
    assert set(result.as_dict()) >= {"precision", "recall", "f1", "per_sector", "wrong"}


def test_known_hard_case_is_fixed_by_an_override(tmp_path: Path, result):
    # 邓伟根's profile shows only his academic title: the rules cannot know.
    missed = [w for w in result.wrong if w.field == "is_government"]
    assert [w.name for w in missed] == ["樵山潮人"]
    line = missed[0].line
    path = tmp_path / "overrides.csv"
    path.write_text(
        f"account_id,is_government,kind,sector,level,province\n"
        f"line-{line},true,official,government_general,county,广东\n",
        encoding="utf-8",
    )
    fixed = evaluate(LABELS, overrides=path)
    assert fixed.recall == 1.0 and fixed.kind_accuracy > result.kind_accuracy


def test_fields_may_be_missing(tmp_path: Path):
    path = tmp_path / "l.jsonl"
    path.write_text(
        '{"user": {"screen_name": "平安北京"}, "label": {"is_government": true, '
        '"kind": "agency", "sector": "public_security", "level": "provincial", '
        '"province": "北京"}}\n'
        '{"user": {}, "label": {"is_government": false}}\n',
        encoding="utf-8",
    )
    r = evaluate(path)
    assert (r.accounts, r.tp, r.tn, r.kind_accuracy) == (2, 1, 1, 1.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"user": {}, "label": {"is_government": true}}\nnot json\n', ":2: not JSON"),
        ('{"user": {}}\n', ":1: needs a 'user' object and a 'label' object"),
        ('{"user": {}, "label": {"is_government": "yes"}}\n', ":1: label.is_government"),
        (
            '{"user": {}, "label": {"is_government": true, "sector": "police"}}\n',
            ":1: label.sector 'police'",
        ),
        (
            '{"user": {"id": 1}, "label": {"is_government": true}}\n'
            '{"user": {"id": 1}, "label": {"is_government": true}}\n',
            ":2: account 1",
        ),
        ("\n", "no labelled lines"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabelFileError, match=message):
        read_labels(path)
    with pytest.raises(LabelFileError, match=str(path.name)):
        evaluate(path)
