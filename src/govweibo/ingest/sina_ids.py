"""Sina Weibo post ids: the numeric id and its base62 `mid` form used in web URLs.

The web form splits the decimal id into groups of seven digits from the right and
writes each group as four base62 characters (the first group unpadded).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_MID_RE = re.compile(r"[0-9A-Za-z]{1,12}")


def _b62(n: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(ALPHABET[r])
    return "".join(reversed(out)) or "0"


def id_to_mid(post_id: str | int) -> str:
    digits = str(post_id)
    if not digits.isdigit():
        raise ValueError(f"not a numeric post id: {post_id!r}")
    groups = []
    end = len(digits)
    while end > 0:
        start = max(0, end - 7)
        groups.append(int(digits[start:end]))
        end = start
    groups.reverse()
    parts = [_b62(groups[0]) if groups[0] else ""]
    parts += [_b62(g).rjust(4, "0") for g in groups[1:]]
    return "".join(parts).lstrip("0") or "0"


def mid_to_id(mid: str) -> str:
    if not _MID_RE.fullmatch(mid):
        raise ValueError(f"not a base62 mid: {mid!r}")
    groups = []
    end = len(mid)
    while end > 0:
        start = max(0, end - 4)
        value = 0
        for ch in mid[start:end]:
            value = value * 62 + _INDEX[ch]
        groups.append(value)
        end = start
    groups.reverse()
    text = str(groups[0]) + "".join(str(g).rjust(7, "0") for g in groups[1:])
    return text.lstrip("0") or "0"


def is_mid(value: str) -> bool:
    """A base62 mid (letters present), as opposed to a numeric id."""
    return bool(_MID_RE.fullmatch(value)) and not value.isdigit()


_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def ids_to_mids(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`id_to_mid` over a column of numeric ids (digit strings of at most 21 digits, or
    null), vectorised: ingest derives the mid of every post it stores."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    n = len(ids)
    valid = ids.is_valid().to_numpy(zero_copy_only=False)
    padded = pc.utf8_lpad(ids.fill_null("0"), 21, "0")
    chars = np.empty((n, 12), dtype=np.uint8)
    for g in range(3):
        part = pc.utf8_slice_codeunits(padded, g * 7, g * 7 + 7).cast(pa.int64()).to_numpy()
        for d in range(4):
            chars[:, g * 4 + 3 - d] = _ALPHABET_BYTES[part % 62]
            part = part // 62
    # Leading zeros go, as in id_to_mid; an id of 0 keeps one "0".
    significant = chars != ord("0")
    significant[:, -1] = True
    first = significant.argmax(axis=1)
    lengths = 12 - first
    keep = np.arange(12)[None, :] >= first[:, None]
    data = chars[keep]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    mask = pa.py_buffer(np.packbits(valid, bitorder="little")) if not valid.all() else None
    return pa.Array.from_buffers(
        pa.string(), n, [mask, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )


# The same encoding as DuckDB macros, for readers that map in SQL.
SQL_MACROS = [
    f"""CREATE OR REPLACE TEMP MACRO gw_b62c(n) AS substr('{ALPHABET}', (n % 62)::INTEGER + 1, 1)""",
    """CREATE OR REPLACE TEMP MACRO gw_b62(n) AS
        gw_b62c(n // 238328) || gw_b62c(n // 3844) || gw_b62c(n // 62) || gw_b62c(n)""",
    """CREATE OR REPLACE TEMP MACRO gw_mid(d) AS CASE
        WHEN d IS NULL THEN NULL
        WHEN length(d) <= 7 THEN ltrim(gw_b62(d::BIGINT), '0')
        WHEN length(d) <= 14 THEN ltrim(gw_b62(left(d, length(d) - 7)::BIGINT)
            || gw_b62(right(d, 7)::BIGINT), '0')
        WHEN length(d) <= 21 THEN ltrim(gw_b62(left(d, length(d) - 14)::BIGINT)
            || gw_b62(substr(d, length(d) - 13, 7)::BIGINT) || gw_b62(right(d, 7)::BIGINT), '0')
        END""",
]
