"""Throughput of the text pipeline on real Weibo text, one core.

    python bench/text.py [--data DIR] [--repeat N] [--reposts N]

Corpora (skipped with a message where absent): the CLUEmotionAnalysis2020 Weibo emotion
set, the CED source posts (``original-microblog/*.json`` field ``text``) and the first N
CED repost/comment texts. Prints MB/s (UTF-8 bytes of the raw text) of normalise,
tokens, the two together, sentiment scoring and, for reference, bare ``rjieba`` cuts
(plus pure-Python ``jieba`` with ``--compare-jieba``); best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from govweibo.text.normalise import normalise_many
from govweibo.text.segment import segmenter, tokenize_many, user_words
from govweibo.text.sentiment import load_model, score

ROOT = Path(__file__).resolve().parent.parent


def shared_data(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("GOVWEIBO_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def emotion_texts(base: Path) -> list[str] | None:
    path = base / "emotion" / "weibo_emotion_test.jsonl"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(ln)["content"] for ln in lines if ln.strip()]


def ced_posts(base: Path) -> list[str] | None:
    files = sorted(glob.glob(str(base / "ced" / "original-microblog" / "*.json")))
    if not files:
        return None
    out: list[str] = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            text = json.load(fh).get("text")
        if isinstance(text, str):
            out.append(text)
    return out


def ced_reposts(base: Path, limit: int) -> list[str] | None:
    files = sorted(glob.glob(str(base / "ced" / "*-repost" / "*.json")))
    if not files:
        return None
    out: list[str] = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out += [r.get("text") or "" for r in json.load(fh) if isinstance(r, dict)]
        if len(out) >= limit:
            break
    return out[:limit]


def best_rate(fn: Callable[[], object], mb: float, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return mb / best


def bench(name: str, texts: Sequence[str], repeat: int, compare: bool) -> None:
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    norm = best_rate(lambda: normalise_many(texts), mb, repeat)
    done = normalise_many(texts)
    seg = best_rate(lambda: tokenize_many(done), mb, repeat)
    both = best_rate(lambda: tokenize_many(normalise_many(texts)), mb, repeat)
    senti = best_rate(lambda: score(texts), mb, repeat)
    jb = segmenter()
    raw = best_rate(lambda: [jb.cut(t) for t in texts], mb, repeat)
    line = (
        f"{name:<26} {len(texts):>8} {mb:>7.2f} {norm:>9.2f} {seg:>9.2f} {both:>9.2f} {senti:>9.2f}"
    )
    print(f"{line} {raw:>9.2f}{jieba_rate(texts, mb) if compare else ''}")


def jieba_rate(texts: Sequence[str], mb: float) -> str:
    """Pure-Python jieba with the same user dictionary, for comparison (one run)."""
    try:
        import jieba
    except ImportError:
        return "  (jieba not installed)"
    jieba.setLogLevel(60)
    for word, freq in user_words():
        jieba.add_word(word, freq)
    jieba.lcut("预热")
    return f" {best_rate(lambda: [jieba.lcut(t) for t in texts], mb, 1):>9.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="text pipeline throughput")
    ap.add_argument("--data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reposts", type=int, default=50_000)
    ap.add_argument("--compare-jieba", action="store_true", help="also time pure-Python jieba")
    args = ap.parse_args(argv)
    base = shared_data(args.data)

    t0 = time.perf_counter()
    normalise_many(["預熱"])
    segmenter()
    load_model()
    print(
        f"start-up (OpenCC tables, rjieba + user dictionary, model): {time.perf_counter() - t0:.2f}s"
    )
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; MB/s, best of {args.repeat}"
    )
    print(
        f"{'corpus':<26} {'texts':>8} {'MB':>7} {'normalise':>9} {'tokens':>9} {'norm+tok':>9} {'sentiment':>9}"
        f" {'raw cut':>9}{' jieba' if args.compare_jieba else ''}"
    )
    corpora = [
        ("emotion (CLUEmotion)", emotion_texts(base)),
        ("CED source posts", ced_posts(base)),
        (f"CED reposts (first {args.reposts})", ced_reposts(base, args.reposts)),
    ]
    ran = 0
    for name, texts in corpora:
        if texts is None:
            print(f"{name}: absent under {base}, skipped (set --data or GOVWEIBO_SHARED_DATA)")
            continue
        bench(name, texts, args.repeat, args.compare_jieba)
        ran += 1
    if not ran:
        print("no corpus found; nothing measured", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
