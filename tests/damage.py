"""Damaged and hostile inputs for the ingest tests, generated at test time (seeded).

`sina_lines(seed, n)` mutates good Sina status lines byte by byte and splices in the
values that broke ingest (deep nesting, 4,301-digit integers, lone surrogates, bytes that
are not UTF-8, times and counts out of range); `write_corpus(folder)` writes a folder of
damaged files of every class (lines, documents, .gz streams cut or corrupted, CED
folders); tests/test_ingest_fuzz.py ingests it between two good files,
tests/test_ingest_differential.py reads the same mutations through the native and the
SQL/Python paths, and scripts/sanitize.sh runs both under AddressSanitizer.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

GOOD_TIME = "Tue May 31 17:46:55 +0800 2011"
# Values that once escaped ingest as exceptions, or that the two paths read differently.
HOSTILE = [
    b"[" * 5000 + b"]" * 5000,
    b"1" * 4301,
    b"-" + b"9" * 4400,
    b'"\\ud800"',
    b'"\\udc00\\ud800"',
    b'"\\u0000"',
    b'"\xff\xfe"',
    b'"\xed\xa0\x80"',
    b'"\xc0\xaf"',
    b"NaN",
    b"Infinity",
    b"1e400",
    b"-0",
    b"99999999999999999999999",
    b"18446744073709551616",
    b"9223372036854775808",
    b'"Tue May 31 17:46:55 +0800 10000"',
    b'"Mon Jan 01 00:00:00 +0800 0001"',
    b'"10000-01-01T00:00:00Z"',
    b"253402300800",
    b"1e20",
    b'"2147483648"',
    b"2147483648",
    b"-2147483649",
    b"true",
    b"null",
    b"{}",
    b"[]",
    b'{"id": ' + b"7" * 5000 + b"}",
]


def status(i: int, **over: object) -> dict[str, object]:
    s: dict[str, object] = {
        "created_at": GOOD_TIME,
        "id": 3367895826488218 + i,
        "idstr": str(3367895826488218 + i),
        "text": f"路况提示{i}//@交警:注意 http://t.cn/x",
        "source": '<a href="http://weibo.com" rel="nofollow">新浪微博</a>',
        "reposts_count": i % 7,
        "comments_count": 2,
        "attitudes_count": 3,
        "truncated": False,
        "pic_urls": [],
        "user": {
            "id": 1288915263 + i % 5,
            "idstr": str(1288915263 + i % 5),
            "screen_name": f"平安{i % 5}",
            "verified": True,
            "verified_type": 1,
            "province": "11",
            "followers_count": 2500000,
            "friends_count": 10,
            "statuses_count": 300,
            "created_at": "Wed Jun 01 10:00:00 +0800 2011",
        },
    }
    s.update(over)
    return s


def line(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def good_lines(start: int, n: int) -> bytes:
    return b"".join(line(status(start + i)) for i in range(n))


# Where a hostile value is spliced in: the value of one of these keys.
_SLOTS = [
    b'"id": ',
    b'"text": ',
    b'"created_at": ',
    b'"reposts_count": ',
    b'"followers_count": ',
    b'"verified_type": ',
    b'"user": ',
    b'"pic_urls": ',
    b'"screen_name": ',
]


def mutate(rng: random.Random, good: bytes) -> bytes:
    """One damaged variant of a good line (without its newline)."""
    b = bytearray(good.rstrip(b"\n"))
    kind = rng.randrange(8)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:  # delete a run
        i = rng.randrange(len(b))
        del b[i : i + rng.randint(1, 12)]
    elif kind == 2:  # insert random bytes
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    elif kind == 3:  # truncate
        del b[rng.randrange(1, len(b)) :]
    elif kind == 4 or kind == 5:  # a hostile value in a slot
        slot = rng.choice(_SLOTS)
        at = b.find(slot)
        if at >= 0:
            start = at + len(slot)
            end = _value_end(bytes(b), start)
            b[start:end] = rng.choice(HOSTILE)
    elif kind == 6:  # a key that is not UTF-8, or escaped
        b[1:1] = rng.choice([b'"\xff\xfek": 1, ', b'"t\\u0065xt": "x", ', b'"\xe4\xb8": 2, '])
    else:  # duplicate a key
        b[1:1] = b'"id": 1, '
    return bytes(b)


def _value_end(b: bytes, start: int) -> int:
    """Where the JSON value starting at `start` ends (good lines only: json.dumps output)."""
    dec = json.JSONDecoder()
    text = b.decode("utf-8", errors="surrogateescape")
    prefix = len(b[:start].decode("utf-8", errors="surrogateescape"))
    try:
        _, end = dec.raw_decode(text, prefix)
    except ValueError:
        return start
    return len(text[:end].encode("utf-8", errors="surrogateescape"))


def sina_lines(seed: int, n: int) -> list[bytes]:
    """n damaged status lines (no newline), deterministic for a seed."""
    rng = random.Random(seed)
    return [mutate(rng, line(status(100_000 + i))) for i in range(n)]


# ---- a folder of damaged files ---------------------------------------------------------


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _handmade() -> dict[str, bytes]:
    """Damage of each class named in issue #23, one file each."""
    good = good_lines(9000, 40)
    gz = _gz(good * 20)
    corrupt = bytearray(_gz(good_lines(9100, 40) * 20))
    for k in range(len(corrupt) // 2, len(corrupt) // 2 + 16):
        corrupt[k] ^= 0x5A
    files = {
        "deep.jsonl": good_lines(100, 2) + b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "deep_document.json": b"[" * 100_000 + b"]" * 100_000,
        "bigint.jsonl": good_lines(110, 2) + b'{"id": ' + b"1" * 4301 + b', "text": "x"}\n',
        "bigint_document.json": b'[{"id": ' + b"1" * 4301 + b', "text": "x"}]',
        "surrogate.jsonl": good_lines(120, 2)
        + line(status(125)).replace(b"\xe8\xb7\xaf", b"\\ud800"),
        "surrogate_document.json": b'[{"id": 1, "created_at": "'
        + GOOD_TIME.encode()
        + b'", "text": "\\ud800"}]',
        "not_utf8_first.jsonl": b'{"text": "\xff\xfe\xfd"}\n' + good_lines(130, 3),
        "malformed_first.jsonl": b'{"text": broken\n' + good_lines(140, 3),
        "malformed_first_long.jsonl": b'{"text": "' + b"x" * 70_000 + b"\n" + good_lines(150, 3),
        "gb18030_bad.jsonl": good_lines(160, 2) + b'{"text": "\x81\x30\x81"}\n',
        "broken_array.json": b"[\n" + good.replace(b"\n", b",\n")[:-3] + b"\n",
        "truncated.jsonl.gz": gz[: len(gz) * 2 // 3],
        "corrupt.jsonl.gz": bytes(corrupt),
        "trailing_garbage.jsonl.gz": _gz(good_lines(9200, 40)) + b"garbage after the stream",
        "not_gzip.jsonl.gz": b'{"created_at": "x"}\n' * 10,
        "empty.jsonl": b"",
        "bom_only.jsonl": b"\xef\xbb\xbf",
        "nul.jsonl": b'{"created_at": "' + b"\x00" * 50 + b'"}\n',
        "huge_counts.jsonl": line(status(170, reposts_count=2**64, comments_count=-5)),
        "huge_verified_type.jsonl": line(
            status(171, user={**status(0)["user"], "verified_type": 2**31})  # type: ignore[dict-item]
        ),
        "year_10000.jsonl": line(status(172, created_at="Tue May 31 17:46:55 +0800 10000")),
        "year_0001.jsonl": line(status(173, created_at="0001-01-01T00:00:00Z")),
        "user_at_end.jsonl": b'{"created_at": "' + GOOD_TIME.encode() + b'", "user":',
        "retweet_at_end.jsonl": b'{"text": "a", "retweeted_status":',
        "page_info_at_end.jsonl": b'{"text": "a", "page_info":',
        "long_line.jsonl": good_lines(180, 2)
        + b'{"text": "'
        + b"y" * 300_000
        + b'"}\n'
        + good_lines(185, 2),
        "long_last_line.jsonl": good_lines(190, 1) + b'{"text": "' + b"z" * 300_000,
        "scalars.jsonl": b'1\nnull\n"text"\n[]\ntrue\n',
        "page_bad.json": b'{"statuses": [' + line(status(195)).rstrip() + b", 12, []]}",
        "pretty_broken.json": b'{\n  "statuses": [\n    {"id": 1,\n  ]\n',
    }
    return files


def _ced_folder(root: Path, name: str, source: object, reposts: bytes | None) -> None:
    folder = root / name
    (folder / "original-microblog").mkdir(parents=True)
    (folder / "rumor-repost").mkdir()
    fname = "1_zvUcLCeTm_1111111111.json"
    raw = source if isinstance(source, bytes) else json.dumps(source).encode()
    (folder / "original-microblog" / fname).write_bytes(raw)
    if reposts is not None:
        (folder / "rumor-repost" / fname).write_bytes(reposts)


def ced_source(**over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "text": "网传某地自来水有毒",
        "time": 1309420800,
        "reposts": 3,
        "comments": 1,
        "likes": 0,
        "pics": 0,
        "user": {"verified": True, "verified_type": 1, "followers": 5, "time": 1300000000},
    }
    doc.update(over)
    return doc


def ced_repost(i: int, **over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "mid": f"zvUd{i:05d}",
        "uid": str(2000 + i),
        "parent": "",
        "kids": [],
        "text": f"真的吗{i}",
        "date": "2011-06-30 17:00:00",
    }
    rec.update(over)
    return rec


def ced_reposts(*records: dict[str, object]) -> bytes:
    text = json.dumps(list(records), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: written as its escape
        return json.dumps(list(records)).encode()


CED_CASES: dict[str, tuple[object, bytes | None]] = {
    "ced_nan_time": (b'{"text": "x", "time": NaN}', None),
    "ced_1e20_time": (ced_source(time=1e20), None),
    "ced_inf_user_time": (b'{"text": "x", "time": 1309420800, "user": {"time": Infinity}}', None),
    "ced_year_10000": (ced_source(time="Tue May 31 17:46:55 +0800 10000"), None),
    "ced_huge_counts": (ced_source(reposts=2**64), None),
    "ced_huge_pics": (ced_source(pics=2**31), None),
    "ced_huge_verified_type": (
        ced_source(user={"verified_type": 2**40, "followers": 1}),
        None,
    ),
    "ced_source_array": (b"[1, 2, 3]", None),
    "ced_source_deep": (b"[" * 100_000 + b"]" * 100_000, None),
    "ced_source_surrogate": (b'{"text": "\\ud800", "time": 1309420800}', None),
    "ced_kids_bigint": (
        ced_source(),
        b'[{"mid": "zvUd1", "uid": "1", "parent": "", "kids": ['
        + b"1" * 4301
        + b'], "text": "a", "date": "2011-06-30 17:00:00"}]',
    ),
    "ced_year_0001_repost": (ced_source(), ced_reposts(ced_repost(1, date="0001-01-01 00:00:00"))),
    "ced_year_9999_repost": (ced_source(), ced_reposts(ced_repost(1, date="9999-12-31 23:59:59"))),
    "ced_repost_surrogate": (
        ced_source(),
        b'[{"mid": "zvUd1", "uid": "1", "parent": "", "text": "\\udc00", '
        b'"date": "2011-06-30 17:00:00"}, ' + ced_reposts(ced_repost(2))[1:],
    ),
    "ced_repost_deep": (ced_source(), b"[" * 100_000 + b"]" * 100_000),
    "ced_repost_not_utf8": (ced_source(), b'[{"mid": "zvUd1", "text": "\xff"}]'),
    "ced_repost_truncated": (ced_source(), ced_reposts(ced_repost(1), ced_repost(2))[:-20]),
}


def write_corpus(folder: Path, seed: int = 23, mutated: int = 150) -> dict[str, str]:
    """Write the damaged files into `folder`; return {file or folder name: class}."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, str] = {}
    for name, data in _handmade().items():
        (folder / f"m_{name}").write_bytes(data)
        kinds[f"m_{name}"] = name
    rng = random.Random(seed)
    for i, bad in enumerate(sina_lines(seed, mutated)):
        # A tenth of them between good lines of their own (the rest alone: a run that
        # stores nothing is quick, and the corpus must stay quick to ingest).
        around = i % 10 == 0
        before = good_lines(20_000 + 10 * i, rng.randint(0, 2) if around else 0)
        after = good_lines(20_005 + 10 * i, rng.randint(0, 2) if around else 0)
        name = f"m_mutated_{i:03d}.jsonl" + (".gz" if i % 10 == 9 else "")
        data = before + bad + b"\n" + after
        (folder / name).write_bytes(_gz(data) if name.endswith(".gz") else data)
        kinds[name] = "mutated"
    for name, (source, reposts) in CED_CASES.items():
        _ced_folder(folder, f"m_{name}", source, reposts)
        kinds[f"m_{name}"] = name
    # A repost file that is a folder: unreadable as a file.
    _ced_folder(folder, "m_ced_unreadable", ced_source(), None)
    (folder / "m_ced_unreadable" / "rumor-repost" / "1_zvUcLCeTm_1111111111.json").mkdir()
    kinds["m_ced_unreadable"] = "ced_unreadable"
    return kinds
